"""Exact second order and curvature along trajectories.

    Hv = hvp(net, p, X, y, V)                 # V (P,) or (P, k) -> same shape
    H = hessian(net, p, X, y)                 # (P, P), exactly symmetric, P <= MAX_DENSE_PARAMS
    vals, vecs = hessian_eigs(net, p, X, y, k=2, which="largest")
    curv = trajectory_curvature(net, X, y, traj)             # a Trajectory (frames_curvature: arrays)
    # -> .sharpness .min_eig .threshold (F,) each, .preconditioned, .label

Modules (one idea each):
  second_order  hvp (the R-operator over the hand-written backprop), hessian (closed form for one
                hidden layer), hessian_eigs (dense eigh, or Lanczos above MAX_DENSE_PARAMS)
  eigensolver   lanczos: a generic NumPy eigen-solver for symmetric operators
  sharpness     trajectory_curvature: sharpness, bottom eigenvalue and stability threshold a frame
Stability thresholds and preconditioners live in core.model.optimizers.
"""
from __future__ import annotations

from core.curvature.eigensolver import MAX_LANCZOS_FLOATS, WHICH, LanczosResult, lanczos
from core.curvature.second_order import MAX_DENSE_PARAMS, METHODS, hessian, hessian_eigs, hvp
from core.curvature.sharpness import TrajectoryCurvature, frames_curvature, trajectory_curvature

__all__ = ["hvp", "hessian", "hessian_eigs", "lanczos", "LanczosResult",
           "trajectory_curvature", "frames_curvature", "TrajectoryCurvature",
           "MAX_DENSE_PARAMS", "MAX_LANCZOS_FLOATS", "METHODS", "WHICH"]
