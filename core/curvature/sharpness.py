"""Curvature along a trajectory: sharpness, bottom eigenvalue and stability threshold at every frame.

    curv = trajectory_curvature(net, X, y, traj)   # a Trajectory; frames_curvature(net, X, y, params, lr, optimizer,
    ...)
    # -> .sharpness .min_eig .threshold (F,) each, .preconditioned, .label, .computed

Dense (P <= MAX_DENSE_PARAMS): the frames' Hessians built in chunks of up to 16 (core.curvature.second_order; for
one hidden layer only the live units' block, since a dead ReLU adds exact zero eigenvalues), and the
eigenvalues of each stack in one eigvalsh call (the four_optimizers preset: about 0.7 ms a frame
against about 20 ms for central differences + eigh, benchmarks/bench_curvature.py). Above the cap, or
with method "lanczos": per frame, Lanczos (core.curvature.eigensolver) on Hessian-vector products, warm-started from
the previous frame. Stability thresholds and preconditioners live in core/optimizers.py.

Shapes: F frames, P weights, B frames a chunk, P' the live units' weights, n samples.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from core.parallel.chunking import blas_limit, resolve_threads, run_chunks
from core.curvature.eigensolver import check_int, check_seed, check_tol, lanczos
from core.errors import LanczosNotConverged
from core.model.network import MLP
from core.model.optimizers import OPTIMIZERS, is_preconditioned, stability_threshold
from core.curvature.second_order import (MAX_DENSE_PARAMS, METHODS, check_data, check_dense, check_net,
                                         hessian_one_hidden, hessian_stack, hvp_operator, unique_rows)

_MAX_CHUNK = 16                # dense path: at most this many frames a chunk (fewer when P or n is big)
_CHUNK_BYTES = 32 * 2 ** 20    # dense path: working-memory target of one chunk of frames

__all__ = ["TrajectoryCurvature", "trajectory_curvature", "frames_curvature"]


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


def trajectory_curvature(net, X, y, traj, *, stride=1, method="auto", threads=None, tol=1e-10, max_iter=300,
                         seed=0):
    """Sharpness, bottom eigenvalue and stability threshold at every frame of a Trajectory ``traj`` (its params,
    lr, optimizer, hparams and precond); options as in frames_curvature."""
    return frames_curvature(net, X, y, traj.params, traj.lr, traj.optimizer, hparams=traj.hparams,
                            precond=traj.precond, stride=stride, method=method, threads=threads, tol=tol,
                            max_iter=max_iter, seed=seed)


def frames_curvature(net, X, y, params, lr, optimizer, *, hparams=None, precond=None, stride=1,
                     method="auto", threads=None, tol=1e-10, max_iter=300, seed=0):
    """Sharpness, bottom eigenvalue and stability threshold at every frame of a trajectory, given as arrays.

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
    check_net(net)
    X, y = check_data(net, X, y)
    Ps, lr, pc = _check_frames(net, params, lr, optimizer, precond)
    stride = check_int("stride", stride, 1)
    if method not in METHODS:
        raise ValueError(f"method={method!r}: allowed are {', '.join(repr(m) for m in METHODS)}")
    if method == "dense":
        check_dense(net.n_params, "method='dense'")
    tol = check_tol(tol)
    max_iter = check_int("max_iter", max_iter, 1)

    pre = pc is not None
    threshold = np.array([stability_threshold(optimizer, hparams, float(v)) for v in lr])     # (F,)
    computed = _computed_frames(Ps, stride)                                                  # (F,) bool
    idx = np.flatnonzero(computed)
    top = np.full(Ps.shape[0], np.nan)                                                       # (F,)
    bot = np.full(Ps.shape[0], np.nan)                                                       # (F,)
    D = 1.0 / np.sqrt(pc) if pre else None             # (F, P): P^-1/2 H P^-1/2 = D H D
    if method == "lanczos" or (method == "auto" and net.n_params > MAX_DENSE_PARAMS):
        with blas_limit():
            _trajectory_lanczos(net, X, y, Ps, D, idx, top, bot, tol, max_iter, seed)
    else:
        _trajectory_dense(net, X, y, Ps, D, idx, top, bot, threads)
    return TrajectoryCurvature(top, bot, threshold, pre,
                               "preconditioned sharpness" if pre else "sharpness", computed)


def _check_frames(net, params, lr, optimizer, precond):
    """Frames (F, P), learning rates (F,) and the preconditioner (F, P) or None, checked, as float64."""
    P = net.n_params
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
    if not is_preconditioned(optimizer):
        if precond is not None:
            raise ValueError(f"precond: {optimizer!r} has no preconditioner; pass None (only adam and rmsprop use one)")
        return Ps, lr, None
    pc = np.asarray(precond, dtype=np.float64) if precond is not None else None
    if pc is None or pc.shape != (F, P) or not np.all(pc > 0) or not np.all(np.isfinite(pc)):
        raise ValueError(f"precond={'None' if pc is None else 'shape ' + str(pc.shape)}: {optimizer!r} needs its "
                         f"positive diagonal preconditioner at every frame, shape ({F}, {P}) "
                         "(Trajectory.precond)")
    return Ps, lr, pc


