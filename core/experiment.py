"""Run an experiment end to end and save / load its result.

    result = run_experiment(spec)          # every optimizer from the same initial weights
    result.save("run.npz"); result = load_result("run.npz")

Steps of ``run_experiment``:
  1. dataset from spec.data (seeded), network from spec.model, p0 = net.init(spec.seed, spec.model.init)
  2. one Trajectory per optimizer (mini-batch order seeded by spec.seed)
  3. the plane (pca / random / interpolation) through the center run's final or initial weights
  4. the grid: spec.grid.range, or fit to the projected paths with a margin
  5. the loss surface (and optionally the train-accuracy surface) on that grid
  6. each path projected on the plane, with its true loss and the surface's loss under it
  7. optionally a moving landscape: one surface per frame centered on the followed run's weights

Files: one ``.npz`` holding plain arrays and a JSON ``meta`` string (format name,
version, the spec, labels, per-run scalars), loaded with ``allow_pickle=False``.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import optimizers as _opt
from .constraints import within
from .curvature import MAX_DENSE_PARAMS, trajectory_curvature
from .data import load_dataset
from .directions import Plane, make_plane
from .errors import clip_message, quote
from .fileio import atomic_path
from .landscape import Projection, loss_at, moving_plane, project, project_points, surface
from .network import MLP
from .resultcheck import MAX_INPUTS, MAX_RESULT_BYTES, check_npz, check_result
from .slices import visible_span
from .spec import ExperimentSpec
from .training import Trajectory, frame_index, record_plan, train

FORMAT = "loss-landscape-navigator/result"
VERSION = 2    # 2: independent random streams (core.rng), curvature, the training data, moving surface losses
READS = (1, 2)  # version 1 files load without curvature and data (their spec now gives other numbers: streams)
CURVATURE_KEYS = ("sharpness", "min_eig", "threshold")
# Budgets checked once the dataset is loaded (they depend on the number of weights and rows):
MAX_RECORDED_FLOATS = 50_000_000   # frames x weights x optimizers kept in memory (400 MB of float64)
MAX_WORK = 2e11                    # steps x optimizers x training rows x weights (~ multiply-adds of training)
MAX_SURFACE_WORK = 1e11            # deeper nets: grid points x training rows x weights (~ 15-40 s here)
MAX_CURVATURE_WORK = 2e11          # curvature: frames x (dense: rows x weights^2 + weights^3; lanczos: 8 x
                                   # max_iter x rows x weights), about a minute here
MOVING_PATH_KEYS = ("alpha", "beta", "loss", "surface_loss")   # MovingLandscape.paths[label], saved as m{i}_{key}
# estimate_work's coefficients (benchmarks/bench_work.py measures them against real runs):
WORK_UNITS_PER_SECOND = 3e9        # work units one worker process does in about a second here
_STEP_UNITS = 1.5e5                # fixed cost of one training step (~50 us of Python and NumPy calls)
_SWEEP_UNIT_ROW_UNITS = 45         # one-hidden-layer sweep: per alpha, row and hidden unit
_SWEEP_POINT_ROW_UNITS = 30        # ... and per grid point and row (prefix sums and the loss)
_REQUEST_UNITS = 3e8               # fixed cost of a run (data, plane, projections: ~0.1 s)


@dataclass
class MovingLandscape:
    """One surface per frame, centered on the followed run's weights at that frame."""
    follow: str               # label of the run the surface follows
    steps: np.ndarray         # (M,) training step of each frame
    alphas: np.ndarray        # (A,)
    betas: np.ndarray         # (B,)
    surfaces: np.ndarray      # (M, B, A) loss
    paths: dict               # label -> dict(alpha, beta, loss, surface_loss), each (M,): every run on each frame's
                              # plane; loss: the run's true loss, surface_loss: the exact loss at its projected point


