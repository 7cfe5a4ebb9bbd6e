"""The one-hidden-layer sweep: a whole loss surface in O(A n (H + B)) instead of O(A B n H).

For a fixed alpha, the hidden pre-activation of unit k on sample s is ``a_sk + beta * c_sk`` (``a``
and ``c`` from the three products ``X @ W1c.T``, ``X @ D1.T``, ``X @ D2.T``, computed once), and the
unit's outgoing weight is ``p_k + beta * q_k``. So the unit adds the quadratic
``(p + beta q)(a + beta c)`` to the output logit on a half-line of beta, which starts or ends at the
breakpoint ``-a / c``. Units with ``c > 0`` scatter their three coefficients into the grid bin where
they switch on; units with ``c < 0`` are counted as on from the first row (a sum over units done once,
a polynomial in alpha) and scatter the negated coefficients into the bin where they switch off; units
with ``c == 0`` are on for every beta iff ``a > 0``. One ``np.bincount`` and a prefix sum over the
beta rows then give the logit of every sample at every grid point. On a breakpoint that falls exactly
on a grid value the unit's contribution is ``relu(0) = 0`` whichever side the bin lands on, so no
special case is needed. Betas need not be sorted or uniform (uniform grids avoid a binary search).

Stages (one function each). Once a surface:
  1. ``_lines``         the three products: each unit's pre-activation and outgoing weight, affine in
                        (alpha, beta)
  2. ``_breakpoints``   where each (sample, unit) switches along beta, affine in alpha (as a fractional
                        bin position on a uniform grid)
  3. ``_coefficients``  the parts of each unit's signed coefficients that do not depend on alpha, and
                        the units on from the first row, summed as polynomials in alpha
Then for each chunk of alphas (core.parallel.chunking: sized from the memory budget, on threads):
  4. ``_bin_index``     the bin of each (alpha, sample, unit)'s breakpoint
  5. ``_unit_weights``  its three signed coefficients (of beta^0, beta^1, beta^2)
  6. ``_scatter``       np.bincount of the coefficients into (B + 1) x 3 bins for every (alpha, sample)
  7. ``_logits``        the first-row units added, a prefix sum over beta rows, then
                        logit = k0 + beta (k1 + beta k2) at every (beta, alpha, sample)
  8. core.landscape.metrics.metric_from_logits: the mean BCE or accuracy of each grid point

Shapes: n samples, H hidden units, A alphas, B betas (sorted), m alphas in a chunk, M = m n.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from core.parallel.chunking import run_sliced
from core.landscape.metrics import metric_from_logits

__all__ = ["sweep"]


# ------------------------------------------------------------------ once a surface
class _Lines(NamedTuple):
    """Pre-activation ``pre + alpha pre_alpha + beta pre_beta`` of every (sample, unit) and outgoing weight
    ``out + alpha out_alpha + beta out_beta`` of every unit."""
    pre: np.ndarray            # (n, H) at the center: X @ W1c.T + b1c
    pre_alpha: np.ndarray      # (n, H) along d1: X @ D1.T + db1
    pre_beta: np.ndarray       # (n, H) along d2, the slope c in beta: X @ D2.T + eb1
    out: np.ndarray            # (H,) outgoing weight at the center: p0
    out_alpha: np.ndarray      # (H,) along d1: p1
    out_beta: np.ndarray       # (H,) along d2: q
    bias: tuple                # output bias at the center, along d1, along d2 (floats)


def _lines(net, X, plane):
    """Stage 1: the three products, once; None when anything overflowed (the batched path makes the nans)."""
    (W1c, b1c), (w2c, b2c) = net.unflatten(plane.center)
    (D1, db1), (dw2, db2) = net.unflatten(plane.d1)
    (E1, eb1), (ew2, eb2) = net.unflatten(plane.d2)
    lines = _Lines(X @ W1c.T + b1c, X @ D1.T + db1, X @ E1.T + eb1, w2c[0], dw2[0], ew2[0],
                   (float(b2c[0]), float(db2[0]), float(eb2[0])))
    if not all(np.all(np.isfinite(v)) for v in lines[:6]) or not np.isfinite(sum(lines.bias)):
        return None
    return lines


class _Breakpoints(NamedTuple):
    """Breakpoint of each (sample, unit) along beta, ``start + alpha * slope``: on a uniform grid as the
    fractional bin position ``u = (t - b0) / h + 1`` (bin = floor(u) clipped to [0, B]), else as t itself."""
    betas: np.ndarray          # (B,) sorted
    uniform: bool
    start: np.ndarray          # (n, H)
    slope: np.ndarray          # (n, H)
    flat: tuple                # (samples (z,), units (z,)): the pairs with c == 0, which never switch


def _breakpoints(lines, betas):
    """Stage 2: breakpoints t = -a / c, affine in alpha, for the sorted ``betas`` (B,)."""
    n_betas = betas.size
    step = (betas[-1] - betas[0]) / (n_betas - 1) if n_betas > 1 else 0.0
    uniform = n_betas > 1 and step > 0 and np.max(np.abs(betas - (betas[0] + step * np.arange(n_betas)))) <= \
        64 * np.finfo(np.float64).eps * max(1.0, np.max(np.abs(betas)))
    flat = np.sign(lines.pre_beta) == 0                                # (n, H) c == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        neg_inv_slope = np.where(flat, 0.0, -1.0 / np.where(flat, 1.0, lines.pre_beta))   # (n, H) -1/c
    if uniform:
        start = lines.pre * (neg_inv_slope / step) + (1.0 - betas[0] / step)
        slope = lines.pre_alpha * (neg_inv_slope / step)
    else:
        start, slope = lines.pre * neg_inv_slope, lines.pre_alpha * neg_inv_slope
    return _Breakpoints(betas, uniform, start, slope, np.nonzero(flat))


class _Coefficients(NamedTuple):
    """What each unit's signed coefficients share across alphas, and the units on from the first row."""
    signed_pre: np.ndarray         # (n, H) sign(c) * a at the center
    signed_pre_alpha: np.ndarray   # (n, H) sign(c) * a along d1
    abs_slope: np.ndarray          # (n, H) |c|
    quadratic: np.ndarray          # (n, H) q |c|: the beta^2 coefficient, the same for every alpha
    first_row: tuple               # units with c < 0 (on from the first row), summed over units, and the
                                   # output bias, as polynomials in alpha: (coefficient of beta^0 in alpha^0..2
                                   # ((n,) each), of beta^1 in alpha^0..1, of beta^2), (n,) arrays or floats


