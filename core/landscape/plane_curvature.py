"""The curvature a plane can and cannot show: at a point, the loss's second derivative along each plane axis
beside the Hessian's top eigenvalue, and how much of the top eigenvector lies in the plane.

    pc = plane_curvature(net, theta, X, y, plane)
    pc.along          # (2,) u^T H u for the unit axes u = d1/|d1|, d2/|d2| (exact Hessian-vector products)
    pc.lambda_max     # the top eigenvalue of H at theta (the plain Hessian, also for Adam's runs)
    pc.top_in_plane   # |P v|^2 in [0, 1], v the unit top eigenvector, P the projector onto span(d1, d2)

Stability is decided along the sharpest direction (lr x lambda_max vs 2); a surface whose axes carry a small
part of that direction is much flatter than the run feels it (on four_optimizers: 0.0003-0.015 along the
PCA axes against lambda_max 0.26-0.80 at the final points).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.curvature.second_order import MAX_DENSE_PARAMS, hessian_eigs, hvp
from core.parallel.chunking import blas_limit
from core.landscape.projection import plane_basis

__all__ = ["PlaneCurvature", "plane_curvature", "MAX_PLANE_CURVATURE_PARAMS"]

MAX_PLANE_CURVATURE_PARAMS = MAX_DENSE_PARAMS     # above: Lanczos per point, too slow for a table; not computed


@dataclass
class PlaneCurvature:
    along: np.ndarray         # (2,) curvature along the unit plane axes d1/|d1|, d2/|d2|
    lambda_max: float         # top Hessian eigenvalue at the point
    top_in_plane: float       # share of the unit top eigenvector inside span(d1, d2), in [0, 1]


def plane_curvature(net, params, X, y, plane):
    """The PlaneCurvature of ``plane`` at ``params`` (P,) on the data (X, y): exact HVPs, a dense top eigenpair."""
    U = np.stack([plane.d1, plane.d2], axis=1)                       # (P, 2)
    norms = np.linalg.norm(U, axis=0)                                # (2,)
    U = U / np.where(norms > 0, norms, 1.0)
    HU = hvp(net, params, X, y, U)                                   # (P, 2)
    along = np.where(norms > 0, np.sum(U * HU, axis=0), np.nan)
    with blas_limit():                                               # one small eigh: threads only contend
        vals, vecs = hessian_eigs(net, params, X, y, k=1, which="largest", method="dense")
    v = vecs[:, 0]                                                   # (P,) unit
    Q = plane_basis(plane)                                           # (P, r) orthonormal
    share = float(np.sum((Q.T @ v) ** 2) / float(v @ v))
    return PlaneCurvature(along=along, lambda_max=float(vals[0]), top_in_plane=min(1.0, share))
