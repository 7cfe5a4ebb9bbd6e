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

Training is keyed apart: ``training_key(spec)`` hashes only ``spec.training_part()`` (data, model, optimizers,
steps, seed, curvature). On a miss whose training key matches a result this cache computed, the runner gets
that result's trajectories (``runner(spec, progress=..., trained=...)``), so a change of plane, grid, colour or
scale computes only the landscape. Uploaded runs (``put`` from outside) are never reused this way: their
trajectories are the uploader's, not what the spec trains.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import threading
from collections import OrderedDict

import core

from visualizer.serving.uploads import UploadStore


def _digest(d):
    text = json.dumps(d, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def spec_key(spec):
    """``spec:<sha256>`` of the canonical JSON of a spec (an ExperimentSpec or its dict)."""
    return "spec:" + _digest(spec.to_dict() if hasattr(spec, "to_dict") else spec)


def training_key(spec):
    """``train:<sha256>`` of what training depends on (ExperimentSpec.training_part; a spec or its dict)."""
    if not hasattr(spec, "training_part"):
        spec = core.ExperimentSpec.from_dict(spec, validate=False)
    return "train:" + _digest(spec.training_part())


def _takes_trained(runner):
    """Whether ``runner`` accepts a ``trained=`` keyword (every runner of this package does; a test's may not)."""
    try:
        params = inspect.signature(runner).parameters
    except (TypeError, ValueError):
        return False
    return "trained" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


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
        self._reuse = _takes_trained(self._runner)
        self._items = OrderedDict()
        self._trained = {}                   # result key -> training key, for results computed here only
        self._lock = threading.Lock()
        self._computing = {}                 # key -> lock held while that key is being computed
        self.max_running = max_running
        self._slots = threading.BoundedSemaphore(max_running) if max_running is not None else None
        self._running = 0                    # computations holding a slot now (tests check the bound)
        self.peak_running = 0
        self.hits = 0
        self.misses = 0
        self.reused = 0                      # misses that reused a cached result's training

    def _run_experiment(self, spec, progress=None, trained=None):
        return core.run_experiment(spec, progress=progress, files=self.uploads.files, trained=trained)

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
            self._trained.pop(key, None)         # a result put from outside is never reused for training
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                old, _ = self._items.popitem(last=False)
                self._trained.pop(old, None)

    def trained_for(self, spec):
        """label -> Trajectory of a cached result this cache computed with the same training key, or None."""
        tkey = training_key(spec)
        with self._lock:
            for key, t in reversed(list(self._trained.items())):
                r = self._items.get(key)
                if t == tkey and r is not None:
                    return r.trajectories
        return None

    def _call(self, spec, progress, trained):
        kw = {} if progress is None else {"progress": progress}
        if trained is not None:
            kw["trained"] = trained
        return self._runner(spec, **kw)

    def _run(self, spec, progress, trained=None):
        """The runner, in one of the ``max_running`` slots; ``progress`` hears "queued" while it waits."""
        if self._slots is None:
            return self._call(spec, progress, trained)
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
            return self._call(spec, progress, trained)
        finally:
            with self._lock:
                self._running -= 1
            self._slots.release()

    def get_or_compute(self, spec, progress=None):
        """(key, result, hit) for a validated ExperimentSpec; computes at most once per key at a time.

        ``progress``: passed to the runner (``core.run_experiment(spec, progress=...)``); whatever it
        raises ends the computation, and nothing is cached. A miss reuses the training of a result computed
        here with the same ``training_key`` (see the module docstring)."""
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
            trained = self.trained_for(spec) if self._reuse else None
            if trained is not None:
                self.reused += 1
            try:
                r = self._run(spec, progress, trained)
                self.put(key, r)
                with self._lock:
                    if key in self._items:
                        self._trained[key] = training_key(spec)
            finally:
                with self._lock:
                    if self._computing.get(key) is klock:
                        del self._computing[key]
        return key, r, False
