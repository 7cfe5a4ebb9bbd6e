"""Moving landscapes: one surface per frame, centered on that frame's weights.

    surfaces = moving_surfaces(net, X, y, frames, plane, alphas, betas)             # (F, B, A)
    surfaces, on = moving_surfaces(net, X, y, frames, plane, alphas, betas, points=points)
    # points (F, R, P): R other weights a frame; on.alpha, on.beta, on.surface_loss (F, R)

Frame f's plane passes through the weights ``frames[f]``; its directions are the base ones (a Plane's
or a pair) re-normalized to those weights (filter norm by default, core.landscape.planes.renormalize), so
the landscape itself changes as the network learns. When re-normalizing leaves a direction zero (e.g.
all-zero weights under filter norm), the frame keeps the base directions. ``points`` are placed on
each frame's plane (core.landscape.projection: least squares) with the exact loss at their projection; this is
what run_experiment records for every run on a moving landscape.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from core.landscape.planes import Plane, renormalize
from core.landscape.projection import loss_at, project_points
from core.landscape.surfaces import grid_axis, surface

__all__ = ["moving_plane", "moving_surfaces", "FramePoints"]


class FramePoints(NamedTuple):
    """Points placed on each frame's plane: (F, R) each, R points a frame."""
    alpha: np.ndarray          # (F, R) least-squares coordinates on the frame's plane
    beta: np.ndarray           # (F, R)
    surface_loss: np.ndarray   # (F, R) the exact loss at the projected point (nan where not finite)


def _base_directions(plane_or_directions):
    if isinstance(plane_or_directions, Plane):
        return plane_or_directions.d1, plane_or_directions.d2
    try:
        d1, d2 = plane_or_directions
    except (TypeError, ValueError):
        raise ValueError("plane_or_directions: expected a Plane or a pair (d1, d2) of flat vectors") from None
    return np.asarray(d1, dtype=np.float64), np.asarray(d2, dtype=np.float64)


def moving_plane(net, center, plane_or_directions, normalize="filter", ignore_bias=True):
    """The plane through ``center`` whose directions are the base ones re-normalized to ``center``
    (the base ones themselves when a re-normalized direction is all zero).

    ``normalize="none", ignore_bias=False`` keeps the base directions as they
    are (use it for PCA or interpolation directions, which are not
    filter-normalized).
    """
    d1, d2 = _base_directions(plane_or_directions)
    e1 = renormalize(net, d1, center, normalize, ignore_bias)
    e2 = renormalize(net, d2, center, normalize, ignore_bias)
    if not (np.any(e1) and np.any(e2)):                      # e.g. all-zero weights: keep the base directions
        e1, e2 = d1, d2
    return Plane(np.asarray(center, dtype=np.float64), e1, e2, "moving")


def _frames(params_frames, n_params):
    frames = np.asarray(params_frames, dtype=np.float64)
    if frames.ndim == 1:
        frames = frames[None, :]
    if frames.ndim != 2 or frames.shape[1] != n_params:
        raise ValueError(f"params_frames has shape {np.asarray(params_frames).shape}: "
                         f"expected (frames, {n_params})")
    return frames


def _points(points, n_frames, n_params):
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[0] != n_frames or pts.shape[2] != n_params:
        raise ValueError(f"points have shape {pts.shape}: expected ({n_frames}, points a frame, {n_params})")
    return pts


def moving_surfaces(net, X, y, params_frames, plane_or_directions, alphas, betas, *, metric="loss",
                    normalize="filter", ignore_bias=True, chunk_size=None, threads=None, progress=None,
                    points=None):
    """One surface per frame, centred on that frame's weights: array (F, len(betas), len(alphas)).

    The base directions (from a Plane or a pair) are re-normalized to each
    frame's weights (filter norm by default; see :func:`moving_plane`). ``points``
    (F, R, P): R weights to place on each frame's plane; then returns ``(surfaces, FramePoints)``.
    To place other points on frame f's plane use
    ``project_points(points, moving_plane(net, params_frames[f], base))``.
    ``progress``: passed to each frame's :func:`surface` (called per chunk, with that surface's counts).
    """
    frames = _frames(params_frames, net.n_params)                          # (F, P)
    alphas = grid_axis(alphas, "alphas")
    betas = grid_axis(betas, "betas")
    pts = None if points is None else _points(points, frames.shape[0], net.n_params)   # (F, R, P)
    surfaces = np.empty((frames.shape[0], betas.size, alphas.size))          # (F, B, A)
    on = None if pts is None else FramePoints(*(np.empty(pts.shape[:2]) for _ in range(3)))
    for f, center in enumerate(frames):
        plane = moving_plane(net, center, plane_or_directions, normalize, ignore_bias)
        surfaces[f] = surface(net, X, y, plane, alphas, betas, metric, chunk_size, threads, progress)
        if on is not None:
            on.alpha[f], on.beta[f], _ = project_points(pts[f], plane)
            on.surface_loss[f] = loss_at(net, X, y, plane, on.alpha[f], on.beta[f])
    return surfaces if on is None else (surfaces, on)
