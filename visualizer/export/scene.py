"""Frames of an exported animation: the frame model and the panels' data drawn by matplotlib.

``build_scene(result, opts)`` computes every frame's data before drawing: the frame model of
visualizer.plotdata.frames (steps, surfaces, ball heights, losses; the same as the app's figure), the title, and
for the other panels their data (visualizer.plotdata.panels, visualizer.plotdata.slices: what the app draws).
``Renderer(scene, opts).render(k)`` draws frame k into an (H, W, 3) uint8 array (Agg canvas, no pyplot).

Panels sit side by side in one frame of ``opts.size``, their widths in the ratio of
panel_data.PANEL_WIDTH: the landscape (this module's LandscapePanel) and the 2-D panels of
visualizer.export.scene_panels, each with a step marker that frames move. With a fixed camera and a fixed
surface, the background (surface, axes, colour bar, static curves) is rendered once and each frame only
draws the dynamic artists (trails, balls, legend, counter, step markers; the slices panel's axes, whose
lines change with the step) over a copy of it; with a camera turn or a moving landscape the whole
figure is drawn per frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visualizer.export.scene_panels import PANEL_CLASSES, Panel
from visualizer.plotdata import panels as panel_data

from visualizer.plotdata import slices as slice_data
from visualizer.plotdata.frames import FrameModel, build_frames, last_step, plane_warning
from visualizer.plotdata.per_run import per_run_frames, per_run_planes
from visualizer.plotdata.panels import PANEL_WIDTH
from visualizer.errors import UsageError
from visualizer.plotdata.style import run_style
from visualizer.plotdata.view import axis_units, check_labels, plane_aspect

DPI = 100
SCENE_WIDTH = 0.8                  # the 3D axes' share of the landscape panel's width (the colour bar: right)


# ---------------------------------------------------------------- frame data
@dataclass
class Scene:
    """Everything the renderer needs, computed before drawing."""
    frames: FrameModel
    title: str = ""
    panels: tuple = ("landscape",)
    curves: list | None = None           # panel_data.curves_data
    sharpness: list | None = None        # panel_data.sharpness_data
    slices: list | None = None           # slice_data.SlicePanel of each frame
    target_loss: float | None = None
    plane: object = None                 # the result's Plane (its method names the axes' units)
    per_run: dict | None = None          # "pca_per_run": label -> (FrameModel, Plane) of each run on its own plane

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
    """The frame model of ``opts.view()`` (PNG: one frame at ``opts.step``, default the last step) and the data
    of ``opts.panels``."""
    v = opts.view()
    steps = None
    if opts.fmt == "png":
        last = last_step(result, check_labels(result, opts.optimizers))
        steps = [last if opts.step is None else opts.step]
        if not 0 <= steps[0] <= last:
            raise UsageError("--step", steps[0], f"must be an integer in [0, {last}] (the run's steps)")
    title = opts.title if opts.title is not None else result.spec.name
    fm = build_frames(result, v, steps)
    sc = Scene(frames=fm, title=title, panels=tuple(opts.panels), target_loss=result.spec.training.target_loss,
               plane=result.plane)
    labels = fm.labels
    if "landscape" in sc.panels and per_run_planes(result, v):       # small multiples: each run on its own plane
        subs, fms = per_run_frames(result, v, fm.steps)
        sc.per_run = {lab: (fms[lab], subs[lab].plane) for lab in fms}
        if opts.title is None:
            sc.title += " (each run on its own PCA plane)"
    if "curves" in sc.panels:
        sc.curves = panel_data.curves_data(result, labels)
    if "sharpness" in sc.panels:
        sc.sharpness = panel_data.sharpness_data(result, labels)
    if "slices" in sc.panels:
        sc.slices = slice_data.panels_at(result, opts.slice_optimizer or labels[0], fm.steps, labels)
    return sc


def panel_regions(panels):
    """(x0, x1) figure fractions of each panel, widths in the ratio of PANEL_WIDTH."""
    w = np.array([PANEL_WIDTH[p] for p in panels], float)
    edges = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    return [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]


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
        self.plane = scene.plane
        self.size = tuple(opts.size)
        self.n = len(self.fm.steps)
        self._figure()
        classes = dict(PANEL_CLASSES, landscape=LandscapePanel)
        self.parts = []
        for name, region in zip(scene.panels, panel_regions(scene.panels)):
            if name == "landscape" and scene.per_run:            # one landscape a run, side by side in the region
                x0, x1 = region
                w = (x1 - x0) / len(scene.per_run)
                self.parts += [LandscapePanel(self, (x0 + i * w, x0 + (i + 1) * w), fm=fm, plane=plane)
                               for i, (fm, plane) in enumerate(scene.per_run.values())]
            else:
                self.parts.append(classes[name](self, region))
        self._title()
        self.dynamic = [a for p in self.parts for a in p.dynamic]
        self.blit = all(p.blittable for p in self.parts)
        self.background = None
        self._laid_out = False

    @property
    def landscape(self):
        return next((p for p in self.parts if isinstance(p, LandscapePanel)), None)

    @property
    def balls(self):
        return self.landscape.balls

    def _figure(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        w, h = self.size
        # +0.25 px so float rounding of W/dpi * dpi never truncates to W - 1
        self.fig = Figure(figsize=((w + 0.25) / DPI, (h + 0.25) / DPI), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        natural = sum(PANEL_WIDTH[p] for p in self.sc.panels)      # 640 for the landscape alone
        self.u = float(np.clip(min(w / natural, h / 480), 0.4, 2.2))   # 1 at the natural size: fonts, lines
        self.fs = 8 * self.u

    def _title(self):
        fs = self.fs
        title = self.fig.text(0.5, 0.985, self.sc.title, ha="center", va="top", fontsize=fs * 1.25,
                              fontweight="bold")
        r = self.canvas.get_renderer()
        size = fs * 1.25
        while size > 4 and title.get_window_extent(r).width > 0.96 * self.size[0]:   # shrink a long title to fit
            size -= 0.5
            title.set_fontsize(size)

    def _buffer(self):
        buf = np.asarray(self.canvas.buffer_rgba())
        w, h = self.size
        return np.ascontiguousarray(buf[:h, :w, :3])

    def _draw_blit(self):
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

    def _draw_full(self, k):
        for p in self.parts:
            p.prepare_full(k)
        if not self._laid_out:                     # the first draw lays the legend out ...
            self.canvas.draw()
            self._laid_out = True
        else:
            for p in self.parts:                   # ... later ones reuse that layout (it is fixed in the figure)
                p.hide_overlay()
            self.canvas.draw()
            for p in self.parts:
                p.draw_overlay(self.canvas.get_renderer())
        r = self.canvas.get_renderer()
        for p in self.parts:                       # over the drawn axes, with this frame's projection
            p.draw_after(r)

    def render(self, k):
        for p in self.parts:
            p.set_frame(k)
        if self.blit:
            self._draw_blit()
        else:
            self._draw_full(k)
        img = self._buffer()
        if img.shape[:2] != (self.size[1], self.size[0]):
            raise RuntimeError(f"rendered {img.shape[1]}x{img.shape[0]}, expected {self.size[0]}x{self.size[1]}")
        return img

    def close(self):
        self.fig.clear()


class EndLabels:
    """The runs' end labels (2-D texts), laid out when drawn, in pixels: each beside its ball's projection (to
    its right, or its left where the right would leave the panel's region), then moved down, top to bottom,
    until no two labels' boxes come within ``gap`` px of each other. ``points[i]``: label i's ball (x, y, z) in
    data coordinates, None: not shown. After a draw, each text's get_window_extent is where it was drawn."""

    def __init__(self, fig, ax, texts, region, gap=5.0):
        self.fig, self.ax, self.texts, self.region, self.gap = fig, ax, list(texts), region, float(gap)
        self.points = [None] * len(self.texts)
        self.visible = True
        for t in self.texts:
            t.set_figure(fig)

    def set_visible(self, v):
        self.visible = bool(v)

    def get_visible(self):
        return self.visible

    def layout(self, renderer):
        from mpl_toolkits.mplot3d import proj3d
        shown = [(t, p) for t, p in zip(self.texts, self.points) if p is not None and t.get_visible()]
        w = self.fig.bbox.width
        right = self.region[1] * w
        boxes = []
        for t, (x, y, z) in shown:
            xs, ys, _ = proj3d.proj_transform(np.array([x]), np.array([y]), np.array([z]), self.ax.M)
            px, py = self.ax.transData.transform((float(xs[0]), float(ys[0])))
            t.set_horizontalalignment("left")
            t.set_position((px + self.gap, py))
            if t.get_window_extent(renderer).x1 > right:        # no room on the right: on the left of the ball
                t.set_horizontalalignment("right")
                t.set_position((px - self.gap, py))
            boxes.append([t, t.get_window_extent(renderer)])
        boxes.sort(key=lambda tb: -tb[1].y1)                      # top to bottom
        placed = []
        for t, bb in boxes:
            x0, y0, x1, y1 = bb.x0, bb.y0, bb.x1, bb.y1
            moved = True
            while moved:                                       # below every placed label it would touch
                moved = False
                for p0, q0, p1, q1 in placed:
                    if x0 < p1 + self.gap and p0 < x1 + self.gap and y0 < q1 + self.gap and q0 < y1 + self.gap:
                        dy = y1 - (q0 - self.gap)
                        y0, y1 = y0 - dy, y1 - dy
                        moved = True
            if y1 != bb.y1:
                px, py = t.get_position()
                t.set_position((px, py - (bb.y1 - y1)))
            placed.append((x0, y0, x1, y1))

    def draw(self, renderer):
        """Lay the labels out with the axes' current projection (draw the axes first) and draw them."""
        if not self.visible:
            return
        self.layout(renderer)
        for t, p in zip(self.texts, self.points):
            if p is not None and t.get_visible():
                t.draw(renderer)


class LandscapePanel(Panel):
    """The 3D surface with a trail and a ball per optimizer, a colour bar and the step / loss legend."""

    def __init__(self, r, region, fm=None, plane=None):
        """``fm``, ``plane``: a per-run panel's own frame model and plane (default: the scene's)."""
        import matplotlib
        self.r, self.fig, self.canvas, self.opts = r, r.fig, r.canvas, r.opts
        self.fm, self.plane = fm or r.fm, plane or r.plane
        self.u, self.fs, self.size = r.u, r.fs, r.size
        x0, x1 = self.region = region
        w = x1 - x0
        low = 0.07 if plane_warning(self.fm) else 0.0       # room for the in-plane warning under the axes
        # the scene, then the colour bar to its right with a gap (z tick labels), both under the legend's band
        self.ax = self.fig.add_axes((x0, low, w * SCENE_WIDTH, 0.88 - low), projection="3d", computed_zorder=False)
        self.cax = self.fig.add_axes((x0 + w * (SCENE_WIDTH + 0.05), max(0.16, low + 0.04), w * 0.028, 0.56))
        self.norm = matplotlib.colors.Normalize(vmin=self.fm.zrange[0], vmax=self.fm.zrange[1])
        self.cmap = matplotlib.colormaps["viridis"]
        self._axes()
        self._colorbar(matplotlib)
        self._paths()
        self._legend()
        self._warning()
        self._fit_below_legend()
        self.dynamic = (self.trails + self.balls + self.truths + [self.end_labels] + list(self.legend_texts)
                        + [self.counter])
        self.blittable = not self.fm.moving and self.opts.rotate == 0

    def _axes(self):
        from matplotlib.ticker import MaxNLocator
        fm, ax, u, fs = self.fm, self.ax, self.u, self.fs
        self.A, self.B = np.meshgrid(fm.alphas, fm.betas)
        self.surf = None
        self._surface_index = None
        self._draw_surface(int(fm.surface_of_frame[0]))
        ax.set_xlim(fm.alphas[0], fm.alphas[-1])
        ax.set_ylim(fm.betas[0], fm.betas[-1])
        ax.set_zlim(*fm.zlim)                 # the surface's range and every true-loss marker
        ua, ub = axis_units(self.plane, moving=fm.moving)
        ax.set_xlabel(f"alpha ({ua})", fontsize=fs * 0.9, labelpad=4 * u - 8)
        ax.set_ylabel(f"beta ({ub})", fontsize=fs * 0.9, labelpad=4 * u - 8)
        xa, ya = plane_aspect(fm.alphas, fm.betas)          # the plane's axes in proportion to their spans
        ax.set_box_aspect((xa, ya, 0.6 * max(xa, ya)))
        ax.set_zlabel("")
        ax.tick_params(labelsize=fs * 0.88, pad=-2)
        ax.tick_params(axis="z", pad=u)
        self.elev, self.azim = self.opts.camera
        ax.view_init(elev=self.elev, azim=self.azim)
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):        # fewer tick labels: text is most of a frame's cost
            axis.set_major_locator(MaxNLocator(nbins=6))

    def _fit_below_legend(self):
        """The scene's box ends below the legend (and the colour bar below it): they never overlap."""
        r = self.canvas.get_renderer()
        h = self.size[1]
        bottom = self.legend.get_window_extent(r).y0 / h - 0.012        # figure fraction under the legend
        x, y, w, _ = self.ax.get_position().bounds
        self.ax.set_position((x, y, w, max(0.3, min(0.88, bottom) - y)))
        cx, cy, cw, ch = self.cax.get_position().bounds
        if cy + ch > bottom - 0.03:
            self.cax.set_position((cx, cy, cw, max(0.15, bottom - 0.03 - cy)))

    def _colorbar(self, matplotlib):
        sm = matplotlib.cm.ScalarMappable(norm=self.norm, cmap=self.cmap)
        cb = self.fig.colorbar(sm, cax=self.cax)
        cb.set_label(self.fm.zlabel, fontsize=self.fs)
        cb.ax.tick_params(labelsize=self.fs * 0.88)

    def _paths(self):
        """A trail and a ball artist per optimizer, and the points they draw (NaN off the grid: not drawn)."""
        from matplotlib import patheffects as pe
        from matplotlib.text import Text
        from matplotlib.transforms import IdentityTransform
        u = self.u
        stroke = [pe.Stroke(linewidth=3.6 * u, foreground="black"), pe.Normal()]
        halo = [pe.withStroke(linewidth=2.5 * u, foreground="white")]
        self.trails, self.balls, self.truths, self.labels, self.xyz = [], [], [], [], []
        for k, p in enumerate(self.fm.paths.values()):
            st = p.style or run_style(k)
            tr, = self.ax.plot([], [], [], color=p.color, lw=2.0 * u, zorder=10, solid_capstyle="round",
                               ls=st.mpl_dash, path_effects=stroke, label=p.label)
            # later runs' balls are smaller and drawn above: balls at one place nest instead of hiding
            ball, = self.ax.plot([], [], [], st.mpl_marker, color=p.color, ms=st.size * 0.62 * u, mec="black",
                                 mew=u, zorder=11 + k)
            # the true loss where it is far from the ball's (frames.TRUTH_RATIO): a stalk to a hollow marker
            truth, = self.ax.plot([], [], [], ":", color=p.color, lw=1.5 * u, marker="o", markevery=[1], ms=6 * u,
                                  mfc="none", mec=p.color, mew=1.5 * u, zorder=12 + len(self.fm.paths))
            label = Text(0, 0, p.label, fontsize=self.fs * 0.9, color="#111111", path_effects=halo,
                         transform=IdentityTransform(), ha="left", va="center")
            self.trails.append(tr)
            self.balls.append(ball)
            self.truths.append(truth)
            self.labels.append(label)
            self.xyz.append(tuple(np.where(p.offgrid, np.nan, q) for q in (p.alpha, p.beta, p.height)))
        self.end_labels = EndLabels(self.fig, self.ax, self.labels, self.region, gap=5 * u)

    def _legend_rows(self):
        """Legend rows "label [(failed at STEP; in plane N%)]  true loss [diverged] [off grid]" of every frame,
        padded to one width (so the box, drawn once in the background, fits them all), and the step counters."""
        fm = self.fm
        names = {p.label: p.name or p.label for p in fm.paths.values()}   # frames: style.legend_name's text
        width = max(len(n) for n in names.values())     # "large LR (failed at 120; in plane 43%)"
        rows = {p.label: [f"{names[p.label]:<{width}}  {_fmt_loss(x)}" + (" diverged" if d else "")
                          + (" off grid" if o else "")
                          for x, d, o in zip(p.balls("loss"), p.diverged, p.balls("offgrid"))]
                for p in fm.paths.values()}
        row_w = max(len(r) for rs in rows.values() for r in rs)
        self.rows = {lab: [r.ljust(row_w) for r in rs] for lab, rs in rows.items()}
        suffix = f"  (surface follows {fm.follow})" if fm.moving else ""
        self.counters = [f"step {int(s):>{len(str(fm.last_step))}} / {fm.last_step}   true train loss{suffix}"
                         for s in fm.steps]

    def _legend(self):
        """The legend's rows (each frame only redraws their texts in place); its title is the step counter:
        "step s / last   true train loss"."""
        fm, u, fs = self.fm, self.u, self.fs
        self._legend_rows()
        ncol = 1 if len(fm.labels) < 3 else 2
        x0, x1 = self.region
        self.legend = self.fig.legend(
            handles=self.trails, labels=[self.rows[l][-1] for l in fm.labels], loc="upper left",
            bbox_to_anchor=(x0 + 0.006 * (x1 - x0), 0.955), ncol=ncol, title=self.counters[-1],
            title_fontproperties={"family": "monospace", "size": fs}, frameon=True, framealpha=0.9,
            prop={"family": "monospace", "size": fs}, borderaxespad=0.2, columnspacing=1.2 * u, handlelength=1.6,
            alignment="left")
        self.legend.set_zorder(20)
        for hnd in self.legend.legend_handles:        # plain, thick colour keys
            hnd.set_path_effects([])
            hnd.set_linewidth(4 * u)
        self.legend_texts = self.legend.get_texts()
        self.counter = self.legend.get_title()

    def _warning(self):
        """The in-plane warning (frames.plane_warning) under the surface, when some run keeps little of its path."""
        text = plane_warning(self.fm)
        self.warning = None
        if text:
            x0, x1 = self.region
            self.warning = self.fig.text(x1 - 0.01 * (x1 - x0), 0.012, "⚠ " + text, ha="right", va="bottom",
                                         fontsize=self.fs * 0.9, color="#8a1c00", wrap=True,
                                         bbox=dict(facecolor="white", edgecolor="#8a1c00", alpha=0.85, pad=2))

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

    def set_frame(self, k):
        fm = self.fm
        for p, (x, y, z), tr, ball, label in zip(fm.paths.values(), self.xyz, self.trails, self.balls, self.labels):
            e = int(p.ends[k])
            if fm.trails:
                tr.set_data_3d(x[:e + 1], y[:e + 1], z[:e + 1])
            ball.set_data_3d(x[e:e + 1], y[e:e + 1], z[e:e + 1])
            ok = bool(np.isfinite(x[e]) and np.isfinite(y[e]) and np.isfinite(z[e]))
            label.set_visible(ok)                      # the end label beside the ball (none off the grid)
            self.end_labels.points[self.labels.index(label)] = (x[e], y[e], z[e]) if ok else None
        for p, (x, y, z), truth in zip(fm.paths.values(), self.xyz, self.truths):
            e = int(p.ends[k])
            if p.apart[e] and np.isfinite(x[e]):
                truth.set_data_3d([x[e], x[e]], [y[e], y[e]], [z[e], p.true_height[e]])
            else:
                truth.set_data_3d([], [], [])
        for lab, text in zip(fm.labels, self.legend_texts):
            text.set_text(self.rows[lab][k])
        self.counter.set_text(self.counters[k])

    def prepare_full(self, k):
        if self.fm.moving:
            self._draw_surface(int(self.fm.surface_of_frame[k]))
        if self.opts.rotate:
            t = k / max(self.r.n - 1, 1)
            self.ax.view_init(elev=self.elev, azim=self.azim + self.opts.rotate * t)

    def hide_overlay(self):
        self.legend.set_visible(False)

    def draw_after(self, r):
        self.end_labels.draw(r)

    def draw_overlay(self, r):
        self.legend.set_visible(True)
        for a in [self.legend.legendPatch, *self.legend.legend_handles, *self.legend_texts, self.counter]:
            a.draw(r)
