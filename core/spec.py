"""ExperimentSpec: the whole description of an experiment, JSON-able and validated in one place.

    spec = ExperimentSpec.preset("four_optimizers")
    spec = ExperimentSpec.from_dict({...})        # unknown keys rejected
    spec.validate()                                # ValueError naming field, value and what is allowed
    spec.to_dict() / spec.to_json()

Caps (documented maximums, so no request can exhaust memory):
  grid.resolution <= 201 per axis, training.steps <= 200000, <= 8 optimizers,
  <= 1000 recorded frames per run, <= 512 units a layer, <= 4 hidden layers,
  moving landscape: <= 100 frames at <= 101 points per axis.
Budgets that depend on the data and the model's size are checked by
core.experiment.check_budget once the dataset is loaded.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields

from . import data as _data
from . import optimizers as _opt
from .network import MAX_HIDDEN_LAYERS, MAX_UNITS, INIT_SCHEMES
from .training import MAX_FRAMES, MAX_STEPS, record_plan
from .errors import quote

PRESET_DIR = os.path.join(_data.ASSETS, "presets")
MAX_OPTIMIZERS = 8
MAX_GRID = 201
MAX_MOVING_FRAMES = 100
MAX_MOVING_GRID = 101
PLANES = ("pca", "random", "interpolation")
CENTERS = ("final", "initial")
NORMALIZE = ("filter", "layer", "none")


@dataclass
class DataSpec:
    name: str = "wisconsin"        # wisconsin | moons | circles | spirals | xor | csv
    split: str | None = None       # article (first rows train, file order) | stratified; None: per-dataset default
    test_fraction: float | None = None  # share of rows for test; None: 183/683 for wisconsin, 0.25 otherwise
    n_samples: int = 400           # synthetic sets: number of points
    noise: float | None = None     # synthetic sets: Gaussian noise; None: a per-set default
    path: str | None = None        # csv: file path
    target: str | None = None      # csv: name of the binary target column


@dataclass
class ModelSpec:
    hidden: list = field(default_factory=lambda: [15])  # hidden layer widths (ReLU), 1..4 layers of 1..512
    init: str = "default"          # default (the seed's "init" stream, core.rng) | article (legacy RandomState, the article's numbers)


@dataclass
class TrainingSpec:
    steps: int = 2000              # gradient steps per optimizer, <= 200000
    batch_size: int | None = None  # None: full batch; else seeded mini-batches
    record_every: int = 10         # record the weights every k steps (and always the first and last)
    target_loss: float = 0.1       # "steps to target" reports the first step with loss below this


@dataclass
class OptimizerSpec:
    name: str = "sgd"              # sgd | annealing | large_lr | momentum | nesterov | adam | rmsprop
    label: str | None = None       # unique display name; None: the optimizer name
    hparams: dict = field(default_factory=dict)  # lr, momentum, schedule, decay_rate, ... (see core.optimizers)

    def to_dict(self):
        d = {"name": self.name}
        if self.label is not None:
            d["label"] = self.label
        d.update(self.hparams)
        return d

    @classmethod
    def from_dict(cls, d, where="optimizers[?]"):
        if not isinstance(d, dict):
            raise ValueError(f"{where}={quote(d)}: each optimizer must be an object like {{\"name\": \"sgd\", \"lr\": 0.07}}")
        d = dict(d)
        name = d.pop("name", None)
        label = d.pop("label", None)
        if name is None:
            raise ValueError(f"{where}.name: missing; allowed are {', '.join(_opt.OPTIMIZERS)}")
        return cls(name=name, label=label, hparams=d)


@dataclass
class PlaneSpec:
    method: str = "pca"            # pca (shared plane of all paths) | random (filter-normalized) | interpolation
    center: str = "final"          # final | initial: which weights of center_on sit at (0, 0)
    center_on: str | None = None   # label of the run whose weights are the center; None: the first optimizer
    normalize: str = "filter"      # random directions: filter | layer | none
    ignore_bias: bool = True       # random directions: zero on the biases


@dataclass
class GridSpec:
    resolution: int = 51           # grid points per axis, 3..201
    range: float | None = None     # half-width of a square grid in plane units; None: fit the paths with a margin
    margin: float = 0.3            # with range None: extra room around the paths, as a share of their extent
    accuracy: bool = False         # also compute a train-accuracy surface
    moving: bool = False           # also compute a moving landscape (one surface per frame, following center_on)
    moving_frames: int = 40        # frames of the moving landscape, 2..100
    moving_resolution: int = 31    # points per axis of each moving surface, 3..101


_SECTIONS = {"data": DataSpec, "model": ModelSpec, "training": TrainingSpec, "plane": PlaneSpec, "grid": GridSpec}


@dataclass
class ExperimentSpec:
    name: str = "experiment"       # free text, shown in titles
    seed: int = 0                  # initial weights and every other random choice
    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    training: TrainingSpec = field(default_factory=TrainingSpec)
    optimizers: list = field(default_factory=lambda: [OptimizerSpec("sgd")])
    plane: PlaneSpec = field(default_factory=PlaneSpec)
    grid: GridSpec = field(default_factory=GridSpec)

    # --------------------------------------------------------------- JSON
    def to_dict(self):
        d = {"name": self.name, "seed": self.seed}
        for k in _SECTIONS:
            d[k] = asdict(getattr(self, k))
        d["optimizers"] = [o.to_dict() for o in self.optimizers]
        return d

    def to_json(self, indent=2):
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d, validate=True):
        if not isinstance(d, dict):
            raise ValueError(f"spec: expected a JSON object, got {type(d).__name__}")
        top = {f.name for f in fields(cls)}
        for k in d:
            if k not in top:
                raise ValueError(f"spec.{k}: unknown key; allowed are {', '.join(sorted(top))}")
        kw = {}
        for k, v in d.items():
            if k in _SECTIONS:
                sec = _SECTIONS[k]
                if not isinstance(v, dict):
                    raise ValueError(f"{k}={quote(v)}: must be an object with keys {', '.join(f.name for f in fields(sec))}")
                allowed = {f.name for f in fields(sec)}
                for kk in v:
                    if kk not in allowed:
                        raise ValueError(f"{k}.{kk}: unknown key; allowed are {', '.join(sorted(allowed))}")
                kw[k] = sec(**v)
            elif k == "optimizers":
                if not isinstance(v, list):
                    raise ValueError(f"optimizers={quote(v)}: must be a list of optimizer objects")
                kw[k] = [OptimizerSpec.from_dict(o, f"optimizers[{i}]") for i, o in enumerate(v)]
            else:
                kw[k] = v
        spec = cls(**kw)
        if validate:
            spec.validate()
        return spec

    @classmethod
    def from_json(cls, text):
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"spec: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
        return cls.from_dict(d)

    @classmethod
    def load(cls, path):
        if not os.path.isfile(path):
            raise ValueError(f"spec file {path!r}: no such file")
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())

    @staticmethod
    def presets():
        """Names of the bundled presets in assets/presets/."""
        return sorted(f[:-5] for f in os.listdir(PRESET_DIR) if f.endswith(".json"))

    @classmethod
    def preset(cls, name):
        names = cls.presets()
        if name not in names:
            raise ValueError(f"preset={quote(name)}: allowed are {', '.join(names)}")
        return cls.load(os.path.join(PRESET_DIR, name + ".json"))

    def labels(self):
        return [o.label if o.label is not None else o.name for o in self.optimizers]

    # ----------------------------------------------------------- validation
    def validate(self):
        """Check every field; raise ValueError naming the field, the value and what is allowed."""
        def integer(where, v, lo, hi):
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{where}={quote(v)}: must be an integer in [{lo}, {hi}]")

        def number(where, v, lo, hi, lo_open=False):
            ok = not isinstance(v, bool) and isinstance(v, (int, float)) and v == v
            if ok:
                ok = (lo < v if lo_open else lo <= v) and v <= hi
            if not ok:
                raise ValueError(f"{where}={quote(v)}: must be a number in {'(' if lo_open else '['}{lo}, {hi}]")

        def choice(where, v, allowed):
            if v not in allowed:
                raise ValueError(f"{where}={quote(v)}: allowed are {', '.join(map(str, allowed))}")

        if not isinstance(self.name, str) or len(self.name) > 200:
            raise ValueError(f"name={quote(self.name)}: must be a string of at most 200 characters")
        integer("seed", self.seed, 0, 2**32 - 1)
        d = self.data
        choice("data.name", d.name, _data.DATASETS)
        if d.split is not None:
            choice("data.split", d.split, _data.SPLITS)
        if d.test_fraction is not None:
            number("data.test_fraction", d.test_fraction, 0.05, 0.9)
        integer("data.n_samples", d.n_samples, 20, _data.MAX_SAMPLES)
        if d.noise is not None:
            number("data.noise", d.noise, 0.0, 1.0)
        if d.name == "csv":
            if not isinstance(d.path, str) or not d.path:
                raise ValueError(f"data.path={quote(d.path)}: the csv dataset needs the path of a CSV file")
            if not isinstance(d.target, str) or not d.target:
                raise ValueError(f"data.target={quote(d.target)}: the csv dataset needs the name of its target column")
        m = self.model
        if not isinstance(m.hidden, list) or not 1 <= len(m.hidden) <= MAX_HIDDEN_LAYERS:
            raise ValueError(f"model.hidden={quote(m.hidden)}: must be a list of 1 to {MAX_HIDDEN_LAYERS} layer widths, e.g. [15]")
        for i, h in enumerate(m.hidden):
            integer(f"model.hidden[{i}]", h, 1, MAX_UNITS)
        choice("model.init", m.init, INIT_SCHEMES)
        t = self.training
        integer("training.steps", t.steps, 1, MAX_STEPS)
        if t.batch_size is not None:
            integer("training.batch_size", t.batch_size, 1, _data.MAX_SAMPLES)
        integer("training.record_every", t.record_every, 1, MAX_STEPS)
        n_frames = len(record_plan(t.steps, t.record_every))
        if n_frames > MAX_FRAMES:
            raise ValueError(f"training.record_every={t.record_every}: {t.steps} steps would record {n_frames} frames; "
                             f"at most {MAX_FRAMES} are allowed, so use record_every >= {-(-t.steps // (MAX_FRAMES - 1))}")
        number("training.target_loss", t.target_loss, 0.0, 100.0, lo_open=True)
        if not isinstance(self.optimizers, list) or not 1 <= len(self.optimizers) <= MAX_OPTIMIZERS:
            raise ValueError(f"optimizers: {quote(len(self.optimizers) if isinstance(self.optimizers, list) else self.optimizers)} given; "
                             f"give 1 to {MAX_OPTIMIZERS} optimizers")
        seen = set()
        for i, o in enumerate(self.optimizers):
            where = f"optimizers[{i}]"
            if o.label is not None and (not isinstance(o.label, str) or not o.label.strip() or len(o.label) > 40):
                raise ValueError(f"{where}.label={quote(o.label)}: must be a non-empty string of at most 40 characters")
            _opt.check_hparams(o.name, o.hparams, where)
            lab = o.label if o.label is not None else o.name
            if lab in seen:
                raise ValueError(f"{where}.label={quote(lab)}: labels must be unique; give this optimizer its own \"label\"")
            seen.add(lab)
        p = self.plane
        choice("plane.method", p.method, PLANES)
        choice("plane.center", p.center, CENTERS)
        if p.center_on is not None:
            choice("plane.center_on", p.center_on, self.labels())
        choice("plane.normalize", p.normalize, NORMALIZE)
        if not isinstance(p.ignore_bias, bool):
            raise ValueError(f"plane.ignore_bias={quote(p.ignore_bias)}: must be true or false")
        g = self.grid
        integer("grid.resolution", g.resolution, 3, MAX_GRID)
        if g.range is not None:
            number("grid.range", g.range, 0.0, 1e4, lo_open=True)
        number("grid.margin", g.margin, 0.0, 10.0)
        for k in ("accuracy", "moving"):
            if not isinstance(getattr(g, k), bool):
                raise ValueError(f"grid.{k}={quote(getattr(g, k))}: must be true or false")
        integer("grid.moving_frames", g.moving_frames, 2, MAX_MOVING_FRAMES)
        integer("grid.moving_resolution", g.moving_resolution, 3, MAX_MOVING_GRID)
        return self
