"""The progress poll's plain functions: the run-status text while a page's computation runs, and the poll's
own interval (tested in tests/test_jobs.py; ``wiring`` connects them to ``progress-tick``, which is also the
page's heartbeat).

    text = progress_status(jobs, session)                        # no_update when none runs
    text, interval = progress_poll(jobs, session, interval, shown)
"""
from __future__ import annotations

import logging

from dash import no_update

from core.errors import clip_message

from visualizer.app.spec_callbacks import valid_session

log = logging.getLogger("visualizer")


def progress_status(jobs, session):
    """The run-status text while this session's computation runs (no_update when none runs)."""
    try:
        session = valid_session(session)
        text = jobs.status(session) if session else None
    except Exception as e:
        log.warning("progress status failed: %s", clip_message(f"{type(e).__name__}: {e}"))
        text = None
    return no_update if text is None else text


POLL_MS, IDLE_POLL_MS = 500, 5000     # progress polls while the page waits for a computation / otherwise


def progress_poll(jobs, session, interval, shown):
    """The page's progress poll (also its heartbeat): (run-status text or no_update, poll interval or no_update).

    While a request of the session is in flight: its progress, polled every POLL_MS. Otherwise the status
    its newest request answered with (if the text shown differs, e.g. a late progress answer), polled every
    IDLE_POLL_MS. Only this poll slows polling down (Dash's ``running`` only speeds it up)."""
    try:
        p = jobs.poll(session) if session else dict(text=None, waiting=False, final=None)
    except Exception as e:
        log.warning("progress poll failed: %s: %s", type(e).__name__, e)
        return no_update, no_update
    want = POLL_MS if p["waiting"] else IDLE_POLL_MS
    text = p["text"] if p["waiting"] else p["final"]
    return (no_update if text is None or text == shown else text), (no_update if interval == want else want)