@dataclass
class ExperimentResult:
    spec: ExperimentSpec
    layer_sizes: list
    trajectories: dict        # label -> Trajectory, in spec order
    plane: Plane
    alphas: np.ndarray        # (A,) grid coordinates along d1
    betas: np.ndarray         # (B,) grid coordinates along d2
    surface: np.ndarray       # (B, A) train loss; surface[j, i] at (alphas[i], betas[j])
    paths: dict               # label -> Projection
    acc_surface: np.ndarray | None = None      # (B, A) train accuracy, if asked for
    moving: MovingLandscape | None = None
    info: dict = field(default_factory=dict)   # dataset sizes, n_params, timings
    X_train: np.ndarray | None = None          # (n, d) the training data (scaled), for slices and curvature later
    y_train: np.ndarray | None = None          # (n,); both None in files of version 1

    @property
    def labels(self):
        return list(self.trajectories)

    def summary(self):
        """One dict per run: the comparison table's numbers.

        capture: 1 - the path's RMS relative residual, sqrt(sum |r_t|^2 / sum |theta_t - c|^2),
        i.e. how much of the path's displacement from the center the plane holds. With curvature:
        peak_sharpness, sharpness_ratio (final sharpness / its stability threshold) and above_threshold (the
        share of frames at or above it); None without.
        """
        target = self.spec.training.target_loss
        rows = []
        for lab, tr in self.trajectories.items():
            pr = self.paths[lab]
            disp = np.linalg.norm(tr.params - self.plane.center, axis=1)
            den = float(np.sum(disp ** 2))
            res = float(np.sqrt(np.sum((pr.residual * disp) ** 2) / den)) if den > 0 else 0.0
            peak, ratio, above = tr.curvature_summary()
            rows.append(dict(
                peak_sharpness=peak, sharpness_ratio=ratio, above_threshold=above,
                label=lab, optimizer=tr.optimizer, final_loss=float(tr.loss[-1]),
                train_acc=float(tr.train_acc[-1]), test_acc=float(tr.test_acc[-1]),
                steps_to_target=tr.steps_to(target), diverged_at=tr.diverged_at,
                path_length=tr.path_length(), residual=res, capture=1.0 - res,
                final_step=int(tr.steps[-1])))
        return rows

    # ------------------------------------------------------------ files
    def to_arrays(self):
        meta = dict(format=FORMAT, version=VERSION, spec=self.spec.to_dict(), layer_sizes=self.layer_sizes,
                    labels=self.labels, info=self.info,
                    runs=[dict(optimizer=t.optimizer, hparams=t.hparams, diverged_at=t.diverged_at)
                          for t in self.trajectories.values()],
                    moving_follow=self.moving.follow if self.moving is not None else None)
        a = {"meta": np.array(json.dumps(meta))}
        for i, (lab, t) in enumerate(self.trajectories.items()):
            for k in ("params", "steps", "loss", "train_acc", "test_acc", "lr", "loss_history") + CURVATURE_KEYS:
                if getattr(t, k) is not None:
                    a[f"t{i}_{k}"] = getattr(t, k)
            pr = self.paths[lab]
            for k in ("alpha", "beta", "residual", "loss", "surface_loss", "steps"):
                v = getattr(pr, k)
                if v is not None:
                    a[f"p{i}_{k}"] = v
        a.update(self.plane.to_arrays())
        a.update(alphas=self.alphas, betas=self.betas, surface=self.surface)
        if self.X_train is not None:
            a.update(data_X=self.X_train, data_y=self.y_train)
        if self.acc_surface is not None:
            a["acc_surface"] = self.acc_surface
        if self.moving is not None:
            mv = self.moving
            a.update(moving_steps=mv.steps, moving_alphas=mv.alphas, moving_betas=mv.betas,
                     moving_surfaces=mv.surfaces)
            for i, lab in enumerate(self.labels):
                for k in MOVING_PATH_KEYS:
                    a[f"m{i}_{k}"] = mv.paths[lab][k]
        return a

    def write(self, f):
        """Write the result as a compressed .npz into a binary file object (what ``save`` and downloads use)."""
        np.savez_compressed(f, **self.to_arrays())

    def save(self, path):
        """Write ``path`` (.npz) atomically, with the umask's permissions (core.fileio.atomic_path)."""
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                self.write(f)
        return os.fspath(path)


