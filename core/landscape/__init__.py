"""Planes through weight space, loss surfaces on them, and trajectories projected onto them.

    Z = surface(net, X, y, plane, alphas, betas)      # (len(betas), len(alphas)), Z[j, i] at (alphas[i], betas[j])
    path = project(traj, plane, net, X, y)            # Projection: .alpha .beta .residual .loss .surface_loss
    Zs = moving_surfaces(net, X, y, frames, plane, alphas, betas)   # (F, B, A), one plane per frame

Modules (one idea each):
  planes              Plane, make_plane: random + filter normalisation, PCA, interpolation, Hessian
  surfaces            ``surface`` (picks the fast one-hidden-layer path or batched GEMMs), ``per_point_surface``
                      (the reference: one forward pass a grid point), the input checks
  one_hidden_surface  one hidden layer: breakpoints, bincount, prefix sum, O(A n (H + B))
  batched_points      any depth: batched GEMMs at many points of a plane
  metrics             mean BCE or accuracy from logits, without logaddexp; the nan rule
  projection          ``Projection``, ``project``, ``project_points``, ``loss_at``,
                      ``in_plane`` (the share of a path the plane holds)
  moving_landscape    ``moving_plane``, ``moving_surfaces``: one surface per frame, centred on it
  slices              1-D slices of the loss beside their quadratic model
  curvature_map       the top and bottom Hessian eigenvalue at every grid point

Non-finite values: weights from divergent runs can overflow. No function here raises or warns for
that: any loss or accuracy that is not finite (inf or nan) is returned as ``nan`` (the same rule in
``surface`` and ``per_point_surface``); figures clip or leave gaps there.
"""
from __future__ import annotations

from core.landscape.curvature_grid import CurvatureMap, curvature_map
from core.landscape.metrics import METRICS
from core.landscape.moving_landscape import moving_plane, moving_surfaces
from core.landscape.planes import Plane, make_plane, random_direction, renormalize
from core.landscape.projection import Projection, in_plane, loss_at, project, project_points
from core.landscape.surfaces import per_point_surface, surface

__all__ = ["Plane", "make_plane", "random_direction", "renormalize", "CurvatureMap", "curvature_map", "METRICS",
           "surface", "per_point_surface", "Projection", "project", "project_points", "loss_at", "in_plane",
           "moving_plane", "moving_surfaces"]
