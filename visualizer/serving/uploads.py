"""CSV files uploaded to the app: stored on the server under their content hash, bounded in number.

    store = UploadStore(data_dir=None)             # a private temporary folder, removed at exit
    key = store.put(raw_bytes)                      # -> "3f2a..." (32 hex digits); the spec names "upload:<key>"
    store.files                                     # the DataFiles policy: "upload:<key>" or a file in data_dir

Uploads live on disk (not in memory) so the computation, in whatever thread or process it runs, reads
them like any file; a spec that names an evicted upload gets a clear "upload it again" error. The same
bytes always give the same key, so the same CSV and settings hit the result cache.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading

from core.data.csvfile import UPLOAD_PREFIX, DataFiles

MAX_UPLOADS = 32            # CSV files kept; the oldest is removed first


class UploadStore:
    def __init__(self, data_dir=None, folder=None, max_files=MAX_UPLOADS):
        self.folder = folder or tempfile.mkdtemp(prefix="lln-uploads-")
        self.files = DataFiles(data_dir=data_dir, upload_dir=self.folder)
        self.max_files = max_files
        self._order = []                         # keys, oldest first
        self._lock = threading.Lock()
        if folder is None:
            atexit.register(shutil.rmtree, self.folder, True)

    def put(self, raw):
        """Store ``raw`` (already size-checked by the caller) and return its key."""
        key = hashlib.sha256(raw).hexdigest()[:32]
        path = os.path.join(self.folder, key + ".csv")
        with self._lock:
            if key in self._order:
                self._order.remove(key)
            else:
                tmp = path + ".part"
                with open(tmp, "wb") as f:
                    f.write(raw)
                os.replace(tmp, path)
            self._order.append(key)
            while len(self._order) > self.max_files:
                old = self._order.pop(0)
                try:
                    os.remove(os.path.join(self.folder, old + ".csv"))
                except FileNotFoundError:
                    pass
        return key

    @staticmethod
    def spec_path(key):
        return UPLOAD_PREFIX + key