def _coefficients(lines):
    """Stage 3: the alpha-free parts of the coefficients of (p + beta q)(a + beta c), signed by c."""
    a0, a1, c = lines.pre, lines.pre_alpha, lines.pre_beta
    p0, p1, q = lines.out, lines.out_alpha, lines.out_beta
    c0, c1, c2 = lines.bias
    sign = np.sign(c)                                 # (n, H) +1 switches on, -1 switches off, 0 never switches
    abs_slope = np.abs(c)
    on_first = (c < 0).astype(np.float64)             # (n, H) on from the first row
    na0, na1, nc = on_first * a0, on_first * a1, on_first * c
    beta0 = [na0 @ p0 + c0, na0 @ p1 + na1 @ p0 + c1, na1 @ p1]     # (n,) each: alpha^0, alpha^1, alpha^2
    beta1 = [nc @ p0 + na0 @ q + c2, nc @ p1 + na1 @ q]               # (n,) each: alpha^0, alpha^1
    beta2 = nc @ q                                                    # (n,)
    return _Coefficients(sign * a0, sign * a1, abs_slope, q * abs_slope, (beta0, beta1, beta2))


# ------------------------------------------------------------------ a chunk of alphas
class _Scratch:
    """Per-thread buffers, reused across chunks of the same size m (L = M H = m n H):
    index (3 L,) intp bin indices, offsets (m, n, 1) intp, weights (3 L,) coefficients (the beta^2 third
    preset: it does not depend on alpha), work (m, n, H) float."""

    def __init__(self, n, n_units, quadratic):
        self.n, self.n_units, self.quadratic = n, n_units, quadratic
        self.local = threading.local()

    def get(self, m):
        cache = getattr(self.local, "cache", None)
        if cache is None:
            cache = self.local.cache = {}
        if m not in cache:
            n, L = self.n, m * self.n * self.n_units
            index = np.empty(3 * L, dtype=np.intp)
            offsets = (np.arange(m)[:, None, None] * n + np.arange(n)[None, :, None])    # (m, n, 1)
            weights = np.empty(3 * L)
            weights[2 * L:].reshape(m, n, self.n_units)[...] = self.quadratic
            cache[m] = (index, offsets, weights, np.empty((m, n, self.n_units)))
        return cache[m]


def _bin_index(bp, alpha_col, out, work):
    """Stage 4: out (m, n, H) intp = the bin of each breakpoint: 0 .. B (B: never within the grid).
    alpha_col (m, 1, 1); work (m, n, H) scratch."""
    np.multiply(alpha_col, bp.slope, out=work)
    work += bp.start                                  # (m, n, H) breakpoint
    if bp.uniform:
        np.clip(work, 0.0, float(bp.betas.size), out=work)
        np.copyto(out, work, casting="unsafe")        # floor (work >= 0)
    else:
        out[...] = np.searchsorted(bp.betas, work)
    samples, units = bp.flat
    if samples.size:
        out[:, samples, units] = 0                    # c == 0: bin 0 (their weights are zero unless a > 0)


