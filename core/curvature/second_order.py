"""Exact second order of ``net.loss``: Hessian-vector products, dense Hessians, extreme eigenvalues.

    Hv = hvp(net, p, X, y, V)                 # V (P,) or (P, k) -> same shape
    H = hessian(net, p, X, y)                 # (P, P), exactly symmetric, P <= MAX_DENSE_PARAMS
    vals, vecs = hessian_eigs(net, p, X, y, k=2, which="largest")

hvp is the R-operator over the hand-written backprop (any depth). hessian: a closed form for one hidden
layer, hvp over the identity deeper. hessian_eigs: dense eigh up to MAX_DENSE_PARAMS, else Lanczos
(core.curvature.eigensolver, full reorthogonalization) on hvp. Curvature along a whole trajectory:
core.curvature.sharpness.

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

import warnings

import numpy as np

from core.constraints import Choice
from core.parallel.chunking import blas_limit
from core.errors import LanczosNotConverged
from core.curvature.eigensolver import check_int, check_seed, check_tol, check_which, fix_signs, lanczos, wanted
from core.model.network import MLP, sigmoid

MAX_DENSE_PARAMS = 4000        # dense (P, P) Hessians and eigh above this (128 MB, eigh takes seconds): use Lanczos
_CHUNK_BYTES = 32 * 2 ** 20    # working-memory target of one block of vectors (hvp over many vectors)
METHODS = ("auto", "dense", "lanczos")

__all__ = ["hvp", "hessian", "hessian_eigs", "hvp_operator", "hessian_stack", "hessian_one_hidden", "unique_rows",
           "MAX_DENSE_PARAMS", "METHODS", "check_net", "check_params", "check_data", "check_dense"]


# ------------------------------------------------------------------ checks
def check_net(net):
    """A core.MLP, or TypeError."""
    if not isinstance(net, MLP):
        raise TypeError(f"net={type(net).__name__}: expected a core.MLP")


def check_params(net, params, name="params"):
    """A real vector (P,) as float64."""
    p = np.asarray(params)
    if p.dtype.kind not in "fiu" or p.shape != (net.n_params,):
        raise ValueError(f"{name} shape {p.shape} dtype {p.dtype}: expected a real vector of shape "
                         f"({net.n_params},) for {net!r}")
    return p.astype(np.float64, copy=False)


def check_data(net, X, y):
    """X (n, d) and y (n,) as float64, n >= 1."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d = net.layer_sizes[0]
    if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1:
        raise ValueError(f"X shape {X.shape}: expected (n, {d}) with n >= 1 for {net!r}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y shape {y.shape}: expected ({X.shape[0]},), one label per row of X")
    return X, y


def check_dense(P, what="a dense Hessian"):
    """Refuse dense (P, P) work above MAX_DENSE_PARAMS."""
    if P > MAX_DENSE_PARAMS:
        raise ValueError(f"n_params={P}: {what} is allowed up to MAX_DENSE_PARAMS={MAX_DENSE_PARAMS} parameters; "
                         f"use hessian_eigs(..., method='lanczos') (Lanczos on Hessian-vector products) instead")


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
    check_net(net)
    p = check_params(net, params)
    X, y = check_data(net, X, y)
    V = np.asarray(V)
    P = net.n_params
    if V.dtype.kind not in "fiu" or V.ndim not in (1, 2) or V.shape[0] != P or (V.ndim == 2 and V.shape[1] < 1):
        raise ValueError(f"V shape {V.shape}: expected ({P},) or ({P}, k) with k >= 1 for {net!r}")
    single = V.ndim == 1
    VT = np.ascontiguousarray((V[None, :] if single else V.T), dtype=np.float64)     # (k, P)
    HV = _apply_blocked(hvp_operator(net, p, X, y), VT, net, X.shape[0])
    return HV[0] if single else HV.T


