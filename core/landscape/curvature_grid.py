"""Curvature maps (Li et al. 2018, ``plot_hessian_eigen``): the top and bottom Hessian eigenvalue at every
point of a landscape's grid, tiled over the sweep's engine (core.parallel.engine).

    cm = curvature_map(net, X, y, plane, alphas, betas)      # in this process
    cm = curvature_map(net, X, y, plane, alphas, betas, scheduler=None, workers=2)   # a local Dask cluster
    cm.top, cm.bottom                                         # (len(betas), len(alphas)), as core.surface
    cm.ratio                                                  # |bottom / top|: near 0 where locally convex

Every grid point's weights are ``center + alpha d1 + beta d2``; its eigenvalues are those of the exact Hessian
of the training loss there (core.curvature: the closed form for one hidden layer, dense eigvalsh up to
MAX_DENSE_PARAMS weights, Lanczos above). Points go out in tiles of ``tile`` points (default TILE); the plane
and the data are scattered once. scheduler: as core.sweep (None: DASK_SCHEDULER_ADDRESS or a LocalCluster;
an address; a distributed.Client), except that the default here is "inline": a 51 x 51 map of the
article's network takes 2-3 s in one process, not much more than a cluster takes to start. Each point is a pure
function of its coordinates with BLAS on one thread, so the map is bit-identical on any engine.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np

from core.constraints import Int
from core.curvature.second_order import check_data, check_net
from core.curvature.sharpness import frames_curvature
from core.model.network import MLP
from core.landscape.planes import Plane
from core.parallel.engine import CONNECT_TIMEOUT, Engine, check_engine_args

TILE = 256
MAX_MAP_GRID = 201
TILE_SIZE = Int(1, MAX_MAP_GRID ** 2)


@dataclass
class CurvatureMap:
    alphas: np.ndarray         # (A,)
    betas: np.ndarray          # (B,)
    top: np.ndarray            # (B, A) largest Hessian eigenvalue; top[j, i] at (alphas[i], betas[j])
    bottom: np.ndarray         # (B, A) smallest Hessian eigenvalue

    @property
    def ratio(self):
        """|bottom / top| (B, A), Li et al.'s measure: near 0 where the landscape is locally convex, large
        where it curves down as much as up; nan where top == 0."""
        with np.errstate(all="ignore"):
            r = np.abs(self.bottom / self.top)
        r[~np.isfinite(r)] = np.nan
        return r


@dataclass
class _MapShared:
    layer_sizes: list
    X: np.ndarray
    y: np.ndarray
    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    alphas: np.ndarray
    betas: np.ndarray
    token: str = field(default_factory=lambda: uuid.uuid4().hex)   # engine.pinned_call: own copies, per process


def _map_axis(values, name):
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or not 1 <= a.size <= MAX_MAP_GRID or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} has shape {a.shape}: expected 1 to {MAX_MAP_GRID} finite grid values")
    return a


def map_tile(sh, span):
    """(top, bottom) of the grid points with flat indices start..stop (row-major over (betas, alphas))."""
    start, stop = span
    j, i = np.divmod(np.arange(start, stop), len(sh.alphas))
    P = sh.center[None, :] + sh.alphas[i][:, None] * sh.d1[None, :] + sh.betas[j][:, None] * sh.d2[None, :]
    cv = frames_curvature(MLP(sh.layer_sizes), sh.X, sh.y, P, np.zeros(len(P)), "sgd", threads=1)
    return cv.sharpness, cv.min_eig


def curvature_map(net, X, y, plane, alphas, betas, scheduler="inline", workers=None, progress=None, tile=None,
                  timeout=CONNECT_TIMEOUT):
    """Top and bottom Hessian eigenvalue at every grid point (see the module docstring) -> CurvatureMap.

    progress(done, total): grid points finished, after every tile."""
    check_net(net)
    X, y = check_data(net, X, y)
    if not isinstance(plane, Plane) or plane.center.shape != (net.n_params,):
        raise ValueError(f"plane: expected a core.Plane with vectors of shape ({net.n_params},) for {net!r}")
    al, be = _map_axis(alphas, "alphas"), _map_axis(betas, "betas")
    check_engine_args(scheduler, workers, timeout)
    if tile is not None:
        TILE_SIZE.check("tile", tile)
    n = al.size * be.size
    size = tile or TILE
    spans = [(s, min(n, s + size)) for s in range(0, n, size)]
    sh = _MapShared(list(net.layer_sizes), X, y, plane.center, plane.d1, plane.d2, al, be)
    top, bot = np.full(n, np.nan), np.full(n, np.nan)
    done = 0
    with Engine(scheduler, workers, timeout) as eng:
        for k, (t, b) in eng.run(map_tile, spans, sh):
            s, e = spans[k]
            top[s:e], bot[s:e] = t, b
            done += e - s
            if progress is not None:
                progress(done, n)
    return CurvatureMap(al, be, top.reshape(be.size, al.size), bot.reshape(be.size, al.size))
