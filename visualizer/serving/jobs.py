"""In-flight computations per browser session: progress, and cancellation of computations nobody waits for.

    jobs = JobRegistry(cache, heartbeat=15)      # one per app, next to the ResultCache
    with jobs.request(session) as req:           # one main-callback request of a page (wiring does this)
        key, result, hit = jobs.compute(spec, session)   # raises Cancelled if superseded
        req["status"] = "... computed in 1.2 s."
    jobs.poll(session)                           # {"text": "training: 3,000 / 8,000 steps", "waiting": True, ...}

A session is one page load (a random id in the page's ``session-id`` store). A computation is cancelled
when no page waits for it any more:

* the page sent a newer request: a valid one (``compute`` for another spec leaves the old job), an invalid
  or refused one, or an upload (``end`` of the newest request leaves whatever job an older request of the
  session started);
* the page stopped polling: while a request is in flight the page polls its progress every 0.5 s
  (``poll``); a job whose sessions all stayed silent for ``heartbeat`` seconds (tab closed, network gone)
  is cancelled;
* a job shared by several sessions (same spec) runs on while any of them still waits.

Cancelling means the job's progress callback raises ``Cancelled`` at its next call: the runner calls it at
least every 0.2 s while a request is queued or computing (``runner.ProcessRunner`` then kills the worker
process; ``core.run_experiment`` in a thread stops at its next training or surface-chunk tick), and the
result is never cached. ``poll`` always describes the newest request of the session.

**Kinds.** Every heavy computation of a page is a job of one kind: "experiment" (the main callback), "slices",
"curvature-map", and "result" jobs of the other callbacks (render, markers, min-eig, downloads) that need a
result no longer in the cache (``jobs.result(spec, session, kind)``). The rules above hold per (page, kind):
a page holds at most one job of each kind, and its newest request of a kind wins. ``run(kind, key, compute,
session)`` is the general form (``compute(progress)`` does the work, e.g. ``cache.task``); a request that
finds its result cached never comes here. A request without a valid session gets a one-off session (the
heartbeat then cancels its job when nobody polls for it). At most ``max_jobs`` distinct jobs are in flight
on the server: one more is refused with a message (so queued requests cannot hold every HTTP thread).

``clock``: the time source (``time.monotonic``; tests pass a fake one).
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import OrderedDict

from core.errors import quote

from visualizer.serving.cache import spec_key
from visualizer.errors import Cancelled

log = logging.getLogger("visualizer")
MAX_SESSIONS = 10_000          # per-session bookkeeping kept (oldest idle sessions forgotten first)
EXPERIMENT = "experiment"      # the main callback's kind; ``poll`` shows its progress
KINDS = (EXPERIMENT, "slices", "curvature-map", "render", "min-eig", "download")
MAX_JOBS = 16                  # distinct jobs in flight on the server (serve: half its HTTP threads)


class Job:
    """One in-flight computation (a key: a spec's, or a task's), shared by the (session, kind) waiting for it."""

    def __init__(self, key, registry=None):
        self.key = key
        self.waiters = set()                 # (session, kind)
        self.cancelled = threading.Event()
        self.stage, self.done, self.total = "queued", 0, 1
        self._registry = registry

    @property
    def sessions(self):
        return {s for s, _ in self.waiters}

    def progress(self, stage, done, total):
        """The runner's progress callback (also its cancellation point)."""
        if self.cancelled.is_set() or (self._registry is not None and self._registry._abandoned(self)):
            raise Cancelled(self.key)
        self.stage, self.done, self.total = stage, done, total

    def text(self):
        if self.stage == "queued":
            return "queued: waiting for a free worker"
        if self.stage == "train":
            return f"training: {self.done:,} / {self.total:,} steps"
        if self.stage == "surface":
            return "computing the surface" if self.done < self.total else "drawing"
        if self.stage in ("drawing", "slices", "curvature map"):
            return f"computing the {self.stage}" if self.stage != "drawing" else "drawing"
        return f"{self.stage}: {self.done:,} / {self.total:,}"


class _Slot:
    __slots__ = ("job", "newest", "open", "final")

    def __init__(self):
        self.job = None          # the Job its newest computing request of this kind waits for
        self.newest = 0          # token of its newest request of this kind
        self.open = 0            # its requests of this kind in flight
        self.final = None        # status text of its newest finished request of this kind


