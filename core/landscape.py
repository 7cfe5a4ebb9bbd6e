"""Loss surfaces on a plane, and trajectories projected onto it.

``surface(net, X, y, plane, alphas, betas)`` returns ``Z`` of shape
``(len(betas), len(alphas))`` with ``Z[j, i]`` the metric at
``center + alphas[i] * d1 + betas[j] * d2``: rows are betas, columns alphas,
also for non-square grids (plotly's ``Surface(x=alphas, y=betas, z=Z)``).
It equals :func:`per_point_surface` (one forward pass per grid point, the
reference) to about 1e-12; tests hold it to 1e-10.

How it is fast
--------------
*One hidden layer: the sweep.* For a fixed alpha the hidden pre-activation of
unit k on sample s is ``a_ks + beta * c_ks`` (``a``, ``c`` from the three
products ``X @ W1c.T``, ``X @ D1.T``, ``X @ D2.T``, computed once), and the
outgoing weight is ``p_k + beta * q_k``. So the unit adds the quadratic
``(p + beta q)(a + beta c)`` to the output logit on a half-line of beta, which
starts or ends at the breakpoint ``-a / c``. Units with ``c > 0`` scatter
their three coefficients into the grid bin where they switch on; units with
``c < 0`` are counted as on from the first row (a sum over units done once, a
polynomial in alpha) and scatter the negated coefficients into the bin where
they switch off; units with ``c == 0`` are on for every beta iff ``a > 0``. One
``np.bincount`` and a prefix sum over the beta rows then give the logit of every
sample at every grid point: O(A * n * (H + B)) instead of O(A * B * n * H).
On a breakpoint that falls exactly on a grid value the unit's contribution is
``relu(0) = 0`` whichever side the bin lands on, so no special case is needed.
Betas need not be sorted or uniform (uniform grids avoid a binary search).

*Deeper networks: batched.* The first layer is affine in (alpha, beta):
``X @ W1(a, b).T = P0 + a P1 + b P2``; later layers use three large GEMMs per
chunk of grid points (``H @ C.T + a H @ D.T + b H @ E.T``). Never a Python
iteration per grid point.

The loss is the mean BCE ``softplus(z) - y z`` written as
``|z|/2 + z (1/2 - y) + log1p(exp(-|z|))`` (no ``np.logaddexp``; it is ~100x
slower here). Alphas are processed in chunks sized from a memory budget
(``chunk_size`` overrides it, in alphas for the sweep and in grid points for
the batched path); chunks may run on several Python threads (``threads``),
with BLAS limited to one thread per worker when ``threadpoolctl`` is installed.
``progress`` (optional, in ``surface``, ``loss_at`` and ``moving_surfaces``) is
called as ``progress(done, total)`` after each chunk, in the calling thread;
whatever it raises stops the computation there (chunks not started are
dropped), which is how a server cancels a surface within a chunk's time. It
does not change the numbers.

Non-finite values
-----------------
Weights from divergent runs can overflow. No function here raises or warns for
that: any loss or accuracy that is not finite (inf or nan) is returned as
``nan`` (the same rule in ``surface`` and ``per_point_surface``); figures clip
or leave gaps there. Planes with non-finite entries use the batched path.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from .directions import Plane, renormalize
from .errors import quote

METRICS = ("loss", "accuracy")
CHUNK_BYTES = 48 * 2 ** 20          # working-memory budget of one chunk (one worker)
MAX_THREADS = 2
_PROD_BLOCK = 1000                   # 2**1000 < max float64

try:                                  # optional: keep BLAS to one thread inside worker threads
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:                   # pragma: no cover - depends on the environment
    _threadpool_limits = None

__all__ = ["METRICS", "surface", "per_point_surface", "Projection", "project", "project_points", "loss_at",
           "moving_plane", "moving_surfaces"]


# ------------------------------------------------------------------ validation
def _axis(values, name):
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} has shape {arr.shape}: expected a non-empty 1-D array of grid values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values: grid values must be finite numbers")
    return arr


def _check_inputs(net, X, y, plane, metric):
    if metric not in METRICS:
        raise ValueError(f"metric={quote(metric)}: allowed are {', '.join(map(repr, METRICS))}")
    if not isinstance(plane, Plane):
        raise ValueError(f"plane={type(plane).__name__}: expected a core.directions.Plane")
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


def _nan_nonfinite(Z):
    Z[~np.isfinite(Z)] = np.nan
    return Z


def _blas_limit():
    return _threadpool_limits(limits=1) if _threadpool_limits is not None else nullcontext()


def _run_chunks(fn, chunks, threads, progress=None):
    """Call fn(chunk) for each chunk, on ``threads`` Python threads (errors silenced in every worker:
    ``np.errstate`` is per thread/context). ``progress(done, total)`` runs in this thread after each
    chunk; if it raises, the chunks not yet started are cancelled and the exception propagates."""
    def call(c):
        with np.errstate(all="ignore"):
            fn(c)

    n = len(chunks)
    if threads <= 1 or n <= 1:
        for k, c in enumerate(chunks):
            call(c)
            if progress is not None:
                progress(k + 1, n)
        return
    with _blas_limit():
        with ThreadPoolExecutor(max_workers=threads) as ex:
            futures = [ex.submit(call, c) for c in chunks]
            try:
                for k, f in enumerate(futures):
                    f.result()
                    if progress is not None:
                        progress(k + 1, n)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise


def _resolve_threads(threads, n_chunks):
    if threads is None:
        threads = min(MAX_THREADS, os.cpu_count() or 1)
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"threads={threads}: must be a positive integer (or None for automatic)")
    return max(1, min(threads, n_chunks))


def _metric_from_logits(z, y, metric):
    """z (..., n) logits -> (...,) mean BCE or accuracy, vectorized (no logaddexp)."""
    n = z.shape[-1]
    if metric == "accuracy":
        yb = (y > 0.5)
        return ((z > 0).astype(np.float64) @ (2.0 * yb - 1.0) + float(np.sum(~yb))) / n
    az = np.abs(z)
    lin = az.sum(axis=-1)
    lin *= 0.5
    lin += z @ (0.5 - y)
    # sum_s log1p(exp(-|z_s|)) = log(prod_s (1 + exp(-|z_s|))): one log per grid point, not per
    # sample (each factor is in [1, 2], so blocks of <= 1000 samples cannot overflow)
    np.negative(az, out=az)
    np.exp(az, out=az)
    az += 1.0
    for s0 in range(0, n, _PROD_BLOCK):
        lin += np.log(np.prod(az[..., s0:s0 + _PROD_BLOCK], axis=-1))
    lin /= n
    return lin


# ----------------------------------------------------------------- the sweep
def _sweep(net, X, y, plane, alphas, betas, metric, chunk_size, threads, progress=None):
    (W1c, b1c), (w2c, b2c) = net.unflatten(plane.center)
    (D1, db1), (dw2, db2) = net.unflatten(plane.d1)
    (E1, eb1), (ew2, eb2) = net.unflatten(plane.d2)
    n, H = X.shape[0], W1c.shape[0]
    A0 = X @ W1c.T + b1c                       # (n, H): a = A0 + alpha * A1
    A1 = X @ D1.T + db1
    C = X @ E1.T + eb1                         # slope in beta
    p0, p1, q = w2c[0], dw2[0], ew2[0]          # outgoing weight p0 + alpha p1 + beta q
    c0, c1, c2 = float(b2c[0]), float(db2[0]), float(eb2[0])
    if not all(np.all(np.isfinite(v)) for v in (A0, A1, C, p0, p1, q)) or not np.isfinite(c0 + c1 + c2):
        return None                            # overflow: let the batched path produce the nans

    order = np.argsort(betas, kind="stable")
    bs = betas[order]
    G, A = bs.size, alphas.size

    S = np.sign(C)                             # +1 switches on, -1 switches off, 0 never switches
    absC = np.abs(C)
    SA0, SA1 = S * A0, S * A1
    zero_c = S == 0
    zs, zk = np.nonzero(zero_c)               # (sample, unit) pairs that never switch
    any_zero = zs.size > 0
    # bin index of the breakpoint -a/c: first row where the unit switches
    h = (bs[-1] - bs[0]) / (G - 1) if G > 1 else 0.0
    uniform = G > 1 and h > 0 and np.max(np.abs(bs - (bs[0] + h * np.arange(G)))) <= \
        64 * np.finfo(np.float64).eps * max(1.0, np.max(np.abs(bs)))
    with np.errstate(divide="ignore", invalid="ignore"):
        negInvC = np.where(zero_c, 0.0, -1.0 / np.where(zero_c, 1.0, C))
    if uniform:                                # u = (t - b0)/h + 1, bin = floor(u) clipped to [0, G]
        U0 = A0 * (negInvC / h) + (1.0 - bs[0] / h)
        U1 = A1 * (negInvC / h)
    else:
        T0, T1 = A0 * negInvC, A1 * negInvC    # t = T0 + alpha T1

    # rows that start "on": units with c < 0, summed once as polynomials in alpha
    N = (C < 0).astype(np.float64)
    NA0, NA1, NC = N * A0, N * A1, N * C
    base0 = [NA0 @ p0 + c0, NA0 @ p1 + NA1 @ p0 + c1, NA1 @ p1]      # coefficient of beta^0: in alpha^0..2
    base1 = [NC @ p0 + NA0 @ q + c2, NC @ p1 + NA1 @ q]               # beta^1: alpha^0..1
    base2 = NC @ q                                                    # beta^2
    qabsC = q * absC
    yv = y

    if chunk_size is None:
        per_alpha = 8 * (10 * n * H + 6 * (G + 1) * n)
        chunk_size = max(1, int(CHUNK_BYTES // per_alpha))
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size}: must be a positive integer (or None for automatic)")
    chunks = [slice(i, min(i + chunk_size, A)) for i in range(0, A, chunk_size)]
    Zs = np.empty((G, A))

    tls = threading.local()                    # per-thread scratch buffers, reused across chunks

    def buffers(m):
        cache = getattr(tls, "cache", None)
        if cache is None:
            cache = tls.cache = {}
        if m not in cache:
            L = m * n * H
            lin = np.empty(3 * L, dtype=np.intp)
            offs = (np.arange(m)[:, None, None] * n + np.arange(n)[None, :, None])  # (m, n, 1)
            w = np.empty(3 * L)
            w[2 * L:].reshape(m, n, H)[...] = qabsC         # beta^2 weights do not depend on alpha
            cache[m] = (lin, offs, w, np.empty((m, n, H)))
        return cache[m]

    def run(sl):
        al = alphas[sl]
        m = al.size
        M = m * n
        L = M * H
        ab = al[:, None, None]
        lin, offs, w, f = buffers(m)
        l0 = lin[:L].reshape(m, n, H)
        # bin index (m, n, H) of each unit's breakpoint
        if uniform:
            np.multiply(ab, U1, out=f)
            f += U0
            np.clip(f, 0.0, float(G), out=f)
            np.copyto(l0, f, casting="unsafe")           # floor (f >= 0)
        else:
            np.multiply(ab, T1, out=f)
            f += T0
            l0[...] = np.searchsorted(bs, f)
        if any_zero:
            l0[:, zs, zk] = 0                  # c == 0: bin 0 (weights below are zero unless a > 0)
        # flat index into bins laid out (G + 1, 3, m, n)
        l0 *= 3 * M
        l0 += offs
        np.add(lin[:L], M, out=lin[L:2 * L])
        np.add(lin[:L], 2 * M, out=lin[2 * L:])
        # signed coefficients of (p + beta q)(a + beta c); w2 = q |c| is preset
        P = (p0[None, :] + al[:, None] * p1[None, :])[:, None, :]       # (m, 1, H)
        w0 = w[:L].reshape(m, n, H)
        w1 = w[L:2 * L].reshape(m, n, H)
        np.multiply(ab, SA1, out=f)
        f += SA0                               # sign(c) * a
        np.multiply(f, P, out=w0)
        np.multiply(absC, P, out=w1)
        f *= q
        w1 += f
        if any_zero:                           # c == 0: on for every beta (bin 0) iff a > 0
            a_z = A0[zs, zk][None, :] + al[:, None] * A1[zs, zk][None, :]     # (m, nz)
            on = a_z > 0
            w0[:, zs, zk] = np.where(on, a_z * P[:, 0, zk], 0.0)
            w1[:, zs, zk] = np.where(on, a_z * q[zk][None, :], 0.0)   # p c + q a with c = 0; w2 = 0
        bins = np.bincount(lin, weights=w, minlength=(G + 1) * 3 * M).reshape(G + 1, 3, M)
        # "on from the start" units and the output bias go into row 0
        bins[0, 0] += (base0[0][None, :] + al[:, None] * (base0[1][None, :] + al[:, None] * base0[2][None, :])).ravel()
        bins[0, 1] += (base1[0][None, :] + al[:, None] * base1[1][None, :]).ravel()
        bins[0, 2] += np.broadcast_to(base2, (m, n)).ravel()
        for j in range(1, G):                  # prefix sum over beta rows (faster than cumsum here)
            np.add(bins[j - 1], bins[j], out=bins[j])
        bcol = bs[:, None]
        z = bins[:G, 2] * bcol
        z += bins[:G, 1]
        z *= bcol
        z += bins[:G, 0]                       # (G, m * n) logits
        del bins
        Zs[:, sl] = _metric_from_logits(z.reshape(G, m, n), yv, metric)

    _run_chunks(run, chunks, _resolve_threads(threads, len(chunks)), progress)
    Z = np.empty_like(Zs)
    Z[order] = Zs
    return Z


# ------------------------------------------------------------- batched path
def _logits_at_points(net, X, center, d1, d2, a, b):
    """Logits (m, n) at the points center + a[k] d1 + b[k] d2 (first layer affine, then 3 GEMMs a layer)."""
    Lc, L1, L2 = net.unflatten(center), net.unflatten(d1), net.unflatten(d2)
    m, n = a.size, X.shape[0]
    (Wc, bc), (W1, b1), (W2, b2) = Lc[0], L1[0], L2[0]
    P0, P1, P2 = X @ Wc.T, X @ W1.T, X @ W2.T
    am, bm = a[:, None, None], b[:, None, None]
    Hh = P0[None] + am * P1[None] + bm * P2[None]
    Hh += (bc[None, :] + a[:, None] * b1[None, :] + b[:, None] * b2[None, :])[:, None, :]
    for li in range(1, len(Lc)):
        np.maximum(Hh, 0.0, out=Hh)
        (Wc, bc), (W1, b1), (W2, b2) = Lc[li], L1[li], L2[li]
        flat = Hh.reshape(m * n, -1)
        out = (flat @ Wc.T).reshape(m, n, -1)
        out += am * (flat @ W1.T).reshape(m, n, -1)
        out += bm * (flat @ W2.T).reshape(m, n, -1)
        out += (bc[None, :] + a[:, None] * b1[None, :] + b[:, None] * b2[None, :])[:, None, :]
        Hh = out
    return Hh[:, :, 0]


def _evaluate_points(net, X, y, plane, a, b, metric, chunk_size=None, threads=1, progress=None):
    """Metric at the points (a[k], b[k]) of the plane, in chunks; returns (m,)."""
    m = a.size
    if chunk_size is None:
        per_point = 8 * 4 * X.shape[0] * max(net.layer_sizes[1:])
        chunk_size = max(1, int(CHUNK_BYTES // per_point))
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size}: must be a positive integer (or None for automatic)")
    out = np.empty(m)
    chunks = [slice(i, min(i + chunk_size, m)) for i in range(0, m, chunk_size)]

    def run(sl):
        z = _logits_at_points(net, X, plane.center, plane.d1, plane.d2, a[sl], b[sl])
        out[sl] = _metric_from_logits(z, y, metric)

    with np.errstate(all="ignore"):
        _run_chunks(run, chunks, max(1, min(int(threads), len(chunks))), progress)
    return _nan_nonfinite(out)


# ----------------------------------------------------------------- surfaces
def surface(net, X, y, plane, alphas, betas, metric="loss", chunk_size=None, threads=None, progress=None):
    """Metric on the grid: array (len(betas), len(alphas)), ``Z[j, i]`` at (alphas[i], betas[j]).

    ``metric``: "loss" (mean BCE) or "accuracy". ``chunk_size``: alphas per
    chunk for one hidden layer (the sweep), grid points per chunk otherwise;
    None sizes chunks from a ~48 MB budget a worker. ``threads``: Python worker
    threads for the sweep (None: up to 2; the batched path for deeper networks
    uses 1 and lets BLAS parallelize). Non-finite results are ``nan``. ``progress``: optional
    ``progress(done, total)`` after each chunk (raise in it to stop; see the module docstring).
    """
    X, y = _check_inputs(net, X, y, plane, metric)
    alphas = _axis(alphas, "alphas")
    betas = _axis(betas, "betas")
    if threads is not None and int(threads) < 1:
        raise ValueError(f"threads={threads}: must be a positive integer (or None for automatic)")
    finite_plane = all(np.all(np.isfinite(v)) for v in (plane.center, plane.d1, plane.d2)) and \
        bool(np.all(np.isfinite(X)))
    if len(net.layer_sizes) == 3 and finite_plane:
        with np.errstate(all="ignore"):
            Z = _sweep(net, X, y, plane, alphas, betas, metric, chunk_size, threads, progress)
        if Z is not None:
            return _nan_nonfinite(Z)
    bb, aa = np.meshgrid(betas, alphas, indexing="ij")                # (B, A)
    vals = _evaluate_points(net, X, y, plane, aa.ravel(), bb.ravel(), metric, chunk_size,
                            threads=1 if threads is None else threads, progress=progress)
    return vals.reshape(betas.size, alphas.size)


def per_point_surface(net, X, y, plane, alphas, betas, metric="loss"):
    """Reference: set the weights and run one forward pass per grid point. Same shape and nan rule as surface."""
    X, y = _check_inputs(net, X, y, plane, metric)
    alphas = _axis(alphas, "alphas")
    betas = _axis(betas, "betas")
    fn = net.loss if metric == "loss" else net.accuracy
    Z = np.empty((betas.size, alphas.size))
    with np.errstate(all="ignore"):
        for j, b in enumerate(betas):
            for i, a in enumerate(alphas):
                Z[j, i] = fn(plane.center + a * plane.d1 + b * plane.d2, X, y)
    return _nan_nonfinite(Z)


# --------------------------------------------------------------- projection
@dataclass
class Projection:
    """A path on a plane. All arrays have shape (F,), one entry per recorded frame.

    ``alpha``, ``beta``: least-squares coordinates of ``theta_t - center`` on (d1, d2).
    ``residual``: ``||theta_t - center - alpha d1 - beta d2|| / ||theta_t - center||``,
    the share of the displacement the plane misses (0 where the displacement is 0).
    ``loss``: the true loss of ``theta_t`` (the trajectory's recorded loss when it
    has one). ``surface_loss``: loss at the projected point, or None when no data
    was given. ``steps``: the training step of each frame.
    """

    alpha: np.ndarray
    beta: np.ndarray
    residual: np.ndarray
    loss: np.ndarray
    surface_loss: np.ndarray | None
    steps: np.ndarray


def project_points(points, plane):
    """Coordinates of points (F, P) on a plane: returns (alpha, beta, residual), each (F,).

    Least squares on [d1 d2], so non-orthogonal directions are fine; for
    parallel directions the minimum-norm solution is returned.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[None, :]
    if pts.ndim != 2 or pts.shape[1] != plane.n_params:
        raise ValueError(f"points have shape {np.asarray(points).shape}: expected (frames, {plane.n_params})")
    D = pts - plane.center                                       # (F, P)
    B = np.stack([plane.d1, plane.d2], axis=1)                   # (P, 2)
    coef = np.linalg.lstsq(B, D.T, rcond=None)[0]                # (2, F)
    R = D - coef.T @ B.T
    with np.errstate(all="ignore"):
        dn = np.linalg.norm(D, axis=1)
        res = np.where(dn > 0, np.linalg.norm(R, axis=1) / np.where(dn > 0, dn, 1.0), 0.0)
    return coef[0].copy(), coef[1].copy(), res