def load_result(path_or_file, max_bytes=MAX_RESULT_BYTES):
    """Load a result saved by ``ExperimentResult.save``; clear errors for foreign, corrupt or dishonest files.

    The zip is checked before anything is unpacked (at most ``max_bytes`` unpacked, no pickles, no array
    bigger than its member; core.resultcheck.check_npz), and the loaded arrays must hold the invariants of a
    computed result (check_result)."""
    name = path_or_file if isinstance(path_or_file, (str, os.PathLike)) else "uploaded file"
    if isinstance(path_or_file, (str, os.PathLike)) and not os.path.isfile(path_or_file):
        raise ValueError(f"run file {os.fspath(path_or_file)!r}: no such file")
    try:
        check_npz(path_or_file, max_bytes)
        with np.load(path_or_file, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:                                   # zip errors, truncated files, pickled objects
        msg = clip_message(f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else e, 300)
        raise ValueError(f"run file {name!r}: not a readable .npz result ({msg})") from None
    try:
        return check_result(from_arrays(arrays))
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, json.JSONDecodeError) as e:
        msg = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        raise ValueError(f"run file {name!r}: not a valid result ({clip_message(msg, 300)})") from None


_INFO_KEYS = {"dataset": str, "n_train": int, "n_test": int, "n_features": int, "feature_names": list,
              "n_params": int, "seconds_train": float, "seconds_surface": float, "seconds_total": float}


def _clean_info(info):
    """The known entries of a saved result's ``info`` with their types (a file may hold anything)."""
    out = {}
    for k, typ in _INFO_KEYS.items():
        v = info.get(k) if isinstance(info, dict) else None
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, typ) or isinstance(v, bool):
            continue
        if typ is str:
            v = v[:100]
        if typ is list:
            v = [str(x)[:100] for x in v[:MAX_INPUTS]]
        out[k] = v
    return out


def from_arrays(a):
    if "meta" not in a:
        raise ValueError(f"no 'meta' entry, so this is not a {FORMAT} file")
    meta = json.loads(str(a["meta"]))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"format {quote(meta.get('format') if isinstance(meta, dict) else None)}; expected {quote(FORMAT)}")
    if meta.get("version") not in READS:
        raise ValueError(f"version {quote(meta.get('version'))}; this program reads versions "
                         f"{', '.join(map(str, READS))}")
    spec = ExperimentSpec.from_dict(meta["spec"])
    labels = meta["labels"]
    trajs, paths = {}, {}
    for i, lab in enumerate(labels):
        run = meta["runs"][i]
        trajs[lab] = Trajectory(
            params=a[f"t{i}_params"], steps=a[f"t{i}_steps"], loss=a[f"t{i}_loss"],
            train_acc=a[f"t{i}_train_acc"], test_acc=a[f"t{i}_test_acc"], lr=a[f"t{i}_lr"],
            diverged_at=run["diverged_at"], loss_history=a[f"t{i}_loss_history"], label=lab,
            optimizer=run["optimizer"], hparams=run["hparams"],
            **{k: a.get(f"t{i}_{k}") for k in CURVATURE_KEYS})
        paths[lab] = Projection(**{k: a.get(f"p{i}_{k}") for k in
                                   ("alpha", "beta", "residual", "loss", "surface_loss", "steps")})
    moving = _moving_from_arrays(a, meta, labels) if "moving_surfaces" in a else None
    surf = a["surface"]
    return ExperimentResult(spec=spec, layer_sizes=list(meta["layer_sizes"]), trajectories=trajs,
                            plane=Plane.from_arrays(a), alphas=a["alphas"], betas=a["betas"], surface=surf,
                            paths=paths, acc_surface=a.get("acc_surface"), moving=moving,
                            info=_clean_info(meta.get("info", {})), X_train=a.get("data_X"), y_train=a.get("data_y"))


