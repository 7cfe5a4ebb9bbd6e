"""Frames of an exported animation: the frame model drawn by a matplotlib 3D renderer.

``build_scene(result, opts)`` computes every frame's data before drawing: the frame model of
visualizer.frames (steps, surfaces, ball heights, losses; the same as the app's figure) and the title.
``Renderer(scene, opts).render(k)`` draws frame k into an (H, W, 3) uint8 array
(Agg canvas, no pyplot). With a fixed camera and a fixed surface, the background
(surface, axes, colour bar) is rendered once and each frame only draws the
trails, balls, legend and counter over a copy of it; with a camera turn or a
moving landscape the whole figure is drawn per frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frames import FrameModel, build_frames, last_step
from .view import UsageError, check_labels

DPI = 100


# ---------------------------------------------------------------- frame data
@dataclass
class Scene:
    """Everything the renderer needs, computed before drawing."""
    frames: FrameModel
    title: str = ""

    @property
    def steps(self):
        return self.frames.steps

    @property
    def colors(self):
        return self.frames.colors

    @property
    def moving(self):
        return self.frames.moving


def build_scene(result, opts):
    """The frame model of ``opts.view()`` (PNG: one frame at ``opts.step``, default the last step)."""
    v = opts.view()
    steps = None
    if opts.fmt == "png":
        last = last_step(result, check_labels(result, opts.optimizers))
        steps = [last if opts.step is None else opts.step]
        if not 0 <= steps[0] <= last:
            raise UsageError("--step", steps[0], f"must be an integer in [0, {last}] (the run's steps)")
    title = opts.title if opts.title is not None else result.spec.name
    return Scene(frames=build_frames(result, v, steps), title=title)


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
        self.sc, self.fm, self.opts = scene, scene.frames, opts
        self.size = opts.size
        self.n = len(self.fm.steps)
        self._figure(matplotlib)
        self._axes()
        self._colorbar_and_title(matplotlib)
        self._paths()
        self._legend()
        self.dynamic = self.trails + self.balls + list(self.legend_texts) + [self.counter]
        self.blit = not self.fm.moving and opts.rotate == 0
        self.background = None

    def _figure(self, matplotlib):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        w, h = self.size
        # +0.25 px so float rounding of W/dpi * dpi never truncates to W - 1
        self.fig = Figure(figsize=((w + 0.25) / DPI, (h + 0.25) / DPI), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        self.u = float(np.clip(min(w / 640, h / 480), 0.4, 2.2))    # 1 at 640 x 480: fonts and lines scale with size
        self.fs = 8 * self.u
        self.ax = self.fig.add_subplot(projection="3d", computed_zorder=False)
        self.fig.subplots_adjust(left=0.0, right=0.86, bottom=0.0, top=0.88)
        self.norm = matplotlib.colors.Normalize(vmin=self.fm.zrange[0], vmax=self.fm.zrange[1])
        self.cmap = matplotlib.colormaps["viridis"]

    def _axes(self):
        from matplotlib.ticker import MaxNLocator
        fm, ax, u, fs = self.fm, self.ax, self.u, self.fs
        self.A, self.B = np.meshgrid(fm.alphas, fm.betas)
        self.surf = None
        self._surface_index = None
        self._draw_surface(int(fm.surface_of_frame[0]))
        ax.set_xlim(fm.alphas[0], fm.alphas[-1])
        ax.set_ylim(fm.betas[0], fm.betas[-1])
        ax.set_zlim(*fm.zrange)
        ax.set_xlabel("alpha (d1)", fontsize=fs, labelpad=4 * u - 8)
        ax.set_ylabel("beta (d2)", fontsize=fs, labelpad=4 * u - 8)
        ax.set_zlabel("")
        ax.tick_params(labelsize=fs * 0.88, pad=-2)
        ax.tick_params(axis="z", pad=u)
        self.elev, self.azim = self.opts.camera
        ax.view_init(elev=self.elev, azim=self.azim)
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):        # fewer tick labels: text is most of a frame's cost
            axis.set_major_locator(MaxNLocator(nbins=6))

    def _colorbar_and_title(self, matplotlib):
        fs = self.fs
        sm = matplotlib.cm.ScalarMappable(norm=self.norm, cmap=self.cmap)
        cb = self.fig.colorbar(sm, ax=self.ax, shrink=0.6, pad=0.02, fraction=0.04)
        cb.set_label(self.fm.zlabel, fontsize=fs)
        cb.ax.tick_params(labelsize=fs * 0.88)
        title = self.fig.text(0.5, 0.985, self.sc.title, ha="center", va="top", fontsize=fs * 1.25,
                              fontweight="bold")
        r = self.canvas.get_renderer()
        size = fs * 1.25
        while size > 4 and title.get_window_extent(r).width > 0.96 * self.size[0]:   # shrink a long title to fit
            size -= 0.5
            title.set_fontsize(size)

    def _paths(self):
        """A trail and a ball artist per optimizer, and the points they draw (NaN off the grid: not drawn)."""
        from matplotlib import patheffects as pe
        u = self.u
        stroke = [pe.Stroke(linewidth=3.6 * u, foreground="black"), pe.Normal()]
        self.trails, self.balls, self.xyz = [], [], []
        for p in self.fm.paths.values():
            tr, = self.ax.plot([], [], [], color=p.color, lw=2.0 * u, zorder=10, solid_capstyle="round",
                               path_effects=stroke, label=p.label)
            ball, = self.ax.plot([], [], [], "o", color=p.color, ms=8 * u, mec="black", mew=u, zorder=11)
            self.trails.append(tr)
            self.balls.append(ball)
            self.xyz.append(tuple(np.where(p.offgrid, np.nan, q) for q in (p.alpha, p.beta, p.height)))

    def _legend(self):
        """Legend rows "label  true loss [diverged] [off grid]": every frame's strings padded to one width, so
        the box (drawn once, in the background) fits them all; each frame only redraws the row texts in place.
        The legend's title is the step counter: "step s / last   true train loss"."""
        fm, u, fs = self.fm, self.u, self.fs
        width = max(len(l) for l in fm.labels)
        rows = {p.label: [f"{p.label:<{width}}  {_fmt_loss(x)}" + (" diverged" if d else "") + (" off grid" if o else "")
                          for x, d, o in zip(p.balls("loss"), p.diverged, p.balls("offgrid"))]
                for p in fm.paths.values()}
        row_w = max(len(r) for rs in rows.values() for r in rs)
        self.rows = {lab: [r.ljust(row_w) for r in rs] for lab, rs in rows.items()}
        suffix = f"  (surface follows {fm.follow})" if fm.moving else ""
        self.counters = [f"step {int(s):>{len(str(fm.last_step))}} / {fm.last_step}   true train loss{suffix}"
                         for s in fm.steps]
        ncol = 1 if len(fm.labels) < 3 else 2
        self.legend = self.fig.legend(
            handles=self.trails, labels=[self.rows[l][-1] for l in fm.labels], loc="upper left",
            bbox_to_anchor=(0.006, 0.955), ncol=ncol, title=self.counters[-1],
            title_fontproperties={"family": "monospace", "size": fs}, frameon=True, framealpha=0.9,
            prop={"family": "monospace", "size": fs}, borderaxespad=0.2, columnspacing=1.2 * u, handlelength=1.6,
            alignment="left")
        self.legend.set_zorder(20)
        for hnd in self.legend.legend_handles:        # plain, thick colour keys
            hnd.set_path_effects([])
            hnd.set_linewidth(4 * u)
        self.legend_texts = self.legend.get_texts()
        self.counter = self.legend.get_title()
        self._legend_laid_out = False

    def _draw_surface(self, index):
        if index == self._surface_index:
            return
        if self.surf is not None:
            self.surf.remove()
        H = self.fm.heights[index]
        rc, cc = H.shape
        self.surf = self.ax.plot_surface(self.A, self.B, H, cmap=self.cmap, norm=self.norm, rcount=rc, ccount=cc,
                                         linewidth=0, antialiased=False, shade=False, zorder=1)
        self._surface_index = index

    def _set_frame(self, k):
        fm = self.fm
        for p, (x, y, z), tr, ball in zip(fm.paths.values(), self.xyz, self.trails, self.balls):
            e = int(p.ends[k])
            if fm.trails:
                tr.set_data_3d(x[:e + 1], y[:e + 1], z[:e + 1])
            ball.set_data_3d(x[e:e + 1], y[e:e + 1], z[e:e + 1])
        for lab, text in zip(fm.labels, self.legend_texts):
            text.set_text(self.rows[lab][k])
        self.counter.set_text(self.counters[k])

    def _buffer(self):
        buf = np.asarray(self.canvas.buffer_rgba())
        w, h = self.size
        return np.ascontiguousarray(buf[:h, :w, :3])

    def render(self, k):
        ax = self.ax
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
            if self.fm.moving:
                self._draw_surface(int(self.fm.surface_of_frame[k]))
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
