"""The visualizer's own exceptions, in one place (core's are in core/errors.py)."""


class UsageError(ValueError):
    """Bad command-line input: ``str(e)`` is the one-line message naming the option."""

    def __init__(self, option, value, allowed):
        self.option, self.value, self.allowed = option, value, allowed
        super().__init__(f"{option} {value}: {allowed}")


class ColourUnavailable(ValueError):
    """This result cannot be coloured by curvature: ``str(e)`` says why and what to do."""


class PanelUnavailable(ValueError):
    """A panel this result cannot draw (no curvature, no training data): ``str(e)`` says why and what to do."""

    def __init__(self, panel, reason):
        self.panel, self.reason = panel, reason
        super().__init__(reason)


class EncoderError(RuntimeError):
    """The encoder (ffmpeg) is missing or failed."""


class Cancelled(Exception):
    """The computation was superseded: no session wants its result any more."""


class SweepStopped(Exception):
    """Raised from core.sweep's progress callback to stop a sweep (its unfinished tasks are cancelled)."""
