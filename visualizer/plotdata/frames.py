"""The frame model: what every frame of an animation shows, computed once from a result and the view
options; the plotly figure (visualizer.figures.landscape) and the matplotlib scene (visualizer.export.scene) only draw
it.
No plotly, no matplotlib, no Dash here.

    fm = build_frames(result, ViewOptions(scale="log"))      # steps=[s]: one still at step s
    fm.steps                  # (K,) training step of each frame (the plotly frame names)
    fm.heights[fm.surface_of_frame[k]]                       # the surface drawn in frame k, on the height scale
    p = fm.paths["SGD"]       # PathFrames: points, and per frame the index of the ball (p.ends)
    p.balls("height")[k]      # the SGD ball's height in frame k (also "alpha", "beta", "loss", "surface_loss", ...)

Where a ball's height comes from (the one rule, for the app, the HTML page, GIF, MP4 and PNG):

    height = max(h(surface_loss), top of the drawn grid cell under the point) + lift

  * ``surface_loss`` is the exact training loss at the point's projection (alpha, beta) on the plane of
    the surface drawn in that frame, computed by the core (``result.paths[l].surface_loss``, and
    ``result.moving.paths[l]["surface_loss"]`` on each moving frame's own plane): never interpolated.
  * ``h`` is the view's height scale (visualizer.plotdata.view.point_height: log / sqrt, clip, exaggeration),
    the same as the surface's.
  * Renderers draw a grid cell as flat faces between its four corner heights (matplotlib: one
    quadrilateral; plotly: two triangles), which can pass above the exact loss inside the cell (in a
    valley, always). Raising the ball to the highest corner of its cell keeps it above both drawings.
    Points off the grid use the nearest edge cell.
  * ``lift`` = LIFT x the z range of the drawn heights: a hair above, so the ball never touches the faces.

Trail points use the same rule. Hover texts and legends show the two honest numbers beside the height:
the exact surface loss and the true loss of the weights (they differ where the plane misses the path).

Where the two differ by more than TRUTH_RATIO (either way), the ball shows both: a second, hollow marker at

    true_height = h(loss)          (the true loss on the same height scale, no lift)

and a stalk between the two (``p.apart[k]`` says when; plotly and matplotlib draw the same points).

In plane (static landscape): ``p.in_plane``, the share of the run's squared displacement from the plane's
centre that the plane holds (core.landscape.projection.in_plane); ``low_in_plane(fm)`` names the runs under
LOW_IN_PLANE, whose balls show the plane's loss rather than the run's (``plane_warning`` says so in words).
A moving landscape's frames each have their own plane: no single share (None).

Frames and surfaces: a static landscape has one surface and K frames on the step grid
(``view.animation_steps``: up to ``view.n_frames`` steps over the longest run), each optimizer's trail
growing along its recorded path. A moving landscape (``view.moving`` and ``result.moving``) has one
frame per moving surface (at most ``view.n_frames`` of them, evenly spread), each with its own plane:
every point is on its own surface, so there are balls but no trails.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.landscape.projection import in_plane
from visualizer.plotdata import view as V
from visualizer.plotdata.style import RunStyle

LIFT = 0.015          # balls and trails float this share of the z range above the surface
TRUTH_RATIO = 1.25    # true and surface loss further apart than this factor: the ball shows both
LOW_IN_PLANE = 0.25   # a run whose in-plane share is below this gets a warning next to the surface


@dataclass
class PathFrames:
    """One optimizer's points and, per frame, which point is its ball.

    Points (N,): static landscape, every recorded step projected on the plane (a trail is
    ``points[:end + 1]``); moving landscape, the run's point on each moving surface."""
    label: str
    color: str
    alpha: np.ndarray            # (N,) projected coordinates
    beta: np.ndarray             # (N,)
    height: np.ndarray           # (N,) drawn height (the rule above)
    loss: np.ndarray             # (N,) true training loss of the weights
    surface_loss: np.ndarray     # (N,) exact loss at (alpha, beta) on the point's surface (from the core)
    steps: np.ndarray            # (N,) training step of each point
    offgrid: np.ndarray          # (N,) bool: outside the drawn grid
    ends: np.ndarray             # (K,) index of each frame's ball among the points
    diverged: np.ndarray         # (K,) bool: the run has stopped (diverged) by the frame's step
    name: str = ""               # the legend's name: style.legend_name(label, ["failed at STEP", "in plane 43%"])
    true_height: np.ndarray = None   # (N,) the true loss on the height scale (the hollow marker)
    apart: np.ndarray = None         # (N,) bool: loss and surface_loss differ by more than TRUTH_RATIO
    in_plane: float | None = None    # share of the run's displacement the static plane holds (None: moving)
    style: RunStyle | None = None  # dash, end-marker symbol (visualizer.plotdata.style); None: the first run's

    def balls(self, name):
        """The per-frame values (K,) of one point field, e.g. ``balls("height")``."""
        return getattr(self, name)[self.ends]


