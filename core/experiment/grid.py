"""The grid a plane's surface is evaluated on: spec.grid.range, or the projected paths' extent plus a margin.

    alphas, betas = plane_grid(spec, paths, plane, center_loss)      # (A,), (B,)
"""
from __future__ import annotations

import numpy as np

from core.landscape.slices import visible_span

__all__ = ["plane_grid"]


def plane_grid(spec, paths, plane, center_loss):
    """Grid axes: spec.grid.range, or the projected paths' extent plus a margin (always holding 0). A hessian
    plane spans where the quadratic model 0.5 lambda_1 t^2 makes a visible change
    (core.landscape.slices.visible_span)."""
    g = spec.grid
    n = g.resolution
    if g.range is not None:
        r = float(g.range)
        return np.linspace(-r, r, n), np.linspace(-r, r, n)
    if plane.method == "random":      # random directions barely see the path: the usual [-1, 1]
        return np.linspace(-1, 1, n), np.linspace(-1, 1, n)
    if plane.method == "hessian":
        r = visible_span(center_loss, float(plane.eigenvalues[0]))
        return np.linspace(-r, r, n), np.linspace(-r, r, n)
    al = np.concatenate([p.alpha for p in paths.values()] + [[0.0]])
    be = np.concatenate([p.beta for p in paths.values()] + [[0.0]])
    al, be = al[np.isfinite(al)], be[np.isfinite(be)]
    span = max(al.max() - al.min(), be.max() - be.min(), 1e-3)
    pad = g.margin * span
    # each axis at least 40% of the larger span, so a thin path still gets a readable surface
    def axis(v):
        lo, hi = v.min() - pad, v.max() + pad
        short = 0.4 * span - (hi - lo)
        if short > 0:
            lo, hi = lo - short / 2, hi + short / 2
        return np.linspace(lo, hi, n)
    return axis(al), axis(be)
