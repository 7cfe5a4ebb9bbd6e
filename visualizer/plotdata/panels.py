"""What the 2-D panels draw (the training curves and the sharpness), computed once from a result.

The app's plotly figures (visualizer.figures.landscape, visualizer.figures.curvature) and the exporter's matplotlib
panels (visualizer.export.scene_panels) draw these and nothing else, so a picture means the same in both.
No plotly, no matplotlib, no Dash here.

    curves = curves_data(result, labels)         # [CurveSeries]: loss, train / test accuracy against step
    sharp = sharpness_data(result, labels)       # [SharpnessSeries]: sharpness, threshold, bottom eigenvalue
    check_panels(result, ["sharpness"])          # PanelUnavailable naming why a panel cannot be drawn

Sharpness is the top eigenvalue of the training loss's Hessian at each recorded frame (the curvature of the
sharpest direction), computed by the core when ``spec.curvature.enabled``. Adam and RMSProp are judged on
the *preconditioned* Hessian P^-1/2 H P^-1/2 (core.model.optimizers.is_preconditioned): their series say so in
every label. The threshold is the largest curvature at which the optimizer is stable on a quadratic at that
frame's learning rate (core.model.optimizers.stability_threshold); frames a stride skipped are left out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.model import optimizers as _opt
from core.model.training import frame_index

from visualizer.plotdata import view as V
from visualizer.errors import PanelUnavailable
from visualizer.plotdata.style import RunStyle, legend_name

ABOVE = "above its stability threshold: the step overshoots along the sharpest direction"
PRECONDITIONED = "preconditioned"
# the threshold of each optimizer on the quadratic 0.5 lambda x^2 (core.model.optimizers.stability_threshold)
THRESHOLD_RULES = {"momentum": "(2 + 2μ) / lr", "nesterov": "(2 + 2μ) / ((1 + 2μ) lr)",
                   "adam": "(2 + 2β₁) / ((1 − β₁) lr)"}
PANELS = ("landscape", "sharpness", "curves", "slices")
PANEL_WIDTH = {"landscape": 640, "sharpness": 480, "curves": 480, "slices": 480}   # exports: default pixels a panel


def _labels(result, labels):
    return V.check_labels(result, labels)


# ------------------------------------------------------------------ availability
def has_curvature(result, labels=None):
    return any(result.trajectories[l].sharpness is not None for l in _labels(result, labels))


def has_data(result):
    return result.X_train is not None and result.y_train is not None


def check_panels(result, panels, labels=None):
    """Raise PanelUnavailable for the first of ``panels`` this result cannot draw."""
    if "sharpness" in panels and not has_curvature(result, labels):
        raise PanelUnavailable("sharpness", "this run has no curvature (it was computed with curvature.enabled "
                                            "false, or saved by an older version); run its spec with "
                                            "curvature.enabled true")
    if "slices" in panels and not has_data(result):
        raise PanelUnavailable("slices", "this run has no training data (saved by an older version, format 1), "
                                         "so its slices cannot be computed; run its spec again")


# ------------------------------------------------------------------ curves
@dataclass
class CurveSeries:
    """One run's curves. The loss line is drawn from every step (``history``: spikes between recorded frames
    stay visible); the recorded frames (``steps``, ``loss``) are marked on it."""
    label: str
    color: str
    steps: np.ndarray          # (F,) recorded steps
    loss: np.ndarray           # (F,) full-batch training loss
    train_acc: np.ndarray      # (F,)
    test_acc: np.ndarray       # (F,)
    diverged_at: int | None
    history_steps: np.ndarray = None   # (S + 1,) every step 0..S (S: the run's last step)
    history: np.ndarray = None         # (S + 1,) the loss at every step (Trajectory.loss_history)
    style: RunStyle | None = None      # dash, end-marker symbol (visualizer.plotdata.style)
    name: str = ""                     # the legend's name with the standing notes: "large LR (failed at 33)"
    failed_at: int | None = None       # Trajectory.failed_at (core.model.failure)


def curves_data(result, labels=None):
    """One CurveSeries per shown run; a run saved without a per-step history draws its recorded frames."""
    out = []
    for lab in _labels(result, labels):
        t = result.trajectories[lab]
        hist = np.asarray(t.loss if t.loss_history is None else t.loss_history, np.float64)
        hsteps = np.asarray(t.steps) if t.loss_history is None else np.arange(len(hist))
        out.append(CurveSeries(lab, V.color_of(result, lab), np.asarray(t.steps), np.asarray(t.loss, np.float64),
                               np.asarray(t.train_acc, np.float64), np.asarray(t.test_acc, np.float64),
                               t.diverged_at, history_steps=hsteps, history=hist, style=V.style_of(result, lab),
                               name=V.run_name(result, lab), failed_at=t.failed_at))
    return out


def loss_curve_title(result):
    """What the loss line is: the full-batch loss at every step, or the mini-batch's (the recorded frames, marked,
    are always full-batch)."""
    per = "train loss per step" if result.spec.training.batch_size is None else "mini-batch loss per step"
    return f"{per} (log axis; ● recorded frames)"


def loss_range(series):
    """(lo, hi) of the finite positive losses of every series, per step and recorded (a log axis's data range)."""
    v = np.concatenate([s.loss for s in series] + [s.history for s in series if s.history is not None])
    v = v[np.isfinite(v) & (v > 0)]
    return (float(v.min()), float(v.max())) if v.size else (1e-3, 1.0)


# ------------------------------------------------------------------ sharpness
@dataclass
class SharpnessSeries:
    label: str
    color: str
    optimizer: str
    preconditioned: bool       # Adam / RMSProp: the sharpness of P^-1/2 H P^-1/2
    rule: str                  # the threshold's formula, e.g. "2 / lr"
    steps: np.ndarray          # (C,) steps of the frames whose curvature was computed
    sharpness: np.ndarray      # (C,) top eigenvalue
    threshold: np.ndarray      # (C,) stability threshold at the frame's learning rate (nan: none, lr 0)
    min_eig: np.ndarray        # (C,) bottom eigenvalue
    lr: np.ndarray             # (C,) learning rate of the frame
    style: RunStyle | None = None  # dash, end-marker symbol (visualizer.plotdata.style)

    @property
    def name(self):
        """The legend's name: the label, and "(preconditioned)" for Adam / RMSProp."""
        return legend_name(self.label, [PRECONDITIONED if self.preconditioned else ""])

    @property
    def above(self):
        """(C,) bool: the frame's sharpness is at or above its threshold."""
        with np.errstate(invalid="ignore"):
            return np.isfinite(self.threshold) & (self.sharpness >= self.threshold)

    def index_at(self, step):
        """The last computed frame at or before ``step``."""
        return frame_index(self.steps, step)


def threshold_rule(optimizer):
    return THRESHOLD_RULES.get(optimizer, "2 / lr")


def sharpness_data(result, labels=None):
    """One SharpnessSeries per shown run that has curvature (PanelUnavailable when none has)."""
    labels = _labels(result, labels)
    check_panels(result, ["sharpness"], labels)
    out = []
    for lab in labels:
        t = result.trajectories[lab]
        if t.sharpness is None:
            continue
        s = np.asarray(t.sharpness, np.float64)
        ok = np.isfinite(s)                              # frames a stride skipped are nan
        thr = np.asarray(t.threshold, np.float64)[ok]
        out.append(SharpnessSeries(
            label=lab, color=V.color_of(result, lab), optimizer=t.optimizer,
            preconditioned=_opt.is_preconditioned(t.optimizer), rule=threshold_rule(t.optimizer),
            steps=np.asarray(t.steps)[ok], sharpness=s[ok], threshold=np.where(np.isfinite(thr), thr, np.nan),
            min_eig=np.asarray(t.min_eig, np.float64)[ok], lr=np.asarray(t.lr, np.float64)[ok],
            style=V.style_of(result, lab)))
    return out


def any_preconditioned(series):
    return any(s.preconditioned for s in series)


def sharpness_axis_title(series):
    base = "sharpness λmax (log axis)"
    if any_preconditioned(series):
        base += "; preconditioned (P^-1/2 H P^-1/2) for " + ", ".join(s.label for s in series if s.preconditioned)
    return base


SHARPNESS_AXIS_SHORT = "sharpness λmax (log axis)"   # the app's y title (the legend says "(preconditioned)")


def sharpness_range(series, min_eig=False):
    """(lo, hi) of every positive value drawn (sharpness, thresholds, |bottom eigenvalue| when shown)."""
    parts = [s.sharpness for s in series] + [s.threshold for s in series]
    if min_eig:
        parts += [np.abs(s.min_eig) for s in series]
    v = np.concatenate(parts) if parts else np.zeros(0)
    v = v[np.isfinite(v) & (v > 0)]
    return (float(v.min()), float(v.max())) if v.size else (1e-3, 1.0)


def above_notes(s):
    """Per frame of a series: the overshoot note (with a line break before it) where the sharpness is at or
    above its threshold, else "" (the hover text's last line)."""
    return [f"<br><b>{ABOVE}</b>" if a else "" for a in s.above]
