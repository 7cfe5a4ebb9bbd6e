"""The app's sweeps: one background thread per running sweep, on the app's Dask engine, with live partial
results, a server cap, and cancellation of sweeps nobody watches.

    sweeps = SweepService(scheduler=lambda: services.scheduler, files=uploads.files)   # one per app (create_app)
    job = sweeps.start(session, spec)        # ValueError (over a cap, a bad spec) before anything runs
    job = sweeps.poll(session)               # the page's poll (also its heartbeat): job.result is a partial copy
    sweeps.cancel(session); sweeps.close()   # close(): app.close(), at shutdown

**Where it runs.** A sweep is heavy (the lr_sweep preset is 1,320 runs, about 45 s of one CPU), so it does
not run in the web process's threads but on a Dask engine (core.parallel.engine), chosen when the first sweep
starts from ``scheduler`` (a value, or a callable read then, e.g. ``lambda: services.scheduler``):

* None or "local": a LocalCluster the app starts on the first sweep (``workers`` processes, default one per
  core, one thread each; about 1-2 s to start) and keeps for every later sweep of every page, closed by
  ``close()``; DASK_SCHEDULER_ADDRESS, when set, is used instead (as the command line does);
* "tcp://host:8786": the operator's running Dask cluster (``serve --scheduler``), connected on the first
  sweep and kept;
* a distributed.Client: used as it is, never closed here;
* "inline": in the sweep's own thread of the web process (tests; no Dask).

**One sweep per page.** A page (its ``session-id``) has at most one sweep: starting another cancels the
older one; the Stop button cancels it; a page that stops polling (``heartbeat`` seconds without a poll: tab
closed, network gone) has its sweep cancelled. Cancelling makes core.sweep's progress callback raise at its
next call (after every finished chunk of runs, about a second of work here: the app sends chunks of at most
``ceil(runs / max(48, 4 x workers))`` runs, so the map also fills in often), which cancels the unfinished
tasks; chunks already running on a worker finish and are dropped. Switching to the Landscape tab does not
cancel a sweep: the page keeps polling, and a clicked cell's run opens while the rest of the map fills in.
Running a sweep again with the same spec after it stopped computes only its missing runs (core.sweep's
``resume``); a sweep this server finished (for any page) is served from its cache of finished sweeps,
keyed by the spec (``cache.spec_key``; the newest MAX_FINISHED kept; uploaded sweeps never enter it).

**Caps.** core.experiment.sweep_section's (at most 20,000 runs; runs x steps x rows a step x weights <= 1e13), then this
server's ``max_work`` (default DEFAULT_MAX_WORK = 2e11 of those units, about 3 minutes of one CPU here:
4x the lr_sweep preset) with a message naming what to reduce and to what, and at most ``max_running``
sweeps at once on the server (default 2; a newer request is refused with a message, not queued).
"""
from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import OrderedDict

import core
from core.parallel.engine import CONNECT_TIMEOUT, Engine
from core.errors import clip_message, quote
from core.experiment.sweep_section import check_sweep_budget
from visualizer.errors import SweepStopped

from visualizer.serving.cache import spec_key

log = logging.getLogger("visualizer")

DEFAULT_MAX_WORK = 2e11         # runs x steps x rows a step x weights
SECONDS_PER_UNIT = 0.8e-9       # one CPU here (benchmarks/bench_sweep.py: 33.6 ms a run of lr_sweep, 4.15e7 units)
HEARTBEAT = 15.0                # s without a poll before a page's sweep is cancelled
MAX_SESSIONS = 64               # pages whose last sweep (and its result) is kept
MAX_CHUNK = 64                  # runs a task, at most
MAX_FINISHED = 8                # finished sweeps kept for a repeated request (by spec key)


def sweep_work(spec, files=None):
    """(runs, work units, layer sizes) of a sweep spec, after core.experiment.sweep_section's own caps (ValueError)."""
    ds = core.data.datasets.spec_dataset(spec, files)
    net = core.MLP([ds.n_features] + list(spec.model.hidden) + [1])
    work = check_sweep_budget(spec, net.n_params, len(ds.y_train))
    return spec.sweep.n_runs(), work, list(net.layer_sizes)


