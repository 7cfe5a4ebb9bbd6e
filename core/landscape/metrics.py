"""The metric of a grid point from its logits: mean binary cross-entropy or accuracy, vectorized.

The loss is the mean BCE ``softplus(z) - y z`` written as ``|z|/2 + z (1/2 - y) + log1p(exp(-|z|))``,
no ``np.logaddexp`` (about 100x slower than ``np.exp`` here). The last term is summed over samples as
``log(prod_s (1 + exp(-|z_s|)))``: one log a grid point instead of one a sample (each factor is in
[1, 2], so a product of at most 1000 factors cannot overflow; longer rows take several blocks).
On a large grid this is the dominant cost after the sweep.

Non-finite values: a loss or accuracy that is not finite (inf or nan, e.g. weights of a divergent run)
becomes ``nan`` (``nan_nonfinite``); figures clip or leave gaps there.
"""
from __future__ import annotations

import numpy as np

METRICS = ("loss", "accuracy")
_PROD_BLOCK = 1000                   # 2**1000 < max float64

__all__ = ["METRICS", "metric_from_logits", "nan_nonfinite"]


def metric_from_logits(z, y, metric):
    """z (..., n) logits, y (n,) labels -> (...,) mean BCE ("loss") or accuracy ("accuracy")."""
    n = z.shape[-1]
    if metric == "accuracy":
        positive = (y > 0.5)                                          # (n,)
        return ((z > 0).astype(np.float64) @ (2.0 * positive - 1.0) + float(np.sum(~positive))) / n
    abs_z = np.abs(z)                                                 # (..., n)
    loss = abs_z.sum(axis=-1)                                         # (...,) the |z|/2 and z (1/2 - y) terms
    loss *= 0.5
    loss += z @ (0.5 - y)
    np.negative(abs_z, out=abs_z)                                     # (..., n) 1 + exp(-|z|), in place
    np.exp(abs_z, out=abs_z)
    abs_z += 1.0
    for s0 in range(0, n, _PROD_BLOCK):                               # sum of log1p(exp(-|z|)) over samples
        loss += np.log(np.prod(abs_z[..., s0:s0 + _PROD_BLOCK], axis=-1))
    loss /= n
    return loss


def nan_nonfinite(values):
    """Set every non-finite entry of ``values`` to nan, in place; returns ``values``."""
    values[~np.isfinite(values)] = np.nan
    return values
