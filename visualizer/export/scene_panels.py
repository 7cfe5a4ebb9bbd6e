"""The exporter's 2-D panels (matplotlib): sharpness, curves (the training loss) and the 1-D slices.

Each draws its panel data (visualizer.plotdata.panels, visualizer.plotdata.slices), the data the app's plotly
figures draw, inside its region of the frame (visualizer.export.scene.Renderer lays them out). Static parts
go into the renderer's saved background; ``dynamic`` artists are drawn every frame: a step line and a dot
on each curve at the frame's step (sharpness also names the runs above their threshold at that step),
and the slices panel's whole axes (their lines are taken at the frame's step).
"""
from __future__ import annotations

import numpy as np

from visualizer.figures.labels import LINE, stack_apart
from visualizer.plotdata import slices as S
from visualizer.plotdata.panels import loss_range, sharpness_axis_title, sharpness_range
from core.model.training import frame_index
from visualizer.plotdata.style import run_style

STEP_COLOR = "#333333"


def _rect(r, region, top_pad=18.0, bottom=36.0, left=56.0, right=14.0):
    """An axes rectangle (figure fractions) inside ``region``, margins in pixels at u = 1."""
    w, h = r.size
    u = r.u
    x0, x1 = region[0] * w + left * u, region[1] * w - right * u
    top = 0.88 if "landscape" in r.sc.panels else 0.92          # the landscape's legend needs the band above
    y0, y1 = bottom * u, top * h - top_pad * u
    return (x0 / w, y0 / h, max(x1 - x0, 10) / w, max(y1 - y0, 10) / h)


def _style(ax, r, log=False):
    ax.tick_params(labelsize=r.fs * 0.85, length=3 * r.u, pad=2 * r.u)
    for sp in ("top", "right"):
        ax.spines[sp].set_visible(False)
    if log:                             # ticks at 1, 2, 5 of each decade, as plain numbers (as the app's)
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="major", color="#e5e7eb", lw=0.6 * r.u)


class Panel:
    """A panel of the frame: ``dynamic`` artists drawn every frame, ``set_frame(k)`` updates them."""
    blittable = True
    dynamic = ()

    def prepare_full(self, k):
        pass

    def hide_overlay(self):
        pass

    def draw_overlay(self, r):
        pass

    def draw_after(self, r):
        """Drawn over every full draw of the frame (blitting frames draw ``dynamic`` instead)."""


class _StepPanel(Panel):
    """Series against step on a log axis, with a step line and a dot per series that frames move."""
    title = ""
    right = 14.0                     # px (at u = 1) right of the axes

    def __init__(self, r, region):
        self.r, self.fm = r, r.fm
        self.ax = r.fig.add_axes(_rect(r, region, right=self.right))
        _style(self.ax, r, log=True)
        self.ax.set_title(self.title, fontsize=r.fs, pad=4 * r.u)
        self.ax.set_xlabel("step", fontsize=r.fs * 0.9, labelpad=1)
        self.ax.set_xlim(0, max(1, self.fm.last_step))
        self.draw_static()
        lo, hi = self.value_range()
        self.ax.set_ylim(lo / 1.5, hi * 1.5)
        self.vline = self.ax.axvline(0, color=STEP_COLOR, lw=1.2 * r.u, zorder=5)
        self.dots = [self.ax.plot([], [], st.mpl_marker, color=st.color, ms=5.5 * r.u, mec="black", mew=0.6 * r.u,
                                  zorder=6, clip_on=False)[0]
                     for st in self.styles()]
        self.dynamic = [self.vline] + self.dots

    def set_frame(self, k):
        s = float(self.fm.steps[k])
        self.vline.set_xdata([s, s])
        for dot, (x, y) in zip(self.dots, self.points(s)):
            dot.set_data([x], [y])

    def legend(self, handles, labels):
        self.ax.legend(handles, labels, fontsize=self.r.fs * 0.8, loc="upper left", framealpha=0.85,
                       handlelength=1.8, borderaxespad=0.3)


class SharpnessPanel(_StepPanel):
    title = "sharpness (solid) and stability threshold (dashed)"
    right = 42.0                     # the thresholds' values, right of the axes

    def threshold_labels(self):
        """Each threshold's value right of the axes, level with where its dashed line ends (outside the plot: no
        line crosses it), values closer than a line stacked apart."""
        r, ax = self.r, self.ax
        rows = []
        for s in self.series:
            ok = np.flatnonzero(np.isfinite(s.threshold) & (s.threshold > 0))
            if ok.size:
                rows.append((s, float(s.threshold[ok[-1]])))
        fs = r.fs * 0.8
        ys = [ax.transData.transform((0.0, v))[1] for _, v in rows]          # px, up
        top = ax.transAxes.transform((0.0, 1.0))[1]
        shifts = stack_apart(ys, gap=fs * LINE * 100 / 72 + 1, top=top)     # a line of text, in px
        self.thresholds = [ax.annotate(f"{v:.3g}", (1.0, v), xycoords=("axes fraction", "data"),
                                       xytext=(3 * r.u, sh * 72 / 100), textcoords="offset points", ha="left",
                                       va="center", fontsize=fs, color=s.color, annotation_clip=False)
                           for (s, v), sh in zip(rows, shifts)]

    def draw_static(self):
        r, ax = self.r, self.ax
        self.series = r.sc.sharpness
        handles = []
        for s in self.series:
            h, = ax.plot(s.steps, np.where(s.sharpness > 0, s.sharpness, np.nan), color=s.color, lw=1.6 * r.u)
            ax.plot(s.steps, s.threshold, color=s.color, lw=1.2 * r.u, ls=(0, (4, 2.5)))
            handles.append(h)
        ax.set_ylabel(sharpness_axis_title(self.series).replace("; ", "\n"), fontsize=r.fs * 0.85)
        self.legend(handles, [s.name for s in self.series])
        self.note = ax.text(0.99, 0.02, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=r.fs * 0.85,
                            color="#991b1b", zorder=7)

    def value_range(self):
        return sharpness_range(self.series)

    def styles(self):
        return [s.style or run_style(k) for k, s in enumerate(self.series)]

    def points(self, step):
        return [(s.steps[i], s.sharpness[i]) for s in self.series for i in [s.index_at(step)]]

    def __init__(self, r, region):
        super().__init__(r, region)
        self.threshold_labels()
        self.dynamic.append(self.note)

    def set_frame(self, k):
        super().set_frame(k)
        s = float(self.fm.steps[k])
        above = [x.label for x in self.series if x.above[x.index_at(s)]]
        self.note.set_text(f"above its threshold: {', '.join(above)}" if above else "")


