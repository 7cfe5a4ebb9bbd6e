"""A bounded, thread-safe cache of experiment results, keyed by the spec.

    cache = ResultCache(maxsize=8)
    key, result = cache.get_or_compute(spec)    # a second caller with the same spec costs nothing
    cache.put("npz:<sha256>", uploaded_result)  # uploaded runs are keyed by their bytes

Keys are short: ``spec:<sha256 of the spec's canonical JSON>``. Only keys and specs
travel to the browser; results stay here. Two requests for the same spec at the
same time compute it once (the second waits for the first).
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

import core


def spec_key(spec):
    """``spec:<sha256>`` of the canonical JSON of a spec (an ExperimentSpec or its dict)."""
    d = spec.to_dict() if hasattr(spec, "to_dict") else spec
    text = json.dumps(d, sort_keys=True, separators=(",", ":"))
    return "spec:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def bytes_key(raw):
    return "npz:" + hashlib.sha256(raw).hexdigest()[:32]


class ResultCache:
    def __init__(self, maxsize=8, runner=None):
        if maxsize < 1:
            raise ValueError(f"maxsize={maxsize!r}: must be at least 1")
        self.maxsize = maxsize
        self._runner = runner or core.run_experiment
        self._items = OrderedDict()
        self._lock = threading.Lock()
        self._computing = {}                 # key -> lock held while that key is being computed
        self.hits = 0
        self.misses = 0

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

    def get_or_compute(self, spec):
        """(key, result, hit) for a validated ExperimentSpec; computes at most once per key at a time."""
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
                r = self._runner(spec)
                self.put(key, r)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return key, r, False
