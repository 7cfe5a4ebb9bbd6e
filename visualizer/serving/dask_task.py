"""The worker's side of ``serve --scheduler``: one Dask task a computation (see visualizer/dask_runner.py).

    fut = client.submit(run_task, key, spec_dict, csv)     # -> tasks.Computed(result, figures), or CANCELLED
    fut = client.submit(run_named_task, key, name, payload)   # the app's other heavy tasks (tasks.TASKS), or CANCELLED

``run_task`` runs core.run_experiment, ``run_named_task`` a slices or curvature-map task, with BLAS on one
thread (``_Supervised``); the progress callback records the latest stage and raises when the cancel flag
is up. A watcher thread (``_watch``) publishes that stage to the
``distributed.Variable`` "<key>-progress", waits on the ``distributed.Event`` "<key>-cancel", and, when the
computation does not reach its next progress call within CANCEL_GRACE, raises ``_Stop`` in the task's thread
(``_Guard``: only while the computation runs). A CSV arrives as bytes (``_ShippedFile``): a worker never reads
the disk for data.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import tempfile
import threading
import time

import core
from core.data.csvfile import DataFiles
from core.errors import quote

from visualizer.serving.runner import TICK
from visualizer.serving.tasks import Computed, figures_or_none, run_named
from visualizer import figures  # noqa: F401 -- imported at start-up (preload)

CANCEL_GRACE = 0.3          # s after the cancel flag before the task's thread is interrupted


class _Stop(BaseException):
    """Raised inside the task to stop core.run_experiment (BaseException: no `except Exception` keeps it)."""


CANCELLED = "cancelled"          # what a stopped task returns (nobody waits for it)
_STATS = {"running": 0, "finished": 0, "stopped": 0, "interrupted": 0}    # this worker process's tasks
_STATS_LOCK = threading.Lock()


def worker_stats():
    """This process's task counts (run on a worker with client.run: tests, diagnostics)."""
    with _STATS_LOCK:
        return dict(_STATS)


def _count(**delta):
    with _STATS_LOCK:
        for k, v in delta.items():
            _STATS[k] += v


def _checkpoint():
    """A Python call: an exception set by PyThreadState_SetAsyncExc is raised at the latest here."""
    return None


class _Guard:
    """The stretch of the task's thread in which the watcher may raise _Stop into it (run_experiment)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.thread = threading.get_ident()
        self.running = False
        self.interrupted = False

    def __enter__(self):
        with self.lock:
            self.running = True
        return self

    def __exit__(self, *exc):
        with self.lock:
            self.running = False
        _checkpoint()                        # a pending interrupt is raised here, still inside the task's try
        return False

    def interrupt(self):
        with self.lock:
            if not self.running or self.interrupted:
                return False
            self.interrupted = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread), ctypes.py_object(_Stop))
            return True


def _watch(client, key, latest, stop, done, guard):
    """The task's watcher thread: publish progress, wait for the cancel flag, interrupt if need be."""
    from distributed import Event, Variable
    var, ev = Variable(key + "-progress", client=client), Event(key + "-cancel", client=client)
    sent, stop_at, was_set = None, None, False
    try:
        while not done.is_set():
            if not stop.is_set():
                try:
                    if client.status != "running":
                        raise OSError("the scheduler is gone")
                    if ev.wait(timeout=TICK):
                        was_set = True
                        stop.set()
                    elif latest[0] != sent and not done.is_set():
                        sent = latest[0]
                        var.set(list(sent), timeout=5)
                except Exception:            # no scheduler: the result could not be delivered; stop
                    stop.set()
            if stop.is_set():
                stop_at = stop_at or time.monotonic()
                if time.monotonic() - stop_at >= CANCEL_GRACE and guard.interrupt():
                    _count(interrupted=1)
                done.wait(0.05)
    finally:
        if was_set and client.status == "running":          # the Variable is the web process's to delete
            with contextlib.suppress(Exception):
                ev.clear()


