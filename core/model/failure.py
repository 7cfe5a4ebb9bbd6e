"""When a run has failed, and the other honest flags of a run (shared by the table, the app, exports and sweeps).

    live = live_units(net, params, X)            # (F,) units alive on X in the emptiest hidden layer, per frame
    t = failed_at(traj, constant_loss(y))        # first step from which the run is judged failed, or None
    peak_loss(history); spiked(history); nonmonotone(history)

Definitions (DESIGN.md, "What the pictures promise"):

* **live units** of a frame: for each hidden layer, the number of units whose ReLU pre-activation is > 0 on at
  least one training row; the frame's value is the **minimum over the hidden layers** (a layer with no live unit
  makes the output a constant, whatever the other layers do).
* **failed**: a run is judged failed when, at its end, (a) it diverged (the loss was not finite or exploded:
  ``Trajectory.diverged_at``, core.model.training's rule), or (b) some hidden layer has no unit alive on the
  training data (live units 0 at the last frame), or (c) the final full-batch loss is at or above
  min(L0, H(mean y)): no better than the start nor than the constant predictor (H the binary cross-entropy
  of predicting mean y everywhere, in nats). ``failed_at`` is the earliest step from which a rule that holds
  at the end held without a break: (a) ``diverged_at``; (b) the step of the first recorded frame of the last
  stretch of frames with 0 live units (so its resolution is ``record_every``); (c) the first step after which
  the per-step loss (``loss_history``) never again goes below the bound (0 if it never went below).
  A dead layer makes the output constant, so (b) implies (c); (b) only dates the failure earlier.
  With mini-batches the per-step loss is the batch loss: (c) is decided on the final full-batch loss and dated
  on the batch losses (at most the last step).
* **peak loss**: the largest per-step loss (``loss_history``; inf when some step's loss is not finite).
* **spiked**: the per-step loss rose above the initial loss L0 at some step t >= 1 (a catapult or worse).
* **non-monotone**: the per-step loss rose (h[t+1] > h[t]) within the first NONMONOTONE_STEPS steps.
``diverged_at`` keeps its own meaning (non-finite or exploded); a diverged run is also failed.
"""
from __future__ import annotations

import numpy as np

NONMONOTONE_STEPS = 30     # "non-monotone": the loss rose at some step t < 30 (h[t + 1] > h[t])
UNKNOWN = "unknown"        # Trajectory.failed_at read from a file that predates it, until computed
SPIKE_AFTER = 1            # "spiked": some step t >= SPIKE_AFTER has a loss above L0 = h[0]


def live_units(net, params, X):
    """(F,) int64: for each row of ``params`` (F, P) (or one vector (P,): a scalar array), the smallest number over
    the hidden layers of units whose pre-activation is > 0 on some row of ``X`` (n, d)."""
    P = np.atleast_2d(np.asarray(params, dtype=np.float64))
    X = np.asarray(X, dtype=np.float64)
    out = np.empty(len(P), dtype=np.int64)
    for f, p in enumerate(P):
        A, least = X, None
        for W, b in net.unflatten(p)[:-1]:
            Z = A @ W.T + b                                  # (n, units)
            alive = int(np.sum(np.any(Z > 0, axis=0))) if len(Z) else 0
            least = alive if least is None else min(least, alive)
            A = np.maximum(Z, 0.0)
        out[f] = -1 if least is None else least              # -1: no hidden layer
    return out if np.ndim(params) == 2 else out[0]


def constant_loss(y):
    """H(mean y): the binary cross-entropy (nats) of the best constant predictor on labels ``y``; nan without
    labels."""
    y = np.asarray(y, dtype=np.float64)
    if not y.size:
        return float("nan")
    m = float(np.mean(y))
    return float(-sum(q * np.log(q) for q in (m, 1.0 - m) if q > 0))


def failure_bound(loss0, h_const):
    """min(L0, H(mean y)); L0 alone when H is unknown (nan or None)."""
    if h_const is None or not np.isfinite(h_const):
        return float(loss0)
    return float(min(loss0, h_const))


def failed_at(traj, h_const=None):
    """The first step from which ``traj`` (a Trajectory) is judged failed (module docstring), or None.
    h_const: H(mean y) of its training labels (constant_loss); None when unknown (the bound is then L0)."""
    if traj.diverged_at is not None:
        return int(traj.diverged_at)
    steps = np.asarray(traj.steps)
    if not len(steps):
        return None
    when = []
    live = getattr(traj, "live_units", None)
    if live is not None and len(live) == len(steps) and live[-1] == 0:
        alive = np.flatnonzero(np.asarray(live) != 0)
        when.append(int(steps[alive[-1] + 1]) if len(alive) else int(steps[0]))
    bound = failure_bound(traj.loss[0], h_const)
    final = float(traj.loss[-1])
    if not final < bound:                                   # also nan
        hist = traj.loss_history
        if hist is None:
            hist, at = np.asarray(traj.loss), steps
        else:
            hist, at = np.asarray(hist), np.arange(len(hist))
        below = np.flatnonzero(hist < bound)
        if not len(below):
            t = at[0]                                       # never below the bound
        elif below[-1] + 1 < len(at):
            t = at[below[-1] + 1]                           # the step after its last visit below
        else:
            t = at[-1]                                      # mini-batch: the last batch loss was below
        when.append(min(int(t), int(steps[-1])))
    return min(when) if when else None


def peak_loss(history):
    """The largest per-step loss; inf when some step's loss is not finite; nan without steps."""
    h = np.asarray(history, dtype=np.float64)
    if not h.size:
        return float("nan")
    return float(h.max()) if np.all(np.isfinite(h)) else float("inf")


def spiked(history):
    """Whether the per-step loss went above its first value L0 at some step t >= SPIKE_AFTER (non-finite counts)."""
    h = np.asarray(history, dtype=np.float64)
    if h.size <= SPIKE_AFTER:
        return False
    later = h[SPIKE_AFTER:]
    return bool(np.any(~np.isfinite(later)) or np.any(later > h[0]))


def nonmonotone(history, n=NONMONOTONE_STEPS):
    """Whether the per-step loss rose (h[t + 1] > h[t], or became non-finite) at some step t < n."""
    h = np.asarray(history, dtype=np.float64)[:n + 1]
    if h.size < 2:
        return False
    return bool(np.any(~np.isfinite(h[1:])) or np.any(np.diff(h) > 0))
