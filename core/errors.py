"""core's exceptions, in one place, and quoting user values in messages: at most a short prefix, so a 50 MB
string typed into a field never comes back whole in an error message or a log line.

    raise ValueError(f"training.steps={quote(v)}: must be an integer in [1, 200000]")

Bad input is a ValueError (its message names the field, the value and what is allowed); the exceptions below
are the other ways core stops.
"""
from __future__ import annotations

QUOTE_LIMIT = 60          # characters of a value's repr shown in a message
PATH_LIMIT = 300          # ... of a file path the user gave (a path cut short names no file)
MESSAGE_LIMIT = 600       # characters of a whole message shown in the app or a log line


class EngineError(RuntimeError):
    """The cluster failed a task for a reason of its own (a worker killed too often, a lost scheduler)."""


class SchedulerUnreachable(ConnectionError):
    """No Dask scheduler answered at the address within the timeout (or it has no workers)."""


class NotAScheduler(ValueError):
    """Something answered at the scheduler's address, but not Dask's handshake (another service)."""


class LanczosNotConverged(RuntimeWarning):
    """hessian_eigs / trajectory_curvature: Lanczos stopped at max_iter before the residual test passed."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; handled like Ctrl-C (exit status 128 + 15)."""
    exit_status = 143


def quote(value, limit=QUOTE_LIMIT):
    """``repr(value)``, cut to ``limit`` characters with "..." and the full length when longer."""
    try:
        text = repr(value)
    except Exception:                                   # a hostile __repr__
        text = f"<{type(value).__name__}>"
    if len(text) <= limit:
        return text
    n = len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else None
    more = f" ({n:,} long)" if n is not None else ""
    return text[:limit] + "..." + more


def clip_message(text, limit=MESSAGE_LIMIT):
    """A message cut to ``limit`` characters (for alerts and log lines built from other libraries' errors)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"
