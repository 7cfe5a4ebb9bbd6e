"""Constraints on a value, declared once and read everywhere: validation, messages, CLI help and UI hints.

    GRID = Int(3, 201)
    GRID.check("grid.resolution", 500)   # ValueError: grid.resolution=500: must be an integer in [3, 201]
    GRID.describe()                      # 'an integer in [3, 201]'
    GRID.hint()                          # '3..201'

The tables that use them (scikit-learn's ``_parameter_constraints`` is the model):
``core.experiment.spec.CONSTRAINTS`` (every spec field), ``core.model.optimizers.HPARAMS`` (optimizer hyper-parameters),
``visualizer.plotdata.view.VIEW_CONSTRAINTS`` (height scale, clip, exaggeration, frames) and
``visualizer.export.EXPORT_CONSTRAINTS`` (fps, size, camera). Messages quote at most a short prefix of the
value (core.errors.quote).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np

from core.errors import quote


def _fmt(x):
    return f"{x:g}" if isinstance(x, float) else str(x)


class Constraint:
    def check(self, where, v):
        """Return ``v`` when allowed, else raise ValueError "<where>=<value>: must be ..."."""
        if not self.allows(v):
            raise ValueError(f"{where}={quote(v)}: {self.must()}")
        return v

    def must(self):
        return f"must be {self.describe()}"

    def hint(self):
        return self.describe()


@dataclass(frozen=True)
class Int(Constraint):
    lo: int
    hi: int | None = None                          # None: no upper bound

    def allows(self, v):
        return (not isinstance(v, bool) and isinstance(v, (int, np.integer)) and self.lo <= v
                and (self.hi is None or v <= self.hi))

    def describe(self):
        if self.hi is None:
            return {0: "a non-negative integer", 1: "a positive integer"}.get(self.lo, f"an integer >= {self.lo}")
        return f"an integer in [{self.lo}, {self.hi}]"

    def hint(self):
        return f"{self.lo}.." if self.hi is None else f"{self.lo}..{self.hi}"


@dataclass(frozen=True)
class Real(Constraint):
    lo: float
    hi: float | None = None                        # None: no upper bound (finite values only)
    lo_open: bool = False
    hi_open: bool = False

    def allows(self, v):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            return False
        try:
            x = float(v)
        except OverflowError:                      # an int too large for a float
            return False
        if not math.isfinite(x):
            return False
        above = self.lo < x if self.lo_open else self.lo <= x
        return above and (self.hi is None or (x < self.hi if self.hi_open else x <= self.hi))

    def interval(self):
        return f"{'(' if self.lo_open else '['}{_fmt(self.lo)}, {_fmt(self.hi)}{')' if self.hi_open else ']'}"

    def describe(self):
        if self.hi is None:
            return f"a finite number {'>' if self.lo_open else '>='} {_fmt(self.lo)}"
        return f"a number in {self.interval()}"

    def hint(self):
        return f"{_fmt(self.lo)}.." if self.hi is None else f"{_fmt(self.lo)}..{_fmt(self.hi)}"


@dataclass(frozen=True)
class Choice(Constraint):
    options: tuple

    def allows(self, v):
        try:
            return v in self.options
        except TypeError:                          # unhashable or incomparable
            return False

    def must(self):
        return f"allowed are {', '.join(map(str, self.options))}"

    def describe(self):
        return "one of " + ", ".join(map(str, self.options))

    def hint(self):
        return " | ".join(map(str, self.options))


@dataclass(frozen=True)
class Bool(Constraint):
    def allows(self, v):
        return isinstance(v, bool)

    def must(self):
        return "must be true or false"

    def describe(self):
        return "true or false"


@dataclass(frozen=True)
class Text(Constraint):
    max_len: int
    non_empty: bool = False

    def allows(self, v):
        return isinstance(v, str) and len(v) <= self.max_len and (not self.non_empty or bool(v.strip()))

    def describe(self):
        return f"a {'non-empty ' if self.non_empty else ''}string of at most {self.max_len} characters"


@dataclass(frozen=True)
class Optional(Constraint):
    inner: Constraint
    none_means: str = "default"                    # what null stands for, for help texts

    def allows(self, v):
        return v is None or self.inner.allows(v)

    def must(self):
        return f"{self.inner.must()}, or null ({self.none_means})"

    def describe(self):
        return f"{self.inner.describe()} or null ({self.none_means})"

    def hint(self):
        return self.inner.hint()


@dataclass(frozen=True)
class ListOf(Constraint):
    item: Constraint
    min_len: int
    max_len: int
    example: str = ""
    noun: str = "values"

    def check(self, where, v):
        if not isinstance(v, list) or not self.min_len <= len(v) <= self.max_len:
            raise ValueError(f"{where}={quote(v)}: {self.must()}")
        for i, x in enumerate(v):
            self.item.check(f"{where}[{i}]", x)
        return v

    def allows(self, v):
        return isinstance(v, list) and self.min_len <= len(v) <= self.max_len and all(self.item.allows(x) for x in v)

    def describe(self):
        ex = f", e.g. {self.example}" if self.example else ""
        return f"a list of {self.min_len} to {self.max_len} {self.noun}, each {self.item.describe()}{ex}"


@contextlib.contextmanager
def within(section):
    """Name a spec section in the errors of a function below the spec, which names its own arguments:
    ``steps=0: ...`` becomes ``training.steps=0: ...``."""
    try:
        yield
    except ValueError as e:
        raise ValueError(f"{section}.{e}") from None


def check_table(obj, table, prefix=""):
    """Check every attribute of ``obj`` named in ``table`` ({"section.field": Constraint}) with the
    dotted name under ``prefix``; attributes are read along the dots."""
    for path, c in table.items():
        v = obj
        for part in path.split("."):
            v = getattr(v, part)
        c.check(prefix + path, v)