class _Session:
    __slots__ = ("seen", "slots")

    def __init__(self, now):
        self.seen = now          # its last request or progress poll
        self.slots = {}          # kind -> _Slot

    def slot(self, kind):
        s = self.slots.get(kind)
        if s is None:
            s = self.slots[kind] = _Slot()
        return s

    def idle(self):
        return all(s.job is None and s.open == 0 for s in self.slots.values())


class JobRegistry:
    def __init__(self, cache, heartbeat=None, clock=time.monotonic, max_jobs=MAX_JOBS):
        """``heartbeat``: seconds without a request or poll from any of its sessions after which a job is
        cancelled (None: never; the app uses 15). ``clock``: the time source. ``max_jobs``: distinct jobs in
        flight at once (None: no cap)."""
        if heartbeat is not None and heartbeat <= 0:
            raise ValueError(f"heartbeat={quote(heartbeat)}: must be a positive number of seconds (or None)")
        if max_jobs is not None and max_jobs < 1:
            raise ValueError(f"max_jobs={quote(max_jobs)}: must be at least 1 (or None)")
        self.cache = cache
        self.heartbeat, self.clock, self.max_jobs = heartbeat, clock, max_jobs
        self._lock = threading.Lock()
        self._jobs = {}                      # key -> the Job computing it
        self._sessions = OrderedDict()       # session -> _Session
        self._tokens = itertools.count(1)
        self._anon = itertools.count(1)
        self._local = threading.local()      # (session, kind, token) of the request this thread serves

    # ------------------------------------------------------------ bookkeeping (hold the lock)
    def _session(self, session):
        s = self._sessions.get(session)
        if s is None:
            s = self._sessions[session] = _Session(self.clock())
            if len(self._sessions) > MAX_SESSIONS:
                for k in list(self._sessions):
                    if self._sessions[k].idle() and k != session:
                        del self._sessions[k]
                        break
        self._sessions.move_to_end(session)
        return s

    def _leave(self, session, kind=EXPERIMENT):
        """Detach ``session``'s ``kind`` from its job; cancel the job if nobody else waits for it."""
        s = self._sessions.get(session)
        slot = s.slots.get(kind) if s is not None else None
        job = slot.job if slot is not None else None
        if job is not None:
            slot.job = None
            job.waiters.discard((session, kind))
            if not job.waiters:
                job.cancelled.set()
                if self._jobs.get(job.key) is job:
                    del self._jobs[job.key]

    def _abandoned(self, job):
        """True (and the job cancelled) when every session of ``job`` has been silent for ``heartbeat`` s."""
        if self.heartbeat is None:
            return False
        with self._lock:
            now = self.clock()
            sessions = [self._sessions.get(s) for s in job.sessions]
            if any(s is not None and now - s.seen <= self.heartbeat for s in sessions):
                return False
            for sid, kind in list(job.waiters):
                self._leave(sid, kind)
            job.cancelled.set()
        log.info("computation %s cancelled: its page stopped polling for %.0f s", job.key, self.heartbeat)
        return True

    def session_for(self, session):
        """``session``, or a one-off session for a request that has none (its jobs end with the heartbeat)."""
        return session if session is not None else f"anonymous-{next(self._anon)}"

    # ------------------------------------------------------------ requests
    def begin(self, session, kind=EXPERIMENT):
        """A request of ``session`` starts (in this thread); returns its token for ``end``."""
        if session is None:
            return None
        with self._lock:
            s = self._session(session)
            slot = s.slot(kind)
            token = next(self._tokens)
            slot.newest, s.seen = token, self.clock()
            slot.open += 1
        self._local.request = (session, kind, token)
        return token

    def end(self, session, token, status=None, kind=EXPERIMENT):
        """The request ``token`` of ``session`` is answered. If it is the session's newest of its kind, the page
        waits for nothing else of that kind, so any job an older request started is left (cancelled unless
        shared). ``status``: the run-status text it answered with (a str), shown again by ``poll``."""
        if session is None:
            return
        self._local.request = None
        with self._lock:
            slot = self._session(session).slot(kind)
            slot.open = max(0, slot.open - 1)
            if slot.newest == token:
                self._leave(session, kind)
                if isinstance(status, str):
                    slot.final = status

    @contextlib.contextmanager
    def request(self, session, kind=EXPERIMENT):
        """Bracket one request of ``session`` (``begin`` ... ``end``) of ``kind``; set ``req["status"]`` to the
        run-status text it answers with."""
        token = self.begin(session, kind)
        req = {"status": None}
        try:
            yield req
        finally:
            self.end(session, token, req["status"], kind)

    def compute(self, spec, session=None, kind=EXPERIMENT):
        """(key, result, hit) like ``ResultCache.get_or_compute``; raises Cancelled when superseded."""
        if session is None:
            return self.cache.get_or_compute(spec)
        key = spec_key(spec)
        if key in self.cache:                              # nothing to wait for; drop any older request
            self._check_newest(session, kind, key)
            with self._lock:
                self._leave(session, kind)
            return self.cache.get_or_compute(spec)
        return self.run(kind, key, lambda progress: self.cache.get_or_compute(spec, progress=progress), session)

    def result(self, spec, session, kind):
        """The result of ``spec`` for a callback of ``kind`` (not the main one): from the cache at once, else
        recomputed as a job of ``session`` (a one-off session when None), in its own request bracket."""
        key = spec_key(spec)
        r = self.cache.get(key)
        if r is not None:
            return r
        session = self.session_for(session)
        with self.request(session, kind):
            return self.compute(spec, session, kind)[1]

    def task(self, kind, key, name, payload, session):
        """The value of the heavy task ``name`` (``cache.task``: tasks.TASKS, on the runner's workers) as the
        job ``key`` of ``session``'s ``kind``, bracketed as one request of the page."""
        session = self.session_for(session)
        with self.request(session, kind):
            return self.run(kind, key, lambda progress: self.cache.task(name, payload, progress), session)

    def _check_newest(self, session, kind, key):
        req = getattr(self._local, "request", None)
        with self._lock:
            s = self._session(session)
            s.seen = self.clock()
            if req is not None and req[0] == session and req[1] == kind and req[2] != s.slot(kind).newest:
                raise Cancelled(key)                       # a newer request of the page came in first
        return req, s

    def run(self, kind, key, compute, session):
        """``compute(progress)`` as the job ``key`` of ``session``'s ``kind`` (shared with any other waiter of the
        same key); raises Cancelled when superseded, ValueError when the server has ``max_jobs`` in flight."""
        req, s = self._check_newest(session, kind, key)
        with self._lock:
            slot = s.slot(kind)
            old = slot.job
            if old is None or old.key != key:
                self._leave(session, kind)
                job = self._jobs.get(key)
                if job is None:
                    if self.max_jobs is not None and len(self._jobs) >= self.max_jobs:
                        raise ValueError(f"this server is busy ({len(self._jobs)} computations in flight, its limit); "
                                         "try again in a few seconds")
                    job = self._jobs[key] = Job(key, self)
                job.waiters.add((session, kind))
                slot.job = job
            else:
                job = old
        try:
            out = compute(job.progress)
        finally:
            with self._lock:
                if req is not None and req[0] == session and req[1] == kind:   # inside request: still the newest?
                    current = req[2] == slot.newest
                    if current and slot.job is job:
                        self._leave(session, kind)
                else:
                    current = slot.job is job
                    if current:
                        self._leave(session, kind)
        if not current:              # the session asked for something else meanwhile (a shared job went on)
            raise Cancelled(key)
        return out

    def cancel(self, session, kind=EXPERIMENT):
        """Stop waiting for anything of ``kind`` on behalf of ``session`` (cancels its job if it was the last)."""
        with self._lock:
            self._leave(session, kind)

    # ------------------------------------------------------------ progress
    def poll(self, session):
        """What the page's progress poll shows (also its heartbeat): dict(text, waiting, final).

        text: progress of the job the session's newest main request waits for ("preparing" before it has one),
        or None; waiting: a main request of the session is in flight; final: the status its newest answered
        request showed (so a late progress answer cannot leave stale text behind)."""
        if session is None:
            return dict(text=None, waiting=False, final=None)
        with self._lock:
            s = self._session(session)
            s.seen = self.clock()
            slot = s.slot(EXPERIMENT)
            job, waiting, final = slot.job, slot.open > 0, slot.final
        text = job.text() if job is not None else ("preparing the experiment" if waiting else None)
        return dict(text=text, waiting=waiting, final=final)

    def status(self, session):
        """Progress text of the session's running job, or None when it waits for nothing (a heartbeat too)."""
        return self.poll(session)["text"]

    def running(self, kind=None):
        """Number of jobs in flight (of ``kind``: jobs some request of that kind waits for)."""
        with self._lock:
            if kind is None:
                return len(self._jobs)
            return sum(1 for j in self._jobs.values() if any(k == kind for _, k in j.waiters))
