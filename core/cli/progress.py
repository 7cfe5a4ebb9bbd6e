"""What every command line of the project shares: progress bars that never crash, and SIGTERM handled
like Ctrl-C (so ``finally`` blocks remove half-written files).

    with terminate_as_interrupt():                    # SIGTERM raises Terminated (a KeyboardInterrupt)
        with StageBar(enabled=not quiet) as bar:     # bar(stage, done, total): run_experiment's progress
            result = core.run_experiment(spec, progress=bar)

Off a terminal (a pipe, a file, cron, CI) the bars stay silent: tqdm's own ``disable=None`` does that too,
but a disabled tqdm lacks attributes such as ``.desc``, and code that read them crashed only in pipes.
StageBar keeps its own state and never reads the bar's. tqdm is optional for the core.
"""
from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading

from core.errors import Terminated
from core.parallel.engine import quiet_dask_logs


def _is_terminal(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):          # closed or not a real stream
        return False


class StageBar:
    """A progress callback ``bar(stage, done, total)``: one tqdm bar per stage on a terminal, nothing otherwise.

    ``done`` counts up to ``total`` within a stage (core.run_experiment's convention). ``min_total``: stages
    with fewer units show no bar (short runs stay quiet). Use as a context manager, or call ``close()``.
    """

    def __init__(self, enabled=True, unit="step", stream=None, min_total=0):
        self.stream = stream if stream is not None else sys.stderr
        self.unit = unit
        self.min_total = min_total
        self.stage = None
        self._bar = None
        self._tqdm = None
        if enabled and _is_terminal(self.stream):
            try:
                from tqdm import tqdm
                self._tqdm = tqdm
            except ImportError:
                self._tqdm = None

    @property
    def active(self):
        """True when bars are drawn (a terminal, tqdm installed)."""
        return self._tqdm is not None

    def __call__(self, stage, done, total):
        check_interrupted()                       # every progress report is a checkpoint for a lost signal
        if self._tqdm is None:
            return
        if stage != self.stage:
            self._close_bar()
            self.stage = stage
            if total >= self.min_total:
                self._bar = self._tqdm(total=total, desc=stage, unit=self.unit, file=self.stream, leave=False,
                                       disable=False)
        if self._bar is not None:
            self._bar.total = total
            self._bar.n = min(total, done)
            self._bar.refresh()

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self):
        self._close_bar()
        self.stage = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


_pending = None          # the exception of a signal received inside terminate_as_interrupt()


def check_interrupted():
    """Raise again the exception of a signal that arrived in the block but was swallowed on its way (a signal
    that lands in a fork hook or a ``__del__`` is reported as "Exception ignored" and lost)."""
    if _pending is not None:
        raise _pending


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread and SIGINT raises
    KeyboardInterrupt, so cleanup code runs; progress callbacks (StageBar) re-raise a signal that got
    lost. The previous handlers are restored afterwards. A SIGINT ignored on entry stays ignored: a shell
    starts background jobs (``cmd &`` in a script) so, and a Ctrl-C meant for the foreground must not stop
    them (Python keeps such a SIGINT ignored too)."""
    global _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        global _pending
        _pending = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        # the program is stopping: cancelling Dask futures mid-flight makes Dask / tornado log tracebacks of
        # their own from the event-loop thread (a NameError in distributed.utils' cancel), possibly before
        # the cleanup code runs; silence them now, the command says in one line what was saved
        quiet_dask_logs(logging.CRITICAL + 1)
        raise _pending

    def unraisable(u):
        # once a signal arrived the program is stopping: an exception it caused where none can propagate (a
        # fork hook, a finalizer) is re-raised at the next checkpoint, not printed as "Exception ignored"
        if _pending is None:
            old_hook(u)

    stops = [signal.SIGTERM] + ([signal.SIGINT] if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN else [])
    old = {s: signal.signal(s, handler) for s in stops}
    old_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    _pending = None
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        sys.unraisablehook = old_hook
        _pending = None
