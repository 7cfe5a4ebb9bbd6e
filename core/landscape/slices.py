"""1-D slices of the loss: the exact loss along a line in weight space, beside the quadratic model that the
exact gradient and Hessian predict there (PyHessian's 1-D plots; Goodfellow et al. 2015's interpolation).

    s = line_slice(net, X, y, point, direction, ts)        # .ts .loss (exact) .quadratic .slope .curvature
    s = top_eigen_slice(net, X, y, point)                  # along the sharpest direction at ``point``
    s = gradient_step_slice(net, X, y, point, lr)          # along the gradient step -lr g: t = 1 is the step
    s = interpolation_slice(net, X, y, start, end)         # from start (t = 0) to end (t = 1) and a little beyond

The quadratic model of the loss along p + t d:  q(t) = L + t (g . d) + t^2 / 2 (d . H d), with g and H d exact
(core.model.network.loss_and_grad, core.curvature.hvp). Where q and the loss part, the quadratic picture of
"stable while lr x curvature < 2" stops describing what the optimizer sees.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.landscape.planes import Plane
from core.landscape.projection import loss_at
from core.curvature.second_order import hessian_eigs, hvp

N_POINTS = 121                 # points of a slice (t = 0 and t = 1 fall on grid points)
VISIBLE = 0.5                  # a slice along an eigenvector spans t where 0.5 lambda t^2 reaches this share of L


@dataclass
class Slice:
    """The loss along ``point + t * direction``; every array (T,)."""
    ts: np.ndarray            # (T,) positions along the direction
    loss: np.ndarray          # (T,) exact loss (nan where not finite)
    quadratic: np.ndarray     # (T,) L + t slope + t^2 / 2 curvature
    loss0: float              # L at t = 0
    slope: float              # g . d
    curvature: float          # d . H d
    kind: str                 # "top eigenvector", "gradient step", "interpolation" or "line"


def line_slice(net, X, y, point, direction, ts, kind="line"):
    """Exact loss and its quadratic model along ``point + t * direction`` for every t of ``ts``."""
    point = np.asarray(point, dtype=np.float64)
    d = np.asarray(direction, dtype=np.float64)
    ts = np.asarray(ts, dtype=np.float64)
    if point.shape != (net.n_params,) or d.shape != point.shape:
        raise ValueError(f"point {point.shape} and direction {d.shape}: "
                         f"expected two vectors of shape ({net.n_params},)")
    if ts.ndim != 1 or ts.size < 2 or not np.all(np.isfinite(ts)):
        raise ValueError(f"ts has shape {ts.shape}: expected at least 2 finite positions")
    line = Plane(point, d, np.zeros_like(d), "line")
    loss = loss_at(net, X, y, line, ts, np.zeros_like(ts))               # (T,) batched, exact
    loss0, g = net.loss_and_grad(point, X, y)
    slope = float(g @ d)
    curv = float(d @ hvp(net, point, X, y, d))
    return Slice(ts, loss, loss0 + ts * slope + 0.5 * ts ** 2 * curv, float(loss0), slope, curv, kind)


def visible_span(loss0, curvature, floor=1e-3):
    """Half-width t at which the quadratic 0.5 * curvature * t^2 reaches VISIBLE x the loss (1 when flat)."""
    if not np.isfinite(curvature) or curvature <= 0:
        return 1.0
    return float(np.sqrt(2 * VISIBLE * max(loss0, floor) / curvature))


def top_eigen_slice(net, X, y, point, n=N_POINTS):
    """Along the unit top eigenvector of the Hessian at ``point``, over the span where the quadratic model
    reaches a visible change (visible_span)."""
    vals, vecs = hessian_eigs(net, point, X, y, k=1)
    r = visible_span(net.loss(point, X, y), float(vals[0]))
    return line_slice(net, X, y, point, vecs[:, 0], np.linspace(-r, r, n), kind="top eigenvector")


def gradient_step_slice(net, X, y, point, lr, n=N_POINTS):
    """Along the gradient-descent step d = -lr g from ``point``: t = 1 is where that step lands, t = 2 two
    such steps. For gradient descent this is the optimizer's own step; for momentum and adaptive methods it
    is the plain gradient step at their learning rate (their real step also carries velocity or a
    preconditioner)."""
    _, g = net.loss_and_grad(point, X, y)
    return line_slice(net, X, y, point, -float(lr) * g, np.linspace(-0.5, 2.5, n), kind="gradient step")


def interpolation_slice(net, X, y, start, end, n=N_POINTS):
    """The straight line from ``start`` (t = 0) to ``end`` (t = 1), a little beyond both (Goodfellow et al.)."""
    start = np.asarray(start, dtype=np.float64)
    return line_slice(net, X, y, start, np.asarray(end, dtype=np.float64) - start, np.linspace(-0.25, 1.25, n),
                      kind="interpolation")
