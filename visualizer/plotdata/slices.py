"""The 1-D slices panel's data: the exact loss along three lines, each beside its quadratic model
(core.landscape.slices), computed from a result that keeps its training data (``result.X_train``).

    steps = step_slices(result, "large LR", step=500)     # (a) top eigenvector, (b) gradient step, at that step
    lines = interpolation_slices(result, labels)          # (c) initial -> final weights of each run (once a result)
    panel = slice_panel(result, "large LR", 500, labels, steps=steps, lines=lines)   # what a renderer draws

(a) and (b) are taken at the recorded frame at or before ``step`` of the chosen run: along the unit top
eigenvector of the Hessian there, and along the gradient step -lr g at that frame's learning rate (t = 1
is where that step lands). (c) is the straight line from each run's initial to its final weights
(Goodfellow et al. 2015); the marker on it is where the run's weights at ``step`` project onto the line.
Computed with one BLAS thread (about 15-25 ms for (a) and (b) on the four_optimizers preset here, against
40-100 ms with two threads on small matrices); callers cache them (curvature_callbacks.SliceCache, the
exporter computes each recorded frame once). No plotly, matplotlib or Dash here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import core
from core.landscape import slices as _slices
from core.model.training import frame_index

from visualizer.plotdata import view as V
from visualizer.plotdata.panels import check_panels


@dataclass
class StepSlices:
    label: str
    frame: int                 # index of the recorded frame the slices are taken at
    step: int                  # its training step
    lr: float                  # its learning rate
    eigen: object              # core.landscape.slices.Slice along the top eigenvector (a)
    gradient: object           # core.landscape.slices.Slice along -lr g (b)


@dataclass
class LineSlice:
    label: str
    color: str
    slice: object              # core.landscape.slices.Slice from the initial (t = 0) to the final weights (t = 1)
    params0: np.ndarray        # the line's start and direction, to place a step's weights on it
    direction: np.ndarray


@dataclass
class SlicePanel:
    """Everything the slices panel shows at one step of one chosen run."""
    label: str
    color: str
    steps: StepSlices
    lines: list                # [LineSlice] of every shown run
    at: list                   # per line: (t, loss on the line at t) of that run's weights at the step


def _blas_one():
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=1)
    except ImportError:                       # pragma: no cover - threadpoolctl is installed with the app
        import contextlib
        return contextlib.nullcontext()


def _net_data(result):
    check_panels(result, ["slices"])
    return core.MLP(list(result.layer_sizes)), result.X_train, result.y_train


def frame_of(result, label, step):
    """The recorded frame of ``label`` at or before ``step`` (the key the callers cache slices by)."""
    t = result.trajectories[label]
    return frame_index(t.steps, int(step) if step is not None else int(t.steps[-1]))


def step_slices(result, label, step=None):
    """(a) and (b) of ``label`` at its recorded frame at or before ``step`` (default: its last)."""
    V.check_labels(result, [label])
    net, X, y = _net_data(result)
    t = result.trajectories[label]
    i = frame_of(result, label, step)
    p, lr = np.asarray(t.params[i], np.float64), float(t.lr[i])
    with _blas_one():
        eig = _slices.top_eigen_slice(net, X, y, p)
        grad = _slices.gradient_step_slice(net, X, y, p, lr)
    return StepSlices(label, int(i), int(t.steps[i]), lr, eig, grad)


def interpolation_slices(result, labels=None):
    """(c): one LineSlice per shown run, from its initial to its final weights."""
    labels = V.check_labels(result, labels)
    net, X, y = _net_data(result)
    out = []
    with _blas_one():
        for lab in labels:
            t = result.trajectories[lab]
            p0, p1 = np.asarray(t.params[0], np.float64), np.asarray(t.params[-1], np.float64)
            s = _slices.interpolation_slice(net, X, y, p0, p1)
            out.append(LineSlice(lab, V.color_of(result, lab), s, p0, p1 - p0))
    return out


def position_on_line(line, params):
    """(t, loss of the line at t): where ``params`` projects onto the line (least squares)."""
    d = line.direction
    den = float(d @ d)
    t = float((np.asarray(params, np.float64) - line.params0) @ d / den) if den > 0 else 0.0
    s = line.slice
    return t, float(np.interp(t, s.ts, s.loss))


def slice_panel(result, label, step=None, labels=None, steps=None, lines=None):
    """The SlicePanel of ``label`` at ``step``; ``steps`` / ``lines``: already computed parts (a cache's)."""
    steps = steps if steps is not None else step_slices(result, label, step)
    lines = lines if lines is not None else interpolation_slices(result, labels)
    at, when = [], steps.step if step is None else int(step)
    for line in lines:
        t = result.trajectories[line.label]
        at.append(position_on_line(line, t.params[frame_index(t.steps, when)]))
    return SlicePanel(label, V.color_of(result, label), steps, lines, at)


def loss_limits(slices, pad=0.08):
    """y-range (lo, hi) of the exact losses of ``slices`` (the quadratic models may leave it: where they part)."""
    v = np.concatenate([np.asarray(s.loss, np.float64) for s in slices])
    v = v[np.isfinite(v)]
    if not v.size:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, 1e-3 * max(abs(hi), 1.0))
    return lo - pad * span, hi + pad * span


TITLES = ("(a) top Hessian eigenvector", "(b) gradient step −lr·g", "(c) initial → final weights")


def titles(panel):
    """The three slices' titles, with their numbers (the eigenvalue, the learning rate)."""
    st = panel.steps
    return (f"{TITLES[0]}: λ₁ = {st.eigen.curvature:.3g}",
            f"{TITLES[1]}, lr {st.lr:.3g} (t = 1: the step)",
            f"{TITLES[2]} of each run")


def ranges(panel):
    """x and y ranges of the three slices (the y range holds the exact losses; a quadratic may leave it)."""
    st = panel.steps
    groups = ([st.eigen], [st.gradient], [l.slice for l in panel.lines])
    return [((float(g[0].ts[0]), float(g[0].ts[-1])), loss_limits(g)) for g in groups]


def panels_at(result, label, steps, labels=None):
    """One SlicePanel per training step of ``steps`` (an animation's frames): (a) and (b) computed once per
    recorded frame of ``label``, the lines (c) once."""
    lines = interpolation_slices(result, labels)
    done = {}
    out = []
    for s in steps:
        i = frame_of(result, label, s)
        if i not in done:
            done[i] = step_slices(result, label, s)
        out.append(slice_panel(result, label, s, labels, steps=done[i], lines=lines))
    return out