@dataclass
class FrameModel:
    steps: np.ndarray            # (K,) training step of each frame
    surface_of_frame: np.ndarray  # (K,) index into surfaces / heights of the surface drawn in each frame
    alphas: np.ndarray           # (A,) grid of the drawn surface(s)
    betas: np.ndarray            # (B,)
    surfaces: np.ndarray         # (M, B, A) raw training loss of each surface (M = 1: static landscape)
    heights: np.ndarray          # (M, B, A) the same on the view's height scale (visualizer.plotdata.view.height)
    zrange: tuple                # (lo, hi) of the heights
    zlabel: str                  # the height scale's label (axis and colour bar)
    lift: float                  # how far balls float above the drawn surface
    trails: bool                 # static landscape: trails grow along the recorded paths
    follow: str | None           # moving landscape: the run the surface follows (None: static)
    last_step: int               # the longest shown run's last step
    paths: dict                  # label -> PathFrames, in display order

    @property
    def zlim(self):
        """(lo, hi) of the height axis: the surface's zrange, lowered to hold every true-loss marker shown."""
        lo = self.zrange[0]
        for p in self.paths.values():
            shown = p.true_height[p.apart & ~p.offgrid & np.isfinite(p.true_height)]
            if shown.size:
                lo = min(lo, float(shown.min()))
        return lo, self.zrange[1]

    @property
    def moving(self):
        return self.follow is not None

    @property
    def labels(self):
        return list(self.paths)

    @property
    def colors(self):
        return [p.color for p in self.paths.values()]


def is_moving(result, view):
    return bool(view.moving and result.moving is not None)


def last_step(result, labels):
    return int(max(result.trajectories[l].steps[-1] for l in labels))


def _index_at(steps, at):
    """Vectorized core.model.training.frame_index: the last of sorted ``steps`` at or before each of ``at``."""
    return np.maximum(0, np.searchsorted(np.asarray(steps), np.asarray(at), side="right") - 1)


def frame_steps(result, view, steps=None):
    """The step grid, from one place: (steps (K,), moving-surface index (K,) or None when static).

    ``steps``: show these training steps instead (a still); a moving landscape shows the surface at or
    before each."""
    labels = V.check_labels(result, view.optimizers)
    if not is_moving(result, view):
        grid = V.animation_steps(result, view.n_frames, labels) if steps is None else steps
        return np.asarray(grid), None
    ms = np.asarray(result.moving.steps)
    if steps is not None:
        fidx = _index_at(ms, steps)
    elif len(ms) > view.n_frames:
        fidx = np.unique(np.round(np.linspace(0, len(ms) - 1, view.n_frames)).astype(int))
    else:
        fidx = np.arange(len(ms))
    return ms[fidx], fidx


def cell_top(alphas, betas, H, a, b, surface=0):
    """Highest of the four grid heights around each point (a, b); points off the grid: the nearest edge
    cell. ``H``: (B, A), or (M, B, A) with ``surface`` the index of each point's surface."""
    al, be = np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    H = H[None] if H.ndim == 2 else H
    i = np.clip(np.searchsorted(al, a, side="right") - 1, 0, len(al) - 2)
    j = np.clip(np.searchsorted(be, b, side="right") - 1, 0, len(be) - 2)
    s = np.asarray(surface)
    return np.maximum.reduce([H[s, j, i], H[s, j, i + 1], H[s, j + 1, i], H[s, j + 1, i + 1]])


def ball_height(surface_loss, top, view, clip, lift):
    """THE rule: the exact surface loss on the height scale, raised to the drawn cell's top, plus the lift."""
    return np.maximum(V.point_height(surface_loss, view, clip), top) + lift


def _zrange(H):
    fin = H[np.isfinite(H)]
    lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _points(result, lab, moving):
    """(alpha, beta, loss, surface_loss, steps, surface index) of every drawable point of one run."""
    if moving:
        p = result.moving.paths[lab]
        n = len(result.moving.steps)
        return p["alpha"], p["beta"], p["loss"], p["surface_loss"], np.asarray(result.moving.steps), np.arange(n)
    pr = result.paths[lab]
    if pr.surface_loss is None:
        raise ValueError(f"run {lab!r}: its path has no surface loss (computed by core.run_experiment); "
                         "re-run its spec")
    return pr.alpha, pr.beta, pr.loss, pr.surface_loss, np.asarray(pr.steps), np.zeros(len(pr.steps), int)


