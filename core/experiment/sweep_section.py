"""The ``sweep`` section of an experiment spec: which optimizers, which hyper-parameter axes, which seeds.

    {"sweep": {
        "optimizers": [
            {"name": "sgd", "label": "SGD", "axes": {"lr": {"log": [0.001, 20, 40]}}},
            {"name": "momentum", "axes": {"lr": {"log": [0.001, 20, 40]}, "momentum": {"linear": [0, 0.99, 10]}}}
        ],
        "seeds": [0, 1, 2]
    }}

Each optimizer entry is like an entry of the spec's ``optimizers`` (``name``, optional ``label``, fixed
hyper-parameters such as ``"schedule": "cosine"``) plus ``axes``: for every swept hyper-parameter, its values
as a list (``[0.01, 0.1, 1]``, increasing), a log range ``{"log": [lo, hi, n]}`` (n values, geometric, lo > 0)
or a linear range ``{"linear": [lo, hi, n]}``. An axis may be any numeric hyper-parameter of that optimizer
(core.model.optimizers.HPARAMS: lr, momentum, beta1, decay_rate, ...) or ``batch_size`` (integers; ranges are
rounded). The grid of an optimizer is the product of its axes; every cell runs once per seed.

What a seed sets: the initial weights (its "init" stream, shared by every cell of that seed) and the
mini-batch order. The data (synthetic points and split) come from the spec's own ``seed``, so every run of
a sweep sees the same data. A sweep uses the spec's ``data``, ``model`` and ``training`` (steps, batch_size,
target_loss); its ``optimizers``, ``plane`` and ``grid`` describe the spec's single experiment and are not
used by the sweep.

Caps: at most MAX_RUNS runs (grid cells x seeds, summed over the optimizers), MAX_AXIS_VALUES values an axis,
MAX_AXES axes an optimizer, MAX_SEEDS seeds; the work budget (runs x steps x rows a step x weights <=
MAX_SWEEP_WORK) is checked once the data is loaded (check_sweep_budget).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.model import optimizers as _opt
from core.constraints import Bool, Int, ListOf, Real
from core.errors import quote

MAX_RUNS = 20_000
MAX_AXIS_VALUES = 1000
MAX_AXES = 4
MAX_SEEDS = 100
MAX_SWEEP_OPTIMIZERS = 8
MAX_SWEEP_WORK = 1e13      # runs x steps x rows a step x weights, in core.experiment.budget's work units (its
                           # WORK_UNITS_PER_SECOND: about an hour of one CPU here, more with each step's fixed cost)
RANGES = ("log", "linear")
TRAINING_AXES = ("batch_size",)
SEED = Int(0, 2**32 - 1)
BATCH_SIZE = Int(1, 10**6)

SWEEP_CONSTRAINTS = {
    "seeds": ListOf(SEED, 1, MAX_SEEDS, "[0, 1, 2]", "seeds"),
    "sharpness": Bool(),
}


def axis_names(name):
    """The hyper-parameters optimizer ``name`` can sweep: its numeric ones, and batch_size."""
    hp = sorted(k for k in _opt.allowed_hparams(name) if isinstance(_opt.HPARAMS[k], Real))
    return hp + list(TRAINING_AXES)


def _number(v):
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))


def axis_values(where, axis, given):
    """The values (a float64 array, or int64 for batch_size) of one axis as given in a spec; ValueError naming
    ``where`` (e.g. ``sweep.optimizers[0].axes.lr``), the value and what is allowed."""
    forms = (f'a list of increasing numbers such as [0.01, 0.1, 1], {{"log": [lo, hi, n]}} or '
             f'{{"linear": [lo, hi, n]}} with n in [1, {MAX_AXIS_VALUES}]')
    c = BATCH_SIZE if axis == "batch_size" else _opt.HPARAMS[axis]
    if isinstance(given, dict):
        if len(given) != 1 or next(iter(given)) not in RANGES:
            raise ValueError(f"{where}={quote(given)}: a range is one of {{\"log\": [lo, hi, n]}} or "
                             f"{{\"linear\": [lo, hi, n]}}")
        kind, args = next(iter(given.items()))
        w = f"{where}.{kind}"
        if not isinstance(args, list) or len(args) != 3:
            raise ValueError(f"{w}={quote(args)}: must be [lo, hi, n], e.g. [0.001, 10, 40]")
        lo, hi, n = args
        for name, v in (("lo", lo), ("hi", hi)):
            if not _number(v) or not math.isfinite(float(v)):
                raise ValueError(f"{w}={quote(args)}: {name} must be a finite number")
        Int(1, MAX_AXIS_VALUES).check(f"{w}[2] (n)", n)
        if axis != "batch_size":
            c.check(f"{w}[0] (lo)", lo)
            c.check(f"{w}[1] (hi)", hi)
        lo, hi = float(lo), float(hi)
        if n > 1 and not lo < hi:
            raise ValueError(f"{w}={quote(args)}: lo must be below hi (or n = 1)")
        if kind == "log":
            if lo <= 0:
                raise ValueError(f"{w}={quote(args)}: a log range needs lo > 0")
            vals = np.geomspace(lo, hi, n) if n > 1 else np.array([lo])
            if n > 1:
                vals[0], vals[-1] = lo, hi                   # exact ends
        else:
            vals = np.linspace(lo, hi, n)
        if axis == "batch_size":
            vals = np.round(vals).astype(np.int64)
            if len(np.unique(vals)) != len(vals):
                raise ValueError(f"{w}={quote(args)}: batch sizes round to repeated integers; use fewer values")
        for i, v in enumerate(vals):
            c.check(f"{w} value {i}", v.item())
        return vals
    if not isinstance(given, list) or not 1 <= len(given) <= MAX_AXIS_VALUES:
        raise ValueError(f"{where}={quote(given)}: must be {forms}")
    for i, v in enumerate(given):
        c.check(f"{where}[{i}]", v)
    vals = np.array(given, dtype=np.int64 if axis == "batch_size" else np.float64)
    if np.any(np.diff(vals) <= 0):
        raise ValueError(f"{where}={quote(given)}: values must increase")
    return vals


@dataclass
class SweepOptimizer:
    name: str = "sgd"
    label: str | None = None
    hparams: dict = field(default_factory=dict)       # fixed hyper-parameters, as in the spec's optimizers
    axes: dict = field(default_factory=dict)          # hyper-parameter -> values as given (list or range)

    @property
    def display(self):
        return self.label if self.label is not None else self.name

    def to_dict(self):
        d = {"name": self.name}
        if self.label is not None:
            d["label"] = self.label
        d.update(self.hparams)
        d["axes"] = self.axes
        return d

    @classmethod
    def from_dict(cls, d, where):
        if not isinstance(d, dict):
            raise ValueError(f"{where}={quote(d)}: each optimizer must be an object like "
                             "{\"name\": \"sgd\", \"axes\": {\"lr\": {\"log\": [0.001, 10, 20]}}}")
        d = dict(d)
        name = d.pop("name", None)
        if name is None:
            raise ValueError(f"{where}.name: missing; allowed are {', '.join(_opt.OPTIMIZERS)}")
        label = d.pop("label", None)
        axes = d.pop("axes", None)
        return cls(name=name, label=label, hparams=d, axes=axes)

    def values(self, where="axes"):
        """{axis: values array} in the order given (validated)."""
        return {k: axis_values(f"{where}.{k}", k, v) for k, v in self.axes.items()}

    def shape(self):
        return tuple(len(axis_values("axes", k, v)) for k, v in self.axes.items())


@dataclass
class SweepSpec:
    optimizers: list = field(default_factory=list)    # SweepOptimizer entries
    seeds: list = field(default_factory=lambda: [0])  # initial weights and mini-batch order of each run
    sharpness: bool = True                            # top Hessian eigenvalue at the start and the end of each run

    def to_dict(self):
        return {"optimizers": [o.to_dict() for o in self.optimizers], "seeds": list(self.seeds),
                "sharpness": self.sharpness}

    @classmethod
    def from_dict(cls, d):
        allowed = ("optimizers", "seeds", "sharpness")
        if not isinstance(d, dict):
            raise ValueError(f"sweep={quote(d)}: must be an object with keys {', '.join(allowed)}")
        for k in d:
            if k not in allowed:
                raise ValueError(f"sweep.{k}: unknown key; allowed are {', '.join(allowed)}")
        kw = dict(d)
        if "optimizers" in kw:
            opts = kw["optimizers"]
            if not isinstance(opts, list):
                raise ValueError(f"sweep.optimizers={quote(opts)}: must be a list of optimizer objects")
            kw["optimizers"] = [SweepOptimizer.from_dict(o, f"sweep.optimizers[{i}]") for i, o in enumerate(opts)]
        return cls(**kw)

    def labels(self):
        return [o.display for o in self.optimizers]

    def n_runs(self):
        return len(self.seeds) * sum(math.prod(o.shape()) for o in self.optimizers)

    def validate(self):
        """Every field, then the run count; ValueError naming the field (``sweep.``...), the value and what is
        allowed."""
        if not isinstance(self.optimizers, list) or not 1 <= len(self.optimizers) <= MAX_SWEEP_OPTIMIZERS:
            n = len(self.optimizers) if isinstance(self.optimizers, list) else quote(self.optimizers)
            raise ValueError(f"sweep.optimizers: {n} given; give 1 to {MAX_SWEEP_OPTIMIZERS} optimizers, each "
                             "with its axes")
        for k, c in SWEEP_CONSTRAINTS.items():
            c.check(f"sweep.{k}", getattr(self, k))
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"sweep.seeds={quote(self.seeds)}: seeds must be distinct")
        seen = set()
        for i, o in enumerate(self.optimizers):
            where = f"sweep.optimizers[{i}]"
            _opt.check_entry(o.name, o.label, o.hparams, where, seen)
            allowed = axis_names(o.name)
            if not isinstance(o.axes, dict) or not 1 <= len(o.axes) <= MAX_AXES:
                raise ValueError(f"{where}.axes={quote(o.axes)}: must be an object of 1 to {MAX_AXES} axes, e.g. "
                                 f"{{\"lr\": {{\"log\": [0.001, 10, 20]}}}}; allowed axes for {quote(o.name)} are "
                                 f"{', '.join(allowed)}")
            for k, v in o.axes.items():
                if k not in allowed:
                    raise ValueError(f"{where}.axes.{k}: not a numeric hyper-parameter of {quote(o.name)}; "
                                     f"allowed axes are {', '.join(allowed)}")
                if k in o.hparams:
                    raise ValueError(f"{where}.axes.{k}: also given as a fixed value ({k}={quote(o.hparams[k])}); "
                                     "give it once")
                axis_values(f"{where}.axes.{k}", k, v)
        n = self.n_runs()
        if n > MAX_RUNS:
            per = ", ".join(f"{o.display}: {'x'.join(map(str, o.shape()))}" for o in self.optimizers)
            raise ValueError(f"sweep: {n:,} runs ({per} cells, x {len(self.seeds)} seeds); at most {MAX_RUNS:,} "
                             "are allowed; use fewer axis values or seeds")
        return self


def check_sweep_budget(spec, n_params, n_train):
    """Refuse sweeps whose training would take far too long: runs x steps x rows a step x weights must stay
    within MAX_SWEEP_WORK (diverging runs stop early, so this is an upper bound)."""
    t, sw = spec.training, spec.sweep
    work = 0.0
    for o in sw.optimizers:
        vals = o.values()
        cells = math.prod(len(v) for v in vals.values())
        if "batch_size" in vals:
            rows = sum(min(int(b), n_train) for b in vals["batch_size"]) * (cells // len(vals["batch_size"]))
        else:
            rows = (n_train if t.batch_size is None else min(t.batch_size, n_train)) * cells
        work += float(rows) * len(sw.seeds) * t.steps * n_params
    if work > MAX_SWEEP_WORK:
        raise ValueError(
            f"sweep: {sw.n_runs():,} runs x {t.steps:,} steps x rows a step x {n_params:,} weights = {work:.2g}, over "
            f"the cap of {MAX_SWEEP_WORK:.0g} (hours of computing); use fewer axis values, seeds or "
            "training.steps, a training.batch_size or a smaller model.hidden")
    return work