def admit(spec, max_work, files=None):
    """(work units, layer sizes) of a sweep; ValueError naming what to reduce when it is over ``max_work``
    (None: no cap)."""
    runs, work, sizes = sweep_work(spec, files)
    if max_work is None or work <= max_work:
        return work, sizes
    n_params = core.MLP(sizes).n_params
    sw, t = spec.sweep, spec.training
    shape = ", ".join(f"{o.display} {'x'.join(map(str, o.shape()))}" for o in sw.optimizers)
    max_runs = max(1, int(runs * max_work / work))
    max_steps = max(1, int(t.steps * max_work / work))
    raise ValueError(
        f"sweep: {runs:,} runs ({shape} cells x {len(sw.seeds)} seeds) x {t.steps:,} steps x rows a step x "
        f"{n_params:,} weights = {work:.2g} work units (about {work * SECONDS_PER_UNIT:.0f} s of one CPU here), over "
        f"this server's sweep limit of {max_work:.2g}; use at most {max_runs:,} runs (fewer axis values or "
        f"sweep.seeds, now {len(sw.seeds)}) or training.steps <= {max_steps:,} (now {t.steps:,})"
        + (" or a training.batch_size" if t.batch_size is None else ""))


class SweepJob:
    """One sweep of one page: its state, and the latest partial result (a copy, safe to read)."""
    _ids = itertools.count(1)

    def __init__(self, session, spec, state="starting", result=None, name=None, clock=time.monotonic):
        self.id = next(self._ids)
        self.clock = clock
        self.session, self.spec, self.name = session, spec, name
        self.state = state              # starting | running | complete | stopped | failed | loaded
        self.result = result            # a SweepResult (partial while running), or None before the first
        self.done = result.n_done if result is not None else 0
        self.total = result.n_runs if result is not None else spec.sweep.n_runs()
        self.new_runs = 0               # runs computed by this job (not resumed)
        self.cached = False             # served whole from the server's finished sweeps
        self.version = 0                # bumped at every new result
        self.message = ""               # why it stopped or failed
        self.where = ""                 # the engine's description
        self.started = clock()
        self.seconds = None
        self.seen = clock()
        self.cancelled = threading.Event()
        self.why = None                 # why it was cancelled
        self.thread = None
        self._lock = threading.Lock()
        self._resumed = None

    @property
    def running(self):
        return self.state in ("starting", "running")

    def cancel(self, why):
        if self.running and not self.cancelled.is_set():
            self.why = why
            self.cancelled.set()

    def progress(self, heartbeat):
        """core.sweep's progress callback (its cancellation point)."""
        def cb(result, done, total):
            if self.cancelled.is_set():
                raise SweepStopped(self.why)
            if heartbeat is not None and self.clock() - self.seen > heartbeat:
                self.cancel(f"its page stopped polling for {heartbeat:.0f} s")
                raise SweepStopped(self.why)
            snap = result.copy()
            with self._lock:
                if self._resumed is None:
                    self._resumed = done
                self.result, self.done, self.total, self.state = snap, done, total, "running"
                self.new_runs = done - self._resumed
                self.version += 1
        return cb

    def snapshot(self):
        """(key, result, running, text), read together: the key names this version of the result."""
        with self._lock:
            return f"{self.id}:{self.version}", self.result, self.running, self.text()

    def _set(self, **kw):
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, v)
            self.version += 1

    def text(self):
        """The sweep-status line."""
        where = f" on {self.where}" if self.where else ""
        secs = self.clock() - self.started if self.seconds is None else self.seconds
        if self.state == "starting":
            return f"starting the sweep{where} ({self.total:,} runs)"
        if self.state == "running":
            return f"running{where}: {self.done:,} of {self.total:,} runs done, {secs:.0f} s"
        if self.state == "complete" and self.cached:
            return f"complete: {self.total:,} runs, from this server's cache (computed earlier; nothing recomputed)."
        if self.state == "complete":
            extra = "" if self.new_runs == self.done else f" ({self.new_runs:,} new, the rest resumed)"
            return f"complete: {self.total:,} runs{extra} in {secs:.1f} s{where}."
        if self.state == "stopped":
            return (f"stopped ({self.why or 'cancelled'}) after {self.done:,} of {self.total:,} runs; "
                    "Run again to finish it.")
        if self.state == "loaded":
            part = "complete" if self.done == self.total else "partial: Run computes the missing runs"
            return f"loaded {self.name or 'a sweep'}: {self.done:,} of {self.total:,} runs ({part})."
        return f"the sweep failed: {self.message}"


