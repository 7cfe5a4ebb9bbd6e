"""Extreme eigenpairs of a symmetric operator given only its products: Lanczos, generic NumPy.

    r = lanczos(matvec, n, k=2, which="largest", tol=1e-10, max_iter=300, seed=0)
    # r.values (k,), r.vectors (n, k), r.converged, r.n_iter, r.residuals (k,)

Used on Hessian-vector products (core.curvature.second_order.hessian_eigs above the dense cap, and
core.curvature.sharpness.trajectory_curvature's "lanczos" method), but it knows nothing of networks: ``matvec``
is any symmetric (n,) -> (n,) map. Also home of the argument checks the curvature functions share
(integers, tolerances, seeds, ``which``).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from core.constraints import Choice, Int, Real
from core.rng import rng_for

WHICH = ("largest", "smallest")
_RES_FLOOR = 1e-13   # residuals below this times max |Ritz value| count as converged (rounding floor)
MAX_LANCZOS_FLOATS = 2 ** 26   # the Lanczos basis (min(max_iter, n), n) is refused above this (512 MB)

__all__ = ["lanczos", "LanczosResult", "WHICH", "MAX_LANCZOS_FLOATS"]


def fix_sign(v):
    """Flip ``v`` so its entry of largest magnitude (first on ties) is positive."""
    k = int(np.argmax(np.abs(v)))
    return -v if v[k] < 0 else v


class LanczosResult(NamedTuple):
    values: np.ndarray        # (k,) Ritz values: "largest" descending, "smallest" ascending
    vectors: np.ndarray       # (n, k) unit Ritz vectors, signs fixed (largest-magnitude entry positive)
    converged: bool           # every wanted Ritz value met the residual test
    n_iter: int               # matrix-vector products used
    residuals: np.ndarray     # (k,) ||A u - theta u|| of each returned pair


# ------------------------------------------------------------------ argument checks (core.constraints)
TOL = Real(0.0, 1.0, lo_open=True, hi_open=True)   # the relative residual to reach


def check_int(name, v, lo, hi=None):
    """``int(v)`` when it is an integer in [lo, hi] (hi None: >= lo), else ValueError naming ``name``."""
    return int(Int(lo, hi).check(name, v))


def check_which(which):
    Choice(WHICH).check("which", which)


def check_tol(tol):
    return float(TOL.check("tol", tol))


def check_seed(seed):
    """The Generator of the Lanczos start vectors: core.rng.rng_for(seed, "lanczos") (a Generator as it is)."""
    return rng_for(seed, "lanczos")


def fix_signs(V):
    """Each column of V (n, k) flipped so its entry of largest magnitude (first on ties) is positive."""
    return np.stack([fix_sign(V[:, i]) for i in range(V.shape[1])], axis=1) if V.shape[1] else V


def wanted(theta, k, which):
    """Indices of the k wanted values of ascending theta: largest descending, smallest ascending."""
    return np.arange(len(theta) - 1, len(theta) - 1 - k, -1) if which == "largest" else np.arange(k)


# ------------------------------------------------------------------ Lanczos
class _Ritz(NamedTuple):
    """The Ritz pairs of the current tridiagonal T_j = S diag(theta) S^T and their residual test."""
    theta: np.ndarray          # (j,) ascending
    S: np.ndarray              # (j, j)
    idx: np.ndarray            # (k,) the wanted ones
    residuals: np.ndarray      # (k,) beta_j |S[j, i]|
    converged: bool


def _tridiag_eigh(a, b):
    """Eigen-decomposition of the symmetric tridiagonal matrix with diagonal a (m,), off-diagonal b (m-1,)."""
    T = np.diag(a)
    if len(b):
        i = np.arange(len(b))
        T[i, i + 1] = b
        T[i + 1, i] = b
    return np.linalg.eigh(T)


def _ritz(alpha, beta, b, k, which, tol):
    """Ritz test on alpha (j,), beta (j-1,) with the newest coupling b: residual <= tol |theta| (or the floor)."""
    theta, S = _tridiag_eigh(alpha, beta)
    idx = wanted(theta, k, which)
    res = b * np.abs(S[-1, idx])
    floor = _RES_FLOOR * max(np.abs(theta).max(), 1e-300)
    return _Ritz(theta, S, idx, res, bool(np.all(res <= np.maximum(tol * np.abs(theta[idx]), floor))))


def _orthogonalize(w, Q):
    """w (n,) minus its projection on the rows of Q (j, n), in place: classical Gram-Schmidt, twice."""
    for _ in range(2):
        w -= Q.T @ (Q @ w)


def _check_args(matvec, n, k, which, tol, max_iter, seed):
    """lanczos's arguments checked: returns n, k, tol, max_iter and the Generator of seed."""
    if not callable(matvec):
        raise TypeError(f"matvec={type(matvec).__name__}: expected a callable (n,) -> (n,)")
    n = check_int("n", n, 1)
    k = check_int("k", k, 1, n)
    check_which(which)
    tol = check_tol(tol)
    max_iter = check_int("max_iter", max_iter, k)
    rng = check_seed(seed)
    if min(max_iter, n) * n > MAX_LANCZOS_FLOATS:
        raise ValueError(f"max_iter={max_iter}: the Lanczos basis would hold {min(max_iter, n)} x {n} floats; at most "
                         f"MAX_LANCZOS_FLOATS={MAX_LANCZOS_FLOATS} are allowed, so use max_iter <= "
                         f"{max(1, MAX_LANCZOS_FLOATS // n)}")
    return n, k, tol, max_iter, rng


