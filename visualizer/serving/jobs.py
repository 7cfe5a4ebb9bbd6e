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
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import OrderedDict

from visualizer.serving.cache import spec_key
from visualizer.errors import Cancelled

log = logging.getLogger("visualizer")
MAX_SESSIONS = 10_000          # per-session bookkeeping kept (oldest idle sessions forgotten first)


class Job:
    """One in-flight computation of a spec key, shared by the sessions waiting for it."""

    def __init__(self, key, registry=None):
        self.key = key
        self.sessions = set()
        self.cancelled = threading.Event()
        self.stage, self.done, self.total = "queued", 0, 1
        self._registry = registry

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
        return f"{self.stage}: {self.done:,} / {self.total:,}"


class _Session:
    __slots__ = ("job", "seen", "newest", "open", "final")

    def __init__(self):
        self.job = None          # the Job its newest computing request waits for
        self.seen = time.monotonic()   # its last request or progress poll
        self.newest = 0          # token of its newest request
        self.open = 0            # its requests in flight
        self.final = None        # status text of its newest finished request


class JobRegistry:
    def __init__(self, cache, heartbeat=None):
        """``heartbeat``: seconds without a request or poll from any of its sessions after which a job is
        cancelled (None: never; the app uses 15)."""
        if heartbeat is not None and heartbeat <= 0:
            raise ValueError(f"heartbeat={heartbeat!r}: must be a positive number of seconds (or None)")
        self.cache = cache
        self.heartbeat = heartbeat
        self._lock = threading.Lock()
        self._jobs = {}                      # spec key -> the Job computing it
        self._sessions = OrderedDict()       # session -> _Session
        self._tokens = itertools.count(1)
        self._local = threading.local()      # (session, token) of the request this thread serves

    # ------------------------------------------------------------ bookkeeping (hold the lock)
    def _session(self, session):
        s = self._sessions.get(session)
        if s is None:
            s = self._sessions[session] = _Session()
            if len(self._sessions) > MAX_SESSIONS:
                for k in list(self._sessions):
                    old = self._sessions[k]
                    if old.job is None and old.open == 0 and k != session:
                        del self._sessions[k]
                        break
        self._sessions.move_to_end(session)
        return s

    def _leave(self, session):
        """Detach ``session`` from its job; cancel the job if nobody else waits for it."""
        s = self._sessions.get(session)
        job = s.job if s is not None else None
        if job is not None:
            s.job = None
            job.sessions.discard(session)
            if not job.sessions:
                job.cancelled.set()
                if self._jobs.get(job.key) is job:
                    del self._jobs[job.key]

    def _abandoned(self, job):
        """True (and the job cancelled) when every session of ``job`` has been silent for ``heartbeat`` s."""
        if self.heartbeat is None:
            return False
        with self._lock:
            now = time.monotonic()
            sessions = [self._sessions.get(s) for s in job.sessions]
            if any(s is not None and now - s.seen <= self.heartbeat for s in sessions):
                return False
            for sid in list(job.sessions):
                self._leave(sid)
            job.cancelled.set()
        log.info("computation %s cancelled: its page stopped polling for %.0f s", job.key, self.heartbeat)
        return True

    # ------------------------------------------------------------ requests
    def begin(self, session):
        """A request of ``session`` starts (in this thread); returns its token for ``end``."""
        if session is None:
            return None
        with self._lock:
            s = self._session(session)
            token = next(self._tokens)
            s.newest, s.seen = token, time.monotonic()
            s.open += 1
        self._local.request = (session, token)
        return token

    def end(self, session, token, status=None):
        """The request ``token`` of ``session`` is answered. If it is the session's newest, the page waits
        for nothing else, so any job an older request started is left (cancelled unless shared).
        ``status``: the run-status text it answered with (a str), shown again by ``poll``."""
        if session is None:
            return
        self._local.request = None
        with self._lock:
            s = self._session(session)
            s.open = max(0, s.open - 1)
            if s.newest == token:
                self._leave(session)
                if isinstance(status, str):
                    s.final = status

    @contextlib.contextmanager
    def request(self, session):
        """Bracket one request of ``session`` (``begin`` ... ``end``); set ``req["status"]`` to the
        run-status text it answers with."""
        token = self.begin(session)
        req = {"status": None}
        try:
            yield req
        finally:
            self.end(session, token, req["status"])

    def compute(self, spec, session=None):
        """(key, result, hit) like ``ResultCache.get_or_compute``; raises Cancelled when superseded."""
        if session is None:
            return self.cache.get_or_compute(spec)
        key = spec_key(spec)
        req = getattr(self._local, "request", None)
        with self._lock:
            s = self._session(session)
            s.seen = time.monotonic()
            if req is not None and req[0] == session and req[1] != s.newest:
                raise Cancelled(key)                       # a newer request of the page came in first
        if key in self.cache:                              # nothing to wait for; drop any older request
            with self._lock:
                self._leave(session)
            return self.cache.get_or_compute(spec)
        with self._lock:
            old = s.job
            if old is None or old.key != key:
                self._leave(session)
                job = self._jobs.get(key)
                if job is None:
                    job = self._jobs[key] = Job(key, self)
                job.sessions.add(session)
                s.job = job
            else:
                job = old
        try:
            out = self.cache.get_or_compute(spec, progress=job.progress)
        finally:
            with self._lock:
                if req is not None and req[0] == session:      # inside jobs.request: is it still the newest?
                    current = req[1] == s.newest
                    if current and s.job is job:
                        self._leave(session)
                else:
                    current = s.job is job
                    if current:
                        self._leave(session)
        if not current:              # the session asked for something else meanwhile (a shared job went on)
            raise Cancelled(key)
        return out

    def cancel(self, session):
        """Stop waiting for anything on behalf of ``session`` (cancels its job if it was the last)."""
        with self._lock:
            self._leave(session)

    # ------------------------------------------------------------ progress
    def poll(self, session):
        """What the page's progress poll shows (also its heartbeat): dict(text, waiting, final).

        text: progress of the job the session's newest request waits for ("preparing" before it has one),
        or None; waiting: a request of the session is in flight; final: the status its newest answered
        request showed (so a late progress answer cannot leave stale text behind)."""
        if session is None:
            return dict(text=None, waiting=False, final=None)
        with self._lock:
            s = self._session(session)
            s.seen = time.monotonic()
            job, waiting, final = s.job, s.open > 0, s.final
        text = job.text() if job is not None else ("preparing the experiment" if waiting else None)
        return dict(text=text, waiting=waiting, final=final)

    def status(self, session):
        """Progress text of the session's running job, or None when it waits for nothing (a heartbeat too)."""
        return self.poll(session)["text"]

    def running(self):
        """Number of jobs in flight (for tests and logs)."""
        with self._lock:
            return len(self._jobs)