def _computed_frames(Ps, stride):
    """(F,) bool: every stride-th frame and the last, where the weights are finite (others stay nan)."""
    computed = np.zeros(Ps.shape[0], dtype=bool)
    computed[::stride] = True
    computed[-1] = True
    computed &= np.all(np.isfinite(Ps), axis=1)
    return computed


# ------------------------------------------------------------------ dense
def _trajectory_dense(net, X, y, Ps, D, idx, top, bot, threads):
    """Top and bottom eigenvalues of the frames idx into top, bot (F,): chunks of B frames, each one stack
    of Hessians (B, P', P') and one eigvalsh call, on ``threads`` threads with one BLAS thread each."""
    P = net.n_params
    B = int(max(1, min(_MAX_CHUNK, _CHUNK_BYTES // (8 * P * max(P, X.shape[0])))))
    if len(net.layer_sizes) == 3:
        chunks = _live_unit_chunks(net, Ps, X, idx, B)
        data = unique_rows(X, y)                       # duplicate samples: one row of J, weighted
    else:
        chunks = [(None, idx[i:i + B]) for i in range(0, len(idx), B)]
        data = None

    def work(chunk):
        gather, frames = chunk
        t, b = _chunk_extremes(net, X, y, Ps, D, gather, frames, data)
        top[frames], bot[frames] = t, b

    with blas_limit():                                 # small GEMMs and eigvalsh: one BLAS thread is fastest
        run_chunks(work, chunks, resolve_threads(threads, len(chunks)))


def _chunk_extremes(net, X, y, Ps, D, gather, frames, data):
    """(top (B,), bottom (B,)) eigenvalues of the (scaled) Hessians of one chunk of frames (B,).
    gather None: all parameters; else (B, P') the live units' parameters, data = unique_rows(X, y)."""
    P = net.n_params
    if gather is None:                                 # all parameters
        H = hessian_stack(net, Ps[frames], X, y, symmetrize=False)                 # (B, P, P)
        d = D[frames] if D is not None else None                                   # (B, P)
    else:                                              # the live units' parameters only
        Xu, yu, cnt = data
        sub = MLP([X.shape[1], (gather.shape[1] - 1) // (X.shape[1] + 2), 1])
        H = hessian_one_hidden(sub, np.take_along_axis(Ps[frames], gather, axis=1), Xu, yu, cnt)   # (B, P', P')
        d = np.take_along_axis(D[frames], gather, axis=1) if D is not None else None          # (B, P')
    if d is not None:
        H *= d[:, :, None]
        H *= d[:, None, :]
    w = np.linalg.eigvalsh(H)                          # (B, P') ascending, one LAPACK loop for the stack
    t, b = w[:, -1], w[:, 0]
    if gather is not None and gather.shape[1] < P:     # dead units: exact zero eigenvalues too
        t, b = np.maximum(t, 0.0), np.minimum(b, 0.0)
    return t, b


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


# ------------------------------------------------------------------ Lanczos
def _trajectory_lanczos(net, X, y, Ps, D, idx, top, bot, tol, max_iter, seed):
    """Per frame Lanczos on hvp (scaled by D when preconditioned), warm-started from the previous frame's
    eigenvectors plus a little seeded noise (so a start vector is never exactly an eigenvector)."""
    rng = check_seed(seed)                              # core.rng.rng_for(seed, "lanczos")
    P = net.n_params
    v_top = v_bot = None
    misses = 0
    for f in idx:
        op = hvp_operator(net, Ps[f], X, y)
        d = D[f] if D is not None else None
        mv = (lambda v: op(v[None, :])[0]) if d is None else (lambda v: d * op((d * v)[None, :])[0])
        out = []
        for which, v in (("largest", v_top), ("smallest", v_bot)):
            v0 = None if v is None else v + 1e-3 * rng.standard_normal(P) / np.sqrt(P)
            r = lanczos(mv, P, k=1, which=which, tol=tol, max_iter=max(1, max_iter), seed=rng, v0=v0)
            misses += not r.converged
            out.append(r)
        top[f], bot[f] = out[0].values[0], out[1].values[0]
        v_top, v_bot = out[0].vectors[:, 0], out[1].vectors[:, 0]
    if misses:
        warnings.warn(f"trajectory_curvature: Lanczos did not reach tol={tol} in max_iter={max_iter} for {misses} "
                      "eigenvalue(s); those are the best estimates", LanczosNotConverged, stacklevel=3)