def _path(result, lab, fm, view, clip, fidx):
    a, b, loss, sl, steps, surf = (np.asarray(x) for x in _points(result, lab, fm.moving))
    a, b = a.astype(np.float64), b.astype(np.float64)
    top = cell_top(fm.alphas, fm.betas, fm.heights, a, b, surf)
    inside = (a >= fm.alphas[0]) & (a <= fm.alphas[-1]) & (b >= fm.betas[0]) & (b <= fm.betas[-1])
    tr = result.trajectories[lab]
    ends = fidx if fm.moving else _index_at(steps, fm.steps)
    diverged = (np.zeros(len(fm.steps), bool) if tr.diverged_at is None
                else np.asarray(fm.steps) >= tr.diverged_at)
    loss, sl = np.asarray(loss, dtype=np.float64), np.asarray(sl, dtype=np.float64)
    share = None if fm.moving else in_plane(tr.params, result.plane)
    ip_note = "" if share is None else f"in plane {share_text(share)}"
    return PathFrames(label=lab, color=V.color_of(result, lab), alpha=a, beta=b,
                      height=ball_height(sl, top, view, clip, fm.lift), loss=loss, surface_loss=sl, steps=steps,
                      offgrid=~inside, ends=np.asarray(ends), diverged=diverged,
                      name=V.run_name(result, lab, [ip_note]),
                      true_height=V.point_height(loss, view, clip), apart=apart(loss, sl), in_plane=share,
                      style=V.style_of(result, lab))


def apart(loss, surface_loss, ratio=TRUTH_RATIO):
    """(N,) bool: both losses finite and positive and one more than ``ratio`` times the other."""
    a, b = np.asarray(loss, dtype=np.float64), np.asarray(surface_loss, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    with np.errstate(all="ignore"):
        r = np.where(ok, np.maximum(a, b) / np.where(ok, np.minimum(a, b), 1.0), 1.0)
    return ok & (r > ratio)


def share_text(x):
    """A share in [0, 1] as a percentage: "43%", "4.3%", "0.21%"."""
    v = 100.0 * float(x)
    return f"{v:.0f}%" if v >= 9.95 else f"{v:.2g}%"


def low_in_plane(fm, limit=LOW_IN_PLANE):
    """label -> in-plane share of the shown runs the plane holds less than ``limit`` of."""
    return {lab: p.in_plane for lab, p in fm.paths.items() if p.in_plane is not None and p.in_plane < limit}


def plane_warning(fm, limit=LOW_IN_PLANE):
    """The sentence shown next to the surface when some run keeps less than ``limit`` of its path in the plane
    ("" when none): "this plane shows 0.2% of SGD's path: its ball sits on the plane's loss, not the run's"."""
    low = low_in_plane(fm, limit)
    if not low:
        return ""
    parts = [f"{share_text(x)} of {lab}'s" for lab, x in low.items()]
    if len(parts) == 1:
        return f"this plane shows {parts[0]} path: its ball sits on the plane's loss, not the run's"
    listed = ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"this plane shows {listed} paths: their balls sit on the plane's loss, not the runs'"


def build_frames(result, view, steps=None):
    """The FrameModel of ``result`` under ``view`` (a ViewOptions); ``steps``: a still's training step(s)."""
    labels = V.check_labels(result, view.optimizers)
    moving = is_moving(result, view)
    grid, fidx = frame_steps(result, view, steps)
    src = result.moving if moving else result
    raw = np.asarray(src.surfaces if moving else src.surface[None])
    clip = V.clip_value(raw, view)
    H, zlabel = V.height(raw, view, clip)
    zr = _zrange(H)
    fm = FrameModel(steps=grid, surface_of_frame=fidx if moving else np.zeros(len(grid), int),
                    alphas=np.asarray(src.alphas), betas=np.asarray(src.betas), surfaces=raw, heights=H,
                    zrange=zr, zlabel=zlabel, lift=LIFT * (zr[1] - zr[0]), trails=not moving,
                    follow=result.moving.follow if moving else None, last_step=last_step(result, labels), paths={})
    fm.paths = {lab: _path(result, lab, fm, view, clip, fidx) for lab in labels}
    return fm


def current_step(result, view, step=None):
    """The step shown: ``step`` or the last recorded step of the shown runs."""
    if step is not None:
        return int(step)
    return last_step(result, V.check_labels(result, view.optimizers))
