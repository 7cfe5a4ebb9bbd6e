"""Planes through weight space: a center and two directions.

A :class:`Plane` is the affine 2-D slice ``theta(alpha, beta) = center +
alpha * d1 + beta * d2`` of the flat parameter vector of an :class:`~core.model.network.MLP`.
Five ways to choose it (``make_plane``):

``"random"``
    Two independent Gaussian directions, filter-normalized (Li et al. 2018):
    for a dense layer a *filter* is one output neuron, i.e. one row of ``W``
    (shape (out, in)); each row of the direction is rescaled to the norm of the
    same row of the center's weights. Bias directions are zero by default
    (``ignore_bias=True``); with ``ignore_bias=False`` the bias direction is a copy
    of the center's biases, ``d_b = b``, as Li et al.'s code does for every
    one-dimensional parameter (with "filter" and "layer" normalisation; "none"
    keeps the Gaussian draw).
``"pca"``
    The top two right singular vectors of the stacked displacements
    ``theta_t - center`` of every recorded step of every trajectory, *without*
    removing the mean, so the center sits at (0, 0) and the plane best
    reconstructs the displacements. ``explained_variance[k] = s_k^2 / sum(s^2)``.
    ``center_mean=True`` removes the mean first, as sklearn's PCA and Li et al.
    do; that plane is labelled ``"pca-centered"``. Directions have unit norm and
    a deterministic sign (the entry of largest magnitude is positive; the first
    such entry on ties). When every displacement lies on one line (rank 1, e.g.
    one step of SGD-like optimizers), d2 is a seeded filter-normalized random
    direction made orthogonal to d1 and the plane is labelled ``"pca+random"``.
``"pca_balanced"``
    As "pca", but each trajectory's block of displacements is first scaled to unit Frobenius norm, so every
    run weighs the same in the SVD (plain PCA belongs to the run that moves furthest: on four_optimizers the
    large-LR run holds 79% of the stacked squared displacement). ``explained_variance`` is then of the
    weighted stack. Labelled ``"pca_balanced"``.
``"interpolation"``
    ``d1`` runs from the center to the other end of the first trajectory: to its
    initial weights (``params0 - center``; the center defaults to its final
    weights, so alpha = 0 is the final and alpha = 1 the initial weights), or, when
    the center is those initial weights, to its final weights.
    ``d2`` is a seeded filter-normalized random direction, made orthogonal to
    ``d1`` (Gram-Schmidt) and rescaled to ``||d1||`` so both axes share one
    length scale.
``"hessian"``
    The top two unit eigenvectors of the training loss's Hessian at the center
    (core.curvature.hessian_eigs, signs fixed), with their eigenvalues in
    ``plane.eigenvalues``: the directions the loss curves up fastest (PyHessian's
    1-D plots, here in 2-D). Needs ``data=(X, y)``.

Randomness comes only from the "directions" stream of ``seed`` (core.rng.rng_for; or a Generator
passed in); the same seed gives bit-identical planes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.curvature.second_order import hessian_eigs
from core.curvature.eigensolver import fix_sign
from core.errors import quote
from core.rng import rng_for

PLANE_METHODS = ("random", "pca", "pca_balanced", "interpolation", "hessian")
NORMALIZATIONS = ("filter", "layer", "none")
_EPS = 1e-10

__all__ = ["Plane", "PLANE_METHODS", "NORMALIZATIONS", "random_direction", "renormalize", "make_plane"]


def _as_vector(value, name, n_params):
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n_params,):
        raise ValueError(f"{name} has shape {arr.shape}: expected a flat vector of shape ({n_params},)")
    return arr


@dataclass
class Plane:
    """``center + alpha * d1 + beta * d2``; all three flat float64 vectors of shape (P,).

    ``explained_variance`` is ``[s1^2, s2^2] / sum(s^2)`` for PCA planes, else None.
    """

    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    method: str
    explained_variance: np.ndarray | None = None
    eigenvalues: np.ndarray | None = None          # (2,) Hessian eigenvalues of d1, d2 (hessian planes)

    def __post_init__(self):
        self.center = np.array(self.center, dtype=np.float64)
        if self.center.ndim != 1:
            raise ValueError(f"plane center has shape {self.center.shape}: expected a flat vector (P,)")
        n = self.center.shape[0]
        self.d1 = _as_vector(self.d1, "plane d1", n).copy()
        self.d2 = _as_vector(self.d2, "plane d2", n).copy()
        self.method = str(self.method)
        if self.explained_variance is not None:
            ev = np.array(self.explained_variance, dtype=np.float64)
            if ev.shape != (2,):
                raise ValueError(f"explained_variance has shape {ev.shape}: expected (2,) or None")
            self.explained_variance = ev
        if self.eigenvalues is not None:
            lam = np.array(self.eigenvalues, dtype=np.float64)
            if lam.shape != (2,):
                raise ValueError(f"eigenvalues has shape {lam.shape}: expected (2,) or None")
            self.eigenvalues = lam

    @property
    def n_params(self):
        return self.center.shape[0]

    def point(self, alpha, beta):
        """The flat parameter vector at (alpha, beta)."""
        return self.center + alpha * self.d1 + beta * self.d2

    def to_arrays(self) -> dict:
        """Plain arrays for ``np.savez`` (loadable with ``allow_pickle=False``); keys start with ``plane_``."""
        ev = np.zeros(0) if self.explained_variance is None else self.explained_variance.copy()
        lam = np.zeros(0) if self.eigenvalues is None else self.eigenvalues.copy()
        return {
            "plane_eigenvalues": lam,                         # shape (0,) means None
            "plane_center": self.center.copy(),
            "plane_d1": self.d1.copy(),
            "plane_d2": self.d2.copy(),
            "plane_method": np.array(self.method),          # 0-d unicode array, no pickle
            "plane_explained_variance": ev,                  # shape (0,) means None
        }

    @classmethod
    def from_arrays(cls, d) -> "Plane":
        """Inverse of :meth:`to_arrays`; ``d`` is a dict or an ``np.load`` result."""
        missing = [k for k in ("plane_center", "plane_d1", "plane_d2", "plane_method") if k not in d]
        if missing:
            raise ValueError(f"plane arrays: missing keys {missing}")
        ev = np.asarray(d["plane_explained_variance"]) if "plane_explained_variance" in d else np.zeros(0)
        lam = np.asarray(d["plane_eigenvalues"]) if "plane_eigenvalues" in d else np.zeros(0)
        return cls(
            center=np.asarray(d["plane_center"], dtype=np.float64),
            d1=np.asarray(d["plane_d1"], dtype=np.float64),
            d2=np.asarray(d["plane_d2"], dtype=np.float64),
            method=str(np.asarray(d["plane_method"]).item()),
            explained_variance=None if ev.size == 0 else ev,
            eigenvalues=None if lam.size == 0 else lam,
        )


# ---------------------------------------------------------------- directions
def _check_normalize(normalize):
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize={quote(normalize)}: allowed are {', '.join(map(repr, NORMALIZATIONS))}")


def _normalize(net, direction, center, normalize, ignore_bias):
    """Return a normalized copy of ``direction`` (see module docstring)."""
    _check_normalize(normalize)
    d = np.array(direction, dtype=np.float64)
    for wsl, shape, bsl in net.layout:
        if normalize == "filter":
            W = center[wsl].reshape(shape)
            D = d[wsl].reshape(shape)                      # view into d
            D *= (np.linalg.norm(W, axis=1) / (np.linalg.norm(D, axis=1) + _EPS))[:, None]
        elif normalize == "layer":
            d[wsl] *= np.linalg.norm(center[wsl]) / (np.linalg.norm(d[wsl]) + _EPS)
        if ignore_bias:
            d[bsl] = 0.0
        elif normalize in ("filter", "layer"):
            d[bsl] = center[bsl]                       # Li et al. 2018: a bias direction copies the bias
    return d


def random_direction(net, center, rng, normalize="filter", ignore_bias=True):
    """A Gaussian direction (P,), normalized to ``center``.

    ``rng``: a ``numpy.random.Generator`` or an int seed. ``normalize``:
    ``"filter"`` (each row of each W to the norm of the same row of the center),
    ``"layer"`` (each W to the Frobenius norm of the center's W) or ``"none"``.
    Biases: zero when ``ignore_bias`` (default), else a copy of the center's biases ("filter", "layer"; Li et
    al. 2018) or the raw draw ("none").
    One ``standard_normal(P)`` draw per call.
    """
    center = _as_vector(center, "center", net.n_params)
    _check_normalize(normalize)
    rng = rng_for(rng, "directions")
    d = rng.standard_normal(net.n_params)
    return _normalize(net, d, center, normalize, ignore_bias)


def renormalize(net, direction, center, normalize="filter", ignore_bias=True):
    """Rescale an existing ``direction`` to a new ``center`` (e.g. a moving landscape's frame)."""
    center = _as_vector(center, "center", net.n_params)
    direction = _as_vector(direction, "direction", net.n_params)
    return _normalize(net, direction, center, normalize, ignore_bias)


def _trajectory_params(trajectories, n_params):
    if trajectories is None:
        return None
    if not isinstance(trajectories, (list, tuple)) or len(trajectories) == 0:
        raise ValueError(f"trajectories={type(trajectories).__name__}: give a non-empty list of trajectories "
                         "(objects with .params of shape (frames, P))")
    out = []
    for i, t in enumerate(trajectories):
        params = getattr(t, "params", None)
        if params is None:
            raise ValueError(f"trajectories[{i}] has no .params: expected an object with .params (frames, P)")
        params = np.asarray(params, dtype=np.float64)
        if params.ndim != 2 or params.shape[1] != n_params or params.shape[0] < 1:
            raise ValueError(f"trajectories[{i}].params has shape {params.shape}: "
                             f"expected (frames >= 1, {n_params})")
        out.append(params)
    return out


def make_plane(method, net, center=None, trajectories=None, seed=0, normalize="filter",
               ignore_bias=True, center_mean=False, data=None) -> Plane:
    """Build a :class:`Plane` ("random", "pca", "pca_balanced", "interpolation" or "hessian"; see the module
    docstring).

    ``center`` (P,) defaults to the final weights of ``trajectories[0]`` when
    trajectories are given. ``seed`` (int or Generator) drives the random
    directions ("random", and ``d2`` of "interpolation"); PCA uses no randomness.
    ``data``: (X, y), the training data whose Hessian at the center gives a "hessian" plane.
    """
    if method not in PLANE_METHODS:
        raise ValueError(f"method={quote(method)}: allowed are {', '.join(map(repr, PLANE_METHODS))}")
    _check_normalize(normalize)
    P = net.n_params
    trajs = _trajectory_params(trajectories, P)
    if center is None:
        if trajs is None:
            raise ValueError(f"center=None and trajectories=None: method {quote(method)} needs a center (P,) "
                             "or trajectories to take the final weights from")
        center = trajs[0][-1]
    center = _as_vector(center, "center", P).copy()
    rng = rng_for(seed, "directions")

    if method == "hessian":
        return _hessian_plane(net, center, data)
    if method == "random":
        d1 = random_direction(net, center, rng, normalize, ignore_bias)
        d2 = random_direction(net, center, rng, normalize, ignore_bias)
        return Plane(center, d1, d2, "random")
    if trajs is None:
        raise ValueError(f"trajectories=None: method {quote(method)} needs a list of trajectories")
    if method in ("pca", "pca_balanced"):
        return _pca_plane(net, center, trajs, rng, normalize, ignore_bias, center_mean,
                          balanced=method == "pca_balanced")
    return _interpolation_plane(net, center, trajs, rng, normalize, ignore_bias)


def _pca_plane(net, center, trajs, rng, normalize, ignore_bias, center_mean, balanced=False):
    """The top two right singular vectors of the displacements from the center (see the module docstring);
    ``balanced``: each run's block scaled to unit Frobenius norm first."""
    blocks = [p[np.all(np.isfinite(p), axis=1)] - center for p in trajs] if balanced else [p - center for p in trajs]
    if balanced:
        norms = [float(np.linalg.norm(b)) for b in blocks]
        blocks = [b / n for b, n in zip(blocks, norms) if n > 0] or blocks
    M = np.concatenate(blocks, axis=0)                           # (sum frames, P)
    label = "pca_balanced" if balanced else "pca"
    if center_mean:
        M = M - M.mean(axis=0)
        label = "pca-centered"
    _, s, vt = np.linalg.svd(M, full_matrices=False)             # s (r,), vt (r, P)
    tol = (s[0] if s.size else 0.0) * max(M.shape) * np.finfo(np.float64).eps
    rank = int(np.sum(s > tol)) if s.size and s[0] > 0 else 0
    if rank == 0:
        raise ValueError(
            f"method='pca': the trajectories never leave the center ({M.shape[0]} recorded point(s)), so "
            "PCA needs at least 2 directions of movement and finds none. Train longer, record more "
            "frames, or use method='random'")
    total = float(np.sum(s ** 2))
    ev = s[:2] ** 2 / total
    d1 = fix_sign(vt[0])
    if rank == 1:
        # every path moves along one line (e.g. a single step of SGD-like optimizers): keep that
        # direction and complete the plane with a filter-normalized random one, orthogonal, unit norm
        d2 = _orthogonal_random(net, center, rng, normalize, ignore_bias, d1, unit=True)
        return Plane(center, d1, d2, label + "+random", explained_variance=np.array([ev[0], 0.0]))
    return Plane(center, d1, fix_sign(vt[1]), label, explained_variance=ev)


def _interpolation_plane(net, center, trajs, rng, normalize, ignore_bias):
    """From the center to the other end of the first run, and an orthogonal random direction as long."""
    d1 = trajs[0][0] - center
    if not np.any(d1):
        d1 = trajs[0][-1] - center
    if not np.any(d1):
        raise ValueError("method='interpolation': both ends of trajectories[0] equal the center, so the "
                         "interpolation direction is zero; choose another center or trajectory")
    d2 = _orthogonal_random(net, center, rng, normalize, ignore_bias, d1, unit=False)
    return Plane(center, d1, d2, "interpolation")


def _hessian_plane(net, center, data):
    """The top two unit eigenvectors of the training loss's Hessian at the center (signs fixed), their
    eigenvalues kept: the two directions along which the loss curves up fastest there."""
    if data is None:
        raise ValueError("method='hessian': needs data=(X, y), the training data whose Hessian gives the plane")
    X, y = data
    vals, vecs = hessian_eigs(net, center, X, y, k=2, which="largest")
    return Plane(center, vecs[:, 0], vecs[:, 1], "hessian", eigenvalues=vals)


def _orthogonal_random(net, center, rng, normalize, ignore_bias, d1, unit):
    """A normalized random direction made orthogonal to d1 (Gram-Schmidt, two passes against rounding),
    rescaled to unit norm or to |d1|. If normalization leaves nothing orthogonal (e.g. all-zero weights
    with filter norm), a plain Gaussian direction is used instead."""
    for r in (random_direction(net, center, rng, normalize, ignore_bias), rng.standard_normal(d1.shape[0])):
        for _ in range(2):
            r = r - (r @ d1) / (d1 @ d1) * d1
        nr = float(np.linalg.norm(r))
        if nr > 0.0:
            break
    return r * ((1.0 if unit else float(np.linalg.norm(d1))) / nr)
