"""Frames of an exported animation: precomputed scene data and a matplotlib 3D renderer.

``build_scene(result, opts)`` computes every frame's data before drawing (steps,
surface heights, each path's coordinates, the legend's losses) with the same
heights, labels, colours and step grid as the app (visualizer.view).
``Renderer(scene, opts).render(k)`` draws frame k into an (H, W, 3) uint8 array
(Agg canvas, no pyplot). With a fixed camera and a fixed surface, the background
(surface, axes, colour bar) is rendered once and each frame only draws the
trails, balls, legend and counter over a copy of it; with a camera turn or a
moving landscape the whole figure is drawn per frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import view as V
from .view import UsageError

DPI = 100

# ---------------------------------------------------------------- frame data
@dataclass
class Scene:
    """Everything the renderer needs, computed before drawing."""
    labels: list
    colors: list
    steps: np.ndarray                 # (K,) training step shown in each frame
    last_step: int                    # the longest run's last step (for "step s / last")
    alphas: np.ndarray
    betas: np.ndarray
    heights: np.ndarray               # (B, A) static surface, or (M, B, A) moving surfaces
    surface_of_frame: np.ndarray | None   # (K,) index into heights when moving
    zlim: tuple
    zlabel: str
    # per label: x, y, z arrays of the whole path (NaN outside the grid), end index per frame
    paths: dict = field(default_factory=dict)
    ends: dict = field(default_factory=dict)     # label -> (K,) index of the ball in each frame
    losses: dict = field(default_factory=dict)   # label -> (K,) true training loss shown per frame
    diverged: dict = field(default_factory=dict)  # label -> (K,) bool: the run has stopped (diverged) by then
    offgrid: dict = field(default_factory=dict)   # label -> (K,) bool: the ball is outside the drawn grid
    trails: bool = True
    title: str = ""
    moving_follow: str | None = None


def _inside(x, y, alphas, betas):
    return (x >= alphas[0]) & (x <= alphas[-1]) & (y >= betas[0]) & (y <= betas[-1])


def _diverged(tr, steps):
    if tr.diverged_at is None:
        return np.zeros(len(steps), bool)
    return np.asarray(steps) >= tr.diverged_at


def build_scene(result, opts):
    """Precompute the frames: steps, surface heights and every path's coordinates."""
    v = opts.view()
    labels = V.check_labels(result, opts.optimizers)
    steps = V.animation_steps(result, opts.frames, labels)
    last_step = int(max(result.trajectories[l].steps[-1] for l in labels))
    if opts.fmt == "png":
        s = steps[-1] if opts.step is None else opts.step
        if not 0 <= s <= last_step:
            raise UsageError("--step", s, f"must be an integer in [0, {last_step}] (the run's steps)")
        steps = np.array([s])
    colors = [V.color_of(result, l) for l in labels]
    title = opts.title if opts.title is not None else result.spec.name
    sc = dict(labels=labels, colors=colors, last_step=last_step, title=title)
    paths, ends, offgrid = {}, {}, {}
    if opts.moving:
        # as in the app: one frame per moving-landscape surface (at most --frames of them, evenly spread);
        # each frame has its own plane, so there are balls but no trails
        mv = result.moving
        fidx = np.arange(len(mv.steps))
        if len(fidx) > opts.frames and opts.fmt != "png":
            fidx = np.unique(np.round(np.linspace(0, len(fidx) - 1, opts.frames)).astype(int))
        if opts.fmt == "png":
            fidx = np.array([V.frame_index(mv.steps, steps[0])])
        steps = np.asarray(mv.steps)[fidx]
    steps = np.asarray(steps)
    losses, diverged = {}, {}                   # the legend's true loss and "diverged" flag, per frame
    for l in labels:
        tr = result.trajectories[l]
        losses[l] = tr.loss[[V.frame_index(tr.steps, s) for s in steps]]
        diverged[l] = _diverged(tr, steps)
    if opts.moving:
        clip = V.clip_value(mv.surfaces, v)
        H, zlabel = V.height(mv.surfaces, v, clip=clip)
        for l in labels:
            p = mv.paths[l]
            x, y = np.asarray(p["alpha"], float)[fidx], np.asarray(p["beta"], float)[fidx]
            zs = np.array([V.surface_at(mv.alphas, mv.betas, mv.surfaces[f], xi, yi) for f, xi, yi in zip(fidx, x, y)])
            z = V.point_height(zs, v, clip)
            out = ~_inside(x, y, mv.alphas, mv.betas)
            x, y, z = (np.where(out, np.nan, q) for q in (x, y, z))
            paths[l] = (x, y, z)
            ends[l] = np.arange(len(steps))
            offgrid[l] = out
        sc.update(alphas=mv.alphas, betas=mv.betas, heights=H, surface_of_frame=fidx, zlabel=zlabel,
                  trails=False, moving_follow=mv.follow)
    else:
        clip = V.clip_value(result.surface, v)
        H, zlabel = V.height(result.surface, v, clip=clip)
        for l in labels:
            pr = result.paths[l]
            tr = result.trajectories[l]
            x, y = np.asarray(pr.alpha, float), np.asarray(pr.beta, float)
            sl = pr.surface_loss
            if sl is None:
                sl = V.surface_at(result.alphas, result.betas, result.surface, x, y)
            z = V.point_height(sl, v, clip)
            out = ~_inside(x, y, result.alphas, result.betas)
            x, y, z = (np.where(out, np.nan, q) for q in (x, y, z))
            paths[l] = (x, y, z)
            ends[l] = np.array([V.frame_index(tr.steps, s) for s in steps])
            offgrid[l] = out[ends[l]]
        sc.update(alphas=result.alphas, betas=result.betas, heights=H, surface_of_frame=None, zlabel=zlabel)
    fin = H[np.isfinite(H)]
    lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    sc.update(steps=steps, zlim=(lo, hi), paths=paths, ends=ends, losses=losses, diverged=diverged, offgrid=offgrid)
    return Scene(**sc)