class _ShippedFile(DataFiles):
    """On a worker: the one CSV the web process sent, under the path the spec names (nothing else)."""

    def __init__(self, path, real):
        super().__init__()
        self._path, self._real = path, real

    def resolve(self, path):
        if path != self._path:
            raise ValueError(f"path={quote(path)}: not the data this task was given")
        return self._real


class _Supervised:
    """The task's side of progress and cancellation, around one computation in this (the task's) thread:
    ``progress`` records the latest (stage, done, total) and raises _Stop once the cancel flag is up; the
    watcher thread (``_watch``) publishes that stage and, past CANCEL_GRACE, interrupts the computation
    (only inside ``with sup.running():``). Counts the task in worker_stats."""

    def __init__(self, key, first):
        from distributed import get_client
        self.latest = [first]
        self.stop, self.done, self.guard = threading.Event(), threading.Event(), _Guard()
        client = get_client()                                # the worker's client (in the task's thread)
        self.watcher = threading.Thread(target=_watch, args=(client, key, self.latest, self.stop, self.done,
                                                             self.guard), daemon=True, name=f"lln-watch-{key[-8:]}")

    def __enter__(self):
        _count(running=1)
        self.watcher.start()
        return self

    def __exit__(self, *exc):
        self.done.set()           # the watcher ends within TICK on its own (no join: no added latency); it
        _count(running=-1)        # publishes nothing after this, and the guard no longer lets it interrupt
        return False

    def progress(self, stage, n, total):
        self.latest[0] = (stage, n, total)
        if self.stop.is_set():
            raise _Stop

    @contextlib.contextmanager
    def running(self):
        """The computation: BLAS on one thread, interruptible by the watcher; _Stop when cancelled meanwhile."""
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1), self.guard:
            yield
        if self.stop.is_set():
            raise _Stop


def run_task(key, spec_dict, csv=None, trained=None):
    """One computation on a worker (a Dask task): core.run_experiment with progress and cancellation as in
    the module docstring, then the first view's figures. Returns tasks.Computed(result, figures), or CANCELLED.
    ``trained``: label -> Trajectory to reuse (core.run_experiment's ``trained``; the cache's training key)."""
    spec = core.ExperimentSpec.from_dict(spec_dict)
    first = ("train", 0, spec.training.steps * len(spec.optimizers)) if trained is None else ("surface", 0, 1)
    tmp = None
    with _Supervised(key, first) as sup:
        try:
            files = DataFiles()                              # nothing from the worker's disk
            if csv is not None:
                path, raw = csv
                fd, tmp = tempfile.mkstemp(prefix="lln-data-", suffix=".csv")
                with os.fdopen(fd, "wb") as f:
                    f.write(raw)
                files = _ShippedFile(path, tmp)
            try:
                with sup.running():
                    result = core.run_experiment(spec, progress=sup.progress, files=files, trained=trained)
                sup.latest[0] = ("surface", 1, 1)
                figs = figures_or_none(result)               # None: the web process will draw them
                _count(finished=1)
                return Computed(result, figs)
            except _Stop:
                _count(stopped=1)
                return CANCELLED
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.remove(tmp)


def run_named_task(key, name, payload):
    """One of the app's other heavy tasks (tasks.TASKS: slices, curvature map) on a worker, with the same
    progress and cancellation as run_task: the result of tasks.run_named, or CANCELLED."""
    with _Supervised(key, (name, 0, 1)) as sup:
        try:
            with sup.running():
                out = run_named(name, payload, sup.progress)
            _count(finished=1)
            return out
        except _Stop:
            _count(stopped=1)
            return CANCELLED


def warm_worker():
    """Import what a task needs (run once on every worker at start-up); a problem as text, else None."""
    try:
        import threadpoolctl  # noqa: F401
    except Exception as e:                                   # noqa: BLE001 -- reported, not raised
        return f"{type(e).__name__}: {e}"
    return None




def dask_setup(worker):
    """Dask preload hook (``--preload visualizer.serving.dask_task``): import the task's modules at start-up."""
    warm_worker()
