"""What every command line of the project shares: the parser, the one-line errors and the exit statuses.

    ap = ArgParser(prog="python -m core", description=...)     # argparse; its own errors: one line, exit 2
    add_traceback_option(ap)                                   # --traceback
    args = ap.parse_args(argv)
    n = parse_int("--workers", args.workers, Int(1, 256))     # option values: ValueError "--workers x: must be ..."
    return run_command(lambda: body(args), traceback=args.traceback, failures=(EngineError,))

Exit statuses (docs/cli.md):

  0    done
  1    an internal failure (a bug, a cluster or an encoder that failed): one line "error: ..."; with
       --traceback the whole traceback before it
  2    bad input: a usage error, a value out of range, a spec or run file that cannot be read or is nested too
       deeply, a file that cannot be written (permissions, a read-only or full disk), input too big for memory
  130  Ctrl-C (SIGINT);  143  SIGTERM (handled like Ctrl-C, so half-written files are removed)

Used by ``python -m core run | presets | sweep``, ``python -m visualizer export`` and ``serve``.
"""
from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import traceback as _tb

from core.cli.progress import Terminated, terminate_as_interrupt
from core.constraints import Constraint
from core.errors import PATH_LIMIT, QUOTE_LIMIT, clip_message, quote

OK, FAILURE, USAGE, INTERRUPTED, TERMINATED = 0, 1, 2, 130, Terminated.exit_status


class ArgParser(argparse.ArgumentParser):
    """argparse with the project's error line: ``error: <message>`` on stderr, exit status 2 (argparse's own
    convention, without its usage block). Subparsers made from it share the behaviour."""

    def error(self, message):
        fail(message)


def fail(message):
    """Print ``error: <message>`` (one line) and exit with status 2: for checks made while parsing."""
    sys.stderr.write(f"error: {one_line(message)}\n")
    sys.exit(USAGE)


def add_traceback_option(ap):
    ap.add_argument("--traceback", action="store_true",
                    help="on an internal failure (exit status 1), print the whole traceback too")


def shown(text):
    """An option's value as typed, cut to a short prefix (core.errors.QUOTE_LIMIT characters)."""
    text = str(text)
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + f"... ({len(text):,} long)"


def parse_int(option, text, allowed: Constraint | None = None, what=""):
    """The integer an option's text gives, checked against ``allowed`` (a core.constraints.Int); ValueError
    ``--option TEXT: must be ... (what)`` otherwise (exit status 2 through run_command)."""
    try:
        v = int(text)
    except (TypeError, ValueError):
        v = None
    if v is None or (allowed is not None and not allowed.allows(v)):
        must = allowed.must() if allowed is not None else "must be an integer"
        raise ValueError(f"{option} {shown(text)}: {must}" + (f" ({what})" if what else ""))
    return v


def parse_number(option, text, allowed: Constraint | None = None, what=""):
    """The finite number an option's text gives, checked against ``allowed`` (a core.constraints.Real);
    ValueError ``--option TEXT: must be ...`` otherwise."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{option} {shown(text)}: must be a number" + (f" ({what})" if what else "")) from None
    if not math.isfinite(v):
        raise ValueError(f"{option} {shown(text)}: must be a finite number" + (f" ({what})" if what else ""))
    if allowed is not None and not allowed.allows(v):
        raise ValueError(f"{option} {shown(text)}: {allowed.must()}" + (f" ({what})" if what else ""))
    return v


def one_line(text):
    """A message on one line, at most core.errors.MESSAGE_LIMIT characters."""
    return clip_message(" ".join(str(text).split()))


def os_message(e):
    """An OSError as one line naming the file: ``'/ro/run.npz': Read-only file system``."""
    if e.strerror is None:                               # raised with a message of its own (SchedulerUnreachable)
        return str(e) or type(e).__name__
    what = e.strerror + (" (the disk is full)" if e.errno == errno.ENOSPC else "")
    if e.filename is None:
        return f"{type(e).__name__}: {what}"
    return f"{quote(os.fspath(e.filename), PATH_LIMIT)}: {what}"


def run_command(body, *, traceback=False, failures=(), usage=(ValueError,), on_stop=None, stream=None):
    """``body()`` (its exit status, 0 if None) with SIGTERM handled like Ctrl-C, every error as one line on
    ``stream`` (stderr) and the exit statuses of the module docstring.

    failures: exception types that are the program's own failures (exit 1, their message as it is);
    usage: bad input (exit 2; ValueError, which every check of the project raises). OSError, RecursionError and
    MemoryError are bad input too (exit 2). on_stop(e): the line and status for Ctrl-C / SIGTERM (default
    "interrupted; no file written", 130 / "terminated; ...", 143)."""
    err = stream if stream is not None else sys.stderr
    try:
        with terminate_as_interrupt():
            status = body()
        return OK if status is None else status
    except KeyboardInterrupt as e:                       # Terminated (SIGTERM) is one
        if on_stop is not None:
            line, status = on_stop(e)
        elif isinstance(e, Terminated):
            line, status = "terminated; no file written", TERMINATED
        else:
            line, status = "interrupted; no file written", INTERRUPTED
        err.write(line + "\n")
        return status
    except Exception as e:
        line, status = describe_error(e, failures, usage)
        if traceback:
            _tb.print_exc(file=err)
        elif status == FAILURE and not isinstance(e, failures):
            line += " (run again with --traceback to see where)"
        err.write(f"error: {line}\n")
        return status


def describe_error(e, failures=(), usage=(ValueError,)):
    """(one line, exit status) for an exception that stopped a command."""
    if isinstance(e, failures):
        return one_line(e), FAILURE
    if isinstance(e, usage):
        return one_line(e), USAGE
    if isinstance(e, OSError):
        return one_line(os_message(e)), USAGE
    if isinstance(e, RecursionError):
        return "the input is nested too deeply to read (RecursionError)", USAGE
    if isinstance(e, MemoryError):
        return ("not enough memory for this input (MemoryError); use a smaller spec or file"), USAGE
    return one_line(f"internal failure: {type(e).__name__}: {e}"), FAILURE
