"""Start a child with SIGINT at a chosen disposition, whatever this process inherited.

A shell running this suite in the background (``make test &`` in a script) starts it with SIGINT ignored,
children inherit that, and Python and our CLIs keep an ignored SIGINT ignored (as they should: a Ctrl-C
meant for the foreground job must not stop background jobs). Tests that press Ctrl-C on a child start it
as a terminal's foreground job has it (``foreground``); the prefix sets SIGINT, then execs the command
(same pid, no preexec_fn)."""
import sys

_PREFIX = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.{}); "
           "os.execvp(sys.argv[1], sys.argv[1:])")


def foreground(args):
    """``args`` (a command list) run with SIGINT at its default action (a Ctrl-C interrupts it)."""
    return [sys.executable, "-c", _PREFIX.format("SIG_DFL"), *args]


def background(args):
    """``args`` run with SIGINT ignored, as a shell starts ``cmd &`` in a script."""
    return [sys.executable, "-c", _PREFIX.format("SIG_IGN"), *args]
