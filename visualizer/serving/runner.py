"""Where the app's computations run: the "runner" seam between the ResultCache and core.run_experiment.

    runner = ProcessRunner(workers=2, max_work=DEFAULT_MAX_WORK)    # what `python -m visualizer serve` uses
    result = runner(spec, progress=job.progress)     # blocks this (web server) thread; ValueError if refused
    runner.close()

A runner is any callable ``runner(spec, progress=None) -> ExperimentResult`` (``core.run_experiment`` is
one); ``ResultCache(runner=...)`` calls it on a cache miss. Two are here, a third (``dask_runner.DaskRunner``,
``serve --scheduler``) sends the work to a Dask cluster:

* ``LocalRunner``: ``core.run_experiment`` in the calling thread (tests, ``serve --workers 0``).
  Measured: two computations in two threads of one process took 1.1-1.7x as long as the same two one
  after the other (NumPy on small arrays holds the GIL most of the time), so threads give no parallelism.
* ``ProcessRunner``: a small pool of worker processes (multiprocessing "forkserver", ``core`` preloaded,
  so a new worker starts in about 10 ms), each running one computation at a time with one BLAS thread.
  Two worker processes finish two computations in about half the sequential time on the 2-core machine
  (``benchmarks/bench_workers.py``). The web process keeps the ResultCache and the JobRegistry; a worker
  gets a spec (a dict) and sends back progress messages and then the result (pickled over a pipe: the
  two ends are this program, nothing from outside is unpickled).

Admission (both runners): ``core.experiment.admission.admit(spec, max_work)`` checks core.check_budget and refuses
a spec whose ``core.estimate_work`` is over ``max_work`` with a message naming what to reduce and to what
(``serve --max-work``; the default keeps one request to about 10 s here).

Fair queue (ProcessRunner): ``workers`` processes take any request, first come first served, and
``small_workers`` more (default 1) take only small ones (estimated <= ``small_work``, about 2 s), so a
small request never waits behind big ones: with both general workers busy on long runs, a short one still
starts at once. Per page, the JobRegistry keeps one running computation (a newer request replaces it).

Figures: a worker also draws the page's initial view of its result (``prerender``: the landscape, contour,
curves and sharpness figures as plotly JSON; the runner returns ``tasks.Computed(result, figures)`` and the
ResultCache keeps the figures beside the result, under the same key), so the web process, whose threads share
one GIL, only forwards them (``render_callbacks.render``); drawing and encoding took about 0.6-1.3 s of the 1.5 s of CPU
a request costs, and in the web process they ran one at a time.

Cancellation: while it waits, the runner calls ``progress`` at least every 0.2 s (with "queued" while
queued, else the last stage the worker reported); when ``progress`` raises (the JobRegistry's way to
cancel), a queued request leaves the queue and a running one's worker process is killed, which stops its
CPU work at once whatever it is doing (training, surface, plane), and a fresh worker replaces it.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading

import core
from core.data.csvfile import DataFiles
from core.experiment.admission import admit
from core.experiment.budget import WORK_UNITS_PER_SECOND, estimate_work

from visualizer.serving.tasks import run_named, task_work

log = logging.getLogger("visualizer")

DEFAULT_MAX_WORK = 10 * WORK_UNITS_PER_SECOND      # about 10 s of one worker here (benchmarks/bench_work.py)
SMALL_WORK = 2 * WORK_UNITS_PER_SECOND             # "small" requests (about 2 s): the reserved lane takes them
TICK = 0.2                                         # seconds between progress calls while waiting
RECYCLE_RSS = 400 * 2**20                          # a worker holding more than this after a task is replaced


def _rss(pid):
    """Resident bytes of process ``pid`` (0 when unknown)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class LocalRunner:
    """core.run_experiment in the calling thread, after ``admit`` (no parallelism; see the module docstring)."""

    def __init__(self, max_work=DEFAULT_MAX_WORK, files=None):
        self.max_work = max_work
        self.files = files if files is not None else DataFiles()     # a server reads no path by default

    def __call__(self, spec, progress=None, trained=None):
        admit(spec, self.max_work, self.files)
        return core.run_experiment(spec, progress=progress, files=self.files, trained=trained)

    def task(self, name, payload, progress=None, work=None):
        """A heavy task of the app (tasks.TASKS) in the calling thread, after the same work cap."""
        admit_task(name, payload, self.max_work, work)
        return run_named(name, payload, progress)

    def close(self):
        pass


