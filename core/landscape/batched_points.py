"""The metric at many points of a plane at once, for any depth: batched GEMMs, never a Python loop a point.

The first layer is affine in (alpha, beta): ``X @ W1(a, b).T = P0 + a P1 + b P2`` with the three
products computed once. Each later layer takes three large GEMMs for a chunk of points
(``H @ C.T + a H @ D.T + b H @ E.T``, with ``C``, ``D``, ``E`` the layer's weights in the center, d1
and d2). Points go in chunks sized from the memory budget (core.parallel.chunking); ``surface`` uses this for
networks with more than one hidden layer, ``loss_at`` for the points under projected paths.

Shapes: n samples, m points in a chunk, h_l units of layer l.
"""
from __future__ import annotations

import numpy as np

from core.parallel.chunking import run_sliced
from core.landscape.metrics import metric_from_logits, nan_nonfinite

__all__ = ["logits_at_points", "evaluate_points"]


def _layer_bias(b_center, b_alpha, b_beta, a, b):
    """The bias of each point's layer: (m, 1, h) = center + a * d1 part + b * d2 part."""
    return (b_center[None, :] + a[:, None] * b_alpha[None, :] + b[:, None] * b_beta[None, :])[:, None, :]


def logits_at_points(net, X, center, d1, d2, a, b):
    """Logits (m, n) at the points center + a[k] d1 + b[k] d2; a, b (m,), X (n, d)."""
    layers_c, layers_1, layers_2 = net.unflatten(center), net.unflatten(d1), net.unflatten(d2)
    m, n = a.size, X.shape[0]
    (Wc, bc), (W1, b1), (W2, b2) = layers_c[0], layers_1[0], layers_2[0]
    P0, P1, P2 = X @ Wc.T, X @ W1.T, X @ W2.T                           # (n, h_1) each, once
    am, bm = a[:, None, None], b[:, None, None]                         # (m, 1, 1)
    hidden = P0[None] + am * P1[None] + bm * P2[None]                   # (m, n, h_1) pre-activations
    hidden += _layer_bias(bc, b1, b2, a, b)
    for li in range(1, len(layers_c)):
        np.maximum(hidden, 0.0, out=hidden)                             # (m, n, h_{l-1}) activations
        (Wc, bc), (W1, b1), (W2, b2) = layers_c[li], layers_1[li], layers_2[li]
        flat = hidden.reshape(m * n, -1)                                # (m n, h_{l-1})
        out = (flat @ Wc.T).reshape(m, n, -1)                           # (m, n, h_l)
        out += am * (flat @ W1.T).reshape(m, n, -1)
        out += bm * (flat @ W2.T).reshape(m, n, -1)
        out += _layer_bias(bc, b1, b2, a, b)
        hidden = out
    return hidden[:, :, 0]


def evaluate_points(net, X, y, plane, a, b, metric, chunk_size=None, threads=1, progress=None):
    """Metric at the points (a[k], b[k]) of the plane, (m,) each; returns (m,), nan where not finite.

    chunk_size: points a chunk (None: from the memory budget); threads, progress: as core.parallel.chunking."""
    values = np.empty(a.size)                                           # (m,)

    def run(sl):
        z = logits_at_points(net, X, plane.center, plane.d1, plane.d2, a[sl], b[sl])   # (chunk, n)
        values[sl] = metric_from_logits(z, y, metric)

    bytes_per_point = 8 * 4 * X.shape[0] * max(net.layer_sizes[1:])    # about 4 (n, widest layer) arrays
    with np.errstate(all="ignore"):
        run_sliced(run, a.size, bytes_per_point, chunk_size, threads, progress)
    return nan_nonfinite(values)
