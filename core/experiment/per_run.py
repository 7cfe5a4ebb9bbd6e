"""Each run on its own PCA plane ("pca_per_run"): small multiples for comparing optimizers, where one shared
plane belongs to the run that moves furthest.

    per = per_run_landscapes(result)     # label -> RunLandscape, in the result's run order
    per["SGD"].plane, .alphas (A,), .betas (B,), .surface (B, A), .path (a Projection with surface_loss)

Each run's plane: the top two right singular vectors of its own displacements from its own centre (its final or
initial weights, as spec.plane.center says), uncentred as "pca"; its grid by core.experiment.grid. Computed by
run_experiment when spec.plane.method is "pca_per_run" (``result.per_run``); a result loaded from a file
recomputes them from its trajectories and training data (deterministic: the same numbers).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.experiment.grid import plane_grid
from core.landscape.planes import Plane, make_plane
from core.landscape.projection import Projection, loss_at, project
from core.landscape.surfaces import surface
from core.model.network import MLP

__all__ = ["RunLandscape", "per_run_landscapes"]


@dataclass
class RunLandscape:
    plane: Plane              # the run's own PCA plane
    alphas: np.ndarray        # (A,)
    betas: np.ndarray         # (B,)
    surface: np.ndarray       # (B, A) train loss
    path: Projection          # the run's recorded frames on its plane, with surface_loss


def per_run_landscapes(result, progress=None):
    """label -> RunLandscape of every run of ``result`` (needs its training data; ValueError without)."""
    if result.X_train is None or result.y_train is None:
        raise ValueError("per-run planes: this result has no training data (saved by an older version, format 1); "
                         "run its spec again")
    net = MLP(result.layer_sizes)
    X, y = result.X_train, result.y_train
    spec = result.spec
    out = {}
    for lab, tr in result.trajectories.items():
        params = np.asarray(tr.params)
        ok = params[np.all(np.isfinite(params), axis=1)]
        center = ok[-1] if spec.plane.center == "final" else ok[0]
        plane = make_plane("pca", net, center=center, trajectories=[tr], seed=spec.seed)
        path = project(tr, plane)
        alphas, betas = plane_grid(spec, {lab: path}, plane, net.loss(center, X, y))
        Z = surface(net, X, y, plane, alphas, betas, progress=progress)
        path.surface_loss = loss_at(net, X, y, plane, path.alpha, path.beta, progress=progress)
        out[lab] = RunLandscape(plane=plane, alphas=alphas, betas=betas, surface=Z, path=path)
    return out
