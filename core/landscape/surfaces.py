"""Loss (or accuracy) surfaces on a plane: the public entry point and its reference.

``surface(net, X, y, plane, alphas, betas)`` returns ``Z`` of shape ``(len(betas), len(alphas))`` with
``Z[j, i]`` the metric at ``center + alphas[i] * d1 + betas[j] * d2``: rows are betas, columns alphas,
also for non-square grids (plotly's ``Surface(x=alphas, y=betas, z=Z)``). It equals
:func:`per_point_surface` (one forward pass per grid point, the reference) to about 1e-12; tests hold
it to 1e-10.

Which path computes it: one hidden layer and a finite plane, the sweep (core.landscape.one_hidden_surface); deeper
networks, or a plane whose products overflow, batched GEMMs (core.landscape.batched_points). Both work in chunks of the
memory budget on a few threads, and call ``progress(done, total)`` after each chunk (core.parallel.chunking:
raising in it stops the computation there). Any value that is not finite is ``nan``.
"""
from __future__ import annotations

import numpy as np

from core.landscape.batched_points import evaluate_points
from core.constraints import Choice
from core.parallel.chunking import THREADS
from core.landscape.planes import Plane
from core.errors import quote
from core.landscape.metrics import METRICS, nan_nonfinite
from core.landscape.one_hidden_surface import sweep

__all__ = ["surface", "per_point_surface", "check_inputs", "grid_axis"]


def grid_axis(values, name):
    """A grid axis as a non-empty 1-D float64 array of finite values."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} has shape {arr.shape}: expected a non-empty 1-D array of grid values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values: grid values must be finite numbers")
    return arr


def check_inputs(net, X, y, plane, metric):
    """The metric's name, the plane's size and the data's shapes; returns X (n, d) and y (n,) as float64."""
    Choice(METRICS).check("metric", metric)
    if not isinstance(plane, Plane):
        raise ValueError(f"plane={type(plane).__name__}: expected a core.landscape.planes.Plane")
    if plane.center.shape != (net.n_params,):
        raise ValueError(f"plane.center has shape {plane.center.shape}: expected ({net.n_params},) for {quote(net)}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or X.shape[1] != net.layer_sizes[0]:
        raise ValueError(f"X has shape {X.shape}: expected (n_samples, {net.layer_sizes[0]})")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y has shape {y.shape}: expected ({X.shape[0]},), one label per row of X")
    if X.shape[0] == 0:
        raise ValueError("X has no rows: need at least one sample")
    return X, y


def surface(net, X, y, plane, alphas, betas, metric="loss", chunk_size=None, threads=None, progress=None):
    """Metric on the grid: array (len(betas), len(alphas)), ``Z[j, i]`` at (alphas[i], betas[j]).

    ``metric``: "loss" (mean BCE) or "accuracy". ``chunk_size``: alphas per
    chunk for one hidden layer (the sweep), grid points per chunk otherwise;
    None sizes chunks from a ~48 MB budget a worker. ``threads``: Python worker
    threads for the sweep (None: up to 2; the batched path for deeper networks
    uses 1 and lets BLAS parallelize). Non-finite results are ``nan``. ``progress``: optional
    ``progress(done, total)`` after each chunk (raise in it to stop; see core.parallel.chunking).
    """
    X, y = check_inputs(net, X, y, plane, metric)
    alphas = grid_axis(alphas, "alphas")
    betas = grid_axis(betas, "betas")
    THREADS.check("threads", threads)
    finite_plane = all(np.all(np.isfinite(v)) for v in (plane.center, plane.d1, plane.d2)) and \
        bool(np.all(np.isfinite(X)))
    if len(net.layer_sizes) == 3 and finite_plane:
        with np.errstate(all="ignore"):
            Z = sweep(net, X, y, plane, alphas, betas, metric, chunk_size, threads, progress)
        if Z is not None:
            return nan_nonfinite(Z)
    beta_grid, alpha_grid = np.meshgrid(betas, alphas, indexing="ij")                # (B, A) each
    values = evaluate_points(net, X, y, plane, alpha_grid.ravel(), beta_grid.ravel(), metric, chunk_size,
                             threads=1 if threads is None else threads, progress=progress)
    return values.reshape(betas.size, alphas.size)


def per_point_surface(net, X, y, plane, alphas, betas, metric="loss"):
    """Reference: set the weights and run one forward pass per grid point. Same shape and nan rule as surface."""
    X, y = check_inputs(net, X, y, plane, metric)
    alphas = grid_axis(alphas, "alphas")
    betas = grid_axis(betas, "betas")
    fn = net.loss if metric == "loss" else net.accuracy
    Z = np.empty((betas.size, alphas.size))
    with np.errstate(all="ignore"):
        for j, b in enumerate(betas):
            for i, a in enumerate(alphas):
                Z[j, i] = fn(plane.center + a * plane.d1 + b * plane.d2, X, y)
    return nan_nonfinite(Z)
