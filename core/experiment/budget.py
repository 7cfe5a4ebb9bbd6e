"""How much a run costs: the budgets run_experiment refuses to exceed, and the server's work estimate.

    check_budget(spec, n_params, n_train)        # ValueError naming the field to change, and to what
    estimate_work(spec)                          # dict(train, surface, curvature, plane, other, total, ...) in units
    seconds(units)                               # units / WORK_UNITS_PER_SECOND

The caps of single fields (grid resolution, steps, hidden units, frames) are the ranges of
core.experiment.spec.CONSTRAINTS; the budgets here depend on the data and the model's size, so they are checked
once the dataset is loaded. A work unit is about one multiply-add of one weight with one data row;
WORK_UNITS_PER_SECOND of them take about a second of one worker here (benchmarks/bench_work.py
measures the coefficients against real runs). This is the project's one cost model: experiments (the
estimate, the server's cap and its advice, core.experiment.admission), sweeps (their chunk size, run_work)
and the app's curvature colour map count in these units and convert to seconds with WORK_UNITS_PER_SECOND.

What costs (estimate_work's parts): training (steps x rows x weights, a fixed cost a step, the recorded
frames' accuracy and projection), surfaces (the one-hidden-layer sweep, or batched GEMMs for deeper nets; the
accuracy surface; a moving landscape's frames), curvature (dense Hessians and eigenvalues, or Lanczos, at
the computed frames), the plane (a Hessian plane's dense eigh with eigenvectors, or Lanczos; a PCA's SVD)
and a fixed cost a request. slices_work: the 1-D slices of one frame (the app and the exporter).
"""
from __future__ import annotations

import numpy as np

from core.model import optimizers as _opt
from core.data.datasets import spec_dataset
from core.errors import quote
from core.model.network import MLP
from core.curvature.second_order import MAX_DENSE_PARAMS
from core.experiment.spec import ExperimentSpec
from core.model.training import record_plan

# Budgets checked once the dataset is loaded (they depend on the number of weights and rows):
MAX_RECORDED_FLOATS = 50_000_000   # frames x weights x optimizers kept in memory (400 MB of float64)
MAX_WORK = 2e11                    # steps x optimizers x training rows x weights (~ multiply-adds of training)
MAX_SURFACE_WORK = 1e11            # deeper nets: grid points x training rows x weights (~ 15-40 s here)
MAX_CURVATURE_WORK = 2e11          # curvature: frames x (dense: rows x weights^2 + weights^3; lanczos: 8 x
                                   # max_iter x rows x weights), about a minute here
AUTO_CURVATURE_WORK = 3e9          # curvature.stride null ("auto"): the stride keeps curvature to about a second
# estimate_work's coefficients (benchmarks/bench_work.py measures them against real runs):
WORK_UNITS_PER_SECOND = 3e9        # work units one worker process does in about a second here
_STEP_UNITS = 1.5e5                # fixed cost of one training step (~50 us of Python and NumPy calls)
_ROW_UNIT_UNITS = 10               # a training step's elementwise work per row and hidden unit (activations, masks)
_SPILL_BYTES = 4 << 20             # ... 3x when a step's activations (rows x units float64) outgrow the cache
_SPILL_FACTOR = 3                  # (moons, 15,000 rows: 30-70 units a row and unit measured)
_SWEEP_UNIT_ROW_UNITS = 45         # one-hidden-layer sweep: per alpha, row and hidden unit
_SWEEP_POINT_ROW_UNITS = 30        # ... and per grid point and row (prefix sums and the loss)
_REQUEST_UNITS = 3e8               # fixed cost of a run (data, plane, projections: ~0.1 s)
_EIGH_VECTORS_UNITS = 1.5          # numpy eigh with eigenvectors of a (P, P) matrix: this x P^3 ([360]: 1.2 measured)
_EIGH_VALUES_UNITS = 0.25          # eigenvalues only, of the live units' blocks (the curvature's fit)
_CLOSED_FORM_UNITS = 0.15          # one hidden layer's Hessian in closed form: this x rows x P^2
_HVP_HESSIAN_UNITS = 3.0           # deeper: P Hessian-vector products (R-operator passes), this x rows x P^2
_LANCZOS_ITER = 150                # Lanczos iterations usually needed (fewer than max_iter)
_SLICE_POINTS = 3 * 121            # the three 1-D slices of a frame (core.landscape.slices.N_POINTS each)

