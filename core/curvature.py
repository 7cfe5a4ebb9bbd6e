"""Exact second order and curvature along trajectories: the public names in one place.

    Hv = hvp(net, p, X, y, V)                 # V (P,) or (P, k) -> same shape
    H = hessian(net, p, X, y)                 # (P, P), exactly symmetric, P <= MAX_DENSE_PARAMS
    vals, vecs = hessian_eigs(net, p, X, y, k=2, which="largest")
    curv = trajectory_curvature(net, X, y, traj.params, traj.lr, traj.optimizer, traj.hparams, traj.precond)
    # -> .sharpness .min_eig .threshold (F,) each, .preconditioned, .label

Where each part lives (one idea a module):
  core/secondorder.py  hvp (the R-operator over the hand-written backprop), hessian (closed form for one
                       hidden layer), hessian_eigs (dense eigh, or Lanczos above MAX_DENSE_PARAMS)
  core/krylov.py       lanczos: a generic NumPy eigen-solver for symmetric operators
  core/sharpness.py    trajectory_curvature: sharpness, bottom eigenvalue and stability threshold a frame
Stability thresholds and preconditioners live in core/optimizers.py.
"""
from __future__ import annotations

from .krylov import MAX_LANCZOS_FLOATS, WHICH, LanczosNotConverged, LanczosResult, lanczos
from .secondorder import MAX_DENSE_PARAMS, METHODS, hessian, hessian_eigs, hvp
from .secondorder import check_data as _check_data, check_net as _check_net   # noqa: F401 -- older importers
from .sharpness import TrajectoryCurvature, trajectory_curvature

__all__ = ["hvp", "hessian", "hessian_eigs", "lanczos", "LanczosResult", "LanczosNotConverged",
           "trajectory_curvature", "TrajectoryCurvature", "MAX_DENSE_PARAMS", "MAX_LANCZOS_FLOATS", "METHODS", "WHICH"]
