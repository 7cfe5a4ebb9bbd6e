"""Colour the landscape by curvature (Li et al. 2018's ``plot_hessian_eigen``): no plotly, no Dash here.

    cm = curvature_grid(result)                         # core.curvature_map on a subgrid of the surface's grid
    c = surface_colour(result, "sharpness", cm)          # SurfaceColour: values on the surface's own grid
    fig = figures.animated_landscape(result, view, colour=c)   # drawn as the surface's surfacecolor

Kinds (``COLOURS``):
  loss        the default: the surface is coloured by its height (the figures' usual colour)
  sharpness   the top Hessian eigenvalue of the training loss at every grid point
  convexity   |lambda_min / lambda_max|: near 0 where the landscape is locally convex (every eigenvalue >= 0
              or nearly), near 1 or above where it curves down as strongly as up (a saddle)

The eigenvalues are exact (core.curvature_map: the Hessian of the training loss at
``center + alpha d1 + beta d2``, result.X_train / result.y_train), computed at a subgrid of the surface's
own grid points: at most MAX_MAP_RES x MAX_MAP_RES (31 x 31) and within MAX_MAP_WORK (about 5 s here; a big
network gets fewer points, and one too big for even 5 x 5 a message), always including both ends of each
axis. Between them the colour is linear interpolation (exact at the computed points); the colour bar says
how many points were computed. Heights, balls and paths are untouched (visualizer.plotdata.frames computes them).
A result without its training data (an older file), or a moving landscape (each frame has its own plane),
raises ColourUnavailable (a ValueError saying why).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import core
from core.curvature import MAX_DENSE_PARAMS
from core.experiment.budget import WORK_UNITS_PER_SECOND
from visualizer.errors import ColourUnavailable

COLOURS = ("loss", "sharpness", "convexity")
COLOUR_LABELS = {"loss": "loss", "sharpness": "sharpness (top eigenvalue)",
                 "convexity": "convexity |λmin/λmax|"}
MAX_MAP_RES = 31                 # computed points per axis, at most
MIN_MAP_RES = 5
MAX_MAP_WORK = 1.5e10            # work units (about 5 s of one CPU here: core.experiment.budget's coefficients)
LANCZOS_ITER = 300               # core.curvature's default max_iter


@dataclass
class SurfaceColour:
    kind: str                    # "sharpness" | "convexity"
    values: np.ndarray           # (B, A) on the surface's grid (interpolated between computed points)
    title: str                   # colour bar title: what it is and how it was computed
    name: str                    # the hover's name of the value
    colorscale: str
    cmin: float
    cmax: float


def point_work(n_params, n_train):
    """Work units of one grid point's top and bottom eigenvalue (core.experiment.budget's curvature coefficients)."""
    if n_params > MAX_DENSE_PARAMS:
        return 8.0 * LANCZOS_ITER * n_train * n_params
    return 0.15 * n_train * n_params ** 2 + 0.25 * float(n_params) ** 3


def map_resolution(n_params, n_train, max_res=MAX_MAP_RES, max_work=MAX_MAP_WORK):
    """Points per axis for the map: the most (<= max_res) whose n x n points fit ``max_work``."""
    per = point_work(n_params, n_train)
    n = int(min(max_res, np.floor(np.sqrt(max_work / per))))
    if n < MIN_MAP_RES:
        raise ColourUnavailable(
            f"surface colour: a curvature map of this network ({n_params:,} weights, {n_train:,} rows) needs "
            f"about {MIN_MAP_RES ** 2 * per / WORK_UNITS_PER_SECOND:.0f} s even at {MIN_MAP_RES} x {MIN_MAP_RES} "
            "points, over this server's limit; colour by loss, or use a smaller model.hidden")
    return n


def subgrid(n_points, n):
    """Indices of ``n`` (or all, if fewer) evenly spread points of an axis of ``n_points``, ends included."""
    if n_points <= n:
        return np.arange(n_points)
    return np.unique(np.round(np.linspace(0, n_points - 1, n)).astype(int))


def check_colourable(result):
    if getattr(result, "X_train", None) is None or getattr(result, "y_train", None) is None:
        raise ColourUnavailable("surface colour: this run was saved without its training data (an older file), so "
                                "its curvature cannot be computed; run its spec again (it is loaded in the controls)")


def curvature_grid(result, max_res=MAX_MAP_RES, max_work=MAX_MAP_WORK, progress=None):
    """core.curvature_map of ``result``'s plane at a subgrid of its surface's grid (see the module docstring);
    ``progress(done, total)``: grid points finished, after every tile (it may raise to stop the map)."""
    check_colourable(result)
    net = core.MLP(result.layer_sizes)
    n = map_resolution(net.n_params, len(result.y_train), max_res, max_work)
    ia, ib = subgrid(len(result.alphas), n), subgrid(len(result.betas), n)
    return core.curvature_map(net, result.X_train, result.y_train, result.plane, result.alphas[ia],
                              result.betas[ib], scheduler="inline", progress=progress)


def interpolate(values, a, b, alphas, betas):
    """Values (len(b), len(a)) at the points (a, b) of a rectilinear subgrid, linearly interpolated to the full
    grid (len(betas), len(alphas)); exact at the subgrid's points."""
    v = np.asarray(values, dtype=np.float64)
    rows = np.stack([np.interp(alphas, a, row) for row in v])                     # (len(b), A)
    return np.stack([np.interp(betas, b, col) for col in rows.T], axis=1)         # (B, A)


def surface_colour(result, kind, cm):
    """The SurfaceColour of ``kind`` ("sharpness" or "convexity") from a CurvatureMap ``cm`` of the result's
    plane (curvature_grid)."""
    if kind not in COLOURS or kind == "loss":
        raise ValueError(f"surface colour={kind!r}: a curvature colour is one of sharpness, convexity")
    raw = cm.top if kind == "sharpness" else cm.ratio
    values = interpolate(raw, cm.alphas, cm.betas, np.asarray(result.alphas), np.asarray(result.betas))
    fin = raw[np.isfinite(raw)]
    lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
    where = f"{cm.alphas.size} × {cm.betas.size} points" + (
        "" if (cm.alphas.size, cm.betas.size) == (len(result.alphas), len(result.betas)) else ", interpolated")
    if kind == "sharpness":
        return SurfaceColour(kind, values, f"sharpness: top Hessian eigenvalue ({where})", "sharpness λmax",
                             "Plasma", lo, hi if hi > lo else lo + 1.0)
    return SurfaceColour(kind, values, f"convexity |λmin/λmax| (0: locally convex; {where})", "|λmin/λmax|",
                         "RdBu_r", 0.0, max(hi, 1e-12))
