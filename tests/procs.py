"""Helpers for tests that drive our commands as child processes: start them with a chosen SIGINT, find a
free port, wait for a server's first answer, stop it (dumping its threads when it hangs), list children.

SIGINT: a shell running this suite in the background (``make test &`` in a script) starts it with SIGINT
ignored, children inherit that, and Python and our CLIs keep an ignored SIGINT ignored (as they should: a
Ctrl-C meant for the foreground job must not stop background jobs). Tests that press Ctrl-C on a child
start it as a terminal's foreground job has it (``foreground``): the prefix sets SIGINT, then execs the
command (same pid, no preexec_fn)."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

_PREFIX = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.{}); "
           "os.execvp(sys.argv[1], sys.argv[1:])")


def foreground(args):
    """``args`` (a command list) run with SIGINT at its default action (a Ctrl-C interrupts it)."""
    return [sys.executable, "-c", _PREFIX.format("SIG_DFL"), *args]


def background(args):
    """``args`` run with SIGINT ignored, as a shell starts ``cmd &`` in a script."""
    return [sys.executable, "-c", _PREFIX.format("SIG_IGN"), *args]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, proc, timeout=90):
    """The HTTP status of the server's first answer on ``/`` (it may take ``timeout`` s to start)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                return r.status
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer")


def stop(proc, sig=signal.SIGTERM, group=False, timeout=30):
    """Send ``sig`` (to the process group with ``group``) and wait; (exit status, output). A child that does
    not stop in ``timeout`` s gets SIGABRT (started with PYTHONFAULTHANDLER=1 it prints every thread's
    stack) and the test fails with its output."""
    def send(s):
        os.killpg(proc.pid, s) if group else proc.send_signal(s)
    send(sig)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGABRT)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        raise AssertionError(f"the server did not stop within {timeout} s; its output:\n{(out or '')[-8000:]}")
    return proc.returncode, out


def children(pid):
    """The pids of ``pid``'s children (direct and indirect)."""
    import psutil
    try:
        return {c.pid for c in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()