# ---------------------------------------------------------------- drawing
def _fmt_loss(x):
    if not np.isfinite(x):
        return "  n/a"
    return f"{x:.4f}" if x < 100 else f"{x:.3g}"


class Renderer:
    """Draw frame k of a Scene into an (H, W, 3) uint8 array with matplotlib (Agg, no pyplot)."""

    def __init__(self, scene, opts):
        import matplotlib
        matplotlib.use("Agg", force=False)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib import patheffects as pe
        self.sc, self.opts = scene, opts
        w, h = opts.size
        self.size = (w, h)
        # +0.25 px so float rounding of W/dpi * dpi never truncates to W - 1
        fig = Figure(figsize=((w + 0.25) / DPI, (h + 0.25) / DPI), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(fig)
        self.fig = fig
        u = float(np.clip(min(w / 640, h / 480), 0.4, 2.2))    # 1 at 640 x 480: fonts and lines scale with size
        self.u = u
        fs = 8 * u
        self.fs = fs
        ax = fig.add_subplot(projection="3d", computed_zorder=False)
        fig.subplots_adjust(left=0.0, right=0.86, bottom=0.0, top=0.88)
        self.ax = ax
        sc = scene
        self.norm = matplotlib.colors.Normalize(vmin=sc.zlim[0], vmax=sc.zlim[1])
        self.cmap = matplotlib.colormaps["viridis"]
        self.A, self.B = np.meshgrid(sc.alphas, sc.betas)
        self.surf = None
        self._surface_index = None
        self._draw_surface(0 if sc.surface_of_frame is not None else None)
        ax.set_xlim(sc.alphas[0], sc.alphas[-1])
        ax.set_ylim(sc.betas[0], sc.betas[-1])
        ax.set_zlim(*sc.zlim)
        ax.set_xlabel("alpha (d1)", fontsize=fs, labelpad=4 * u - 8)
        ax.set_ylabel("beta (d2)", fontsize=fs, labelpad=4 * u - 8)
        ax.set_zlabel("")
        ax.tick_params(labelsize=fs * 0.88, pad=-2)
        ax.tick_params(axis="z", pad=u)
        self.elev, self.azim = opts.camera
        ax.view_init(elev=self.elev, azim=self.azim)
        from matplotlib.ticker import MaxNLocator
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):        # fewer tick labels: text is most of a frame's cost
            axis.set_major_locator(MaxNLocator(nbins=6))
        self._legend_laid_out = False
        sm = matplotlib.cm.ScalarMappable(norm=self.norm, cmap=self.cmap)
        cb = fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.02, fraction=0.04)
        cb.set_label(sc.zlabel, fontsize=fs)
        cb.ax.tick_params(labelsize=fs * 0.88)
        title = fig.text(0.5, 0.985, sc.title, ha="center", va="top", fontsize=fs * 1.25, fontweight="bold")
        r = self.canvas.get_renderer()
        size = fs * 1.25
        while size > 4 and title.get_window_extent(r).width > 0.96 * w:     # shrink a long title to fit
            size -= 0.5
            title.set_fontsize(size)
        stroke = [pe.Stroke(linewidth=3.6 * u, foreground="black"), pe.Normal()]
        self.trails, self.balls = [], []
        for lab, col in zip(sc.labels, sc.colors):
            tr, = ax.plot([], [], [], color=col, lw=2.0 * u, zorder=10, solid_capstyle="round",
                          path_effects=stroke, label=lab)
            ball, = ax.plot([], [], [], "o", color=col, ms=8 * u, mec="black", mew=u,
                            zorder=11)
            self.trails.append(tr)
            self.balls.append(ball)
        # Legend rows "label  loss": every frame's strings padded to one width, so the box (drawn once,
        # in the background) fits them all; each frame only redraws the row texts in place.
        width = max(len(l) for l in sc.labels)
        self.rows = {}
        for lab in sc.labels:
            self.rows[lab] = [f"{lab:<{width}}  {_fmt_loss(x)}" + (" diverged" if d else "") + (" off grid" if o else "")
                              for x, d, o in zip(sc.losses[lab], sc.diverged[lab], sc.offgrid[lab])]
        row_w = max(len(r) for rows in self.rows.values() for r in rows)
        self.rows = {lab: [r.ljust(row_w) for r in rows] for lab, rows in self.rows.items()}
        # the legend's title is the step counter: "step s / last   true train loss"
        self.suffix = f"  (surface follows {sc.moving_follow})" if sc.moving_follow else ""
        self.counters = [f"step {int(s):>{len(str(sc.last_step))}} / {sc.last_step}   true train loss{self.suffix}"
                         for s in sc.steps]
        ncol = 1 if len(sc.labels) < 3 else 2
        self.legend = fig.legend(handles=self.trails, labels=[self.rows[l][-1] for l in sc.labels],
                                 loc="upper left", bbox_to_anchor=(0.006, 0.955), ncol=ncol,
                                 title=self.counters[-1], title_fontproperties={"family": "monospace", "size": fs},
                                 frameon=True, framealpha=0.9, prop={"family": "monospace", "size": fs},
                                 borderaxespad=0.2, columnspacing=1.2 * u, handlelength=1.6, alignment="left")
        self.legend.set_zorder(20)
        for hnd in self.legend.legend_handles:        # plain, thick colour keys
            hnd.set_path_effects([])
            hnd.set_linewidth(4 * u)
        self.legend_texts = self.legend.get_texts()
        self.counter = self.legend.get_title()
        self.dynamic = self.trails + self.balls + list(self.legend_texts) + [self.counter]
        self.blit = sc.surface_of_frame is None and opts.rotate == 0
        self.background = None
        self.n = len(sc.steps)

    def _draw_surface(self, index):
        if index is not None and index == self._surface_index:
            return
        sc = self.sc
        H = sc.heights if index is None else sc.heights[index]
        if self.surf is not None:
            self.surf.remove()
        rc, cc = H.shape
        self.surf = self.ax.plot_surface(self.A, self.B, H, cmap=self.cmap, norm=self.norm, rcount=rc, ccount=cc,
                                         linewidth=0, antialiased=False, shade=False, zorder=1)
        self._surface_index = index

    def _set_frame(self, k):
        sc = self.sc
        for lab, tr, ball in zip(sc.labels, self.trails, self.balls):
            x, y, z = sc.paths[lab]
            e = int(sc.ends[lab][k])
            if sc.trails:
                tr.set_data_3d(x[:e + 1], y[:e + 1], z[:e + 1])
            ball.set_data_3d(x[e:e + 1], y[e:e + 1], z[e:e + 1])
        for lab, text in zip(sc.labels, self.legend_texts):
            text.set_text(self.rows[lab][k])
        self.counter.set_text(self.counters[k])

    def _buffer(self):
        buf = np.asarray(self.canvas.buffer_rgba())
        w, h = self.size
        return np.ascontiguousarray(buf[:h, :w, :3])

    def render(self, k):
        sc, ax = self.sc, self.ax
        self._set_frame(k)
        if self.blit:
            if self.background is None:
                for a in self.dynamic:
                    a.set_visible(False)
                self.canvas.draw()
                self.background = self.canvas.copy_from_bbox(self.fig.bbox)
                for a in self.dynamic:
                    a.set_visible(True)
            self.canvas.restore_region(self.background)
            r = self.canvas.get_renderer()
            for a in self.dynamic:
                a.draw(r)
        else:
            if sc.surface_of_frame is not None:
                self._draw_surface(int(sc.surface_of_frame[k]))
            if self.opts.rotate:
                t = k / max(self.n - 1, 1)
                ax.view_init(elev=self.elev, azim=self.azim + self.opts.rotate * t)
            if not self._legend_laid_out:          # the first draw lays the legend out ...
                self.canvas.draw()
                self._legend_laid_out = True
            else:                                  # ... later ones reuse that layout (it is fixed in the figure)
                self.legend.set_visible(False)
                self.canvas.draw()
                self.legend.set_visible(True)
                r = self.canvas.get_renderer()
                for a in [self.legend.legendPatch, *self.legend.legend_handles, *self.legend_texts, self.counter]:
                    a.draw(r)
        img = self._buffer()
        if img.shape[:2] != (self.size[1], self.size[0]):
            raise RuntimeError(f"rendered {img.shape[1]}x{img.shape[0]}, expected {self.size[0]}x{self.size[1]}")
        return img

    def close(self):
        self.fig.clear()
