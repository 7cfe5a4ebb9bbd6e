"""Where sweeps and curvature maps run: in this process, on a local Dask cluster, or on any running Dask cluster.

    with Engine(scheduler=None, workers=None, timeout=CONNECT_TIMEOUT) as eng:
        for i, out in eng.run(fn, tasks, shared):     # fn(shared, task) -> out, yielded as tasks finish
            ...

scheduler:
  "inline"                   every task in the calling process, in order (tests, debugging; no Dask needed)
  None                       DASK_SCHEDULER_ADDRESS if set, else a LocalCluster started here and closed after:
                             ``workers`` processes (default: one per CPU) of one thread each
  "tcp://host:8786"          a running scheduler (``dask scheduler``; workers: ``dask worker tcp://host:8786``)
  a distributed.Client       used as it is, never closed here (the app keeps one for all its sweeps)

The data every task needs (``shared``) is scattered to the workers once; tasks go out with ``client.map`` and
come back with ``as_completed``, so progress is live. If a worker dies, Dask reschedules its tasks; if the
shared data was lost with it, it is scattered again and the unfinished tasks are sent again (up to
MAX_RESUBMITS times). Every task runs with its BLAS held to one thread (threadpoolctl), in this process and on
every worker, so a task's numbers do not depend on where it ran.

An unreachable scheduler raises SchedulerUnreachable after ``timeout`` seconds (CONNECT_TIMEOUT = 10 by
default), a scheduler without workers after the same time. Leaving the block early (an exception, Ctrl-C, a
progress callback that raises, a generator closed) cancels the unfinished tasks; a cluster started here is
closed with its worker processes. How it reaches Dask (the local cluster, the connection, the waiting for
workers, the aligned copies of scattered data) is core.parallel.cluster's.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading

import numpy as np

from core.parallel.cluster import LocalDask, close_client, connect, dask_message, own_arrays, wait_for_workers
from core.constraints import Int, Real, Text
from core.errors import EngineError, clip_message, quote

CONNECT_TIMEOUT = 10.0         # seconds to reach a scheduler (and for it to have a worker) before giving up
MAX_WORKERS = 256
MAX_RESUBMITS = 3
WORKERS = Int(1, MAX_WORKERS)
ADDRESS = Text(300, non_empty=True)
TIMEOUT = Real(0.0, 3600.0, lo_open=True)   # seconds to reach a scheduler (its handshake) and for it to have workers
_DASK_LOGGERS = ("distributed", "tornado", "asyncio", "bokeh")


def quiet_dask_logs(level=logging.ERROR):
    """Keep Dask's own log lines (worker restarts, closing comms) off the terminal: errors only. Dask's
    logging config gives some children levels of their own (``tornado.application``: ERROR, which logs
    "Exception in callback" tracebacks), so every existing logger under these names is set, not only the top."""
    names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in _DASK_LOGGERS]
    for name in set(_DASK_LOGGERS) | set(names):
        logging.getLogger(name).setLevel(level)


def describe(scheduler, workers=None):
    """Where tasks run, for headers and info: 'inline', 'local cluster (2 workers)' or the address."""
    if scheduler == "inline":
        return "inline"
    if scheduler is None:
        env = os.environ.get("DASK_SCHEDULER_ADDRESS")
        if env:
            return env
        return f"local cluster ({workers or default_workers()} workers)"
    if isinstance(scheduler, str):
        return scheduler
    return getattr(scheduler, "scheduler", None) and str(scheduler.scheduler.address) or "a Dask client"


def default_workers():
    return max(1, os.cpu_count() or 1)


def check_engine_args(scheduler, workers, timeout):
    """Validate the engine's arguments (named like the command line's options)."""
    if scheduler is not None and not isinstance(scheduler, str) and not _is_client(scheduler):
        raise ValueError(f"scheduler={quote(scheduler)}: must be None (a local cluster), \"inline\", an address "
                         "such as \"tcp://host:8786\" or a distributed.Client")
    if isinstance(scheduler, str):
        ADDRESS.check("scheduler", scheduler)
        if any(c.isspace() for c in scheduler):
            raise ValueError(f"scheduler={quote(scheduler)}: an address has no spaces, e.g. tcp://host:8786")
    if workers is not None:
        WORKERS.check("workers", workers)
        if not (scheduler is None and not os.environ.get("DASK_SCHEDULER_ADDRESS")):
            raise ValueError(f"workers={workers}: sets the size of the local cluster only; a running cluster has "
                             "the workers it was given, and \"inline\" runs in this process")
    TIMEOUT.check("timeout", timeout)


def _is_client(obj):
    try:
        from distributed import Client
    except ImportError:
        return False
    return isinstance(obj, Client)


_OWNED = {}                     # token -> own_arrays(shared), one per process (the last few sweeps)
_OWNED_LOCK = threading.Lock()


def pinned_call(fn, shared, task):
    """fn(shared, task) with BLAS on one thread and floating-point warnings silenced (diverging runs overflow
    by design): the same numbers wherever it runs."""
    try:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(limits=1)
    except ImportError:                                 # pragma: no cover - threadpoolctl is a requirement
        limit = contextlib.nullcontext()
    token = getattr(shared, "token", None)
    if token is not None:
        with _OWNED_LOCK:
            if token not in _OWNED:
                while len(_OWNED) >= 4:
                    _OWNED.pop(next(iter(_OWNED)))
                _OWNED[token] = own_arrays(shared)
            shared = _OWNED[token]
    with limit, np.errstate(all="ignore"):
        return fn(shared, task)


class Engine:
    """See the module docstring. ``n_workers`` is known after entering (1 inline)."""

    def __init__(self, scheduler=None, workers=None, timeout=CONNECT_TIMEOUT):
        check_engine_args(scheduler, workers, timeout)
        if scheduler is None and os.environ.get("DASK_SCHEDULER_ADDRESS"):
            scheduler = os.environ["DASK_SCHEDULER_ADDRESS"]
        self.scheduler = scheduler
        self.workers = workers
        self.timeout = float(timeout)
        self.client = None
        self._own_client = False
        self._local = None             # a core.parallel.cluster.LocalDask started here
        self.n_workers = 1
        self.description = describe(scheduler, workers)

    @property
    def inline(self):
        return self.scheduler == "inline"

    # ----------------------------------------------------------- lifetime
    def __enter__(self):
        if self.inline:
            return self
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ValueError("scheduler: Dask is not installed (pip install \"dask[distributed]\"); use "
                             "scheduler=\"inline\" to run in this process") from None
        try:
            if self.scheduler is None:
                n = self.workers or default_workers()
                self._local = LocalDask(n, self.timeout)
                self.client = self._local.client
                self.description = f"local cluster ({n} worker{'s' if n != 1 else ''})"
            elif isinstance(self.scheduler, str):
                self.client = connect(self.scheduler, self.timeout, "scheduler")
                self._own_client = True
                wait_for_workers(self.client, self.timeout, "scheduler", self.scheduler)
            else:
                self.client = self.scheduler
                wait_for_workers(self.client, self.timeout, "scheduler",
                                 str(getattr(self.client.scheduler, "address", "the client's scheduler")))
            self.n_workers = max(1, sum(self.client.nthreads().values()))      # task slots (threads)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and not issubclass(exc_type, Exception):
            # Ctrl-C or SIGTERM: the teardown cancels futures mid-flight, and Dask / tornado then log their own
            # tracebacks of it (e.g. a NameError in distributed.utils' cancel); the user asked to stop, the
            # CLI says what was saved: keep that teardown noise off the terminal
            quiet_dask_logs(logging.CRITICAL + 1)
        self.close()
        return False

    def close(self):
        """Close what this engine opened (a client it made, a cluster it started); idempotent."""
        client, local = self.client, self._local
        self.client, self._local = None, None
        if local is not None:                           # its client, its workers; os.environ restored
            local.close(self.timeout)
        elif client is not None and self._own_client:
            close_client(client, self.timeout)
        self._own_client = False

    # ----------------------------------------------------------- running
    def run(self, fn, tasks, shared):
        """Yield (index, fn(shared, tasks[index])) as tasks finish (in order when inline). ``fn`` must be a
        module-level function (workers import it by name). Closing the generator early cancels the rest."""
        if self.inline:
            for i, t in enumerate(tasks):
                yield i, pinned_call(fn, shared, t)
            return
        yield from self._run_dask(fn, list(tasks), shared)

    def _run_dask(self, fn, tasks, shared):
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        client = self.client
        left = dict(enumerate(tasks))
        attempt = 0
        futures = []

        def cluster_error(e):
            return EngineError(f"the Dask cluster failed ({dask_message(e)}){_hint(e)}")
        try:
            while left:
                try:
                    shared_f = client.scatter(shared, broadcast=True, hash=False)
                    idx = list(left)
                    futures = client.map(remote_call, [fn] * len(idx), [shared_f] * len(idx),
                                         [left[i] for i in idx], pure=False)
                except Exception as e:
                    raise cluster_error(e) from None
                where = {f.key: i for f, i in zip(futures, idx)}
                lost = False
                for f in as_completed(futures):
                    i = where[f.key]
                    try:
                        out = f.result()
                    except (FutureCancelledError, _cancelled_error()) as e:
                        # the shared data was lost with a worker (or the scheduler forgot the task): send again
                        lost, why = True, e
                        continue
                    except Exception as e:                      # the cluster's own (the task's: _Failure)
                        raise cluster_error(e) from None
                    if isinstance(out, _Failure):
                        raise out.exc                           # the function's own error, as it is
                    f.release()
                    del left[i]
                    yield i, out
                if lost and left:
                    attempt += 1
                    if attempt > MAX_RESUBMITS:
                        raise EngineError(f"tasks were lost {attempt} times ({clip_message(why, 200)}); the "
                                          "cluster keeps losing workers")
                    client.cancel(futures)
                futures = []
        finally:
            if futures:
                with contextlib.suppress(Exception):
                    client.cancel(futures)


class _Failure:
    """What a task on a worker returns when its own function raised: the exception, to raise again here (any
    other error from a future is the cluster's: EngineError)."""

    def __init__(self, exc):
        self.exc = exc


def remote_call(fn, shared, task):
    """pinned_call on a worker, with the function's own exceptions returned as a _Failure."""
    try:
        return pinned_call(fn, shared, task)
    except Exception as e:
        try:
            import pickle
            pickle.dumps(e)
        except Exception:
            e = RuntimeError(f"{type(e).__name__}: {e}")
        return _Failure(e)


def _cancelled_error():
    import asyncio
    return asyncio.CancelledError


def _hint(e):
    text = str(e)
    if "deserializ" in text or "No module named" in text:
        return ("; the scheduler and every worker must import this project's `core` with the same packages: install "
                "the package in their environment (pip install \".[dask]\"; docs/sweeps.md, On a Dask cluster)")
    return ""


def _ignore_sigint():
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
