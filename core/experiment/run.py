"""Run an experiment end to end: data, training, curvature, plane, surfaces, paths.

    result = run_experiment(spec)          # every optimizer from the same initial weights
    result.save("run.npz"); result = load_result("run.npz")

Steps of ``run_experiment`` (one function each):
  1. dataset from spec.data (seeded), network from spec.model, checked against the budgets
     (core.experiment.budget); p0 = net.init(spec.seed, spec.model.init)
  2. ``_train_all``: one Trajectory per optimizer (mini-batch order seeded by spec.seed)
  3. ``_curvature_all`` (optional): sharpness, bottom eigenvalue and threshold at the recorded frames
  4. ``_landscape``: the plane (pca / pca_balanced / random / interpolation / hessian) through the center run's
     final or initial weights; the grid (core.experiment.grid: spec.grid.range, or fit to the projected paths
     with a margin); with "pca_per_run" the shared PCA plane and, in ``result.per_run``, each run on its own
     PCA plane (core.experiment.per_run); the loss surface (and optionally the train-accuracy surface); each path
     projected on the plane, with its true loss and the surface's loss under it
  5. ``_moving`` (optional): a moving landscape, one surface per frame centered on the followed run's
     weights, with every run's point on each frame's plane (core.landscape.moving_landscape)

What it returns: core.experiment.result (ExperimentResult, MovingLandscape); files: core.experiment.result; budgets and
the work estimate (the one cost model): core.experiment.budget.
"""
from __future__ import annotations

import copy
import time

import numpy as np

from core.model import optimizers as _opt
from core.experiment.budget import check_budget, curvature_stride
from core.data.datasets import spec_dataset
from core.landscape.planes import make_plane
from core.landscape.moving_landscape import moving_surfaces
from core.model.network import MLP
from core.landscape.projection import loss_at, project
from core.experiment.result import ExperimentResult, MovingLandscape
from core.curvature.sharpness import trajectory_curvature
from core.experiment.grid import plane_grid
from core.experiment.per_run import per_run_landscapes
from core.experiment.spec import ExperimentSpec
from core.landscape.surfaces import surface
from core.model.training import frame_index, train_batch

__all__ = ["run_experiment", "train_runs", "build_optimizer"]


def run_experiment(spec, progress=None, files=None, *, trained=None):
    """Train every optimizer of ``spec`` from one initialization and build its landscape.

    progress: optional callable(stage: str, done: int, total: int) for progress bars; ``done``
    counts up to ``total`` within a stage ("train": steps of all optimizers, every 1000 steps;
    "curvature": runs done, with spec.curvature.enabled; "surface": (0, 1) before the surfaces and again
    after each of their chunks, then (1, 1)).
    Whatever it raises stops the run there: a server cancels a run this way.
    files: where a csv spec's ``data.path`` may come from (core.data.csvfile.DataFiles); None: any local
    file, as on the command line. A server passes its own (uploads and its data folder only).
    trained: label -> Trajectory of a run of a spec with the same ``spec.training_part()`` (``train_runs``, or
    ``result.trajectories`` of such a run): training and curvature are skipped (no "train" or "curvature"
    stage) and only the plane, the surfaces and the paths are computed. ValueError when its labels differ.

    Stages: the data and the network (checked against the budgets), every optimizer trained from the
    same initial weights, their curvature (optional), then the plane, the surfaces and the projected paths.
    """
    if isinstance(spec, dict):
        spec = ExperimentSpec.from_dict(spec)
    spec.validate()
    t0 = time.perf_counter()
    ds = spec_dataset(spec, files)
    net = MLP([ds.n_features] + list(spec.model.hidden) + [1])
    check_budget(spec, net.n_params, len(ds.y_train))
    if trained is None:
        trajs = _trained(spec, net, ds, progress)
    else:
        trajs = _reused(spec, net, trained)
    t_train = time.perf_counter() - t0
    result = _landscape(spec, net, ds, trajs, progress)
    result.info.update(seconds_train=round(t_train, 3), seconds_total=round(time.perf_counter() - t0, 3))
    if trained is not None:
        result.info["reused_training"] = True
    return result


def train_runs(spec, progress=None, files=None):
    """label -> Trajectory of every optimizer of ``spec`` (with curvature when spec.curvature.enabled): the
    part of ``run_experiment`` that depends only on ``spec.training_part()``; pass it back as ``trained``."""
    if isinstance(spec, dict):
        spec = ExperimentSpec.from_dict(spec)
    spec.validate()
    ds = spec_dataset(spec, files)
    net = MLP([ds.n_features] + list(spec.model.hidden) + [1])
    check_budget(spec, net.n_params, len(ds.y_train))
    return _trained(spec, net, ds, progress)


def _trained(spec, net, ds, progress):
    trajs = _train_all(spec, net, ds, progress)
    if spec.curvature.enabled:
        stride = curvature_stride(spec, net.n_params, len(ds.y_train))
        _curvature_all(spec.curvature, stride, net, ds, trajs, progress)
    return trajs


