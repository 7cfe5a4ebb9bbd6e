"""Datasets: the Wisconsin breast-cancer data (bundled), seeded synthetic 2-D sets, a user's CSV.

Every loader returns a ``Dataset`` with X_* of shape (n, features) float64 (one
sample per row), y_* of shape (n,) float64 in {0, 1}.

Scaling: features are min-max scaled to [0, 1] with the minimum and maximum of
the TRAINING rows only. (The article fitted its scaler on all 683 rows; on the
article's split that changes nothing, because every Wisconsin feature takes its
extremes 1 and 10 in the first 500 rows, but on other splits it leaks test
statistics into training.) Test rows may then fall slightly outside [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from core.data.csvfile import MAX_SAMPLES, DataFiles, read_csv
from core.constraints import Choice, Int, Real, within
from core.resources import resource_path
from core.rng import rng_for

WISCONSIN_PATH = str(resource_path("core", "bundled", "data", "breast-cancer-wisconsin.data"))
WISCONSIN_FEATURES = [
    "clump_thickness", "uniformity_cell_size", "uniformity_cell_shape", "marginal_adhesion",
    "single_epithelial_cell_size", "bare_nuclei", "bland_chromatin", "normal_nucleoli", "mitoses",
]
SYNTHETIC = ("moons", "circles", "spirals", "xor")
DATASETS = ("wisconsin",) + SYNTHETIC + ("csv",)
SPLITS = ("article", "stratified")
ARTICLE_TRAIN_ROWS = 500
# the arguments' constraints (core.experiment.spec.CONSTRAINTS reads them for the spec's data section)
NAME, SPLIT = Choice(DATASETS), Choice(SPLITS)
TEST_FRACTION = Real(0.05, 0.9)          # share of rows held out for test
N_SAMPLES = Int(20, MAX_SAMPLES)         # points of a synthetic set
NOISE = Real(0.0, 1.0)                   # Gaussian noise of a synthetic set


@dataclass
class Dataset:
    name: str
    X_train: np.ndarray           # (n_train, d) scaled features
    y_train: np.ndarray           # (n_train,) in {0, 1}
    X_test: np.ndarray            # (n_test, d)
    y_test: np.ndarray            # (n_test,)
    feature_names: list = field(default_factory=list)
    scale_min: np.ndarray = None  # (d,) training-row minimum used for scaling
    scale_max: np.ndarray = None  # (d,) training-row maximum

    @property
    def n_features(self):
        return self.X_train.shape[1]


def _minmax(X_train, X_test):
    lo, hi = X_train.min(axis=0), X_train.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)          # constant feature -> scale 1, no division by 0
    return (X_train - lo) / span, (X_test - lo) / span, lo, hi


def _split(X, y, split, test_fraction, rng, n_train_article=None):
    """Indices of train and test rows. 'article': first rows train, in file order; 'stratified': from ``rng``."""
    n = len(y)
    if split == "article":
        k = n_train_article if n_train_article is not None else int(round(n * (1 - test_fraction)))
        return np.arange(k), np.arange(k, n)
    tr, te = [], []
    for c in (0.0, 1.0):                             # stratified: same class ratio in both parts
        idx = rng.permutation(np.flatnonzero(y == c))
        n_te = int(round(len(idx) * test_fraction))
        te.append(idx[:n_te]); tr.append(idx[n_te:])
    return np.sort(np.concatenate(tr)), np.sort(np.concatenate(te))


def parse_wisconsin(path=WISCONSIN_PATH, drop_missing=True):
    """The original UCI file -> X (n, 9) raw scores 1..10, y (n,) 0 benign / 1 malignant.

    11 columns: id (not a feature), 9 features, class (2 benign, 4 malignant);
    '?' marks the 16 missing Bare Nuclei values. Rows with '?' are dropped
    (drop_missing=True) or, with drop_missing=False, the missing value is
    replaced by the column median of the complete rows.
    """
    rows = []
    with open(path, newline="") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            parts = line.split(",")
            if len(parts) != 11:
                raise ValueError(f"{path}:{lineno}: expected 11 comma-separated values, got {len(parts)}")
            rows.append(parts)
    feats = [[np.nan if v == "?" else float(v) for v in r[1:10]] for r in rows]
    X = np.array(feats, dtype=np.float64)
    cls = np.array([int(r[10]) for r in rows])
    y = (cls == 4).astype(np.float64)
    missing = np.isnan(X).any(axis=1)
    if drop_missing:
        X, y = X[~missing], y[~missing]
    else:
        med = np.nanmedian(X[~missing], axis=0)
        X = np.where(np.isnan(X), med, X)
    return X, y


def _moons(n, noise, rng):
    n1 = n // 2; n2 = n - n1
    t1 = rng.uniform(0, np.pi, n1); t2 = rng.uniform(0, np.pi, n2)
    X = np.vstack([np.c_[np.cos(t1), np.sin(t1)], np.c_[1 - np.cos(t2), 0.5 - np.sin(t2)]])
    y = np.r_[np.zeros(n1), np.ones(n2)]
    return X + noise * rng.standard_normal(X.shape), y


def _circles(n, noise, rng):
    n1 = n // 2; n2 = n - n1
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.r_[np.ones(n1), 0.5 * np.ones(n2)]
    X = np.c_[r * np.cos(t), r * np.sin(t)]
    y = np.r_[np.zeros(n1), np.ones(n2)]
    return X + noise * rng.standard_normal(X.shape), y


def _spirals(n, noise, rng):
    n1 = n // 2; n2 = n - n1
    def arm(m, phase):
        t = np.sqrt(rng.uniform(0, 1, m)) * 3 * np.pi          # angle grows along the arm
        return np.c_[t * np.cos(t + phase), t * np.sin(t + phase)] / (3 * np.pi)
    X = np.vstack([arm(n1, 0.0), arm(n2, np.pi)])
    y = np.r_[np.zeros(n1), np.ones(n2)]
    return X + noise * rng.standard_normal(X.shape), y


def _xor(n, noise, rng):
    X = rng.uniform(-1, 1, (n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.float64)
    return X + noise * rng.standard_normal(X.shape), y


_GENERATORS = {"moons": _moons, "circles": _circles, "spirals": _spirals, "xor": _xor}


def load_dataset(name="wisconsin", seed=0, split=None, test_fraction=None, n_samples=400,
                 noise=None, path=None, target=None, drop_missing=True, files=None):
    """Load a dataset by name, split it and scale it with training statistics.

    name: 'wisconsin' (bundled UCI file), 'moons', 'circles', 'spirals', 'xor'
    (seeded synthetic 2-D sets of ``n_samples`` points), or 'csv' (``path=``, ``target=``).
    split: 'article' (Wisconsin default: the first 500 complete rows train, the
    other 183 test, in file order; other sets: the first (1-test_fraction) rows)
    or 'stratified' (seeded random split keeping the class ratio; default for
    synthetic sets).
    files: where a csv ``path`` may come from (core.data.csvfile.DataFiles); None: any local file (the CLI).
    """
    NAME.check("name", name)
    if split is None:
        split = "article" if name in ("wisconsin", "csv") else "stratified"
    SPLIT.check("split", split)
    if test_fraction is None:
        test_fraction = 183 / 683 if name == "wisconsin" else 0.25
    TEST_FRACTION.check("test_fraction", test_fraction)
    n_train_article = None
    rng = rng_for(seed, "data")                  # the points first, then the split, from one stream
    if name == "wisconsin":
        X, y = parse_wisconsin(drop_missing=drop_missing)
        names = list(WISCONSIN_FEATURES)
        if split == "article" and drop_missing and abs(test_fraction - 183 / 683) < 1e-12:
            n_train_article = ARTICLE_TRAIN_ROWS
    elif name == "csv":
        files = files if files is not None else DataFiles.local_files()
        X, y, names = read_csv(files.resolve(path), target, shown=path)
    else:
        N_SAMPLES.check("n_samples", n_samples)
        if noise is None:
            noise = {"moons": 0.15, "circles": 0.08, "spirals": 0.03, "xor": 0.05}[name]
        NOISE.check("noise", noise)
        X, y = _GENERATORS[name](int(n_samples), float(noise), rng)
        names = ["x1", "x2"]
    tr, te = _split(X, y, split, test_fraction, rng, n_train_article)
    if len(tr) < 2 or len(te) < 1:
        raise ValueError(f"data: the split leaves {len(tr)} training and {len(te)} test rows; need more data")
    Xtr, Xte, lo, hi = _minmax(X[tr], X[te])
    return Dataset(name, Xtr, y[tr], Xte, y[te], names, lo, hi)


def spec_dataset(spec, files=None):
    """The dataset of an ExperimentSpec (its ``data`` section and ``seed``); load_dataset names its own
    arguments, so "path=..." becomes "data.path=..." in messages. files: as in load_dataset."""
    d = spec.data
    with within("data"):
        return load_dataset(d.name, seed=spec.seed, split=d.split, test_fraction=d.test_fraction,
                            n_samples=d.n_samples, noise=d.noise, path=d.path, target=d.target, files=files)
