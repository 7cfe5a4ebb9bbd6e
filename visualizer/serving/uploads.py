"""CSV files uploaded to the app: stored on the server, bounded in number and bytes, each usable only by the
page that uploaded it.

    store = UploadStore(data_dir=None)             # a private temporary folder, removed at exit
    key = store.put(raw_bytes, session)             # -> "3f2a..." (32 hex digits); the spec names "upload:<key>"
    store.owns(key, session)                        # True only for the page (session id) that uploaded it
    store.files                                     # the DataFiles policy: "upload:<key>" or a file in data_dir

The key is HMAC-SHA256(server secret, session id + content hash), cut to 32 hex digits: unguessable, and
different for every page even for the same bytes, so a key seen by one browser is no bearer token for
another (``spec_callbacks.accept_spec`` checks ``owns``). The same page uploading the same bytes again gets
the same key, so the same CSV and settings hit the result cache.

Uploads live on disk (not in memory) so the computation, in whatever thread or process it runs, reads
them like any file; a spec that names an evicted upload gets a clear "upload it again" error. At most
``max_files`` files and ``max_bytes`` bytes are kept; the oldest go first.
"""
from __future__ import annotations

import atexit
import hashlib
import hmac
import os
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict

from core.data.csvfile import UPLOAD_PREFIX, DataFiles

MAX_UPLOADS = 32            # CSV files kept; the oldest is removed first
MAX_UPLOAD_STORE_BYTES = 256 * 2**20     # their bytes on disk, at most


class UploadStore:
    def __init__(self, data_dir=None, folder=None, max_files=MAX_UPLOADS, max_bytes=MAX_UPLOAD_STORE_BYTES):
        self.folder = folder or tempfile.mkdtemp(prefix="lln-uploads-")
        self.files = DataFiles(data_dir=data_dir, upload_dir=self.folder)
        self.max_files, self.max_bytes = max_files, max_bytes
        self._secret = secrets.token_bytes(32)
        self._items = OrderedDict()              # key -> (session, bytes), oldest first
        self.nbytes = 0
        self._lock = threading.Lock()
        if folder is None:
            atexit.register(shutil.rmtree, self.folder, True)

    def key_for(self, raw, session):
        digest = hashlib.sha256(raw).hexdigest()
        return hmac.new(self._secret, f"{session}:{digest}".encode(), hashlib.sha256).hexdigest()[:32]

    def put(self, raw, session=None):
        """Store ``raw`` (already size-checked by the caller) for ``session`` and return its key."""
        key = self.key_for(raw, session)
        path = os.path.join(self.folder, key + ".csv")
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            else:
                tmp = path + ".part"
                with open(tmp, "wb") as f:
                    f.write(raw)
                os.replace(tmp, path)
                self._items[key] = (session, len(raw))
                self.nbytes += len(raw)
            while len(self._items) > self.max_files or (self.nbytes > self.max_bytes and len(self._items) > 1):
                old, (_, n) = self._items.popitem(last=False)
                self.nbytes -= n
                try:
                    os.remove(os.path.join(self.folder, old + ".csv"))
                except FileNotFoundError:
                    pass
        return key

    def owns(self, key, session):
        """True when ``key`` is an upload of ``session`` that is still kept."""
        with self._lock:
            item = self._items.get(key)
        return item is not None and session is not None and hmac.compare_digest(str(item[0]), str(session))

    @staticmethod
    def spec_path(key):
        return UPLOAD_PREFIX + key