class CurvesPanel(_StepPanel):
    title = "loss per step (log axis), dots: recorded frames"

    def draw_static(self):
        r, ax = self.r, self.ax
        self.series = r.sc.curves
        # the loss at every step (spikes between recorded frames stay visible) in the run's dash, the recorded
        # frames marked on it
        handles = [ax.plot(c.history_steps, np.where(c.history > 0, c.history, np.nan), color=c.color,
                           lw=1.4 * r.u, ls=(c.style or run_style(k)).mpl_dash)[0]
                   for k, c in enumerate(self.series)]
        for c in self.series:
            ax.plot(c.steps, np.where(c.loss > 0, c.loss, np.nan), "o", color=c.color, ms=1.8 * r.u, mew=0)
        if r.sc.target_loss is not None:
            ax.axhline(r.sc.target_loss, color="#888888", lw=0.9 * r.u, ls=":")
        if "landscape" not in r.sc.panels and "sharpness" not in r.sc.panels:
            self.legend(handles, [c.name or c.label for c in self.series])

    def value_range(self):
        return loss_range(self.series)

    def styles(self):
        return [c.style or run_style(k) for k, c in enumerate(self.series)]

    def points(self, step):
        return [(c.steps[i], c.loss[i]) for c in self.series for i in [frame_index(c.steps, step)]]


class SlicesPanel(Panel):
    """The three 1-D slices, stacked: their axes are redrawn every frame (the lines follow the step)."""

    def __init__(self, r, region):
        self.r, self.panels = r, r.sc.slices
        x, y, w, h = _rect(r, region, top_pad=16.0, bottom=30.0, left=50.0)
        gap = 30.0 * r.u / r.size[1]
        hh = (h - 2 * gap) / 3
        self.axes = [r.fig.add_axes((x, y + (2 - i) * (hh + gap), w, hh)) for i in range(3)]
        for ax in self.axes:
            _style(ax, r)
        self.axes[-1].set_xlabel("t", fontsize=r.fs * 0.9, labelpad=1)
        first = self.panels[0]
        self.header = r.fig.text((region[0] + region[1]) / 2, y + h + 16.0 * r.u / r.size[1], "", ha="center",
                                 va="bottom", fontsize=r.fs, color="#111111")
        self.lines = [self._lines(self.axes[0], [(first.color, 1)]), self._lines(self.axes[1], [(first.color, 2)]),
                      self._lines(self.axes[2], [(l.color, 1) for l in first.lines])]
        self.dynamic = self.axes + [self.header]

    def _lines(self, ax, specs):
        u = self.r.u
        out = []
        for color, dots in specs:
            loss, = ax.plot([], [], color=color, lw=1.5 * u)
            quad, = ax.plot([], [], color=color, lw=1.1 * u, ls=(0, (4, 2.5)))
            dot, = ax.plot([], [], "o", color=color, ms=4.5 * u, mec="black", mew=0.5 * u, zorder=5)
            out.append((loss, quad, dot))
        return out

    def set_frame(self, k):
        p = self.panels[k]
        st = p.steps
        land = float(np.interp(1.0, st.gradient.ts, st.gradient.loss))
        groups = [[(st.eigen, [0.0], [st.eigen.loss0])], [(st.gradient, [0.0, 1.0], [st.gradient.loss0, land])],
                  [(l.slice, [t], [y]) for l, (t, y) in zip(p.lines, p.at)]]
        for ax, arts, group, title, (xr, yr) in zip(self.axes, self.lines, groups, S.titles(p), S.ranges(p)):
            for (loss, quad, dot), (s, dx, dy) in zip(arts, group):
                loss.set_data(s.ts, s.loss)
                quad.set_data(s.ts, s.quadratic)
                dot.set_data(dx, dy)
            ax.set_xlim(*xr)
            ax.set_ylim(*yr)
            ax.set_title(title, fontsize=self.r.fs * 0.85, pad=2 * self.r.u)
        step = int(self.r.fm.steps[k])
        self.header.set_text(f"1-D slices of {p.label} at step {step}: loss —, quadratic model - -")


PANEL_CLASSES = {"sharpness": SharpnessPanel, "curves": CurvesPanel, "slices": SlicesPanel}
