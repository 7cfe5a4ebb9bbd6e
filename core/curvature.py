"""Exact second order: Hessian-vector products, dense Hessians, extreme eigenvalues.

    Hv = hvp(net, p, X, y, V)                 # V (P,) or (P, k) -> same shape
    H = hessian(net, p, X, y)                 # (P, P), exactly symmetric, P <= MAX_DENSE_PARAMS
    vals, vecs = hessian_eigs(net, p, X, y, k=2, which="largest")
    curv = trajectory_curvature(net, X, y, traj.params, traj.lr, traj.optimizer, traj.hparams, traj.precond)
    # -> .sharpness .min_eig .threshold (F,) each, .preconditioned, .label

hvp is the R-operator over the hand-written backprop (any depth). hessian: a closed form for one hidden
layer, hvp over the identity deeper. hessian_eigs: dense eigh up to MAX_DENSE_PARAMS, else Lanczos
(``lanczos``, full reorthogonalization) on hvp. trajectory_curvature: the frames' Hessians built in
chunks and the eigenvalues of each stack in one eigvalsh call (the four_optimizers preset: about
0.7 ms a frame against about 20 ms for central differences + eigh, benchmarks/bench_curvature.py).
Stability thresholds and preconditioners live in core/optimizers.py.

The loss is exactly ``net.loss``: mean binary cross-entropy of the sigmoid of the
output logit. ReLU is piecewise linear, so the loss is piecewise smooth; every
second derivative here is that of the smooth piece the point lies in: the masks
[Z > 0] are held fixed and ReLU's second derivative is taken as 0. (Exactly on a
kink, Z == 0, the unit counts as off, as in ``loss_and_grad``.)

Notation (column layout, as ``MLP.loss_and_grad``): A_0 = X^T (in, n);
Z_l = W_l A_{l-1} + b_l (out_l, n); A_l = relu(Z_l) = M_l * Z_l with M_l = [Z_l > 0];
z = Z_L (n,); s = sigmoid(z); loss = mean(softplus(z) - y z).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .directions import _fix_sign
from .landscape import _blas_limit, _resolve_threads, _run_chunks
from .network import MLP, sigmoid
from .optimizers import OPTIMIZERS, is_preconditioned, stability_threshold

MAX_DENSE_PARAMS = 4000        # dense (P, P) Hessians and eigh above this (128 MB, eigh takes seconds): use Lanczos
_CHUNK_BYTES = 32 * 2 ** 20    # working-memory target of one block of vectors / one chunk of frames
WHICH = ("largest", "smallest")
METHODS = ("auto", "dense", "lanczos")


# ------------------------------------------------------------------ checks
def _check_net(net):
    if not isinstance(net, MLP):
        raise TypeError(f"net={type(net).__name__}: expected a core.MLP")


def _check_params(net, params, name="params"):
    p = np.asarray(params)
    if p.dtype.kind not in "fiu" or p.shape != (net.n_params,):
        raise ValueError(f"{name} shape {p.shape} dtype {p.dtype}: expected a real vector of shape "
                         f"({net.n_params},) for {net!r}")
    return p.astype(np.float64, copy=False)


def _check_data(net, X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d = net.layer_sizes[0]
    if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1:
        raise ValueError(f"X shape {X.shape}: expected (n, {d}) with n >= 1 for {net!r}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y shape {y.shape}: expected ({X.shape[0]},), one label per row of X")
    return X, y


def _check_int(name, v, lo, hi=None):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo or (hi is not None and v > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name}={v!r}: must be an integer {rng}")
    return int(v)


# --------------------------------------------------------------------- hvp
def _forward(net, p, X):
    """Forward pass. Returns layers [(W, b)], acts [A_0..A_{L-1}] and masks [M_1..M_{L-1}], z (n,)."""
    layers = net.unflatten(p)
    A = X.T                                            # (in, n)
    acts, masks = [A], []
    for W, b in layers[:-1]:
        Z = W @ A
        Z += b[:, None]
        M = Z > 0                                      # (out, n), held fixed for the second order
        A = Z * M
        acts.append(A); masks.append(M)
    W, b = layers[-1]
    z = (W @ A)[0] + b[0]                              # (n,)
    return layers, acts, masks, z


def hvp(net, params, X, y, V):
    """Hessian of ``net.loss`` at ``params`` times V: V (P,) or (P, k) -> same shape.

    Exact, by the R-operator (Pearlmutter 1994): R{f} = d/dr f(params + r V) at r = 0, pushed
    through the forward pass and the hand-written backprop of ``MLP.loss_and_grad``; R{grad} = H V.
    ReLU's second derivative is taken as 0 (masks M_l = [Z_l > 0] fixed): this is the Hessian of the
    smooth piece of the piecewise-smooth loss that ``params`` lies in. All k vectors go in one pass.

      forward   R{A_0} = 0;  R{Z_l} = VW_l A_{l-1} + W_l R{A_{l-1}} + Vb_l;  R{A_l} = M_l * R{Z_l}
      output    dZ_L = (s - y) / n;   R{dZ_L} = s (1 - s) R{z} / n
      backward  R{gW_l} = R{dZ_l} A_{l-1}^T + dZ_l R{A_{l-1}}^T;   R{gb_l} = sum_n R{dZ_l}
                R{dZ_{l-1}} = M_{l-1} * (VW_l^T dZ_l + W_l^T R{dZ_l})
    """
    _check_net(net)
    p = _check_params(net, params)
    X, y = _check_data(net, X, y)
    V = np.asarray(V)
    P = net.n_params
    if V.dtype.kind not in "fiu" or V.ndim not in (1, 2) or V.shape[0] != P or (V.ndim == 2 and V.shape[1] < 1):
        raise ValueError(f"V shape {V.shape}: expected ({P},) or ({P}, k) with k >= 1 for {net!r}")
    single = V.ndim == 1
    VT = np.ascontiguousarray((V[None, :] if single else V.T), dtype=np.float64)     # (k, P)
    HV = _apply_blocked(_hvp_operator(net, p, X, y), VT, net, X.shape[0])
    return HV[0] if single else HV.T


def _apply_blocked(op, VT, net, n):
    """op over the rows of VT (k, P) in blocks, so the R-pass arrays (block, width, n) stay near _CHUNK_BYTES."""
    kb = max(1, _CHUNK_BYTES // (8 * n * max(net.layer_sizes)))
    if VT.shape[0] <= 8:                               # a few vectors: as they come
        return op(VT)
    with _blas_limit():                                # many small GEMMs: one BLAS thread is fastest here
        return np.concatenate([op(VT[i:i + kb]) for i in range(0, VT.shape[0], kb)])


def _hvp_operator(net, p, X, y):
    """The forward and gradient passes at p, done once; returns VT (k, P) -> (H V)^T (k, P)."""
    n = X.shape[0]
    layers, acts, masks, z = _forward(net, p, X)
    L = len(layers)
    s = sigmoid(z)
    c = s * (1.0 - s) / n                              # (n,) d2 loss / dz2, divided by n

    # gradient backward pass (as loss_and_grad): dZ_l (out, n) for every layer
    dZs = [None] * L
    dZ = ((s - y) / n)[None, :]
    for li in range(L - 1, -1, -1):
        dZs[li] = dZ
        if li > 0:
            dZ = (layers[li][0].T @ dZ) * masks[li - 1]
    return lambda VT: _r_pass(net, layers, acts, masks, c, dZs, VT)


def _r_pass(net, layers, acts, masks, c, dZs, VT):
    """The R-operator passes for a batch of directions VT (k, P) -> (H V)^T (k, P)."""
    k = VT.shape[0]
    n = c.shape[0]
    L = len(layers)
    VW = [VT[:, w].reshape(k, *shape) for w, shape, _ in net.layout]     # (k, out, in)
    Vb = [VT[:, b] for _, _, b in net.layout]                             # (k, out)

    # R forward: RA_l (k, out_l, n); RA_0 = 0
    RAs = [None]
    RA = None
    for li, (W, b) in enumerate(layers):
        n_out, n_in = W.shape
        RZ = (VW[li].reshape(k * n_out, n_in) @ acts[li]).reshape(k, n_out, n)
        RZ += Vb[li][:, :, None]
        if RA is not None:
            RZ += np.matmul(W, RA)                      # (out, in) @ (k, in, n)
        if li < L - 1:
            RA = RZ * masks[li]
            RAs.append(RA)
    RdZ = RZ * c                                       # (k, 1, n): R{dZ_L}

    # R backward
    HV = np.empty((k, net.n_params))
    for li in range(L - 1, -1, -1):
        W, _ = layers[li]
        wsl, (n_out, n_in), bsl = net.layout[li]
        RgW = (RdZ.reshape(k * n_out, n) @ acts[li].T).reshape(k, n_out, n_in)
        if li > 0:
            RgW += np.matmul(dZs[li], RAs[li].transpose(0, 2, 1))    # (out, n) @ (k, n, in)
        HV[:, wsl] = RgW.reshape(k, -1)
        HV[:, bsl] = RdZ.sum(axis=2)
        if li > 0:
            RdA = np.matmul(W.T, RdZ)                   # (in, out) @ (k, out, n)
            RdA += np.matmul(VW[li].transpose(0, 2, 1), dZs[li])     # (k, in, out) @ (out, n)
            RdZ = RdA * masks[li - 1]
    return HV


# ----------------------------------------------------------------- hessian
def _unique_rows(X, y):
    """Identical rows of X give identical rows of J: merge them. -> (X_u (m, d), y summed (m,), counts (m,))."""
    Xu, inv, cnt = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    return Xu, np.bincount(inv.ravel(), weights=y, minlength=len(Xu)), cnt.astype(np.float64)


def _hessian_one_hidden(net, Ps, X, y, counts=None):
    """Closed form for one hidden layer, a stack of B parameter vectors Ps (B, P) -> (B, P, P).

    counts (m,): X holds m distinct rows, row i standing for counts[i] samples whose labels sum to y[i]
    (``_unique_rows``); the mean is still over all sum(counts) samples. None: every row once.

    z_i = w2 . relu(W1 x_i + b1) + b2, so (masks fixed) z is bilinear in (W1, b1) and w2:
      H = (1/n) J^T diag(s(1-s)) J + C + C^T
    J (n, P), the Jacobian of the logits:  dz_i/dW1[j,k] = w2_j M_ji x_ik, dz_i/db1_j = w2_j M_ji,
    dz_i/dw2_j = A_ji, dz_i/db2 = 1.  C, the residual-weighted second derivative of z, is non-zero
    only between w2_j and its own unit's row (W1[j,:], b1_j):  C = (1/n) sum_i (s_i - y_i) M_ji [x_i, 1].
    """
    B = Ps.shape[0]
    n, d = X.shape
    w = np.ones(n) if counts is None else counts                 # (n,) samples each row stands for
    N = w.sum()                                                  # the number of samples of the mean
    h = net.layer_sizes[1]
    P = net.n_params
    W1 = Ps[:, :h * d].reshape(B, h, d)
    b1 = Ps[:, h * d:h * d + h]
    w2 = Ps[:, h * d + h:h * d + 2 * h]
    b2 = Ps[:, -1]
    Xt = np.concatenate([X, np.ones((n, 1))], axis=1)            # (n, d+1): [x_i, 1]
    Z = np.matmul(W1, X.T)                                       # (B, h, n)
    Z += b1[:, :, None]
    M = Z > 0
    A = Z * M                                                    # (B, h, n)
    z = np.einsum("bh,bhn->bn", w2, A) + b2[:, None]             # (B, n)
    s = sigmoid(z)
    c = s * (1.0 - s) * (w / N)                                  # (B, n)
    r = (s * w - y) / N                                          # (B, n): sum over the row's samples of s - y
    # JcT = (diag(sqrt(c)) J)^T (B, P, n), rows in the flat parameter order [W1 row-major, b1, w2, b2]
    sc = np.sqrt(c)[:, None, :]                                  # (B, 1, n)
    JcT = np.empty((B, P, n))
    G = w2[:, :, None] * M * sc                                  # (B, h, n): sqrt(c) dz/dZ1
    JW = JcT[:, :h * d].reshape(B, h, d, n)                      # a view: the W1 rows, unit-major
    np.multiply(G[:, :, None, :], X.T[None, None, :, :], out=JW)
    JcT[:, h * d:h * d + h] = G
    np.multiply(A, sc, out=JcT[:, h * d + h:h * d + 2 * h])
    JcT[:, -1] = sc[:, 0]
    H = np.matmul(JcT, JcT.transpose(0, 2, 1))                   # (B, P, P) Gauss-Newton part
    # cross term C (B, h, d+1): row j pairs w2_j with (W1[j, :], b1_j)
    C = np.matmul(r[:, None, :] * M, Xt)
    j = np.arange(h)
    rows_w = (j[:, None] * d + np.arange(d)[None, :])            # (h, d) flat index of W1[j, k]
    col = h * d + h + j                                          # flat index of w2_j
    H[:, rows_w, col[:, None]] += C[:, :, :d]
    H[:, col[:, None], rows_w] += C[:, :, :d]
    H[:, h * d + j, col] += C[:, :, d]
    H[:, col, h * d + j] += C[:, :, d]
    return H


def _hessian_stack(net, Ps, X, y, symmetrize=True):
    """Dense Hessians of a stack of parameter vectors Ps (B, P) -> (B, P, P); exactly symmetric with
    symmetrize=True ((H + H^T) / 2; eigvalsh reads one triangle, so the trajectory path skips it)."""
    if len(net.layer_sizes) == 3:
        H = _hessian_one_hidden(net, Ps, X, y)
    else:
        P = net.n_params                                         # hvp over the identity, in column blocks
        H = np.empty((len(Ps), P, P))
        for f, p in enumerate(Ps):
            H[f] = _apply_blocked(_hvp_operator(net, p, X, y), np.eye(P), net, X.shape[0])
    if symmetrize:
        H += H.transpose(0, 2, 1)
        H *= 0.5
    return H


def hessian(net, params, X, y):
    """Dense Hessian (P, P) of ``net.loss`` at ``params``, exactly symmetric ((H + H^T)/2).

    One hidden layer: the closed form of ``_hessian_one_hidden``; deeper: ``hvp`` over the identity
    (all P vectors in one pass). Same convention at ReLU kinks as ``hvp``. Refused above
    MAX_DENSE_PARAMS parameters: use ``hessian_eigs`` (Lanczos on hvp) instead.
    """
    _check_net(net)
    _check_dense(net.n_params)
    p = _check_params(net, params)
    X, y = _check_data(net, X, y)
    return _hessian_stack(net, p[None, :], X, y)[0]


def _check_dense(P, what="a dense Hessian"):
    if P > MAX_DENSE_PARAMS:
        raise ValueError(f"n_params={P}: {what} is allowed up to MAX_DENSE_PARAMS={MAX_DENSE_PARAMS} parameters; "
                         f"use hessian_eigs(..., method='lanczos') (Lanczos on Hessian-vector products) instead")


# ----------------------------------------------------------------- Lanczos
class LanczosResult(NamedTuple):
    values: np.ndarray        # (k,) Ritz values: "largest" descending, "smallest" ascending
    vectors: np.ndarray       # (n, k) unit Ritz vectors, signs fixed (largest-magnitude entry positive)
    converged: bool           # every wanted Ritz value met the residual test
    n_iter: int               # matrix-vector products used
    residuals: np.ndarray     # (k,) ||A u - theta u|| of each returned pair


class LanczosNotConverged(RuntimeWarning):
    """hessian_eigs / trajectory_curvature: Lanczos stopped at max_iter before the residual test passed."""


_RES_FLOOR = 1e-13   # residuals below this times max |Ritz value| count as converged (rounding floor)
MAX_LANCZOS_FLOATS = 2 ** 26   # the Lanczos basis (min(max_iter, n), n) is refused above this (512 MB)


def _check_which(which):
    if which not in WHICH:
        raise ValueError(f"which={which!r}: allowed are {', '.join(repr(w) for w in WHICH)} "
                         "(algebraic: largest = most positive, smallest = most negative)")


def _check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) \
            or not math.isfinite(tol) or not 0 < tol < 1:
        raise ValueError(f"tol={tol!r}: must be a number in (0, 1), the relative residual to reach")
    return float(tol)


def _check_seed(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r}: must be a non-negative integer or a numpy.random.Generator")
    return np.random.default_rng(seed)


def _fix_signs(V):
    """Each column of V (n, k) flipped so its entry of largest magnitude (first on ties) is positive."""
    return np.stack([_fix_sign(V[:, i]) for i in range(V.shape[1])], axis=1) if V.shape[1] else V


def lanczos(matvec, n, k=1, which="largest", tol=1e-10, max_iter=300, seed=0, v0=None):
    """k extreme eigenpairs of a symmetric operator by Lanczos with full reorthogonalization.

    matvec: (n,) -> (n,), symmetric. Start vector: v0 (warm start) or a standard normal vector from
    ``numpy.random.default_rng(seed)``. Steps: q_1 = start / |start|; for j = 1, 2, ...:
      w = A q_j;  alpha_j = q_j . w;  w -= Q_j (Q_j^T w) twice (full reorthogonalization, which also
      removes the alpha_j q_j and beta_{j-1} q_{j-1} terms);  beta_j = |w|;  q_{j+1} = w / beta_j;
      T_j = tridiag(beta, alpha, beta) = S diag(theta) S^T;  residual of Ritz pair i = beta_j |S[j, i]|.
    Stops when each of the k wanted Ritz values has residual <= tol * |theta| (or below
    1e-13 * max |theta|, the rounding floor, e.g. for theta = 0), or after max_iter products (or n).
    If the Krylov space becomes invariant (beta_j ~ 0) before that, it continues from a fresh random
    vector orthogonal to the basis, so a start vector orthogonal to the wanted eigenvector is not trusted.
    Like every single-vector Krylov method, a repeated eigenvalue is found once.

    Memory: the basis holds min(max_iter, n) x n floats, refused above MAX_LANCZOS_FLOATS (512 MB).
    Not converged after max_iter: no exception; returns what it has with ``converged=False``
    (``hessian_eigs`` then warns with LanczosNotConverged). Returns a LanczosResult
    (values, vectors (n, k), converged, n_iter, residuals).
    """
    if not callable(matvec):
        raise TypeError(f"matvec={type(matvec).__name__}: expected a callable (n,) -> (n,)")
    n = _check_int("n", n, 1)
    k = _check_int("k", k, 1, n)
    _check_which(which)
    tol = _check_tol(tol)
    max_iter = _check_int("max_iter", max_iter, k)
    rng = _check_seed(seed)
    if min(max_iter, n) * n > MAX_LANCZOS_FLOATS:
        raise ValueError(f"max_iter={max_iter}: the Lanczos basis would hold {min(max_iter, n)} x {n} floats; at most "
                         f"MAX_LANCZOS_FLOATS={MAX_LANCZOS_FLOATS} are allowed, so use max_iter <= "
                         f"{max(1, MAX_LANCZOS_FLOATS // n)}")
    if v0 is None:
        q = rng.standard_normal(n)
    else:
        q = np.array(v0, dtype=np.float64)
        if q.shape != (n,) or not np.all(np.isfinite(q)) or not np.any(q):
            raise ValueError(f"v0 shape {q.shape}: expected a finite non-zero vector of shape ({n},)")
    q /= np.linalg.norm(q)

    m = min(max_iter, n)
    Q = np.empty((m, n))                               # rows: the orthonormal Lanczos basis
    alpha = np.zeros(m)
    beta = np.zeros(m)                                 # beta[j] couples q_j and q_{j+1}
    scale = 0.0                                        # running bound on ||T||
    converged = False
    for j in range(m):
        Q[j] = q
        w = np.asarray(matvec(q), dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"matvec returned shape {w.shape}: expected ({n},)")
        if not np.all(np.isfinite(w)):
            raise ValueError(f"matvec returned non-finite values at iteration {j}: the operator is not finite")
        alpha[j] = q @ w
        Qj = Q[:j + 1]
        for _ in range(2):                             # classical Gram-Schmidt, twice
            w -= Qj.T @ (Qj @ w)
        b = float(np.linalg.norm(w))
        beta[j] = b
        scale = max(scale, abs(alpha[j]) + b + (beta[j - 1] if j else 0.0))
        invariant = b <= 1e-12 * scale
        last = j + 1 == m
        if j + 1 >= k and (last or not invariant) and (j < 40 or j % 4 == 0 or last):
            theta, S = _tridiag_eigh(alpha[:j + 1], beta[:j])
            idx = _wanted(theta, k, which)
            res = b * np.abs(S[-1, idx])
            floor = _RES_FLOOR * max(np.abs(theta).max(), 1e-300)
            converged = bool(np.all(res <= np.maximum(tol * np.abs(theta[idx]), floor)))
            if converged or last:
                break
        if invariant:                                  # restart in the orthogonal complement
            w = rng.standard_normal(n)
            for _ in range(2):
                w -= Qj.T @ (Qj @ w)
            b = float(np.linalg.norm(w))
            beta[j] = 0.0
        q = w / b
    n_iter = j + 1
    vecs = Q[:n_iter].T @ S[:, idx]                    # (n, k) Ritz vectors
    vecs /= np.linalg.norm(vecs, axis=0)
    return LanczosResult(theta[idx].copy(), _fix_signs(vecs), converged, n_iter, res)


def _tridiag_eigh(a, b):
    """Eigen-decomposition of the symmetric tridiagonal matrix with diagonal a (m,), off-diagonal b (m-1,)."""
    T = np.diag(a)
    if len(b):
        i = np.arange(len(b))
        T[i, i + 1] = b
        T[i + 1, i] = b
    return np.linalg.eigh(T)


def _wanted(theta, k, which):
    """Indices of the k wanted values of ascending theta: largest descending, smallest ascending."""
    return np.arange(len(theta) - 1, len(theta) - 1 - k, -1) if which == "largest" else np.arange(k)


# ------------------------------------------------------------ eigenvalues
def hessian_eigs(net, params, X, y, k=2, which="largest", method="auto", tol=1e-10, max_iter=300, seed=0):
    """k extreme eigenvalues (k,) and unit eigenvectors (P, k) of the Hessian of ``net.loss``.

    which: "largest" (most positive, sorted descending) or "smallest" (most negative, ascending).
    method: "auto" = "dense" when P <= MAX_DENSE_PARAMS, else "lanczos"; "dense" = numpy eigh of
    ``hessian``; "lanczos" = ``lanczos`` on ``hvp`` (tol, max_iter and seed apply only to it; if it
    does not converge within max_iter, a LanczosNotConverged warning and the best estimates).
    Eigenvector signs: entry of largest magnitude positive (first on ties).
    """
    _check_net(net)
    P = net.n_params
    k = _check_int("k", k, 1, P)
    _check_which(which)
    if method not in METHODS:
        raise ValueError(f"method={method!r}: allowed are {', '.join(repr(m) for m in METHODS)}")
    tol = _check_tol(tol)
    max_iter = _check_int("max_iter", max_iter, k)
    _check_seed(seed)
    p = _check_params(net, params)
    X, y = _check_data(net, X, y)
    if method == "dense":
        _check_dense(P, "method='dense'")
    if method == "lanczos" or (method == "auto" and P > MAX_DENSE_PARAMS):
        op = _hvp_operator(net, p, X, y)
        with _blas_limit():
            r = lanczos(lambda v: op(v[None, :])[0], P, k, which, tol, max_iter, seed)
        if not r.converged:
            warnings.warn(f"hessian_eigs: Lanczos did not reach tol={tol} in max_iter={max_iter} iterations "
                          f"(residuals {r.residuals}); returning the best estimates", LanczosNotConverged,
                          stacklevel=2)
        return r.values, r.vectors
    w, V = np.linalg.eigh(_hessian_stack(net, p[None, :], X, y)[0])
    idx = _wanted(w, k, which)
    return w[idx], _fix_signs(V[:, idx])


# ------------------------------------------------------------- trajectory
@dataclass
class TrajectoryCurvature:
    sharpness: np.ndarray     # (F,) top eigenvalue (of P^-1/2 H P^-1/2 when preconditioned), nan where skipped
    min_eig: np.ndarray       # (F,) bottom eigenvalue of the same matrix, nan where skipped
    threshold: np.ndarray     # (F,) the optimizer's stability threshold at each frame's learning rate (all frames)
    preconditioned: bool      # True: sharpness and min_eig are of the preconditioned Hessian (adam, rmsprop)
    label: str                # "sharpness" or "preconditioned sharpness", for axis titles
    computed: np.ndarray      # (F,) bool: frames whose eigenvalues were computed (stride, plus the last)

    def above_threshold(self):
        """Share of the computed frames whose sharpness is at or above the threshold."""
        c = self.computed & np.isfinite(self.sharpness)
        return float(np.mean(self.sharpness[c] >= self.threshold[c])) if c.any() else float("nan")


_MAX_CHUNK = 16                # dense trajectory path: at most this many frames a chunk (fewer when P or n is big)


def trajectory_curvature(net, X, y, params, lr, optimizer, hparams=None, precond=None, stride=1,
                         method="auto", threads=None, tol=1e-10, max_iter=300, seed=0):
    """Sharpness, bottom eigenvalue and stability threshold at every frame of a trajectory.

    params (F, P): the frames (``Trajectory.params``); lr (F,): each frame's learning rate
    (``Trajectory.lr``); optimizer, hparams: ``Trajectory.optimizer`` and ``.hparams``; precond (F, P):
    ``Trajectory.precond``, required for adam and rmsprop (then eigenvalues of P^-1/2 H P^-1/2, the
    matrix their threshold applies to), None for the SGD family. stride: compute every stride-th frame
    and always the last; the others are nan (the threshold is given at every frame).

    method "auto"/"dense" (P <= MAX_DENSE_PARAMS): the frames in chunks of up to 16; each chunk's
    Hessians built at once ((B, P, P); the closed form for one hidden layer, hvp over the identity
    deeper), scaled by the preconditioner, and all eigenvalues of the stack in one eigvalsh call; the
    chunks run on ``threads`` Python threads (default: up to 2) with BLAS held to one thread each.
    method "lanczos": per frame, Lanczos on hvp for the top and the bottom eigenvalue, each warm-started
    from the previous frame's eigenvector.
    """
    _check_net(net)
    P = net.n_params
    X, y = _check_data(net, X, y)
    Ps = np.asarray(params)
    if Ps.dtype.kind not in "fiu" or Ps.ndim != 2 or Ps.shape[1] != P or Ps.shape[0] < 1:
        raise ValueError(f"params shape {Ps.shape}: expected (frames, {P}) with at least one frame for {net!r}")
    Ps = Ps.astype(np.float64, copy=False)
    F = Ps.shape[0]
    lr = np.asarray(lr, dtype=np.float64) if np.ndim(lr) else np.full(F, float(lr))
    if lr.shape != (F,) or not np.all(np.isfinite(lr)) or np.any(lr < 0):
        raise ValueError(f"lr shape {lr.shape}: expected ({F},) finite learning rates >= 0, one per frame")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer={optimizer!r}: allowed are {', '.join(OPTIMIZERS)}")
    pre = is_preconditioned(optimizer)
    if pre:
        pc = np.asarray(precond, dtype=np.float64) if precond is not None else None
        if pc is None or pc.shape != (F, P) or not np.all(pc > 0) or not np.all(np.isfinite(pc)):
            raise ValueError(f"precond={'None' if pc is None else 'shape ' + str(pc.shape)}: {optimizer!r} needs its "
                             f"positive diagonal preconditioner at every frame, shape ({F}, {P}) "
                             "(Trajectory.precond)")
    elif precond is not None:
        raise ValueError(f"precond: {optimizer!r} has no preconditioner; pass None (only adam and rmsprop use one)")
    stride = _check_int("stride", stride, 1)
    if method not in METHODS:
        raise ValueError(f"method={method!r}: allowed are {', '.join(repr(m) for m in METHODS)}")
    if method == "dense":
        _check_dense(P, "method='dense'")
    tol = _check_tol(tol)
    max_iter = _check_int("max_iter", max_iter, 1)

    threshold = np.array([stability_threshold(optimizer, hparams, float(v)) for v in lr])
    computed = np.zeros(F, dtype=bool)
    computed[::stride] = True
    computed[-1] = True
    computed &= np.all(np.isfinite(Ps), axis=1)         # non-finite frames stay nan
    idx = np.flatnonzero(computed)
    top = np.full(F, np.nan)
    bot = np.full(F, np.nan)
    D = 1.0 / np.sqrt(pc) if pre else None             # (F, P): P^-1/2 H P^-1/2 = D H D

    if method == "lanczos" or (method == "auto" and P > MAX_DENSE_PARAMS):
        with _blas_limit():
            _trajectory_lanczos(net, X, y, Ps, D, idx, top, bot, tol, max_iter, seed)
    else:
        B = int(max(1, min(_MAX_CHUNK, _CHUNK_BYTES // (8 * P * max(P, X.shape[0])))))
        if len(net.layer_sizes) == 3:
            chunks = _live_unit_chunks(net, Ps, X, idx, B)
            Xu, yu, cnt = _unique_rows(X, y)               # duplicate samples: one row of J, weighted
        else:
            chunks = [(None, idx[i:i + B]) for i in range(0, len(idx), B)]

        def work(chunk):
            gather, ch = chunk
            if gather is None:                         # all parameters
                H = _hessian_stack(net, Ps[ch], X, y, symmetrize=False)              # (B, P, P)
                d = D[ch] if pre else None
            else:                                      # the live units' parameters only
                sub = MLP([X.shape[1], (gather.shape[1] - 1) // (X.shape[1] + 2), 1])
                H = _hessian_one_hidden(sub, np.take_along_axis(Ps[ch], gather, axis=1), Xu, yu, cnt)
                d = np.take_along_axis(D[ch], gather, axis=1) if pre else None
            if pre:
                H *= d[:, :, None]
                H *= d[:, None, :]
            w = np.linalg.eigvalsh(H)                  # (B, P') ascending, one LAPACK loop for the stack
            t, b = w[:, -1], w[:, 0]
            if gather is not None and gather.shape[1] < P:     # dead units: exact zero eigenvalues too
                t, b = np.maximum(t, 0.0), np.minimum(b, 0.0)
            top[ch], bot[ch] = t, b
        with _blas_limit():                            # small GEMMs and eigvalsh: one BLAS thread is fastest
            _run_chunks(work, chunks, _resolve_threads(threads, len(chunks)))
    return TrajectoryCurvature(top, bot, threshold, pre,
                               "preconditioned sharpness" if pre else "sharpness", computed)


def _live_unit_chunks(net, Ps, X, idx, B):
    """One hidden layer: chunks (gather (B, P'), frames (B,)) of frames with the same number of live units.

    A unit that is off on every sample (M_j = 0: a dead ReLU) has exactly zero rows and columns in H
    (its dz/dW1[j,:], dz/db1_j, dz/dw2_j = A_j and its cross term all vanish), so the eigenvalues of H are
    those of the live units' block plus zeros: a dead unit costs nothing. gather holds the flat indices
    of the live parameters [W1[live] row-major, b1[live], w2[live], b2], the layout of MLP([d, h', 1]).
    """
    n, d = X.shape
    h, P = net.layer_sizes[1], net.n_params
    live = np.empty((len(idx), h), dtype=bool)
    for i in range(0, len(idx), 64):                   # Z (64, h, n) at a time
        ch = idx[i:i + 64]
        Z = np.matmul(Ps[ch, :h * d].reshape(len(ch), h, d), X.T)
        Z += Ps[ch, h * d:h * d + h][:, :, None]
        live[i:i + 64] = (Z > 0).any(axis=2)
    live[~live.any(axis=1), 0] = True                  # keep one unit, so every block is a valid MLP
    counts = live.sum(axis=1)
    chunks = []
    for hp in np.unique(counts):
        sel = np.flatnonzero(counts == hp)
        for i in range(0, len(sel), B):
            part = sel[i:i + B]
            units = np.nonzero(live[part])[1].reshape(len(part), hp)        # (B, h') ascending per frame
            gather = np.concatenate([(units[:, :, None] * d + np.arange(d)).reshape(len(part), hp * d),
                                     h * d + units, h * d + h + units, np.full((len(part), 1), P - 1)], axis=1)
            chunks.append((gather, idx[part]))
    return chunks


def _trajectory_lanczos(net, X, y, Ps, D, idx, top, bot, tol, max_iter, seed):
    """Per frame Lanczos on hvp (scaled by D when preconditioned), warm-started from the previous frame's
    eigenvectors plus a little seeded noise (so a start vector is never exactly an eigenvector)."""
    rng = np.random.default_rng(seed)
    P = net.n_params
    v_top = v_bot = None
    misses = 0
    for f in idx:
        op = _hvp_operator(net, Ps[f], X, y)
        d = D[f] if D is not None else None
        mv = (lambda v: op(v[None, :])[0]) if d is None else (lambda v: d * op((d * v)[None, :])[0])
        out = []
        for which, v in (("largest", v_top), ("smallest", v_bot)):
            v0 = None if v is None else v + 1e-3 * rng.standard_normal(P) / np.sqrt(P)
            r = lanczos(mv, P, 1, which, tol, max(1, max_iter), rng, v0=v0)
            misses += not r.converged
            out.append(r)
        top[f], bot[f] = out[0].values[0], out[1].values[0]
        v_top, v_bot = out[0].vectors[:, 0], out[1].vectors[:, 0]
    if misses:
        warnings.warn(f"trajectory_curvature: Lanczos did not reach tol={tol} in max_iter={max_iter} for {misses} "
                      "eigenvalue(s); those are the best estimates", LanczosNotConverged, stacklevel=3)