class SweepService:
    def __init__(self, scheduler=None, workers=None, max_work=DEFAULT_MAX_WORK, max_running=2, heartbeat=HEARTBEAT,
                 files=None, timeout=CONNECT_TIMEOUT, clock=time.monotonic):
        """See the module docstring. ``scheduler``: a value or a callable returning it (read when the engine
        starts); ``workers``: the LocalCluster's size; ``files``: where a spec's CSV data may come from
        (core.data.csvfile.DataFiles, as the app's experiments); ``timeout``: seconds to reach a scheduler;
        ``clock``: the time source of the heartbeat and the timings (tests pass a fake one)."""
        if max_running < 1:
            raise ValueError(f"max_running={quote(max_running)}: must be at least 1")
        self._scheduler = scheduler
        self.workers, self.max_work, self.max_running = workers, max_work, max_running
        self.heartbeat, self.files, self.timeout, self.clock = heartbeat, files, timeout, clock
        self._lock = threading.Lock()
        self._engine_lock = threading.Lock()
        self._engine = None            # a core.parallel.engine.Engine kept open (a LocalCluster or a connection)
        self._engine_for = None
        self._jobs = OrderedDict()     # session -> its newest SweepJob
        self._finished = OrderedDict()  # spec key -> a complete SweepResult this service computed
        self._closed = False

    # ------------------------------------------------------------ the engine
    def scheduler(self):
        s = self._scheduler() if callable(self._scheduler) else self._scheduler
        return None if s == "local" else s

    def _engine_arg(self):
        """What core.sweep gets as ``scheduler``: "inline", or a distributed.Client kept by this service."""
        sched = self.scheduler()
        if sched == "inline" or (sched is not None and not isinstance(sched, str)):
            return sched
        with self._engine_lock:
            if self._closed:
                raise SweepStopped("the server is shutting down")
            eng = self._engine
            if eng is not None and (self._engine_for != sched or getattr(eng.client, "status", None) != "running"):
                eng.close()
                eng = self._engine = None
            if eng is None:
                eng = Engine(sched, self.workers if sched is None else None, self.timeout)
                eng.__enter__()                        # SchedulerUnreachable after the timeout
                self._engine, self._engine_for = eng, sched
            return eng.client

    def describe(self):
        sched = self.scheduler()
        if sched == "inline":
            return "the web process (inline)"
        eng = self._engine
        if eng is not None and eng.client is not None:
            return eng.description
        return core.parallel.engine.describe(sched, self.workers if sched is None else None)

    # ------------------------------------------------------------ jobs
    def admit(self, spec):
        return admit(spec, self.max_work, self.files)

    def start(self, session, spec, resume=None):
        """Start ``spec`` (a validated ExperimentSpec with a sweep section) for ``session``, cancelling its
        older sweep. ``resume``: a partial SweepResult of the same spec (default: the session's last result,
        when it is of the same spec and incomplete). ValueError when refused."""
        _, sizes = self.admit(spec)
        with self._lock:
            if self._closed:
                raise ValueError("the server is shutting down")
            old = self._jobs.get(session)
            busy = sum(1 for j in self._jobs.values() if j.running and not j.cancelled.is_set() and j is not old)
            if busy >= self.max_running:
                plural = "s" if self.max_running != 1 else ""
                raise ValueError(f"this server runs at most {self.max_running} sweep{plural}"
                                 " at once and they are all busy; try again when one has finished")
            if resume is None and old is not None and old.result is not None and not old.result.complete \
                    and old.result.spec.to_dict() == spec.to_dict():
                resume = old.result
            if old is not None:
                old.cancel("a newer sweep of this page replaced it")
            done = self._finished.get(spec_key(spec))
            if done is not None:
                self._finished.move_to_end(spec_key(spec))
                job = SweepJob(session, spec, state="complete", result=done.copy())
                job.cached, job.seconds, job.where = True, 0.0, self.describe()
                self._remember(session, job)
                return job
            job = SweepJob(session, spec, result=resume.copy() if resume is not None else
                           core.SweepResult.empty(spec, sizes), clock=self.clock)
            job.where = self.describe()
            self._remember(session, job)
        job.thread = threading.Thread(target=self._run, args=(job, resume), daemon=True, name=f"sweep-{job.id}")
        job.thread.start()
        return job

    def load(self, session, result, name=None):
        """Show a loaded sweep (an upload) on ``session``'s page, cancelling its running sweep."""
        with self._lock:
            old = self._jobs.get(session)
            if old is not None:
                old.cancel("a sweep file was loaded")
            job = SweepJob(session, result.spec, state="loaded", result=result, name=name, clock=self.clock)
            self._remember(session, job)
        return job

    def _remember(self, session, job):
        self._jobs[session] = job
        self._jobs.move_to_end(session)
        while len(self._jobs) > MAX_SESSIONS:
            victim = next((s for s, j in self._jobs.items() if not j.running), None)
            if victim is None:
                break
            del self._jobs[victim]

    def _run(self, job, resume):
        t0 = self.clock()
        try:
            client = self._engine_arg()
            if job.cancelled.is_set():
                raise SweepStopped(job.why)
            job.where = self.describe()
            workers = 1 if client == "inline" else max(1, sum(client.nthreads().values()))
            missing = job.total - (resume.n_done if resume is not None else 0)
            chunk = max(1, min(MAX_CHUNK, math.ceil(missing / max(48, 4 * workers))))
            res = core.sweep(job.spec, scheduler=client, progress=job.progress(self.heartbeat), chunk_size=chunk,
                             resume=resume, files=self.files, timeout=self.timeout)
            job._set(result=res, done=res.n_done, total=res.n_runs, seconds=self.clock() - t0,
                     new_runs=res.n_done - (resume.n_done if resume is not None else 0), state="complete")
            if res.complete:
                with self._lock:
                    self._finished[spec_key(job.spec)] = res.copy()
                    while len(self._finished) > MAX_FINISHED:
                        self._finished.popitem(last=False)
        except SweepStopped as e:
            job._set(state="stopped", why=job.why or (str(e) or None), seconds=self.clock() - t0)
            log.info("sweep %s stopped: %s", job.id, job.why)
        except Exception as e:                              # ValueError, SchedulerUnreachable, EngineError, ...
            msg = clip_message(e if isinstance(e, (ValueError, ConnectionError)) else f"{type(e).__name__}: {e}")
            job._set(state="failed", message=msg, seconds=self.clock() - t0)
            log.warning("sweep %s failed: %s", job.id, msg)

    def poll(self, session):
        """The session's newest SweepJob (None if it has none); the call is the page's heartbeat."""
        with self._lock:
            job = self._jobs.get(session)
            if job is not None:
                job.seen = self.clock()
            return job

    def job(self, session):
        """The session's newest SweepJob without touching its heartbeat."""
        with self._lock:
            return self._jobs.get(session)

    def cancel(self, session, why="stopped with the Stop button"):
        with self._lock:
            job = self._jobs.get(session)
        if job is not None:
            job.cancel(why)
        return job

    def running(self):
        """Sweeps whose threads are alive (tests, logs)."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.thread is not None and j.thread.is_alive())

    def close(self, wait=5.0):
        """Cancel every sweep, wait up to ``wait`` s for their threads, close the engine (a LocalCluster started
        here stops with its worker processes)."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs.values())
        for j in jobs:
            j.cancel("the server is shutting down")
        end = time.monotonic() + wait
        for j in jobs:                          # most stop at their next chunk, within about a second
            if j.thread is not None:
                j.thread.join(max(0.0, min(1.0, end - time.monotonic())))
        with self._engine_lock:
            if self._engine is not None:
                self._engine.close()            # what still waits for a chunk then fails at once
                self._engine = None
        for j in jobs:
            if j.thread is not None:
                j.thread.join(max(0.0, end - time.monotonic()))