def _reused(spec, net, trained):
    """Shallow copies of the given trajectories (arrays shared, read only here), checked against the spec."""
    labels = spec.labels()
    if sorted(trained) != sorted(labels):
        raise ValueError(f"trained: runs {sorted(trained)} do not match the spec's optimizers {labels}")
    trajs = {}
    for lab in labels:
        tr = trained[lab]
        if tr.params.shape[1] != net.n_params:
            raise ValueError(f"trained[{lab!r}]: {tr.params.shape[1]} weights, the spec's network has {net.n_params}")
        trajs[lab] = copy.copy(tr)
    return trajs


def _train_all(spec, net, ds, progress):
    """label -> Trajectory of every optimizer, all from ``net.init(spec.seed)``, trained together
    (core.model.training.train_batch: each run's numbers are those of core.train)."""
    p0 = net.init(spec.seed, scheme=spec.model.init)
    t = spec.training
    labels = spec.labels()
    total = t.steps * len(labels)
    cb = (lambda done: progress("train", done, total)) if progress else None
    trajs = train_batch(net, np.repeat(p0[None], len(labels), axis=0), ds,
                        [build_optimizer(o, t.steps) for o in spec.optimizers], steps=t.steps,
                        batch_size=t.batch_size, record_every=t.record_every, seeds=spec.seed, labels=labels,
                        progress=cb)
    return dict(zip(labels, trajs))


def _curvature_all(c, stride, net, ds, trajs, progress):
    """Sharpness, bottom eigenvalue and stability threshold at every ``stride``-th recorded frame of every run
    (on the full training set, also for mini-batch runs); the preconditioners are dropped once used."""
    for i, tr in enumerate(trajs.values()):
        if progress:
            progress("curvature", i, len(trajs))
        cv = trajectory_curvature(net, ds.X_train, ds.y_train, tr, stride=stride, method=c.method, tol=c.tol,
                                  max_iter=c.max_iter, seed=0)
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
    method = "pca" if pl.method == "pca_per_run" else pl.method      # per-run planes: the shared one beside them
    plane = make_plane(method, net, center=center, trajectories=order, seed=spec.seed,
                       normalize=pl.normalize, ignore_bias=pl.ignore_bias, data=(X, y))
    tick = None
    if progress:
        progress("surface", 0, 1)
        tick = lambda done, total: progress("surface", 0, 1)      # noqa: E731 -- a cancellation point a chunk
    paths = {lab: project(tr, plane) for lab, tr in trajs.items()}
    alphas, betas = plane_grid(spec, paths, plane, net.loss(center, X, y))
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
    result = ExperimentResult(spec=spec, layer_sizes=net.layer_sizes, trajectories=trajs, plane=plane,
                              alphas=alphas, betas=betas, surface=Z, paths=paths, acc_surface=acc,
                              moving=moving, info=info, X_train=X, y_train=y)
    if pl.method == "pca_per_run":
        result.per_run = per_run_landscapes(result, progress=tick)
    return result


def build_optimizer(o, steps):
    """An OptimizerSpec -> Optimizer; schedules default to span the whole run (optimizers.hparams_for)."""
    return _opt.make(o.name, **_opt.hparams_for(o.name, o.hparams, steps))


def _moving(spec, net, X, y, plane, trajs, follow, progress=None):
    """Surfaces centered on the followed run's weights, directions re-normalized to each frame; every run's
    point projected on each frame's plane, with its true loss and the exact loss at the projection."""
    g, pl = spec.grid, spec.plane
    ft = trajs[follow]
    m = min(g.moving_frames, len(ft.steps))
    idx = np.unique(np.round(np.linspace(0, len(ft.steps) - 1, m)).astype(int))    # (M,) frames of the followed run
    r = float(g.range) if g.range is not None else 1.0
    alphas = np.linspace(-r, r, g.moving_resolution)
    betas = np.linspace(-r, r, g.moving_resolution)
    norm = pl.normalize if pl.method == "random" else "filter"
    steps = ft.steps[idx]                                                             # (M,)
    frames = {lab: [frame_index(tr.steps, s) for s in steps] for lab, tr in trajs.items()}   # each run's frame a step
    points = np.array([[trajs[lab].params[frames[lab][i]] for lab in trajs] for i in range(len(steps))])  # (M, R, P)
    surfaces, on = moving_surfaces(net, X, y, ft.params[idx], plane, alphas, betas, normalize=norm,
                                   ignore_bias=pl.ignore_bias, progress=progress, points=points)
    paths = {lab: dict(alpha=on.alpha[:, i].copy(), beta=on.beta[:, i].copy(), loss=trajs[lab].loss[frames[lab]],
                       surface_loss=on.surface_loss[:, i].copy()) for i, lab in enumerate(trajs)}
    return MovingLandscape(follow=follow, steps=np.asarray(steps), alphas=alphas, betas=betas,
                           surfaces=surfaces, paths=paths)