def _moving_from_arrays(a, meta, labels):
    missing = [f"m{i}_surface_loss" for i in range(len(labels)) if f"m{i}_surface_loss" not in a]
    if missing:
        raise ValueError(f"moving landscape without the surface loss of its paths ({missing[0]}): written by an "
                         "older version; re-run its spec to view it")
    return MovingLandscape(
        follow=meta["moving_follow"], steps=a["moving_steps"], alphas=a["moving_alphas"],
        betas=a["moving_betas"], surfaces=a["moving_surfaces"],
        paths={lab: {k: a[f"m{i}_{k}"] for k in MOVING_PATH_KEYS} for i, lab in enumerate(labels)})


# ----------------------------------------------------------------- running
def build_optimizer(o, steps):
    """An OptimizerSpec -> Optimizer; schedules default to span the whole run (optimizers.hparams_for)."""
    return _opt.make(o.name, **_opt.hparams_for(o.name, o.hparams, steps))


def _grid(spec, paths, plane, center_loss):
    """Grid axes: spec.grid.range, or the projected paths' extent plus a margin (always holding 0). A hessian
    plane spans where the quadratic model 0.5 lambda_1 t^2 makes a visible change (core.slices.visible_span)."""
    g = spec.grid
    n = g.resolution
    if g.range is not None:
        r = float(g.range)
        return np.linspace(-r, r, n), np.linspace(-r, r, n)
    if plane.method == "random":      # random directions barely see the path: the usual [-1, 1]
        return np.linspace(-1, 1, n), np.linspace(-1, 1, n)
    if plane.method == "hessian":
        r = visible_span(center_loss, float(plane.eigenvalues[0]))
        return np.linspace(-r, r, n), np.linspace(-r, r, n)
    al = np.concatenate([p.alpha for p in paths.values()] + [[0.0]])
    be = np.concatenate([p.beta for p in paths.values()] + [[0.0]])
    al, be = al[np.isfinite(al)], be[np.isfinite(be)]
    span = max(al.max() - al.min(), be.max() - be.min(), 1e-3)
    pad = g.margin * span
    # each axis at least 40% of the larger span, so a thin path still gets a readable surface
    def axis(v):
        lo, hi = v.min() - pad, v.max() + pad
        short = 0.4 * span - (hi - lo)
        if short > 0:
            lo, hi = lo - short / 2, hi + short / 2
        return np.linspace(lo, hi, n)
    return axis(al), axis(be)


def check_budget(spec, n_params, n_train):
    """Refuse runs whose recorded weights would not fit in memory, or whose training or (for more than one
    hidden layer, where the fast sweep does not apply) surfaces would take far too long."""
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
    batch = n_train if t.batch_size is None else min(t.batch_size, n_train)
    work = float(t.steps) * n_opt * batch * n_params
    if work > MAX_WORK:
        raise ValueError(
            f"training.steps={t.steps}: {t.steps:,} steps x {n_opt} optimizers x {batch} rows a step x "
            f"{n_params:,} weights = {work:.2g}, over the cap of {MAX_WORK:.0g} (hours of training); "
            "use fewer steps, a training.batch_size, fewer optimizers or a smaller model.hidden")
    if len(spec.model.hidden) > 1:
        g = spec.grid
        points = g.resolution ** 2 * (2 if g.accuracy else 1) + (g.moving_frames * g.moving_resolution ** 2 if g.moving else 0)
        swork = float(points) * n_train * n_params
        if swork > MAX_SURFACE_WORK:
            raise ValueError(
                f"grid.resolution={g.resolution}: {points:,} grid points x {n_train} rows x {n_params:,} weights "
                f"= {swork:.2g}, over the cap of {MAX_SURFACE_WORK:.0g} for networks with more than one hidden "
                "layer; use a smaller grid.resolution (or moving_resolution / moving_frames), or a smaller model.hidden")
    _check_curvature_budget(spec, n_params, n_train)


