"""Quoting user values in messages: at most a short prefix, so a 50 MB string typed into a field never comes
back whole in an error message or a log line.

    raise ValueError(f"training.steps={quote(v)}: must be an integer in [1, 200000]")
"""
from __future__ import annotations

QUOTE_LIMIT = 60          # characters of a value's repr shown in a message
MESSAGE_LIMIT = 600       # characters of a whole message shown in the app or a log line


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
