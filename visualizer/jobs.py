"""In-flight computations per browser session: progress, and cancellation of superseded requests.

    jobs = JobRegistry(cache)                    # one per app, next to the ResultCache
    key, result, hit = jobs.compute(spec, session="3f2a...")   # raises Cancelled if superseded
    jobs.status(session)                         # "training: 3,000 / 8,000 steps", "queued", ... or None

A session is one page load (a random id in the page's ``session-id`` store). When a session asks for a
new spec while its previous computation is still running, the previous one is cancelled unless another
session is also waiting for it: its progress callback (passed to ``core.run_experiment``, called every
1000 training steps) raises ``Cancelled`` at its next call, so the result is never cached. Two sessions
asking for the same spec share one computation (the ResultCache computes a key once at a time), and the
ResultCache bounds how many computations run at once (the others report "queued").
"""
from __future__ import annotations

import threading

from .cache import spec_key


class Cancelled(Exception):
    """The computation was superseded: no session wants its result any more."""


class Job:
    """One in-flight computation of a spec key, shared by the sessions waiting for it."""

    def __init__(self, key):
        self.key = key
        self.sessions = set()
        self.cancelled = threading.Event()
        self.stage, self.done, self.total = "queued", 0, 1

    def progress(self, stage, done, total):
        """``core.run_experiment``'s progress callback (and the cache's "queued" ticks)."""
        if self.cancelled.is_set():
            raise Cancelled(self.key)
        self.stage, self.done, self.total = stage, done, total

    def text(self):
        if self.stage == "queued":
            return "queued: waiting for a free worker (at most two experiments compute at once)"
        if self.stage == "train":
            return f"training: {self.done:,} / {self.total:,} steps"
        if self.stage == "surface":
            return "computing the surface" if self.done < self.total else "drawing"
        return f"{self.stage}: {self.done:,} / {self.total:,}"


class JobRegistry:
    def __init__(self, cache):
        self.cache = cache
        self._lock = threading.Lock()
        self._jobs = {}              # spec key -> the Job computing it
        self._of_session = {}        # session -> the Job it waits for

    def _leave(self, session):
        """Detach ``session`` from its job; cancel the job if nobody else waits for it. Holds the lock."""
        job = self._of_session.pop(session, None)
        if job is not None:
            job.sessions.discard(session)
            if not job.sessions:
                job.cancelled.set()
                if self._jobs.get(job.key) is job:
                    del self._jobs[job.key]

    def compute(self, spec, session=None):
        """(key, result, hit) like ``ResultCache.get_or_compute``; raises Cancelled when superseded."""
        if session is None:
            return self.cache.get_or_compute(spec)
        key = spec_key(spec)
        if key in self.cache:                          # nothing to wait for; drop any older request
            with self._lock:
                self._leave(session)
            return self.cache.get_or_compute(spec)
        with self._lock:
            old = self._of_session.get(session)
            if old is None or old.key != key:
                self._leave(session)
                job = self._jobs.get(key)
                if job is None:
                    job = self._jobs[key] = Job(key)
                job.sessions.add(session)
                self._of_session[session] = job
            else:
                job = old
        try:
            out = self.cache.get_or_compute(spec, progress=job.progress)
        finally:
            with self._lock:
                current = self._of_session.get(session) is job
                if current:
                    self._leave(session)
        if not current:              # the session asked for something else meanwhile (a shared job went on)
            raise Cancelled(key)
        return out

    def cancel(self, session):
        """Stop waiting for anything on behalf of ``session`` (cancels its job if it was the last)."""
        with self._lock:
            self._leave(session)

    def status(self, session):
        """Progress text of the session's running job, or None when it waits for nothing."""
        with self._lock:
            job = self._of_session.get(session)
        return None if job is None else job.text()

    def running(self):
        """Number of jobs in flight (for tests and logs)."""
        with self._lock:
            return len(self._jobs)
