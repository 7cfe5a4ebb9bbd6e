"""ExperimentSpec: the whole description of an experiment, JSON-able and validated in one place.

    spec = ExperimentSpec.preset("four_optimizers")
    spec = ExperimentSpec.from_dict({...})        # unknown keys rejected
    spec.validate()                                # ValueError naming field, value and what is allowed
    spec.to_dict() / spec.to_json()

Caps (documented maximums, so no request can exhaust memory) are the ranges of CONSTRAINTS below,
declared once; the CLI's help and the app's hints read them.
Budgets that depend on the data and the model's size are checked by
core.experiment.budget.check_budget once the dataset is loaded.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields

from core.data import datasets as _data
from core.model import optimizers as _opt
from core.constraints import Bool, Choice, Int, ListOf, Optional, Real, Text, check_table, within
from core.errors import quote
from core.fileio import loads_json
from core.resources import bundled_names, resource_path
from core.model.network import INIT_SCHEMES, MAX_HIDDEN_LAYERS, MAX_UNITS
from core.curvature import METHODS as CURVATURE_METHODS
from core.experiment.sweep_section import SweepSpec
from core.model.training import MAX_FRAMES, STEPS, check_plan

PRESET_DIR = resource_path("core", "bundled", "presets")
MAX_OPTIMIZERS = 8
MAX_GRID = 201
MAX_MOVING_FRAMES = 100
MAX_MOVING_GRID = 101
PLANES = ("pca", "pca_balanced", "pca_per_run", "random", "interpolation", "hessian")
CENTERS = ("final", "initial")
NORMALIZE = ("filter", "layer", "none")

# Every field's type and range, declared once: validate() walks it; the CLI's help and the app's hints read
# it (e.g. CONSTRAINTS["grid.resolution"].hint() == "3..201"). Rules between fields stay in validate().
CONSTRAINTS = {
    "name": Text(200),
    "seed": Int(0, 2**32 - 1),
    "data.name": _data.NAME,
    "data.split": Optional(_data.SPLIT, "the data set's default"),
    "data.test_fraction": Optional(_data.TEST_FRACTION, "the data set's default"),
    "data.n_samples": _data.N_SAMPLES,
    "data.noise": Optional(_data.NOISE, "the data set's default"),
    "data.path": Optional(Text(500), "no file"),
    "data.target": Optional(Text(200), "no target"),
    "model.hidden": ListOf(Int(1, MAX_UNITS), 1, MAX_HIDDEN_LAYERS, "[15]", "layer widths"),
    "model.init": Choice(INIT_SCHEMES),
    "training.steps": STEPS,
    "training.batch_size": Optional(Int(1, _data.MAX_SAMPLES), "full batch"),
    "training.record_every": STEPS,
    "training.target_loss": Real(0.0, 100.0, lo_open=True),
    "plane.method": Choice(PLANES),
    "plane.center": Choice(CENTERS),
    "plane.normalize": Choice(NORMALIZE),
    "plane.ignore_bias": Bool(),
    "grid.resolution": Int(3, MAX_GRID),
    "grid.range": Optional(Real(0.0, 1e4, lo_open=True), "fit the paths"),
    "grid.margin": Real(0.0, 10.0),
    "grid.accuracy": Bool(),
    "grid.moving": Bool(),
    "grid.moving_frames": Int(2, MAX_MOVING_FRAMES),
    "grid.moving_resolution": Int(3, MAX_MOVING_GRID),
    "curvature.enabled": Bool(),
    "curvature.stride": Optional(Int(1, MAX_FRAMES), "auto"),
    "curvature.method": Choice(CURVATURE_METHODS),
    "curvature.tol": Real(1e-14, 1e-2),
    "curvature.max_iter": Int(2, 5000),
}


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
    hidden: list = field(default_factory=lambda: [15])  # hidden layer widths (ReLU)
    # default (the seed's "init" stream, core.rng) | article (legacy RandomState, the article's numbers)
    init: str = "default"


@dataclass
class TrainingSpec:
    steps: int = 2000              # gradient steps per optimizer
    batch_size: int | None = None  # None: full batch; else seeded mini-batches
    record_every: int = 10         # record the weights every k steps (and always the first and last)
    target_loss: float = 0.1       # "steps to target" reports the first step with loss below this


@dataclass
class OptimizerSpec:
    name: str = "sgd"              # sgd | annealing | large_lr | momentum | nesterov | adam | rmsprop
    label: str | None = None       # unique display name; None: the optimizer name
    hparams: dict = field(default_factory=dict)  # lr, momentum, schedule, decay_rate, ... (see core.model.optimizers)

    def to_dict(self):
        d = {"name": self.name}
        if self.label is not None:
            d["label"] = self.label
        d.update(self.hparams)
        return d

    @classmethod
    def from_dict(cls, d, where="optimizers[?]"):
        if not isinstance(d, dict):
            raise ValueError(f"{where}={quote(d)}: each optimizer must be an object like "
                             f"{{\"name\": \"sgd\", \"lr\": 0.07}}")
        d = dict(d)
        name = d.pop("name", None)
        label = d.pop("label", None)
        if name is None:
            raise ValueError(f"{where}.name: missing; allowed are {', '.join(_opt.OPTIMIZERS)}")
        return cls(name=name, label=label, hparams=d)


@dataclass
class PlaneSpec:
    method: str = "pca"            # pca (shared plane of all paths) | pca_balanced (each run weighted equally)
                                   # | pca_per_run (each run on its own PCA plane, beside the shared one)
                                   # | random (filter-normalized) | interpolation
                                   # | hessian (the top two Hessian eigenvectors at the center)
    center: str = "final"          # final | initial: which weights of center_on sit at (0, 0)
    center_on: str | None = None   # label of the run whose weights are the center; None: the first optimizer
    normalize: str = "filter"      # random directions: filter | layer | none
    ignore_bias: bool = True       # random directions: zero on the biases


@dataclass
class GridSpec:
    resolution: int = 51           # grid points per axis
    range: float | None = None     # half-width of a square grid in plane units; None: fit the paths with a margin
    margin: float = 0.3            # with range None: extra room around the paths, as a share of their extent
    accuracy: bool = False         # also compute a train-accuracy surface
    moving: bool = False           # also compute a moving landscape (one surface per frame, following center_on)
    moving_frames: int = 40        # frames of the moving landscape
    moving_resolution: int = 31    # points per axis of each moving surface


@dataclass
class CurvatureSpec:
    enabled: bool = False          # sharpness, bottom eigenvalue and stability threshold at every recorded frame
    stride: int | None = None      # every stride-th recorded frame (and always the last); None: every frame when
                                   # that takes about a second, else the smallest stride that does (core/budget.py)
    # auto (dense eigenvalues up to the dense cap) | dense | lanczos (needed above the cap)
    method: str = "auto"
    tol: float = 1e-10             # lanczos: relative residual at which an eigenvalue counts as converged
    max_iter: int = 300            # lanczos: iteration cap per eigenvalue


_SECTIONS = {"data": DataSpec, "model": ModelSpec, "training": TrainingSpec, "plane": PlaneSpec, "grid": GridSpec,
             "curvature": CurvatureSpec}


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
    curvature: CurvatureSpec = field(default_factory=CurvatureSpec)
    sweep: SweepSpec | None = None  # optional: a sweep over hyper-parameters and seeds (core/sweepspec.py)

    # --------------------------------------------------------------- JSON
    def to_dict(self):
        d = {"name": self.name, "seed": self.seed}
        for k in _SECTIONS:
            d[k] = asdict(getattr(self, k))
        d["optimizers"] = [o.to_dict() for o in self.optimizers]
        if self.sweep is not None:
            d["sweep"] = self.sweep.to_dict()
        return d

    def training_part(self):
        """The part of the spec training and curvature depend on (data, model, optimizers, training steps,
        batches and recording, seed, curvature); not the plane, grid, name, target loss or sweep. Two specs
        with equal parts train identical trajectories (core.experiment.run.run_experiment's ``trained``)."""
        d = self.to_dict()
        training = {k: v for k, v in d["training"].items() if k != "target_loss"}
        return {"seed": d["seed"], "data": d["data"], "model": d["model"], "training": training,
                "optimizers": d["optimizers"], "curvature": d["curvature"]}

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
                    raise ValueError(f"{k}={quote(v)}: must be an object with keys "
                                     f"{', '.join(f.name for f in fields(sec))}")
                allowed = {f.name for f in fields(sec)}
                for kk in v:
                    if kk not in allowed:
                        raise ValueError(f"{k}.{kk}: unknown key; allowed are {', '.join(sorted(allowed))}")
                kw[k] = sec(**v)
            elif k == "optimizers":
                if not isinstance(v, list):
                    raise ValueError(f"optimizers={quote(v)}: must be a list of optimizer objects")
                kw[k] = [OptimizerSpec.from_dict(o, f"optimizers[{i}]") for i, o in enumerate(v)]
            elif k == "sweep":
                kw[k] = None if v is None else SweepSpec.from_dict(v)
            else:
                kw[k] = v
        spec = cls(**kw)
        if validate:
            spec.validate()
        return spec

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(loads_json(text, "spec"))     # nesting deeper than MAX_JSON_DEPTH: a named error

    @classmethod
    def load(cls, path):
        if not os.path.isfile(path):
            raise ValueError(f"spec file {path!r}: no such file")
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())

    @staticmethod
    def presets():
        """Names of the bundled presets (core/bundled/presets)."""
        return bundled_names("presets", ".json")

    @classmethod
    def preset(cls, name):
        names = cls.presets()
        if name not in names:
            raise ValueError(f"preset={quote(name)}: allowed are {', '.join(names)}")
        return cls.load(str(PRESET_DIR / (name + ".json")))

    def labels(self):
        return [o.label if o.label is not None else o.name for o in self.optimizers]

    # ----------------------------------------------------------- validation
    def validate(self):
        """Check every field against CONSTRAINTS, then the rules between fields; raise ValueError naming the
        field, the value and what is allowed."""
        if not isinstance(self.optimizers, list) or not 1 <= len(self.optimizers) <= MAX_OPTIMIZERS:
            n = len(self.optimizers) if isinstance(self.optimizers, list) else quote(self.optimizers)
            raise ValueError(f"optimizers: {n} given; give 1 to {MAX_OPTIMIZERS} optimizers")
        check_table(self, CONSTRAINTS)
        d, t = self.data, self.training
        if d.name == "csv":
            if not d.path:
                raise ValueError(f"data.path={quote(d.path)}: the csv dataset needs the path of a CSV file")
            if not d.target:
                raise ValueError(f"data.target={quote(d.target)}: the csv dataset needs the name of its target column")
        with within("training"):
            check_plan(t.steps, t.record_every)
        seen = set()
        for i, o in enumerate(self.optimizers):
            _opt.check_entry(o.name, o.label, o.hparams, f"optimizers[{i}]", seen)
        if self.plane.center_on is not None:
            Choice(tuple(self.labels())).check("plane.center_on", self.plane.center_on)
        if self.sweep is not None:
            self.sweep.validate()
        return self