def loss_at(net, X, y, plane, alpha, beta, progress=None):
    """Loss at the points (alpha[k], beta[k]) of the plane, batched; returns (F,) (nan where not finite).
    ``progress``: as in :func:`surface`."""
    X, y = _check_inputs(net, X, y, plane, "loss")
    return _evaluate_points(net, X, y, plane, np.asarray(alpha, dtype=np.float64),
                            np.asarray(beta, dtype=np.float64), "loss", progress=progress)


def project(traj, plane, net=None, X=None, y=None):
    """Project a trajectory (``.params`` (F, P), optional ``.loss``, ``.steps``) onto a plane.

    With ``net``, ``X``, ``y`` the surface loss under each projected point is
    computed too (and the true loss, if the trajectory has none recorded).
    """
    params = getattr(traj, "params", None)
    if params is None:
        raise ValueError(f"traj={type(traj).__name__}: expected an object with .params (frames, P)")
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] != plane.n_params:
        raise ValueError(f"traj.params has shape {params.shape}: expected (frames, {plane.n_params})")
    F = params.shape[0]
    alpha, beta, res = project_points(params, plane)
    have_data = net is not None and X is not None and y is not None
    loss = getattr(traj, "loss", None)
    if loss is not None and np.asarray(loss).shape == (F,):
        loss = np.asarray(loss, dtype=np.float64).copy()
    elif have_data:
        with np.errstate(all="ignore"):
            loss = _nan_nonfinite(np.array([net.loss(p, X, y) for p in params]))
    else:
        loss = np.full(F, np.nan)
    surface_loss = loss_at(net, X, y, plane, alpha, beta) if have_data else None
    steps = getattr(traj, "steps", None)
    steps = np.arange(F) if steps is None or np.asarray(steps).shape != (F,) else np.asarray(steps).copy()
    return Projection(alpha, beta, res, loss, surface_loss, steps)


