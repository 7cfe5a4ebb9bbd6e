"""A bounded, thread-safe cache of experiment results, keyed by the spec.

    cache = ResultCache(maxsize=8)
    key, result = cache.get_or_compute(spec)    # a second caller with the same spec costs nothing
    cache.put("npz:<sha256>", uploaded_result)  # uploaded runs are keyed by their bytes

Keys are short: ``spec:<sha256 of the spec's canonical JSON>``. Only keys and specs
travel to the browser; results stay here. Two requests for the same spec at the
same time compute it once (the second waits for the first), and at most ``max_running``
computations run at once over all keys (the others wait for a slot, reporting "queued"
to their progress callback every 0.2 s, which may raise to give up waiting). With
``max_running=None`` the runner bounds and queues the work itself (``runner.ProcessRunner``).
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

import core

from visualizer.serving.uploads import UploadStore


def spec_key(spec):
    """``spec:<sha256>`` of the canonical JSON of a spec (an ExperimentSpec or its dict)."""
    d = spec.to_dict() if hasattr(spec, "to_dict") else spec
    text = json.dumps(d, sort_keys=True, separators=(",", ":"))
    return "spec:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def bytes_key(raw):
    return "npz:" + hashlib.sha256(raw).hexdigest()[:32]


class ResultCache:
    """``uploads``: the server's UploadStore; its ``files`` policy (uploads and the operator's data folder,
    never another server path) is what every computation of this cache may read."""

    def __init__(self, maxsize=8, runner=None, max_running=2, uploads=None):
        if maxsize < 1:
            raise ValueError(f"maxsize={maxsize!r}: must be at least 1")
        if max_running is not None and max_running < 1:
            raise ValueError(f"max_running={max_running!r}: must be at least 1 (or None: the runner bounds it)")
        self.maxsize = maxsize
        self.uploads = uploads if uploads is not None else UploadStore()
        self._runner = runner or self._run_experiment
        self._items = OrderedDict()
        self._lock = threading.Lock()
        self._computing = {}                 # key -> lock held while that key is being computed
        self.max_running = max_running
        self._slots = threading.BoundedSemaphore(max_running) if max_running is not None else None
        self._running = 0                    # computations holding a slot now (tests check the bound)
        self.peak_running = 0
        self.hits = 0
        self.misses = 0

    def _run_experiment(self, spec, progress=None):
        return core.run_experiment(spec, progress=progress, files=self.uploads.files)

    def __len__(self):
        with self._lock:
            return len(self._items)

    def __contains__(self, key):
        with self._lock:
            return key in self._items

    def get(self, key):
        with self._lock:
            r = self._items.get(key)
            if r is not None:
                self._items.move_to_end(key)
            return r

    def put(self, key, result):
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def _run(self, spec, progress):
        """The runner, in one of the ``max_running`` slots; ``progress`` hears "queued" while it waits."""
        if self._slots is None:
            return self._runner(spec) if progress is None else self._runner(spec, progress=progress)
        if progress is None:
            self._slots.acquire()
        else:
            progress("queued", 0, 1)
            while not self._slots.acquire(timeout=0.2):
                progress("queued", 0, 1)
        try:
            with self._lock:
                self._running += 1
                self.peak_running = max(self.peak_running, self._running)
            return self._runner(spec) if progress is None else self._runner(spec, progress=progress)
        finally:
            with self._lock:
                self._running -= 1
            self._slots.release()

    def get_or_compute(self, spec, progress=None):
        """(key, result, hit) for a validated ExperimentSpec; computes at most once per key at a time.

        ``progress``: passed to the runner (``core.run_experiment(spec, progress=...)``); whatever it
        raises ends the computation, and nothing is cached."""
        key = spec_key(spec)
        r = self.get(key)
        if r is not None:
            self.hits += 1
            return key, r, True
        with self._lock:
            klock = self._computing.setdefault(key, threading.Lock())
        with klock:
            r = self.get(key)
            if r is not None:
                self.hits += 1
                return key, r, True
            self.misses += 1
            try:
                r = self._run(spec, progress)
                self.put(key, r)
            finally:
                with self._lock:
                    if self._computing.get(key) is klock:
                        del self._computing[key]
        return key, r, False