__all__ = ["check_budget", "estimate_work", "run_work", "slices_work", "seconds", "MAX_RECORDED_FLOATS", "MAX_WORK",
           "MAX_SURFACE_WORK", "MAX_CURVATURE_WORK", "WORK_UNITS_PER_SECOND"]


def seconds(units):
    """Seconds of one worker here for ``units`` work units (the one conversion of the cost model)."""
    return float(units) / WORK_UNITS_PER_SECOND


# ------------------------------------------------------------------ budgets
def check_budget(spec, n_params, n_train):
    """Refuse runs whose recorded weights would not fit in memory, or whose training or (for more than one
    hidden layer, where the fast sweep does not apply) surfaces would take far too long."""
    _check_recorded(spec, n_params)
    _check_training(spec, n_params, n_train)
    _check_surfaces(spec, n_params, n_train)
    _check_curvature_budget(spec, n_params, n_train)


def _check_recorded(spec, n_params):
    t = spec.training
    n_opt = len(spec.optimizers)
    frames = len(record_plan(t.steps, t.record_every))
    kept = n_opt + sum(_opt.is_preconditioned(o.name) for o in spec.optimizers)   # adam / rmsprop: + preconditioner
    floats = frames * n_params * kept
    if floats > MAX_RECORDED_FLOATS:
        room = MAX_RECORDED_FLOATS - 2 * n_params * kept      # the first and last frames are always kept
        fix = f"use record_every >= {-(-t.steps * n_params * kept // room)}, " if room > 0 else ""
        raise ValueError(
            f"training.record_every={t.record_every}: {frames} frames x {n_params:,} weights x {n_opt} optimizers "
            f"= {floats:,} recorded values, over the cap of {MAX_RECORDED_FLOATS:,}; {fix}"
            "fewer optimizers or a smaller model.hidden")


def _check_training(spec, n_params, n_train):
    t = spec.training
    n_opt = len(spec.optimizers)
    batch = n_train if t.batch_size is None else min(t.batch_size, n_train)
    work = float(t.steps) * n_opt * batch * n_params
    if work > MAX_WORK:
        raise ValueError(
            f"training.steps={t.steps}: {t.steps:,} steps x {n_opt} optimizers x {batch} rows a step x "
            f"{n_params:,} weights = {work:.2g}, over the cap of {MAX_WORK:.0g} (hours of training); "
            "use fewer steps, a training.batch_size, fewer optimizers or a smaller model.hidden")


def _check_surfaces(spec, n_params, n_train):
    if len(spec.model.hidden) <= 1:                   # the sweep: fast at every allowed grid
        return
    g = spec.grid
    per_run = len(spec.optimizers) if spec.plane.method == "pca_per_run" else 0
    points = (g.resolution ** 2 * (2 + per_run if g.accuracy else 1 + per_run)
              + (g.moving_frames * g.moving_resolution ** 2 if g.moving else 0))
    swork = float(points) * n_train * n_params
    if swork > MAX_SURFACE_WORK:
        raise ValueError(
            f"grid.resolution={g.resolution}: {points:,} grid points x {n_train} rows x {n_params:,} weights "
            f"= {swork:.2g}, over the cap of {MAX_SURFACE_WORK:.0g} for networks with more than one hidden "
            "layer; use a smaller grid.resolution (or moving_resolution / moving_frames), or a smaller model.hidden")