def _apply_blocked(op, VT, net, n):
    """op over the rows of VT (k, P) in blocks, so the R-pass arrays (block, width, n) stay near _CHUNK_BYTES."""
    kb = max(1, _CHUNK_BYTES // (8 * n * max(net.layer_sizes)))
    if VT.shape[0] <= 8:                               # a few vectors: as they come
        return op(VT)
    with blas_limit():                                # many small GEMMs: one BLAS thread is fastest here
        return np.concatenate([op(VT[i:i + kb]) for i in range(0, VT.shape[0], kb)])


def hvp_operator(net, p, X, y):
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
def unique_rows(X, y):
    """Identical rows of X give identical rows of J: merge them. -> (X_u (m, d), y summed (m,), counts (m,))."""
    Xu, inv, cnt = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    return Xu, np.bincount(inv.ravel(), weights=y, minlength=len(Xu)), cnt.astype(np.float64)


def hessian_one_hidden(net, Ps, X, y, counts=None):
    """Closed form for one hidden layer, a stack of B parameter vectors Ps (B, P) -> (B, P, P).

    counts (m,): X holds m distinct rows, row i standing for counts[i] samples whose labels sum to y[i]
    (``unique_rows``); the mean is still over all sum(counts) samples. None: every row once.

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


def hessian_stack(net, Ps, X, y, symmetrize=True):
    """Dense Hessians of a stack of parameter vectors Ps (B, P) -> (B, P, P); exactly symmetric with
    symmetrize=True ((H + H^T) / 2; eigvalsh reads one triangle, so the trajectory path skips it)."""
    if len(net.layer_sizes) == 3:
        H = hessian_one_hidden(net, Ps, X, y)
    else:
        P = net.n_params                                         # hvp over the identity, in column blocks
        H = np.empty((len(Ps), P, P))
        for f, p in enumerate(Ps):
            H[f] = _apply_blocked(hvp_operator(net, p, X, y), np.eye(P), net, X.shape[0])
    if symmetrize:
        H += H.transpose(0, 2, 1)
        H *= 0.5
    return H


def hessian(net, params, X, y):
    """Dense Hessian (P, P) of ``net.loss`` at ``params``, exactly symmetric ((H + H^T)/2).

    One hidden layer: the closed form of ``hessian_one_hidden``; deeper: ``hvp`` over the identity
    (all P vectors in one pass). Same convention at ReLU kinks as ``hvp``. Refused above
    MAX_DENSE_PARAMS parameters: use ``hessian_eigs`` (Lanczos on hvp) instead.
    """
    check_net(net)
    check_dense(net.n_params)
    p = check_params(net, params)
    X, y = check_data(net, X, y)
    return hessian_stack(net, p[None, :], X, y)[0]


# ------------------------------------------------------------ eigenvalues
def hessian_eigs(net, params, X, y, k=2, which="largest", method="auto", tol=1e-10, max_iter=300, seed=0):
    """k extreme eigenvalues (k,) and unit eigenvectors (P, k) of the Hessian of ``net.loss``.

    which: "largest" (most positive, sorted descending) or "smallest" (most negative, ascending).
    method: "auto" = "dense" when P <= MAX_DENSE_PARAMS, else "lanczos"; "dense" = numpy eigh of
    ``hessian``; "lanczos" = ``lanczos`` on ``hvp`` (tol, max_iter and seed apply only to it; if it
    does not converge within max_iter, a LanczosNotConverged warning and the best estimates).
    Eigenvector signs: entry of largest magnitude positive (first on ties).
    """
    check_net(net)
    P = net.n_params
    k = check_int("k", k, 1, P)
    check_which(which)
    Choice(METHODS).check("method", method)
    tol = check_tol(tol)
    max_iter = check_int("max_iter", max_iter, k)
    check_seed(seed)
    p = check_params(net, params)
    X, y = check_data(net, X, y)
    if method == "dense":
        check_dense(P, "method='dense'")
    if method == "lanczos" or (method == "auto" and P > MAX_DENSE_PARAMS):
        op = hvp_operator(net, p, X, y)
        with blas_limit():
            r = lanczos(lambda v: op(v[None, :])[0], P, k=k, which=which, tol=tol, max_iter=max_iter, seed=seed)
        if not r.converged:
            warnings.warn(f"hessian_eigs: Lanczos did not reach tol={tol} in max_iter={max_iter} iterations "
                          f"(residuals {r.residuals}); returning the best estimates", LanczosNotConverged,
                          stacklevel=2)
        return r.values, r.vectors
    w, V = np.linalg.eigh(hessian_stack(net, p[None, :], X, y)[0])
    idx = wanted(w, k, which)
    return w[idx], fix_signs(V[:, idx])