def _start(n, rng, v0):
    """The unit start vector (n,): v0 (checked) or a standard normal draw of rng."""
    if v0 is None:
        q = rng.standard_normal(n)
    else:
        q = np.array(v0, dtype=np.float64)
        if q.shape != (n,) or not np.all(np.isfinite(q)) or not np.any(q):
            raise ValueError(f"v0 shape {q.shape}: expected a finite non-zero vector of shape ({n},)")
    q /= np.linalg.norm(q)
    return q


def _product(matvec, q, n, j):
    """matvec(q) as a float64 (n,) vector, checked."""
    w = np.asarray(matvec(q), dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"matvec returned shape {w.shape}: expected ({n},)")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"matvec returned non-finite values at iteration {j}: the operator is not finite")
    return w


def lanczos(matvec, n, *, k=1, which="largest", tol=1e-10, max_iter=300, seed=0, v0=None):
    """k extreme eigenpairs of a symmetric operator by Lanczos with full reorthogonalization.

    matvec: (n,) -> (n,), symmetric. Start vector: v0 (warm start) or a standard normal vector from
    ``core.rng.rng_for(seed, "lanczos")``. Steps: q_1 = start / |start|; for j = 1, 2, ...:
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
    n, k, tol, max_iter, rng = _check_args(matvec, n, k, which, tol, max_iter, seed)
    q = _start(n, rng, v0)                             # (n,)
    m = min(max_iter, n)
    Q = np.empty((m, n))                               # rows: the orthonormal Lanczos basis
    alpha = np.zeros(m)                                # (m,) diagonal of T
    beta = np.zeros(m)                                 # (m,) beta[j] couples q_j and q_{j+1}
    scale = 0.0                                        # running bound on ||T||
    for j in range(m):
        Q[j] = q
        w = _product(matvec, q, n, j)
        alpha[j] = q @ w
        _orthogonalize(w, Q[:j + 1])
        b = float(np.linalg.norm(w))
        beta[j] = b
        scale = max(scale, abs(alpha[j]) + b + (beta[j - 1] if j else 0.0))
        invariant = b <= 1e-12 * scale
        last = j + 1 == m
        if j + 1 >= k and (last or not invariant) and (j < 40 or j % 4 == 0 or last):
            ritz = _ritz(alpha[:j + 1], beta[:j], b, k, which, tol)
            if ritz.converged or last:
                break
        if invariant:                                  # restart in the orthogonal complement
            w = rng.standard_normal(n)
            _orthogonalize(w, Q[:j + 1])
            b = float(np.linalg.norm(w))
            beta[j] = 0.0
        q = w / b
    n_iter = j + 1
    vecs = Q[:n_iter].T @ ritz.S[:, ritz.idx]          # (n, k) Ritz vectors
    vecs /= np.linalg.norm(vecs, axis=0)
    return LanczosResult(ritz.theta[ritz.idx].copy(), fix_signs(vecs), ritz.converged, n_iter, ritz.residuals)
