"""Training loop that records the weight trajectory.

    traj = train(net, p0, ds, opt, steps=2000, batch_size=None, record_every=10, seed=0)
    trajs = train_batch(net, p0s, ds, opts, steps=500, seeds=[0, 1, 2])   # many runs together, the same bits

Recorded frames: step 0 (the initial weights), every ``record_every`` steps, and
always the last step. For each frame: the parameters, the full-batch training
loss, train and test accuracy, and the learning rate of that step; for optimizers
with a diagonal preconditioner (adam, rmsprop) also the preconditioner that step's
update divides by (``Trajectory.precond``, for the preconditioned sharpness).

Divergence: when the full-batch loss (or, with mini-batches, the batch loss)
at step t is non-finite or above ``diverge_factor`` (default 100) times
max(initial loss, ln 2) -- about 69 from a fresh initialization, a BCE that
means logits of about 70 on the wrong side -- or the parameters stop being
finite, training stops with ``diverged_at = t``. The frames recorded
before t are kept, and the last finite parameters before t become the last
frame, so a diverging run still has a path to draw.

Failure (core.model.failure): every frame records its live units (the fewest units alive on the training data
in any hidden layer), and ``failed_at`` is the first step from which the run is judged failed: diverged, a
hidden layer dead, or a final loss at or above min(L0, H(mean y)). ``peak_loss``, ``spiked`` and
``nonmonotone`` read the per-step history.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from core.constraints import Int, Optional
from core.errors import quote
from core.model import failure
from core.model.batched_training import by_family, descend, runs_per_turn
from core.model.optimizers import Optimizer
from core.rng import rng_for

MAX_STEPS = 200_000
MAX_FRAMES = 1000
DIVERGE_FACTOR = 100.0
STEPS = Int(1, MAX_STEPS)                            # steps and record_every
BATCH_SIZE = Optional(Int(1, 10**9), "full batch")   # rows a step (the data's own size caps it)


@dataclass
class Trajectory:
    params: np.ndarray        # (F, P) float64; params[0] == p0, the last row the last step kept
    steps: np.ndarray         # (F,) int64 step index of each frame
    loss: np.ndarray          # (F,) full-batch training loss at each frame
    train_acc: np.ndarray     # (F,)
    test_acc: np.ndarray      # (F,) nan when the dataset has no test rows
    lr: np.ndarray            # (F,) learning rate used at that step
    diverged_at: int | None = None          # step at which the loss exploded, or None
    loss_history: np.ndarray = None         # (steps+1,) loss at every step (batch loss with mini-batches)
    label: str = ""
    optimizer: str = ""
    hparams: dict = field(default_factory=dict)
    # (F, P) the diagonal preconditioner P_t the update at each frame's step divides by (adam: sqrt(v_hat)
    # + eps, rmsprop: sqrt(s) + eps; see Optimizer.preconditioner), None for the SGD family
    precond: np.ndarray = None
    # curvature at each frame (core.curvature.trajectory_curvature; None until computed): the top and bottom
    # Hessian eigenvalue (of P^-1/2 H P^-1/2 for adam and rmsprop) and the optimizer's stability threshold
    # at that frame's learning rate, each (F,); nan at frames a stride skipped
    sharpness: np.ndarray = None
    min_eig: np.ndarray = None
    threshold: np.ndarray = None
    # (F,) int64 units alive on the training data in the emptiest hidden layer at each frame (core.model.failure);
    # None when unknown (a file without it and without its training data)
    live_units: np.ndarray = None
    failed_at: int | None = None            # first step from which the run is judged failed (core.model.failure)

    @property
    def final_loss(self):
        return float(self.loss[-1])

    @property
    def failed(self):
        return self.failed_at is not None

    @property
    def peak_loss(self):
        """The largest per-step loss (core.model.failure.peak_loss; the recorded losses without a history)."""
        return failure.peak_loss(self.loss_history if self.loss_history is not None else self.loss)

    @property
    def spiked(self):
        """The per-step loss went above its initial value after step 0 (core.model.failure.spiked)."""
        return failure.spiked(self.loss_history if self.loss_history is not None else self.loss)

    @property
    def nonmonotone(self):
        """The per-step loss rose within the first failure.NONMONOTONE_STEPS steps (None without a history)."""
        return None if self.loss_history is None else failure.nonmonotone(self.loss_history)

    def steps_to(self, target):
        """First step whose recorded loss is below ``target`` (every step when full batch), or None."""
        hist = self.loss_history if self.loss_history is not None else self.loss
        idx = np.flatnonzero(hist < target)
        if not len(idx):
            return None
        i = int(idx[0])
        return i if self.loss_history is not None else int(self.steps[i])

    def curvature_summary(self):
        """(peak sharpness, final sharpness / threshold, share of computed frames at or above the threshold);
        Nones without curvature. The final values are those of the last computed frame."""
        if self.sharpness is None:
            return None, None, None
        ok = np.isfinite(self.sharpness)
        if not ok.any():
            return None, None, None
        s, thr = self.sharpness[ok], self.threshold[ok]
        last = s[-1] / thr[-1] if np.isfinite(thr[-1]) and thr[-1] > 0 else 0.0
        return float(s.max()), float(last), float(np.mean(s >= thr))

    def path_length(self):
        """Sum of the Euclidean distances between consecutive recorded frames (in weight space)."""
        return float(np.sum(np.linalg.norm(np.diff(self.params, axis=0), axis=1)))


def frame_index(steps, step):
    """Index of the last recorded frame at or before ``step`` in a sorted ``steps`` array (runs that
    stopped early stay at their last frame)."""
    return max(0, int(np.searchsorted(steps, step, side="right") - 1))


def record_plan(steps, record_every):
    """Sorted step indices to record: 0, k, 2k, ... and always ``steps``."""
    idx = list(range(0, steps + 1, record_every))
    if idx[-1] != steps:
        idx.append(steps)
    return idx


def check_plan(steps, record_every):
    """The recorded steps of a run (record_plan), after checking ``steps`` and ``record_every``."""
    STEPS.check("steps", steps)
    STEPS.check("record_every", record_every)
    plan = record_plan(int(steps), int(record_every))
    if len(plan) > MAX_FRAMES:
        raise ValueError(f"record_every={record_every}: {steps} steps would record {len(plan)} frames; "
                         f"at most {MAX_FRAMES} are allowed, so use record_every >= {-(-steps // (MAX_FRAMES - 1))}")
    return plan


def train(net, p0, ds, opt, *, steps=2000, batch_size=None, record_every=10, seed=0,
          diverge_factor=DIVERGE_FACTOR, label="", progress=None):
    """Run ``steps`` updates of ``opt`` from ``p0``; return a Trajectory.

    batch_size=None (or >= the number of training rows): full-batch gradient
    descent. Otherwise seeded mini-batches: each epoch a new permutation from
    the "batches" stream of ``seed`` (core.rng); the recorded loss is still the full-batch loss.
    progress: optional callable(steps_done) for progress bars, called every 1000 steps and at the end.

    train_batch with one run: the steps run in core.model.batched_training (preallocated buffers, no allocation
    a step), with the numbers of MLP.loss_and_grad and opt.update, step by step.
    """
    return train_batch(net, np.asarray(p0, dtype=np.float64)[None], ds, [opt], steps=steps, batch_size=batch_size,
                       record_every=record_every, seeds=[seed], diverge_factor=diverge_factor, labels=[label],
                       progress=progress)[0]


def train_batch(net, p0s, ds, opts, *, steps=2000, batch_size=None, record_every=10, seeds=0,
                diverge_factor=DIVERGE_FACTOR, labels=None, progress=None, exact=True):
    """Train R runs of ``net`` on ``ds`` together (core.model.batched_training); return their Trajectories, in
    the order given, each with the bits ``train`` gives that run alone (exact=True, the default).

    p0s (R, P): each run's initial weights. opts: one Optimizer a run (or one for all); seeds: each run's
    mini-batch order (the "batches" stream of each seed, core.rng; one for all, or one a run); labels: each
    run's label (default its optimizer's name). steps, batch_size, record_every, diverge_factor: as ``train``,
    the same for every run. The runs go in turns of at most batched_training.MAX_BATCH_BYTES of buffers.
    progress(done): about every 1000 steps of all runs together (every 1000 steps for one run) and at the end,
    ``done`` counting the steps of all runs (a run that diverged counts as finished); raise from it to stop.
    exact=False (opt-in; nothing in the package uses it): for a one-hidden-layer network, the fused kernel (fewer
    passes over the hidden layer, 16-18% less CPU); each run then differs from ``train``'s in the last bits, and
    by more near the edge of stability (measured bounds: batched_training's notes), but not with the other runs
    of the batch, so any split into batches gives the same bits.
    """
    plan = check_plan(steps, record_every)
    BATCH_SIZE.check("batch_size", batch_size)
    P0 = np.asarray(p0s, dtype=np.float64)
    if P0.ndim != 2 or P0.shape[1] != net.n_params or not len(P0):
        raise ValueError(f"p0s shape {P0.shape}: expected (runs, {net.n_params}), one row of initial weights a run "
                         f"for {quote(net)}")
    R = len(P0)
    opts = _per_run("opts", opts, R)
    for i, o in enumerate(opts):
        if not isinstance(o, Optimizer):
            raise TypeError(f"opts[{i}]={type(o).__name__}: expected a core.optimizers.Optimizer "
                            "(core.optimizers.make)")
    rngs = [rng_for(s, "batches") for s in _per_run("seeds", seeds, R)]     # checks each seed
    labels = _per_run("labels", labels, R) if labels is not None else [""] * R
    X = np.asarray(ds.X_train, dtype=np.float64)
    y = np.asarray(ds.y_train, dtype=np.float64)
    n = len(y)
    mini = batch_size is not None and batch_size < n
    frames = [_Frames(net, ds, o) for o in opts]
    order = by_family(opts)                                  # runs of one stacked update on contiguous rows
    per_turn = runs_per_turn(net, batch_size if mini else n, mini)
    hist, div = [None] * R, [None] * R
    done = 0
    for lo in range(0, R, per_turn):
        turn = order[lo:lo + per_turn]
        tick = (lambda t, base=done, k=len(turn): progress(base + t * k)) if progress is not None else None
        batches = (batch_size, [_batches(n, batch_size, rngs[r]) for r in turn]) if mini else None
        h, dv = descend(net, X, y, P0[turn], opts=[opts[r] for r in turn], steps=steps, record_set=set(plan),
                        batches=batches, diverge_factor=diverge_factor, frames=[frames[r] for r in turn], tick=tick,
                        fused=not exact)
        for r, hr, dr in zip(turn, h, dv):
            hist[r], div[r] = hr, dr
        done += len(turn) * steps
    if progress is not None:
        progress(done)
    trajs = [frames[r].trajectory(hist[r], div[r], labels[r], net.n_params) for r in range(R)]
    constant = failure.constant_loss(ds.y_train)
    for tr in trajs:
        tr.failed_at = failure.failed_at(tr, constant)
    return trajs


def _per_run(name, value, R):
    """``value`` as a list of R (a list or tuple given one a run, anything else repeated)."""
    vals = list(value) if isinstance(value, (list, tuple)) else [value] * R
    if len(vals) != R:
        raise ValueError(f"{name}: {len(vals)} given for {R} runs; give one a run, or one for all")
    return vals


class _Frames:
    """The recorded frames of a run, one list entry a frame: weights, step, full-batch loss, train and test
    accuracy, learning rate, and (adam, rmsprop) the preconditioner that step's update divides by."""

    def __init__(self, net, ds, opt):
        self.net, self.ds, self.opt = net, ds, opt
        self.params, self.steps, self.loss, self.train_acc, self.test_acc, self.lr = [], [], [], [], [], []
        self.live = []
        self.precond = [] if getattr(opt, "preconditioned", False) else None
        self.has_test = len(ds.y_test) > 0

    def record(self, t, params, loss, grad, state):
        net, ds, opt = self.net, self.ds, self.opt
        self.params.append(params.copy()); self.steps.append(t); self.loss.append(loss)
        if self.precond is not None:                      # what update(grad, state, t) divides by
            self.precond.append(opt.preconditioner(grad, state, t))
        self.train_acc.append(net.accuracy(params, ds.X_train, ds.y_train))
        self.test_acc.append(net.accuracy(params, ds.X_test, ds.y_test) if self.has_test else np.nan)
        self.lr.append(opt.schedule(t))
        self.live.append(failure.live_units(net, params, ds.X_train))

    def trajectory(self, history, diverged, label, n_params):
        opt = self.opt
        return Trajectory(
            params=np.array(self.params), steps=np.array(self.steps, dtype=np.int64), loss=np.array(self.loss),
            train_acc=np.array(self.train_acc), test_acc=np.array(self.test_acc),
            lr=np.array(self.lr, dtype=np.float64), diverged_at=diverged, loss_history=history,
            label=label or opt.name, optimizer=opt.name, hparams=dict(opt.hparams),
            live_units=np.array(self.live, dtype=np.int64),
            precond=(np.array(self.precond).reshape(len(self.params), n_params) if self.precond is not None else None))


def _batches(n, batch_size, rng):
    """Row indices (batch_size,) of each step's mini-batch: consecutive slices of a permutation of
    range(n), a new permutation each epoch (when the next batch would run past its end)."""
    perm, pos = None, n
    while True:
        if pos + batch_size > n:                          # new epoch
            perm, pos = rng.permutation(n), 0
        yield perm[pos:pos + batch_size]
        pos += batch_size
