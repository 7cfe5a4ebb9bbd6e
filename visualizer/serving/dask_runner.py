"""The app's computations on a Dask cluster: ``serve --scheduler ADDR`` (or ``local``).

    runner = DaskRunner("tcp://127.0.0.1:8786", max_work=DEFAULT_MAX_WORK, files=uploads.files)
    result = runner(spec, progress=job.progress)      # blocks this (web server) thread; ValueError if refused
    runner.close()

The same seam as runner.LocalRunner and runner.ProcessRunner: ``runner(spec, progress=None) ->
ExperimentResult``. What stays in the web process: admission (``core.experiment.admission.admit``: the work
cap, before anything is sent), the ResultCache, the JobRegistry (pages, progress, cancellation), the uploads and
the data folder.
What runs on a worker: one task per computation, ``core.run_experiment(spec, progress, files)`` with BLAS on
one thread (as core.parallel.engine pins it), then the page's first view (``tasks.prerender``), like a
ProcessRunner worker; it returns tasks.Computed(result, figures). The app's other heavy tasks (slices,
curvature maps) are one Dask task each (``task``). Small requests (estimated <= ``small_work``) get a higher
Dask priority, so they start before big ones waiting in the scheduler's queue (there is no reserved worker as
in ProcessRunner).

CSV data: the web process applies its own rule (core.data.csvfile.DataFiles: an upload or a file of
``serve --data-dir``), reads the file (capped at 16 MB) and ships its bytes with the task; the worker writes
them to a temporary file and reads them with the same parser. So a worker never needs the server's disk, a
remote worker gives the same numbers, and the spec (the cache key) still names ``upload:<hash>``.

Progress and cancellation (per task, two named objects on the scheduler, public Dask API):

* the task's ``progress`` callback only records the latest (stage, done, total) and checks a local flag;
  a watcher thread in the task publishes that state to a ``distributed.Variable`` (at most every TICK) and
  waits on a ``distributed.Event``, the cancel flag, TICK at a time; the web thread reads the Variable
  every TICK and calls the page's ``progress`` with it ("queued" until the task started);
* when the page's ``progress`` raises (the JobRegistry's way to cancel), the web thread sets the Event and
  cancels the future; the watcher sees it within TICK and sets the local flag, so ``core.run_experiment``
  raises at its next progress call (every 1,000 training steps, after every surface chunk); if that call
  does not come within CANCEL_GRACE (a big model whose 1,000 steps take seconds), the watcher raises the
  same exception in the task's thread (``PyThreadState_SetAsyncExc``, only while ``run_experiment`` runs),
  which takes effect after the current NumPy call;
* the watcher also stops the task when the scheduler is gone (nobody could receive the result);
* the web process sets the Variable before it submits (so it is never read unset) and deletes it when the
  task has ended; after a cancellation it deletes it, and clears the Event, JANITOR_DELAY seconds later (the
  task has stopped long before; a task that saw the Event clears it itself).

Bit-identical results: the task gets a spec (a dict) and at most a CSV's bytes, never arrays, so the
scattered-buffer alignment finding (core.parallel.cluster.own_arrays) does not arise on the worker; the result's
arrays come back through Dask's serialization, possibly in read-only or unaligned buffers, and are copied
once here (aligned, writeable: own_arrays) before anything uses them.

Errors: an unreachable scheduler at start is core.SchedulerUnreachable after ``timeout`` seconds (serve: one
line, exit status 2); a scheduler lost while serving fails the page's request with core.EngineError (the
page shows it; the server stays up, and the next request reconnects when the scheduler is back).
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid

import core
from core.parallel.cluster import LocalDask, close_client, connect, dask_message, own_arrays, wait_for_workers
from core.data.csvfile import DataFiles, read_bytes
from core.parallel.engine import CONNECT_TIMEOUT, default_workers
from core.errors import EngineError, SchedulerUnreachable, clip_message, quote

from visualizer.serving.dask_task import CANCELLED, run_named_task, run_task, warm_worker
from core.experiment.admission import admit
from visualizer.serving.runner import DEFAULT_MAX_WORK, SMALL_WORK, TICK, admit_task

log = logging.getLogger("visualizer")

JANITOR_DELAY = 30.0        # s after a job ended before the web process removes its scheduler objects
SCATTER_BYTES = 2**20       # CSV bytes above this go to the cluster with client.scatter, not in the graph
KEY_PREFIX = "lln-experiment-"
LOCAL = "local"
ENV = "env"


def resolve_scheduler(scheduler):
    """``serve --scheduler``: "local", "env" (DASK_SCHEDULER_ADDRESS) or an address; ValueError naming it."""
    if scheduler == ENV:
        addr = os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip()
        if not addr:
            raise ValueError("--scheduler env: DASK_SCHEDULER_ADDRESS is not set; give the address, e.g. "
                             "--scheduler tcp://host:8786")
        return addr
    if not isinstance(scheduler, str) or not scheduler.strip() or len(scheduler) > 300 or any(
            c.isspace() for c in scheduler):
        raise ValueError(f"--scheduler {quote(scheduler)}: give a Dask scheduler address such as "
                         "tcp://host:8786, local (a cluster started here) or env (DASK_SCHEDULER_ADDRESS)")
    return scheduler


class DaskRunner:
    """Experiments on a Dask cluster (see the module docstring).

    ``scheduler``: an address ("tcp://host:8786"), "local" (a LocalCluster of ``workers`` processes of one
    thread, started here and closed with the runner) or a distributed.Client (used as it is, never closed).
    ``max_work``, ``small_work``, ``files``: as in runner.ProcessRunner. ``timeout``: seconds to reach the
    scheduler and for it to have a worker (core.parallel.engine.CONNECT_TIMEOUT by default).
    """

    queues = True                       # the cluster queues the work: the ResultCache need not bound it

    def __init__(self, scheduler=LOCAL, workers=None, max_work=DEFAULT_MAX_WORK, small_work=SMALL_WORK,
                 files=None, timeout=CONNECT_TIMEOUT):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ValueError("--scheduler: Dask is not installed (pip install \"dask[distributed]\")") from None
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
            raise ValueError(f"timeout={quote(timeout)}: must be a number of seconds in (0, 3600]")
        self.max_work, self.small_work = max_work, small_work
        self.files = files if files is not None else DataFiles()     # a server reads no path by default
        self.timeout = float(timeout)
        self.client = None
        self._address = None            # reconnect to this when the client is lost
        self._own_client = False
        self._local = None              # a core.parallel.cluster.LocalDask (--scheduler local)
        self._lock = threading.Lock()
        self._jobs = {}                  # key -> future, running or queued
        self._janitor = []               # (due, key): scheduler objects to remove
        self._last_failed = 0.0
        self._closed = False
        self.submitted = 0
        self.cancelled = 0
        if scheduler == LOCAL:
            self._start_local(workers)
        elif isinstance(scheduler, str):
            if workers is not None:
                raise ValueError(f"--workers {workers}: sets the size of a local cluster (--scheduler local) "
                                 "only; a running cluster has the workers it was given")
            self._address = scheduler
            self._connect(scheduler)
        else:
            self.client = scheduler
            self.description = f"the Dask scheduler {getattr(scheduler.scheduler, 'address', '?')}"
        try:
            self._wait_for_workers()
            self._warm()
        except BaseException:
            self.close()
            raise

    # -------------------------------------------------------------- connecting
    def _start_local(self, workers):
        n = workers or default_workers()
        self._local = LocalDask(n, self.timeout, set_as_default=False)
        self.client, self._own_client = self._local.client, True
        self.description = f"a local Dask cluster ({n} worker{'s' if n != 1 else ''})"

    def _connect(self, address):
        client = connect(address, self.timeout, "--scheduler", timeout_hint="--timeout", set_as_default=False)
        old, self.client, self._own_client = self.client, client, True
        self.description = f"the Dask scheduler {address}"
        if old is not None:
            close_client(old, 1)

    def _wait_for_workers(self):
        wait_for_workers(self.client, self.timeout, "--scheduler", self._address, timeout_hint="--timeout")

    def _warm(self):
        """Import the task's modules on every worker now (a worker that cannot is reported here)."""
        try:
            problems = self.client.run(warm_worker)
        except Exception as e:                               # e.g. the workers cannot import `visualizer`
            raise EngineError(f"the Dask workers cannot run the app's tasks ({dask_message(e)}); install the "
                              "package in their environment (pip install \".[dask]\"; docs/serving.md, On a Dask "
                              "cluster)") from None
        bad = {w: p for w, p in problems.items() if p}
        if bad:
            log.warning("Dask workers cannot draw figures (%s); the web process draws them",
                        clip_message(next(iter(bad.values())), 200))

    def _where(self, client):
        return self._address or str(getattr(getattr(client, "scheduler", None), "address", None) or "of the cluster")

    def _lost(self, client):
        return EngineError(f"the Dask scheduler {self._where(client)} is not answering (lost while serving); this "
                           "server keeps running and computes there again once it is back")

    def _live_client(self):
        """The client, reconnected if it was lost (EngineError when the scheduler still does not answer)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            c = self.client
            if c is not None and c.status == "running":
                return c
            lost = self._lost(c)
            if self._address is None or (c is not None and c.status == "connecting") or \
                    time.monotonic() - self._last_failed < self.timeout:
                raise lost
            try:
                self._connect(self._address)
                self._warm()
            except (SchedulerUnreachable, EngineError, ValueError):
                self._last_failed = time.monotonic()
                raise lost from None
            log.info("reconnected to the Dask scheduler %s", self._address)
            return self.client

    # -------------------------------------------------------------- the runner
    def __call__(self, spec, progress=None, trained=None):
        if isinstance(spec, dict):
            spec = core.ExperimentSpec.from_dict(spec)
        work = admit(spec, self.max_work, self.files)        # ValueError: nothing was sent
        csv = None
        if spec.data.name == "csv":                          # the server's rule, then the bytes travel
            csv = (spec.data.path, read_bytes(self.files.resolve(spec.data.path), shown=spec.data.path))
        self._clean(force=False)
        client = self._client_with_workers()
        key = KEY_PREFIX + uuid.uuid4().hex
        from distributed import Variable
        var = Variable(key + "-progress", client=client)
        fut = scattered = None
        try:
            fut, scattered = self._submit(client, key, var, spec, csv, work, trained)
            with self._lock:
                self._jobs[key] = fut
                self.submitted += 1
            self._wait(client, fut, var, progress)
            if self._closed:
                raise RuntimeError("the server is shutting down")
            return self._outcome(fut, client)
        except BaseException:
            self._cancel(client, key, fut)                   # cancelled by the page (or the server stops)
            raise
        finally:
            self._release(client, key, fut, var, scattered)

    def task(self, name, payload, progress=None, work=None):
        """A heavy task of the app (tasks.TASKS: slices, curvature map) as one Dask task, after the same
        admission, progress and cancellation as an experiment (dask_task.run_named_task): cancelling it sets
        its cancel flag, so a running task stops at its next progress call or is interrupted after
        CANCEL_GRACE (after the NumPy call it is in)."""
        admit_task(name, payload, self.max_work, work)
        client = self._client_with_workers()
        key = KEY_PREFIX + name + "-" + uuid.uuid4().hex
        from distributed import Variable
        var = Variable(key + "-progress", client=client)
        fut = None
        try:
            try:
                var.set([name, 0, 1], timeout=self.timeout)
                fut = client.submit(run_named_task, key, name, payload, key=key, pure=False, retries=0)
            except Exception:
                raise self._lost(client) from None
            with self._lock:
                self._jobs[key] = fut
            while True:
                if progress is not None:
                    progress(name, 0, 1)                     # may raise: cancelled
                try:
                    out = fut.result(timeout=TICK)
                except TimeoutError:
                    if self._closed or client.status != "running":
                        raise self._lost(client) from None
                    continue
                if isinstance(out, str) and out == CANCELLED:    # stopped on the worker (its scheduler went away)
                    raise self._lost(client)
                return own_arrays(out)
        except BaseException:
            self._cancel(client, key, fut)
            raise
        finally:
            self._release(client, key, fut, var, None)

    def _client_with_workers(self):
        client = self._live_client()
        try:
            n_workers = len(client.nthreads())
        except Exception:
            raise self._lost(client) from None
        if not n_workers:
            where = self._where(client)
            raise EngineError(f"the Dask scheduler {where} has no workers now; start some with `dask worker {where}`")
        return client

    def _submit(self, client, key, var, spec, csv, work, trained=None):
        """(the task's future, the scattered CSV or None); EngineError when the scheduler went away just now."""
        arg, scattered = csv, None
        try:
            if csv is not None and len(csv[1]) > SCATTER_BYTES:
                scattered = arg = client.scatter(csv, hash=False)
            var.set(["queued", 0, 1], timeout=self.timeout)          # never read unset (the scheduler logs that)
            fut = client.submit(run_task, key, spec.to_dict(), arg, trained, key=key, pure=False, retries=0,
                                priority=1 if work <= self.small_work else 0)
        except Exception:
            raise self._lost(client) from None
        return fut, scattered

    def _wait(self, client, fut, var, progress):
        """Until the task ends: the page's progress every TICK, from the task's Variable (it may raise)."""
        last = ("queued", 0, 1)
        while True:
            if progress is not None:
                progress(*last)                              # may raise: cancelled (see __call__)
            try:
                fut.result(timeout=TICK)
            except TimeoutError:
                pass
            except Exception:                                # finished with an error: _outcome says which
                return
            if fut.done() or client.status != "running" or self._closed:
                return
            try:
                v = var.get(timeout=0.05)
                if isinstance(v, (list, tuple)) and len(v) == 3:
                    last = tuple(v)
            except Exception:                                # not set yet (queued), or just deleted
                pass

    def _cancel(self, client, key, fut):
        if fut is None or fut.done():
            return
        from distributed import Event
        with contextlib.suppress(Exception):
            Event(key + "-cancel", client=client).set()
        with contextlib.suppress(Exception):
            fut.cancel()
        with self._lock:
            self.cancelled += 1

    def _release(self, client, key, fut, var, scattered):
        with self._lock:
            self._jobs.pop(key, None)
            self._janitor.append((time.monotonic() + JANITOR_DELAY, key))
        if scattered is not None:
            with contextlib.suppress(Exception):
                scattered.release()
        if fut is not None:
            if fut.done() and client.status == "running":      # the task and its watcher have ended
                with contextlib.suppress(Exception):
                    var.delete()
            with contextlib.suppress(Exception):
                fut.release()

    def _outcome(self, fut, client):
        """The finished future's result (arrays copied), or the error it ended with."""
        status = fut.status
        if status == "finished":
            try:
                out = fut.result(timeout=self.timeout)
            except Exception as e:
                raise EngineError(f"the Dask cluster failed ({dask_message(e)})") from None
            if isinstance(out, str):                      # CANCELLED: the scheduler was lost under the task
                raise EngineError("the computation was stopped on its Dask worker (the scheduler went away)")
            return own_arrays(out)
        if status == "error":
            try:
                exc = fut.exception(timeout=self.timeout)
            except Exception as e:
                exc = e
            if isinstance(exc, (ValueError, MemoryError)):  # the spec's own error (e.g. a CSV's content)
                raise exc
            name = type(exc).__name__
            if name == "KilledWorker":
                raise EngineError(f"a Dask worker died computing this experiment ({dask_message(exc)})") from None
            if "deserializ" in str(exc) or isinstance(exc, (ImportError, ModuleNotFoundError)):
                raise EngineError(f"the Dask worker could not run the task ({dask_message(exc)}); install the "
                                  "package in the workers' environment (pip install \".[dask]\"; docs/serving.md)"
                                  ) from None
            raise exc
        if client.status != "running" or status in ("cancelled", "lost"):
            raise self._lost(client)
        raise EngineError(f"the Dask cluster dropped the computation (future {status})")

    # -------------------------------------------------------------- cleaning up
    def _clean(self, force):
        """Remove the scheduler objects of jobs that ended JANITOR_DELAY ago (all of them with ``force``)."""
        from distributed import Event, Variable
        now = time.monotonic()
        with self._lock:
            due = [k for t, k in self._janitor if force or t <= now]
            self._janitor = [(t, k) for t, k in self._janitor if not (force or t <= now)]
            client = self.client
        if not due or client is None or client.status != "running":
            return
        for key in due:
            with contextlib.suppress(Exception):
                Variable(key + "-progress", client=client).delete()
            with contextlib.suppress(Exception):
                Event(key + "-cancel", client=client).clear()

    def close(self):
        """Cancel running computations, close what this runner opened (its client, a local cluster)."""
        from distributed import Event
        with self._lock:
            if self._closed:
                return
            self._closed = True
            jobs = dict(self._jobs)
        client = self.client
        if client is not None and client.status == "running":
            for key, fut in jobs.items():
                with contextlib.suppress(Exception):
                    Event(key + "-cancel", client=client).set()
                with contextlib.suppress(Exception):
                    fut.cancel()
            self._clean(force=True)       # ended jobs; the tasks cancelled here remove their own objects
        client, local = self.client, self._local
        self.client, self._local = None, None
        if local is not None:                             # its client, its workers; os.environ restored
            local.close(min(self.timeout, 10))
        elif client is not None and self._own_client:
            close_client(client, min(self.timeout, 5))

    def stats(self):
        with self._lock:
            return dict(running=len(self._jobs), submitted=self.submitted, cancelled=self.cancelled)

