"""A bounded, thread-safe cache of experiment results, keyed by the spec, bounded in bytes.

    cache = ResultCache(maxsize=8, max_bytes=128 * 2**20)
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

Memory: every entry is counted by the bytes it really holds (``held_bytes``: the nbytes of every NumPy array
reachable from the result, an uploaded run's unpacked arrays included, plus its first view's figures, the JSON
text a worker drew: ``figures(key)``); the least recently used entries go first when the total is over
``max_bytes`` (``serve --cache-mb``), or the count over ``maxsize``. A single result larger than the whole
budget is still returned to its caller, but not kept.
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import threading
from collections import OrderedDict

import numpy as np

import core

from visualizer.serving.tasks import run_named
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


DEFAULT_CACHE_BYTES = 128 * 2**20      # serve --cache-mb: results and their figures held by the web process
_MAX_DEPTH = 8


def held_bytes(obj, _seen=None, _depth=0):
    """Bytes held by ``obj``: the nbytes of every NumPy array reachable through dataclasses, objects' __dict__,
    dicts, lists and tuples (each array once), plus the length of str/bytes values (e.g. figures' JSON)."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen or _depth > _MAX_DEPTH:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        base = obj if obj.base is None or not isinstance(obj.base, np.ndarray) else obj.base
        if id(base) in seen and base is not obj:
            return 0
        seen.add(id(base))
        return int(base.nbytes)
    if isinstance(obj, (str, bytes, bytearray)):
        return len(obj)
    if isinstance(obj, dict):
        items = list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        items = list(vars(obj).values()) if hasattr(obj, "__dict__") else \
            [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        items = list(vars(obj).values())
    else:
        return 0
    return sum(held_bytes(x, seen, _depth + 1) for x in items)


def unwrap(out):
    """(result, figures or None) of what a runner returned: an ExperimentResult or a tasks.Computed."""
    if isinstance(out, tuple) and len(out) == 2 and hasattr(out, "figures"):
        return out.result, out.figures
    return out, None


class ResultCache:
    """``uploads``: the server's UploadStore; its ``files`` policy (uploads and the operator's data folder,
    never another server path) is what every computation of this cache may read."""

    def __init__(self, maxsize=8, runner=None, max_running=2, uploads=None, max_bytes=DEFAULT_CACHE_BYTES):
        if maxsize < 1:
            raise ValueError(f"maxsize={maxsize!r}: must be at least 1")
        if max_bytes is not None and max_bytes < 1:
            raise ValueError(f"max_bytes={max_bytes!r}: must be a positive number of bytes (or None)")
        if max_running is not None and max_running < 1:
            raise ValueError(f"max_running={max_running!r}: must be at least 1 (or None: the runner bounds it)")
        self.maxsize, self.max_bytes = maxsize, max_bytes
        self.uploads = uploads if uploads is not None else UploadStore()
        self._runner = runner or self._run_experiment
        self._reuse = _takes_trained(self._runner)
        self._items = OrderedDict()          # key -> (result, figures or None, bytes held)
        self._trained = {}                   # result key -> training key, for results computed here only
        self.nbytes = 0                      # bytes held by every entry now (held_bytes)
        self.peak_nbytes = 0
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
            e = self._items.get(key)
            if e is None:
                return None
            self._items.move_to_end(key)
            return e[0]

    def figures(self, key):
        """The first view's figures a worker drew for the result under ``key`` (tasks.prerender), or None."""
        with self._lock:
            e = self._items.get(key)
            return e[1] if e is not None else None

    def put(self, key, result, figures=None):
        """Keep ``result`` (and its first view's ``figures``) under ``key``; evicts the least recently used
        entries over the byte budget or the count. Returns the bytes it holds (measured)."""
        size = held_bytes(result) + held_bytes(figures)
        with self._lock:
            self._trained.pop(key, None)         # a result put from outside is never reused for training
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old[2]
            if self.max_bytes is not None and size > self.max_bytes:
                return size                                  # too big to keep at all
            self._items[key] = (result, figures, size)
            self.nbytes += size
            while len(self._items) > self.maxsize or (self.max_bytes is not None and self.nbytes > self.max_bytes):
                gone, (_, _, n) = self._items.popitem(last=False)
                self._trained.pop(gone, None)
                self.nbytes -= n
            self.peak_nbytes = max(self.peak_nbytes, self.nbytes)
        return size

    def task(self, name, payload, progress=None):
        """A heavy task (tasks.TASKS: slices, curvature map) on the runner's workers, after its admission;
        a runner without tasks (a test's callable) runs it in this thread."""
        fn = getattr(self._runner, "task", None)
        if fn is not None:
            return fn(name, payload, progress=progress)
        return run_named(name, payload, progress)

    def trained_for(self, spec):
        """label -> Trajectory of a cached result this cache computed with the same training key, or None."""
        tkey = training_key(spec)
        with self._lock:
            for key, t in reversed(list(self._trained.items())):
                e = self._items.get(key)
                if t == tkey and e is not None:
                    return e[0].trajectories
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
                r, figs = unwrap(self._run(spec, progress, trained))
                self.put(key, r, figs)
                with self._lock:
                    if key in self._items:
                        self._trained[key] = training_key(spec)
            finally:
                with self._lock:
                    if self._computing.get(key) is klock:
                        del self._computing[key]
        return key, r, False
