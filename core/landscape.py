"""Loss surfaces on a plane, and trajectories projected onto it: the public names in one place.

    Z = surface(net, X, y, plane, alphas, betas)      # (len(betas), len(alphas)), Z[j, i] at (alphas[i], betas[j])
    path = project(traj, plane, net, X, y)            # Projection: .alpha .beta .residual .loss .surface_loss
    Zs = moving_surfaces(net, X, y, frames, plane, alphas, betas)   # (F, B, A), one plane per frame

Where each part lives (one idea a module):
  core/surfaces.py    ``surface`` (picks the sweep or the batched path), ``per_point_surface`` (the
                      reference: one forward pass a grid point), the input checks
  core/relusweep.py   one hidden layer: the sweep (breakpoints, bincount, prefix sum), O(A n (H + B))
  core/batched.py     any depth: batched GEMMs at many points of a plane
  core/metrics.py     mean BCE or accuracy from logits, without logaddexp; the nan rule
  core/chunking.py    chunks sized from the memory budget, threads, the progress / cancel hook
  core/projection.py  ``Projection``, ``project``, ``project_points``, ``loss_at``
  core/moving.py      ``moving_plane``, ``moving_surfaces``: one surface per frame, centered on it

Non-finite values: weights from divergent runs can overflow. No function here raises or warns for
that: any loss or accuracy that is not finite (inf or nan) is returned as ``nan`` (the same rule in
``surface`` and ``per_point_surface``); figures clip or leave gaps there.
"""
from __future__ import annotations

from .metrics import METRICS
from .moving import moving_plane, moving_surfaces
from .projection import Projection, loss_at, project, project_points
from .surfaces import per_point_surface, surface

__all__ = ["METRICS", "surface", "per_point_surface", "Projection", "project", "project_points", "loss_at",
           "moving_plane", "moving_surfaces"]
