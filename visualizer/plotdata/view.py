"""View options shared by the app's figures and the exporters (no plotly, no Dash, no matplotlib).

    v = ViewOptions(scale="log", clip_percentile=99, exaggerate=1.0)
    H, label = height(result.surface, v)            # transformed heights + an axis label saying so
    steps = animation_steps(result, n_frames=100)   # common step grid for every optimizer (see
    visualizer.plotdata.frames)
    i = frame_index(traj.steps, step)               # last recorded frame at or before step

Height scales (never let a scaled picture pass for the raw loss: the label says what it is):
  linear  h = L
  log     h = log10(L + eps)          eps = 1e-4
  sqrt    h = sqrt(L)
then clip at the chosen percentile of the finite surface values, then multiply
by ``exaggerate`` (vertical exaggeration). Non-finite losses become the clip value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.constraints import Choice, Int, Real, check_table
from core.errors import quote
from visualizer.plotdata.style import PALETTE, legend_name, run_style

SCALES = ("linear", "log", "sqrt")
DEFAULT_SCALE = "log"                      # the app's height scale (linear: a wall with flat paths at its foot)
LOG_EPS = 1e-4
MAX_ANIMATION_FRAMES = 300
# One colour per optimizer, in spec order (colour-blind safe, one hue each: visualizer.plotdata.style)
COLORS = list(PALETTE)


# The view options' ranges, declared once: ViewOptions.validate, the exporter's options and the app's hints read them.
VIEW_CONSTRAINTS = {
    "scale": Choice(SCALES),
    "clip_percentile": Real(50, 100),
    "exaggerate": Real(0.1, 10),
    "n_frames": Int(2, MAX_ANIMATION_FRAMES),
}


@dataclass
class ViewOptions:
    scale: str = "linear"            # linear | log | sqrt
    clip_percentile: float = 100.0   # clip heights above this percentile of the surface
    exaggerate: float = 1.0          # vertical exaggeration factor
    n_frames: int = 100              # animation frames
    optimizers: list | None = None   # labels to show; None: all
    moving: bool = False             # use the moving landscape if the result has one

    def validate(self):
        check_table(self, VIEW_CONSTRAINTS)
        return self


def check_labels(result, labels):
    """Validate a list of optimizer labels against a result; None means all."""
    if labels is None:
        return list(result.trajectories)
    bad = [l for l in labels if l not in result.trajectories]
    if bad or not labels:
        raise ValueError(f"optimizers={quote(','.join(labels) if labels else '')}: unknown or empty; "
                         f"allowed are {', '.join(result.trajectories)}")
    return list(labels)


def failed_note(result, label):
    """The legend note of a run that failed (core.model.failure): "failed at STEP"; "" otherwise.
    Legend text itself is built in one place: visualizer.plotdata.style.legend_name(label, notes)."""
    fa = result.trajectories[label].failed_at
    return "" if fa is None else f"failed at {fa}"


def run_name(result, label, notes=()):
    """A run's legend name with its standing notes ("large LR (failed at 33)") and any ``notes`` after them."""
    return legend_name(label, [failed_note(result, label), *notes])


def style_of(result, label):
    """The run's style (visualizer.plotdata.style.RunStyle) by its place in the spec: the same in every panel."""
    return run_style(list(result.trajectories).index(label))


def color_of(result, label):
    return style_of(result, label).color


def transform(values, scale):
    """Apply the height scale to losses (any shape)."""
    v = np.asarray(values, dtype=np.float64)
    if scale == "log":
        return np.log10(np.maximum(v, 0) + LOG_EPS)
    if scale == "sqrt":
        return np.sqrt(np.maximum(v, 0))
    return v


def scale_label(v, what="train loss"):
    """Axis / colour-bar label naming the transformation in use."""
    base = {"linear": what, "log": f"log10({what})", "sqrt": f"sqrt({what})"}[v.scale]
    extra = []
    if v.clip_percentile < 100:
        extra.append(f"clipped at p{v.clip_percentile:g}")
    if v.exaggerate != 1:
        extra.append(f"x{v.exaggerate:g} vertical")
    return base + (f" ({', '.join(extra)})" if extra else "")


def clip_value(Z, v):
    """Upper clip of the transformed surface (the percentile of its finite values)."""
    t = transform(Z, v.scale)
    fin = t[np.isfinite(t)]
    if not fin.size:
        return 1.0
    return float(np.percentile(fin, v.clip_percentile))


def height(Z, v, clip=None):
    """Transformed, clipped, exaggerated heights and their label. ``clip``: reuse a clip value."""
    t = transform(Z, v.scale)
    c = clip_value(Z, v) if clip is None else clip
    t = np.where(np.isfinite(t), np.minimum(t, c), c)
    return t * v.exaggerate, scale_label(v)


def point_height(loss, v, clip):
    """Height of a path point with loss ``loss`` on the same scale as the surface."""
    t = transform(loss, v.scale)
    t = np.where(np.isfinite(t), np.minimum(t, clip), clip)
    return t * v.exaggerate


def animation_steps(result, n_frames=100, labels=None):
    """Up to ``n_frames`` training steps, evenly spread over the longest run (always the last)."""
    labels = check_labels(result, labels)
    all_steps = np.unique(np.concatenate([result.trajectories[l].steps for l in labels]))
    if len(all_steps) <= n_frames:
        return all_steps
    idx = np.unique(np.round(np.linspace(0, len(all_steps) - 1, n_frames)).astype(int))
    return all_steps[idx]


def axis_units(plane, moving=False):
    """(alpha unit, beta unit) of a plane's axes, as the axis titles say them. PCA, Hessian and the random
    completion of a rank-1 PCA plane: unit vectors (Euclidean norm 1); interpolation: both axes |d1| long (alpha = 1
    is the run's other end); random planes and every moving landscape: filter-normalised (x the weights' norm).
    Short: in the 3D scene a long title runs into the height axis' (tests/visualizer/figures/test_legible_figures)."""
    m = plane.method
    if moving or m == "random":
        return "× filter norm", "× filter norm"
    if m == "interpolation":
        return "× |d₁|", "× |d₁|"                    # d₁ = θ_end − θ_centre
    return "unit vector", "unit vector"


def plane_aspect(alphas, betas):
    """(x, y) aspect ratio of the two plane axes in proportion to their spans, the longer one 1."""
    sa = float(abs(alphas[-1] - alphas[0])) or 1.0
    sb = float(abs(betas[-1] - betas[0])) or 1.0
    m = max(sa, sb)
    return sa / m, sb / m