def _unit_weights(lines, bp, cf, alphas, weights, work):
    """Stage 5: weights (3 L,) = the signed coefficients of beta^0, beta^1 (beta^2: preset) of every
    (alpha, sample, unit), laid out (3, m, n, H); alphas (m,); work (m, n, H) scratch."""
    m, (n, n_units) = alphas.size, cf.abs_slope.shape
    L = m * n * n_units
    out_weight = (lines.out[None, :] + alphas[:, None] * lines.out_alpha[None, :])[:, None, :]   # (m, 1, H) p
    w0 = weights[:L].reshape(m, n, n_units)           # (m, n, H) sign(c) a p
    w1 = weights[L:2 * L].reshape(m, n, n_units)      # (m, n, H) sign(c) (p c + q a) = |c| p + sign(c) a q
    np.multiply(alphas[:, None, None], cf.signed_pre_alpha, out=work)
    work += cf.signed_pre                             # (m, n, H) sign(c) * a
    np.multiply(work, out_weight, out=w0)
    np.multiply(cf.abs_slope, out_weight, out=w1)
    work *= lines.out_beta
    w1 += work
    samples, units = bp.flat
    if samples.size:                                  # c == 0: on for every beta (bin 0) iff a > 0
        pre = lines.pre[samples, units][None, :] + alphas[:, None] * lines.pre_alpha[samples, units][None, :]  # (m, z)
        on = pre > 0
        w0[:, samples, units] = np.where(on, pre * out_weight[:, 0, units], 0.0)
        w1[:, samples, units] = np.where(on, pre * lines.out_beta[units][None, :], 0.0)   # p c + q a, c = 0


def _scatter(index, offsets, weights, n_betas, M):
    """Stage 6: bins (B + 1, 3, M) = the sum of the coefficients whose breakpoint falls in each bin, for
    every (alpha, sample). index (3 L,) holds the bins of stage 4 in its first third; turned in place
    into flat indices into the (B + 1, 3, M) layout."""
    L = index.size // 3
    first = index[:L].reshape(offsets.shape[0], offsets.shape[1], -1)  # (m, n, H)
    first *= 3 * M
    first += offsets
    np.add(index[:L], M, out=index[L:2 * L])
    np.add(index[:L], 2 * M, out=index[2 * L:])
    return np.bincount(index, weights=weights, minlength=(n_betas + 1) * 3 * M).reshape(n_betas + 1, 3, M)


def _logits(bins, cf, alphas, betas, n):
    """Stage 7: logits (B, M) at every (beta, alpha, sample) from the bins (B + 1, 3, M), in place: the
    first-row units and the output bias go into row 0, then a prefix sum over the beta rows."""
    m = alphas.size
    beta0, beta1, beta2 = cf.first_row
    al = alphas[:, None]                                                              # (m, 1)
    bins[0, 0] += (beta0[0][None, :] + al * (beta0[1][None, :] + al * beta0[2][None, :])).ravel()
    bins[0, 1] += (beta1[0][None, :] + al * beta1[1][None, :]).ravel()
    bins[0, 2] += np.broadcast_to(beta2, (m, n)).ravel()
    for j in range(1, betas.size):                    # prefix sum over beta rows (faster than cumsum here)
        np.add(bins[j - 1], bins[j], out=bins[j])
    beta_col = betas[:, None]                         # (B, 1)
    z = bins[:betas.size, 2] * beta_col
    z += bins[:betas.size, 1]
    z *= beta_col
    z += bins[:betas.size, 0]                         # (B, M) k0 + beta (k1 + beta k2)
    return z


# ------------------------------------------------------------------ the surface
def sweep(net, X, y, plane, alphas, betas, metric, chunk_size=None, threads=None, progress=None):
    """Metric (B, A) on the grid of a one-hidden-layer network, ``Z[j, i]`` at (alphas[i], betas[j]);
    None when the plane's products overflow (then use the batched path). X (n, d), y (n,).
    chunk_size: alphas a chunk (None: from the memory budget); threads, progress: core.parallel.chunking."""
    lines = _lines(net, X, plane)
    if lines is None:
        return None
    order = np.argsort(betas, kind="stable")          # (B,) the sweep runs over sorted betas
    bp = _breakpoints(lines, betas[order])
    cf = _coefficients(lines)
    n, n_units = lines.pre.shape
    n_betas = betas.size
    scratch = _Scratch(n, n_units, cf.quadratic)
    Z_sorted = np.empty((n_betas, alphas.size))       # (B, A) rows in sorted-beta order

    def run(sl):
        al = alphas[sl]                               # (m,)
        m = al.size
        index, offsets, weights, work = scratch.get(m)
        _bin_index(bp, al[:, None, None], index[:m * n * n_units].reshape(m, n, n_units), work)
        _unit_weights(lines, bp, cf, al, weights, work)
        bins = _scatter(index, offsets, weights, n_betas, m * n)                  # (B + 1, 3, M)
        z = _logits(bins, cf, al, bp.betas, n)                                     # (B, M)
        del bins
        Z_sorted[:, sl] = metric_from_logits(z.reshape(n_betas, m, n), y, metric)

    bytes_per_alpha = 8 * (10 * n * n_units + 6 * (n_betas + 1) * n)
    run_sliced(run, alphas.size, bytes_per_alpha, chunk_size, threads, progress)
    Z = np.empty_like(Z_sorted)
    Z[order] = Z_sorted
    return Z