TASK_WHAT = {"slices": "the 1-D slices of this frame (a dense Hessian and its top eigenvector)",
             "curvature-map": "the curvature colour map"}


def admit_task(name, payload, max_work, work=None):
    """The estimated work of a task (tasks.task_work); ValueError when it is over ``max_work`` (None: no cap)."""
    work = task_work(name, payload) if work is None else work
    if max_work is not None and work > max_work:
        raise ValueError(f"{TASK_WHAT.get(name, name)}: an estimated {work:.2g} work units (about "
                         f"{work / WORK_UNITS_PER_SECOND:.0f} s of computing here), over this server's limit of "
                         f"{max_work:.2g} (serve --max-work); use a smaller model.hidden or fewer training rows")
    return work


# ----------------------------------------------------------------- worker processes
def _worker_main(conn):
    """A worker process: run tasks (tasks.TASKS) received on ``conn`` until it closes; one BLAS thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)          # Ctrl-C reaches the whole group; the server stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)         # the parent's handler is not ours
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=1)
    except ImportError:                                   # pragma: no cover - threadpoolctl is required
        pass
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        name, payload = msg

        def progress(stage, done, total):
            conn.send(("progress", stage, done, total))
        try:
            out = run_named(name, payload, progress)
        except Exception as e:
            conn.send(("error", type(e).__name__, str(e)))
            continue
        conn.send(("done", out))


class _Worker:
    def __init__(self, ctx, lane):
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name=f"lln-worker-{lane}")
        self.proc.start()
        child.close()
        self.conn, self.lane, self.tasks = parent, lane, 0

    def stop(self, kill=False):
        try:
            if kill:
                self.proc.kill()
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(timeout=2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=2)
        self.conn.close()


class _Ticket:
    def __init__(self, small):
        self.small, self.worker = small, None


class _WorkerError(Exception):
    """An exception raised inside the worker's run (the worker itself is fine)."""


