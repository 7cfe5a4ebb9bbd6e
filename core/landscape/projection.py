"""Paths on a plane: weights projected by least squares, what the plane misses, and the loss under them.

    path = project(traj, plane, net, X, y)      # .alpha .beta .residual .loss .surface_loss .steps, (F,) each
    alpha, beta, residual = project_points(points, plane)
    surface_loss = loss_at(net, X, y, plane, alpha, beta)
    share = in_plane(points, plane)       # float in [0, 1]: how much of the path's displacement the plane holds

A point's (alpha, beta) is the least-squares coordinate of ``theta - center`` on (d1, d2); ``residual``
is the norm of what the plane misses, relative to the displacement. The true loss of theta and the
surface's loss at its projection are both kept, because the two differ when a path leaves the plane.

``in_plane`` is the one definition every panel shows ("in plane 43%", DESIGN.md "What the pictures promise"):
sum_t |P(theta_t - c)|^2 / sum_t |theta_t - c|^2, P the orthogonal projector onto span(d1, d2), c the centre.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.landscape.batched_points import evaluate_points
from core.landscape.metrics import nan_nonfinite
from core.landscape.surfaces import check_inputs

__all__ = ["Projection", "project", "project_points", "loss_at", "in_plane", "plane_basis"]


@dataclass
class Projection:
    """A path on a plane. All arrays have shape (F,), one entry per recorded frame.

    ``alpha``, ``beta``: least-squares coordinates of ``theta_t - center`` on (d1, d2).
    ``residual``: ``||theta_t - center - alpha d1 - beta d2|| / ||theta_t - center||``,
    the share of the displacement the plane misses (0 where the displacement is 0).
    ``loss``: the true loss of ``theta_t`` (the trajectory's recorded loss when it
    has one). ``surface_loss``: loss at the projected point, or None when no data
    was given. ``steps``: the training step of each frame.
    """

    alpha: np.ndarray
    beta: np.ndarray
    residual: np.ndarray
    loss: np.ndarray
    surface_loss: np.ndarray | None
    steps: np.ndarray


def project_points(points, plane):
    """Coordinates of points (F, P) on a plane: returns (alpha, beta, residual), each (F,).

    Least squares on [d1 d2], so non-orthogonal directions are fine; for
    parallel directions the minimum-norm solution is returned.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[None, :]
    if pts.ndim != 2 or pts.shape[1] != plane.n_params:
        raise ValueError(f"points have shape {np.asarray(points).shape}: expected (frames, {plane.n_params})")
    D = pts - plane.center                                       # (F, P)
    B = np.stack([plane.d1, plane.d2], axis=1)                   # (P, 2)
    coef = np.linalg.lstsq(B, D.T, rcond=None)[0]                # (2, F)
    R = D - coef.T @ B.T                                         # (F, P) what the plane misses
    with np.errstate(all="ignore"):
        dn = np.linalg.norm(D, axis=1)                           # (F,)
        res = np.where(dn > 0, np.linalg.norm(R, axis=1) / np.where(dn > 0, dn, 1.0), 0.0)
    return coef[0].copy(), coef[1].copy(), res


def plane_basis(plane):
    """An orthonormal basis (P, r) of span(d1, d2), r = its rank (2, or 1 for parallel directions, 0 for none)."""
    B = np.stack([plane.d1, plane.d2], axis=1)                   # (P, 2)
    U, s, _ = np.linalg.svd(B, full_matrices=False)              # U (P, 2), s (2,)
    tol = (s[0] if s.size else 0.0) * max(B.shape) * np.finfo(np.float64).eps
    return U[:, s > tol] if s.size and s[0] > 0 else U[:, :0]


def in_plane(points, plane):
    """The share of a path's squared displacement from the centre that the plane holds, in [0, 1]:
    ``sum_t |P(theta_t - c)|^2 / sum_t |theta_t - c|^2`` over the finite rows of ``points`` (F, P), P the
    orthogonal projector onto span(d1, d2). A path that never leaves the centre counts as fully in plane (1.0)."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != plane.n_params:
        raise ValueError(f"points have shape {pts.shape}: expected (frames, {plane.n_params})")
    D = pts[np.all(np.isfinite(pts), axis=1)] - plane.center     # (F', P)
    total = float(np.sum(D * D))
    if total <= 0.0:
        return 1.0
    C = D @ plane_basis(plane)                                   # (F', r) coordinates in an orthonormal basis
    return float(min(1.0, max(0.0, np.sum(C * C) / total)))


def loss_at(net, X, y, plane, alpha, beta, progress=None):
    """Loss at the points (alpha[k], beta[k]) of the plane, batched; returns (F,) (nan where not finite).
    ``progress``: as in core.landscape.surfaces.surface."""
    X, y = check_inputs(net, X, y, plane, "loss")
    return evaluate_points(net, X, y, plane, np.asarray(alpha, dtype=np.float64),
                           np.asarray(beta, dtype=np.float64), "loss", progress=progress)


def project(traj, plane, net=None, X=None, y=None):
    """Project a trajectory (``.params`` (F, P), optional ``.loss``, ``.steps``) onto a plane.

    With ``net``, ``X``, ``y`` the surface loss under each projected point is
    computed too (and the true loss, if the trajectory has none recorded).
    """
    params = getattr(traj, "params", None)
    if params is None:
        raise ValueError(f"traj={type(traj).__name__}: expected an object with .params (frames, P)")
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] != plane.n_params:
        raise ValueError(f"traj.params has shape {params.shape}: expected (frames, {plane.n_params})")
    F = params.shape[0]
    alpha, beta, res = project_points(params, plane)
    have_data = net is not None and X is not None and y is not None
    loss = getattr(traj, "loss", None)
    if loss is not None and np.asarray(loss).shape == (F,):
        loss = np.asarray(loss, dtype=np.float64).copy()
    elif have_data:
        with np.errstate(all="ignore"):
            loss = nan_nonfinite(np.array([net.loss(p, X, y) for p in params]))
    else:
        loss = np.full(F, np.nan)
    surface_loss = loss_at(net, X, y, plane, alpha, beta) if have_data else None
    steps = getattr(traj, "steps", None)
    steps = np.arange(F) if steps is None or np.asarray(steps).shape != (F,) else np.asarray(steps).copy()
    return Projection(alpha, beta, res, loss, surface_loss, steps)