# ---------------------------------------------------------- moving surfaces
def _base_directions(plane_or_directions):
    if isinstance(plane_or_directions, Plane):
        return plane_or_directions.d1, plane_or_directions.d2
    try:
        d1, d2 = plane_or_directions
    except (TypeError, ValueError):
        raise ValueError("plane_or_directions: expected a Plane or a pair (d1, d2) of flat vectors") from None
    return np.asarray(d1, dtype=np.float64), np.asarray(d2, dtype=np.float64)


def moving_plane(net, center, plane_or_directions, normalize="filter", ignore_bias=True):
    """The plane through ``center`` whose directions are the base ones re-normalized to ``center``.

    ``normalize="none", ignore_bias=False`` keeps the base directions as they
    are (use it for PCA or interpolation directions, which are not
    filter-normalized).
    """
    d1, d2 = _base_directions(plane_or_directions)
    e1 = renormalize(net, d1, center, normalize, ignore_bias)
    e2 = renormalize(net, d2, center, normalize, ignore_bias)
    return Plane(np.asarray(center, dtype=np.float64), e1, e2, "moving")


def moving_surfaces(net, X, y, params_frames, plane_or_directions, alphas, betas, metric="loss",
                    normalize="filter", ignore_bias=True, chunk_size=None, threads=None, progress=None):
    """One surface per frame, centred on that frame's weights: array (F, len(betas), len(alphas)).

    The base directions (from a Plane or a pair) are re-normalized to each
    frame's weights (filter norm by default; see :func:`moving_plane`). To
    place other points on frame f's plane use
    ``project_points(points, moving_plane(net, params_frames[f], base))``.
    ``progress``: passed to each frame's :func:`surface` (called per chunk, with that surface's counts).
    """
    frames = np.asarray(params_frames, dtype=np.float64)
    if frames.ndim == 1:
        frames = frames[None, :]
    if frames.ndim != 2 or frames.shape[1] != net.n_params:
        raise ValueError(f"params_frames has shape {np.asarray(params_frames).shape}: "
                         f"expected (frames, {net.n_params})")
    alphas = _axis(alphas, "alphas")
    betas = _axis(betas, "betas")
    out = np.empty((frames.shape[0], betas.size, alphas.size))
    for f, c in enumerate(frames):
        pl = moving_plane(net, c, plane_or_directions, normalize, ignore_bias)
        out[f] = surface(net, X, y, pl, alphas, betas, metric, chunk_size, threads, progress)
    return out