class ProcessRunner:
    """A pool of worker processes with a two-lane first-come-first-served queue (see the module docstring).

    ``workers``: processes for any request (default: the number of cores); ``small_workers``: extra
    processes reserved for small requests; ``max_work``: refuse requests estimated above it (None: no
    limit); ``small_work``: the estimate up to which a request is small; ``max_tasks``: a worker is
    replaced after this many runs, and at once when it holds more than RECYCLE_RSS after a task (bounds the
    memory of long-lived processes: a 4,000-weight slices task left about 700 MB behind); ``files``: where CSV data
    may come from (core.data.csvfile.DataFiles: uploads and the operator's data folder; default: nothing).
    """

    queues = True                       # it bounds and queues the work itself: the ResultCache need not

    def __init__(self, workers=None, small_workers=1, max_work=DEFAULT_MAX_WORK, small_work=SMALL_WORK,
                 max_tasks=50, files=None):
        workers = (os.cpu_count() or 1) if workers is None else workers
        if workers < 1 or small_workers < 0:
            raise ValueError(f"workers={workers}, small_workers={small_workers}: need workers >= 1, small_workers >= 0")
        self.max_work, self.small_work, self.max_tasks = max_work, small_work, max_tasks
        self.files = files if files is not None else DataFiles()     # a server reads no path by default
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["core", "visualizer.serving.runner", "visualizer.figures.landscape"])
        self._cond = threading.Condition()
        self._tickets = []                 # waiting requests, first come first served
        self._free = []                    # idle workers
        self._all = set()
        self._closed = False
        self.running = 0                   # computations in worker processes now
        self.peak_running = 0
        self.killed = 0                    # workers killed to cancel a computation
        for lane, n in (("any", workers), ("small", small_workers)):
            for _ in range(n):
                self._add(_Worker(self._ctx, lane))

    # -- pool bookkeeping (under self._cond)
    def _add(self, w):
        with self._cond:
            if self._closed:
                w.stop(kill=True)
                return
            self._all.add(w)
            self._free.append(w)
            self._assign()

    def _assign(self):
        """Give free workers to waiting tickets, oldest first; big tickets take only general workers."""
        for t in list(self._tickets):
            lanes = ("small", "any") if t.small else ("any",)
            w = next((w for lane in lanes for w in self._free if w.lane == lane), None)
            if w is not None:
                self._free.remove(w)
                self._tickets.remove(t)
                t.worker = w
        self._cond.notify_all()

    def _release(self, w, broken):
        big = not broken and _rss(w.proc.pid) > RECYCLE_RSS      # e.g. after a dense Hessian: give the memory back
        with self._cond:
            self.running -= 1
            if self._closed:
                return
            if broken or big or w.tasks >= self.max_tasks:
                self._all.discard(w)
            else:
                self._free.append(w)
                self._assign()
                return
        w.stop(kill=broken)
        if broken:
            self.killed += 1
        self._add(_Worker(self._ctx, w.lane))       # a fresh process takes its place (about 10 ms)

    # -- the runner
    def __call__(self, spec, progress=None, trained=None):
        """Computed(result, figures) of ``spec`` (a worker's run and its first view). ``trained``: label ->
        Trajectory to reuse (the ResultCache's training key): sent to the worker, which then computes only the
        landscape; such a request counts as small when its landscape part is."""
        if isinstance(spec, dict):
            spec = core.ExperimentSpec.from_dict(spec)
        work = admit(spec, self.max_work, self.files)
        if trained is not None:
            est = estimate_work(spec, files=self.files)
            work -= est["train"] + est["curvature"]
        w = self._wait_for_worker(work <= self.small_work, progress)
        last = ("train", 0, spec.training.steps * len(spec.optimizers)) if trained is None else ("surface", 0, 1)
        return self._run_on(w, ("experiment", (spec.to_dict(), self.files, trained)), progress, last)

    def task(self, name, payload, progress=None, work=None):
        """A heavy task of the app (tasks.TASKS: slices, curvature map) on a worker process, after the same
        admission (its estimated work against ``max_work``); cancelled like a run (the worker is killed)."""
        work = admit_task(name, payload, self.max_work, work)
        w = self._wait_for_worker(work <= self.small_work, progress)
        return self._run_on(w, (name, payload), progress, (name, 0, 1))

    def _wait_for_worker(self, small, progress):
        t = _Ticket(small)
        with self._cond:
            self._tickets.append(t)
            self._assign()
        try:
            while True:
                with self._cond:
                    if t.worker is None and not self._closed:
                        self._cond.wait(TICK)
                    if t.worker is not None:
                        self.running += 1
                        self.peak_running = max(self.peak_running, self.running)
                        return t.worker
                    if self._closed:
                        raise RuntimeError("the server is shutting down")
                if progress is not None:
                    progress("queued", 0, 1)
        except BaseException:
            with self._cond:
                if t in self._tickets:
                    self._tickets.remove(t)
                elif t.worker is not None:                # assigned while we were leaving: give it back
                    self._free.append(t.worker)
                    self._assign()
            raise

    def _run_on(self, w, msg, progress, last):
        broken = True
        try:
            w.tasks += 1
            w.conn.send(msg)
            if progress is not None:
                progress(*last)
            while True:
                if w.conn.poll(TICK):
                    msg = w.conn.recv()
                    if msg[0] == "progress":
                        last = msg[1:]
                    elif msg[0] == "done":
                        broken = False
                        return msg[1]
                    else:
                        broken = False
                        raise _WorkerError(msg[1], msg[2])
                elif not w.proc.is_alive():
                    raise RuntimeError(f"the worker process stopped (exit code {w.proc.exitcode})")
                if progress is not None:
                    progress(*last)                      # may raise: cancelled -> the finally kills the worker
        except _WorkerError as e:
            kind, text = e.args
            raise (ValueError(text) if kind == "ValueError" else RuntimeError(f"{kind}: {text}")) from None
        except (EOFError, OSError) as e:
            if self._closed:
                raise RuntimeError("the server is shutting down") from None
            raise RuntimeError(f"the worker process stopped ({type(e).__name__})") from None
        finally:
            self._release(w, broken)

    def close(self):
        """Stop every worker (running computations are killed); waiting callers get RuntimeError."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._free.clear()
            self._cond.notify_all()
        for w in workers:
            w.stop(kill=True)

    def stats(self):
        with self._cond:
            return dict(workers=len(self._all), free=len(self._free), queued=len(self._tickets),
                        running=self.running, peak_running=self.peak_running, killed=self.killed)