def _curvature_work(spec, n_params, n_train, stride=None):
    """(frames whose curvature is computed, work units a frame): dense Hessians and eigenvalues, or Lanczos."""
    c = spec.curvature
    stride = curvature_stride(spec, n_params, n_train) if stride is None else stride
    frames = len(record_plan(spec.training.steps, spec.training.record_every))
    computed = (-(-frames // stride) + 1) * len(spec.optimizers)
    if c.method == "lanczos" or n_params > MAX_DENSE_PARAMS:
        # Lanczos for the top and the bottom eigenvalue, an hvp (about 2 passes) an iteration; it usually
        # converges in far fewer than max_iter iterations: measured 90-250 rows x weights a frame here
        return computed, _lanczos_work(n_params, n_train, c.max_iter)
    # dense: the stacked Hessians (BLAS) and their eigenvalues (fitted to 166 to 3,301 weights here)
    return computed, (_hessian_build_work(spec.model.hidden, n_params, n_train)
                      + _EIGH_VALUES_UNITS * float(n_params) ** 3)


def _lanczos_work(n_params, n_train, max_iter):
    """Lanczos on Hessian-vector products (about 2 passes an iteration) to the usual iterations."""
    return 2.0 * min(max_iter, _LANCZOS_ITER) * n_train * n_params


def _hessian_build_work(hidden, n_params, n_train):
    """One dense (P, P) Hessian: the closed form of one hidden layer, else P Hessian-vector products."""
    coef = _CLOSED_FORM_UNITS if len(hidden) <= 1 else _HVP_HESSIAN_UNITS
    return coef * n_train * float(n_params) ** 2


def _top_eigvecs_work(hidden, n_params, n_train):
    """core.curvature.hessian_eigs(k <= 2, which="largest") with its eigenvectors: a dense Hessian and a full
    eigh up to MAX_DENSE_PARAMS weights, Lanczos (max_iter 300) above."""
    if n_params > MAX_DENSE_PARAMS:
        return _lanczos_work(n_params, n_train, 300)
    return _hessian_build_work(hidden, n_params, n_train) + _EIGH_VECTORS_UNITS * float(n_params) ** 3


def slices_work(hidden, n_params, n_train):
    """Work units of one frame's 1-D slices (core.landscape.slices: the top eigenvector's, the gradient
    step's and the interpolation's, 121 exact losses each, and the top eigenvector itself)."""
    return _top_eigvecs_work(list(hidden), n_params, n_train) + _SLICE_POINTS * float(n_train) * n_params


def step_work(rows, n_params, hidden):
    """Work units of one training step on ``rows`` rows: rows x weights, the elementwise work per row and
    hidden unit (3x once the activations outgrow the cache: large datasets), and a fixed cost."""
    units = float(rows) * sum(hidden)
    spill = _SPILL_FACTOR if 8 * units > _SPILL_BYTES else 1
    return float(rows) * n_params + _ROW_UNIT_UNITS * spill * units + _STEP_UNITS


def run_work(steps, rows, n_params, sharpness=False, hidden=(1,)):
    """Work units of one sweep run: ``steps`` training steps on ``rows`` rows a step, and (``sharpness``) two
    dense top eigenvalues (the first and the last weights)."""
    units = float(steps) * step_work(rows, n_params, list(hidden))
    if sharpness:
        units += 2 * (_hessian_build_work(list(hidden), n_params, rows) + _EIGH_VALUES_UNITS * float(n_params) ** 3)
    return units


def curvature_stride(spec, n_params, n_train):
    """The stride the curvature is computed with: spec.curvature.stride, or (None, "auto") 1 when every frame
    fits AUTO_CURVATURE_WORK (about a second here; the four_optimizers preset does), else the smallest stride
    that fits it."""
    c = spec.curvature
    if c.stride is not None:
        return c.stride
    computed, per = _curvature_work(spec, n_params, n_train, stride=1)
    runs = len(spec.optimizers)
    frames_fit = max(1.0, AUTO_CURVATURE_WORK / per / runs - 1)      # frames a run may compute (the last is extra)
    frames = len(record_plan(spec.training.steps, spec.training.record_every))
    return max(1, int(np.ceil(frames / frames_fit)))


def _check_curvature_budget(spec, n_params, n_train):
    c = spec.curvature
    if not c.enabled:
        return
    if n_params > MAX_DENSE_PARAMS and c.method == "dense":
        raise ValueError(
            f"curvature.method='dense': the network has {n_params:,} weights, over the dense Hessian's cap "
            f"of {MAX_DENSE_PARAMS:,}; use curvature.method \"lanczos\" or \"auto\" (Lanczos above the cap, with "
            "curvature.tol and curvature.max_iter), or curvature.enabled false")
    computed, per = _curvature_work(spec, n_params, n_train)
    work = computed * per
    if work > MAX_CURVATURE_WORK:
        stride = curvature_stride(spec, n_params, n_train)
        fix = max(stride + 1, int(np.ceil(stride * work / MAX_CURVATURE_WORK)))
        frames = len(record_plan(spec.training.steps, spec.training.record_every))
        more = f"curvature.stride >= {fix:,}, " if fix < frames else ""    # else: already the first and last only
        raise ValueError(
            f"curvature.stride={quote(c.stride)}: about {computed:,} frames x {per:.2g} = {work:.2g}, over the cap of "
            f"{MAX_CURVATURE_WORK:.0g} for curvature; use {more}a smaller model.hidden or curvature.enabled false")


# ------------------------------------------------------------------ the estimate
def estimate_work(spec, n_params=None, n_train=None, n_test=None, files=None):
    """Estimated cost of ``run_experiment(spec)``, in work units: dict(train, surface, curvature, plane, other,
    total) (and the n_params, n_train, n_test it used).

    A unit is about one multiply-add of one weight with one data row, the unit of ``check_budget``'s
    training work (steps x optimizers x rows a step x weights); each part is that product plus fixed
    per-step and per-request overheads expressed in the same unit, with coefficients measured on the
    project's 2-core machine (one BLAS thread) by ``benchmarks/bench_work.py``, where
    ``WORK_UNITS_PER_SECOND`` units took about one second. ``n_params``, ``n_train``, ``n_test``: the
    network's weights and the dataset's rows; when any is None the dataset is loaded to count them
    (cheap for the bundled and synthetic sets; ``files`` as in run_experiment).
    """
    if isinstance(spec, dict):
        spec = ExperimentSpec.from_dict(spec)
    hidden = list(spec.model.hidden)
    if n_params is None or n_train is None or n_test is None:
        ds = spec_dataset(spec, files)
        n_train, n_test = len(ds.y_train), len(ds.y_test)
        n_params = MLP([ds.n_features] + hidden + [1]).n_params
    t, g = spec.training, spec.grid
    n_opt = len(spec.optimizers)
    batch = n_train if t.batch_size is None else min(t.batch_size, n_train)
    frames = len(record_plan(t.steps, t.record_every))
    train = float(t.steps) * n_opt * step_work(batch, n_params, hidden)
    # each recorded frame: accuracy on every row (a forward pass), then its projection's loss (batched)
    train += float(frames) * n_opt * n_params * ((n_train + n_test) / 3 + n_train)
    surf = _surface_work(hidden, n_params, n_train, g.resolution) * (2 if g.accuracy else 1)
    if spec.plane.method == "pca_per_run":                              # one more surface a run, on its own plane
        surf += n_opt * _surface_work(hidden, n_params, n_train, g.resolution)
    if g.moving:
        surf += min(g.moving_frames, frames) * _surface_work(hidden, n_params, n_train, g.moving_resolution)
    curv = 0.0
    if spec.curvature.enabled:
        computed, per = _curvature_work(spec, n_params, n_train)
        curv = computed * per
    rows = frames * n_opt
    if spec.plane.method in ("pca", "pca_balanced", "pca_per_run"):     # the SVD of the recorded displacements
        plane = 4.0 * rows * n_params * min(rows, n_params)
    elif spec.plane.method == "hessian":                                # the top two eigenvectors at the center
        plane = _top_eigvecs_work(hidden, n_params, n_train)
    else:
        plane = 0.0
    other = _REQUEST_UNITS
    return dict(train=train, surface=surf, curvature=curv, plane=plane, other=other,
                total=train + surf + curv + plane + other, n_params=int(n_params), n_train=int(n_train),
                n_test=int(n_test))


def _surface_work(hidden, n_params, n_train, points_per_axis):
    """Work units of one surface of points_per_axis^2 points."""
    if len(hidden) == 1:        # the sweep: per (alpha, row, unit), then per (grid point, row)
        return float(points_per_axis) * n_train * (_SWEEP_UNIT_ROW_UNITS * hidden[0]
                                                   + _SWEEP_POINT_ROW_UNITS * points_per_axis)
    return 0.6 * float(points_per_axis) ** 2 * n_train * n_params  # batched GEMMs (3 a layer, BLAS-fast)