def _curvature_work(spec, n_params, n_train):
    """(frames whose curvature is computed, work units a frame): dense Hessians and eigenvalues, or Lanczos."""
    c = spec.curvature
    frames = len(record_plan(spec.training.steps, spec.training.record_every))
    computed = (-(-frames // c.stride) + 1) * len(spec.optimizers)
    if c.method == "lanczos" or n_params > MAX_DENSE_PARAMS:
        return computed, 8.0 * c.max_iter * n_train * n_params
    # dense: the stacked Hessians (BLAS) and their eigenvalues (fitted to 166 to 3,301 weights here)
    return computed, 0.15 * n_train * n_params ** 2 + 0.25 * float(n_params) ** 3


def _check_curvature_budget(spec, n_params, n_train):
    c = spec.curvature
    if not c.enabled:
        return
    if n_params > MAX_DENSE_PARAMS and c.method == "dense":
        raise ValueError(
            f"curvature.method='dense': the network has {n_params:,} weights, over the dense Hessian's cap "
            f"of {MAX_DENSE_PARAMS:,}; use curvature.method \"lanczos\" or \"auto\" (Lanczos above the cap, with "
            "curvature.tol and curvature.max_iter), or curvature.enabled false")
    frames = len(record_plan(spec.training.steps, spec.training.record_every))
    computed, per = _curvature_work(spec, n_params, n_train)
    work = computed * per
    if work > MAX_CURVATURE_WORK:
        fix = max(c.stride + 1, int(np.ceil(c.stride * work / MAX_CURVATURE_WORK)))
        raise ValueError(
            f"curvature.stride={c.stride}: about {computed:,} frames x {per:.2g} = {work:.2g}, over the cap of "
            f"{MAX_CURVATURE_WORK:.0g} for curvature; use curvature.stride >= {fix:,}, a smaller model.hidden "
            "or curvature.enabled false")


def estimate_work(spec, n_params=None, n_train=None, n_test=None, files=None):
    """Estimated cost of ``run_experiment(spec)``, in work units: dict(train, surface, other, total) (and the
    n_params, n_train, n_test it used).

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
        ds = _dataset(spec, files)
        n_train, n_test = len(ds.y_train), len(ds.y_test)
        n_params = MLP([ds.n_features] + hidden + [1]).n_params
    t, g = spec.training, spec.grid
    n_opt = len(spec.optimizers)
    batch = n_train if t.batch_size is None else min(t.batch_size, n_train)
    frames = len(record_plan(t.steps, t.record_every))
    train = float(t.steps) * n_opt * (batch * n_params + _STEP_UNITS)
    # each recorded frame: accuracy on every row (a forward pass), then its projection's loss (batched)
    train += float(frames) * n_opt * n_params * ((n_train + n_test) / 3 + n_train)

    def one_surface(points_per_axis):
        if len(hidden) == 1:        # the sweep: per (alpha, row, unit), then per (grid point, row)
            return float(points_per_axis) * n_train * (_SWEEP_UNIT_ROW_UNITS * hidden[0]
                                                       + _SWEEP_POINT_ROW_UNITS * points_per_axis)
        return 0.6 * float(points_per_axis) ** 2 * n_train * n_params  # batched GEMMs (3 a layer, BLAS-fast)
    surf = one_surface(g.resolution) * (2 if g.accuracy else 1)
    if g.moving:
        surf += min(g.moving_frames, frames) * one_surface(g.moving_resolution)
    curv = 0.0
    if spec.curvature.enabled:
        computed, per = _curvature_work(spec, n_params, n_train)
        curv = computed * per
    rows = frames * n_opt                                               # the PCA plane's SVD
    other = _REQUEST_UNITS + (4.0 * rows * n_params * min(rows, n_params) if spec.plane.method == "pca" else 0.0)
    return dict(train=train, surface=surf, curvature=curv, other=other, total=train + surf + curv + other,
                n_params=int(n_params), n_train=int(n_train), n_test=int(n_test))


def _dataset(spec, files):
    """The spec's dataset; load_dataset names its own arguments: "path=..." becomes "data.path=..."."""
    d = spec.data
    with within("data"):
        return load_dataset(d.name, seed=spec.seed, split=d.split, test_fraction=d.test_fraction,
                            n_samples=d.n_samples, noise=d.noise, path=d.path, target=d.target, files=files)


def run_experiment(spec, progress=None, files=None):
    """Train every optimizer of ``spec`` from one initialization and build its landscape.

    progress: optional callable(stage: str, done: int, total: int) for progress bars; ``done``
    counts up to ``total`` within a stage ("train": steps of all optimizers, every 1000 steps;
    "curvature": runs done, with spec.curvature.enabled; "surface": (0, 1) before the surfaces and again
    after each of their chunks, then (1, 1)).
    Whatever it raises stops the run there: a server cancels a run this way.
    files: where a csv spec's ``data.path`` may come from (core.csvdata.DataFiles); None: any local
    file, as on the command line. A server passes its own (uploads and its data folder only).

    Stages: the data and the network (checked against the budgets), every optimizer trained from the
    same initial weights, their curvature (optional), then the plane, the surfaces and the projected paths.
    """
    if isinstance(spec, dict):
        spec = ExperimentSpec.from_dict(spec)
    spec.validate()
    t0 = time.perf_counter()
    ds = _dataset(spec, files)
    net = MLP([ds.n_features] + list(spec.model.hidden) + [1])
    check_budget(spec, net.n_params, len(ds.y_train))
    trajs = _train_all(spec, net, ds, progress)
    if spec.curvature.enabled:
        _curvature_all(spec.curvature, net, ds, trajs, progress)
    t_train = time.perf_counter() - t0
    result = _landscape(spec, net, ds, trajs, progress)
    result.info.update(seconds_train=round(t_train, 3), seconds_total=round(time.perf_counter() - t0, 3))
    return result


def _train_all(spec, net, ds, progress):
    """label -> Trajectory of every optimizer, all from ``net.init(spec.seed)``."""
    p0 = net.init(spec.seed, scheme=spec.model.init)
    t = spec.training
    total = t.steps * len(spec.optimizers)
    trajs = {}
    for i, (lab, o) in enumerate(zip(spec.labels(), spec.optimizers)):
        cb = (lambda k, i=i: progress("train", i * t.steps + k, total)) if progress else None
        trajs[lab] = train(net, p0, ds, build_optimizer(o, t.steps), steps=t.steps, batch_size=t.batch_size,
                           record_every=t.record_every, seed=spec.seed, label=lab, progress=cb)
    return trajs


def _curvature_all(c, net, ds, trajs, progress):
    """Sharpness, bottom eigenvalue and stability threshold at the recorded frames of every run (on the full
    training set, also for mini-batch runs); the preconditioners are dropped once used."""
    for i, tr in enumerate(trajs.values()):
        if progress:
            progress("curvature", i, len(trajs))
        cv = trajectory_curvature(net, ds.X_train, ds.y_train, tr.params, tr.lr, tr.optimizer, tr.hparams,
                                  tr.precond, stride=c.stride, method=c.method, tol=c.tol, max_iter=c.max_iter,
                                  seed=0)
        tr.sharpness, tr.min_eig, tr.threshold, tr.precond = cv.sharpness, cv.min_eig, cv.threshold, None
    if progress:
        progress("curvature", len(trajs), len(trajs))


def _landscape(spec, net, ds, trajs, progress):
    """The plane through the center run, the grid, the surfaces and every path projected on them."""
    pl, labels = spec.plane, spec.labels()
    X, y = ds.X_train, ds.y_train
    follow = pl.center_on or labels[0]
    center = trajs[follow].params[-1] if pl.center == "final" else trajs[follow].params[0]
    order = [trajs[follow]] + [trajs[l] for l in labels if l != follow]
    plane = make_plane(pl.method, net, center=center, trajectories=order, seed=spec.seed,
                       normalize=pl.normalize, ignore_bias=pl.ignore_bias, data=(X, y))
    tick = None
    if progress:
        progress("surface", 0, 1)
        tick = lambda done, total: progress("surface", 0, 1)      # noqa: E731 -- a cancellation point a chunk
    paths = {lab: project(tr, plane) for lab, tr in trajs.items()}
    alphas, betas = _grid(spec, paths, plane, net.loss(center, X, y))
    t1 = time.perf_counter()
    Z = surface(net, X, y, plane, alphas, betas, progress=tick)
    acc = surface(net, X, y, plane, alphas, betas, metric="accuracy", progress=tick) if spec.grid.accuracy else None
    for pr in paths.values():                                 # the surface's loss under each projected point
        pr.surface_loss = loss_at(net, X, y, plane, pr.alpha, pr.beta, progress=tick)
    t_surface = time.perf_counter() - t1
    moving = _moving(spec, net, X, y, plane, trajs, follow, tick) if spec.grid.moving else None
    if progress:
        progress("surface", 1, 1)
    info = dict(dataset=ds.name, n_train=int(len(y)), n_test=int(len(ds.y_test)), n_features=int(ds.n_features),
                feature_names=list(ds.feature_names), n_params=int(net.n_params), seconds_surface=round(t_surface, 3))
    return ExperimentResult(spec=spec, layer_sizes=net.layer_sizes, trajectories=trajs, plane=plane,
                            alphas=alphas, betas=betas, surface=Z, paths=paths, acc_surface=acc,
                            moving=moving, info=info, X_train=X, y_train=y)


def _moving(spec, net, X, y, plane, trajs, follow, progress=None):
    """Surfaces centered on the followed run's weights, directions re-normalized to each frame; every run's
    point projected on each frame's plane, with its true loss and the exact loss at the projection."""
    g, pl = spec.grid, spec.plane
    ft = trajs[follow]
    m = min(g.moving_frames, len(ft.steps))
    idx = np.unique(np.round(np.linspace(0, len(ft.steps) - 1, m)).astype(int))
    r = float(g.range) if g.range is not None else 1.0
    alphas = np.linspace(-r, r, g.moving_resolution)
    betas = np.linspace(-r, r, g.moving_resolution)
    norm = pl.normalize if pl.method == "random" else "filter"
    surfs, steps = [], ft.steps[idx]
    rows = {lab: [] for lab in trajs}                         # per run: one (alpha, beta, loss, surface_loss) a frame
    for k in idx:
        fp = moving_plane(net, ft.params[k], plane, norm, pl.ignore_bias)
        if not (np.any(fp.d1) and np.any(fp.d2)):             # e.g. all-zero weights: keep the plane's own
            fp = Plane(ft.params[k], plane.d1, plane.d2, "moving")
        surfs.append(surface(net, X, y, fp, alphas, betas, progress=progress))
        js = {lab: frame_index(tr.steps, ft.steps[k]) for lab, tr in trajs.items()}
        a, b, _ = project_points(np.stack([trajs[lab].params[j] for lab, j in js.items()]), fp)
        sl = loss_at(net, X, y, fp, a, b)                     # every run's point on this frame's plane, batched
        for n, (lab, j) in enumerate(js.items()):
            rows[lab].append((a[n], b[n], trajs[lab].loss[j], sl[n]))
    paths = {lab: dict(zip(MOVING_PATH_KEYS, (np.array(c) for c in zip(*r)))) for lab, r in rows.items()}
    return MovingLandscape(follow=follow, steps=np.asarray(steps), alphas=alphas, betas=betas,
                           surfaces=np.array(surfs), paths=paths)
