"""The visualizer's own exceptions, in one place."""


class UsageError(ValueError):
    """Bad command-line input: ``str(e)`` is the one-line message naming the option."""

    def __init__(self, option, value, allowed):
        self.option, self.value, self.allowed = option, value, allowed
        super().__init__(f"{option} {value}: {allowed}")
