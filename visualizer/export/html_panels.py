"""The HTML export of several panels: plotly subplots side by side (more than two: a grid of rows of two),
animated together by one player.

    fig = panels_figure(result, ExportOptions(out="x.html", panels=("landscape", "sharpness")))

Each panel is a part that knows its traces: the landscape draws the frame model (visualizer.plotdata.frames) with
the app's trace builders; sharpness, curves and slices draw their panel data (visualizer.plotdata.panels,
visualizer.plotdata.slices) with the app's trace builders (visualizer.figures.curvature, visualizer.figures.landscape),
so the page shows what the app and the GIF show. A frame updates, per part: the landscape's path traces,
each 2-D panel's step line, and the slices' lines, markers, ranges and titles. Column widths follow the
matplotlib export's (options.PANEL_WIDTH).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from visualizer.figures import landscape as figures
from visualizer.figures.per_run import per_run_title

from visualizer.plotdata import panels as panel_data
from visualizer.plotdata import slices as S
from visualizer.figures.curvature import sharpness_traces, slice_traces, threshold_labels
from visualizer.plotdata.frames import build_frames, share_text
from visualizer.plotdata.panels import PANEL_WIDTH
from visualizer.plotdata.per_run import per_run_frames, per_run_planes
from visualizer.plotdata.ticks import log_ticks
from visualizer.plotdata.view import axis_units

GAP = 0.06                   # between panel columns (paper fraction)
BOTTOM, TOP = 0.10, 0.86     # the panels' y domain: room for the legend and titles above, the player below
STEP = dict(color="#333", width=1.5)
SLICE_GAP = 0.12            # between the three slices (titles, tick labels)


def column_domains(panels, gap=GAP):
    """(x0, x1) of each panel's column, widths in the ratio of PANEL_WIDTH."""
    w = np.array([PANEL_WIDTH[p] for p in panels], float)
    avail = 1.0 - gap * (len(panels) - 1)
    out, x = [], 0.0
    for wi in w * avail / w.sum():
        out.append((float(x), float(x + wi)))
        x += wi + gap
    return out


def units_text(a, b):
    """The plane axes' units in one short line: "α, β: unit vector" or "α: ...; β: ..."."""
    return f"α, β: {a}" if a == b else f"α: {a}; β: {b}"


def units_line(a, b, *, x, y):
    """The units line above a landscape cell's scene, centred at paper x, its bottom at paper y."""
    return dict(text=units_text(a, b), name="plane units", x=x, y=y, xref="paper", yref="paper", xanchor="center",
                yanchor="bottom", showarrow=False, font=dict(size=11))


ROW_GAP = 0.16              # between grid rows (paper fraction)
PER_ROW = 2                 # more panels than this: a grid of rows of PER_ROW


def grid_rows(panels):
    """The panels' rows: one row of up to PER_ROW, else rows of PER_ROW (a grid that fits a window's width)."""
    panels = list(panels)
    return [panels[i:i + PER_ROW] for i in range(0, len(panels), PER_ROW)] if len(panels) > PER_ROW else [panels]


def grid_cells(panels):
    """((x0, x1), (y0, y1)) paper domains of each panel, in order: rows top to bottom, columns in the ratio of
    PANEL_WIDTH within a row."""
    rows = grid_rows(panels)
    h = (TOP - BOTTOM - ROW_GAP * (len(rows) - 1)) / len(rows)
    out = []
    for r, row in enumerate(rows):
        y1 = TOP - r * (h + ROW_GAP)
        out += [(dom, (y1 - h, y1)) for dom in column_domains(row)]
    return out


def _axes(n):
    s = "" if n == 1 else str(n)
    return f"x{s}", f"y{s}", f"xaxis{s}", f"yaxis{s}"


def _title(text, x0, x1, y):
    return dict(text=text, x=(x0 + x1) / 2, y=y, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                showarrow=False, font=dict(size=12))


def _step_line(x, lo, hi, xa, ya):
    return dict(type="scatter", x=[float(x), float(x)], y=[float(lo), float(hi)], mode="lines", line=STEP,
                showlegend=False, hoverinfo="skip", xaxis=xa, yaxis=ya)


class _Part:
    """A panel: its traces, what a frame changes, its axes and titles. ``offset``: its first trace index."""
    n_axes = 0
    offset = 0

    def layout(self):
        return {}

    def annotations(self, k):
        return []

    def frame_layout(self, k):
        return {}


class _Landscape(_Part):
    def __init__(self, result, opts, fm, dom, axis, legend=False, ydom=(BOTTOM, TOP)):
        self.fm, self.dom, self.ydom, self.cds = fm, dom, ydom, figures.path_customdata(fm)
        self.n = 1 + 2 * len(fm.paths)
        self.units = axis_units(result.plane, moving=fm.moving)

    def traces(self, k):
        data = figures.landscape_traces(self.fm, self.cds, k, full=True)
        y0, y1 = self.ydom
        data[0] = dict(data[0], colorbar=dict(data[0]["colorbar"], x=self.dom[1] - 0.045, xanchor="left",
                                              thickness=12, len=0.7 * (y1 - y0), y=(y0 + y1) / 2,
                                              yanchor="middle"))
        return data

    def frame(self, k):
        return figures.landscape_traces(self.fm, self.cds, k, full=False), figures.landscape_frame_traces(self.fm)

    def layout(self):
        d0, d1 = self.dom
        scene = figures.scene_layout(self.fm, self.units)
        # the app's camera: a nearer one cut the surface and the α title at the scene's edge in this short cell
        for axis, sym in (("xaxis", "α"), ("yaxis", "β")):
            # symbols only: a longer title at the scene's edge is cut by its canvas in a cell this small; the
            # plane's units are a line above the scene (annotations: a label is a claim)
            scene[axis] = dict(scene[axis], title=dict(text=sym, font=dict(size=11)), tickfont=dict(size=10))
        scene["zaxis"] = dict(scene["zaxis"], tickfont=dict(size=10),
                              title=dict(text=self.fm.zlabel, font=dict(size=11)))
        return {"scene": dict(scene, domain=dict(x=[d0, d1 - 0.05], y=list(self.ydom)))}

    def annotations(self, k):
        return [units_line(*self.units, x=(self.dom[0] + self.dom[1] - 0.05) / 2, y=self.ydom[1])] + \
            figures.plane_annotations(self.fm, x=self.dom[0], y=self.ydom[1] - 0.06)


class _PerRunLandscape(_Part):
    """Small multiples in the landscape's cell: each run on its own PCA plane ("pca_per_run"; the app's
    visualizer.figures.per_run), one scene per run side by side, on the page's step grid (one player)."""
    SUB_GAP = 0.01

    def __init__(self, result, opts, fm, dom, axis, legend=False, ydom=(BOTTOM, TOP)):
        self.subs, self.fms = per_run_frames(result, opts.view(), fm.steps)
        self.dom, self.ydom = dom, ydom
        self.cds = {lab: figures.path_customdata(f) for lab, f in self.fms.items()}
        self.n = sum(1 + 2 * len(f.paths) for f in self.fms.values())
        n = len(self.fms)
        w = (dom[1] - dom[0] - self.SUB_GAP * (n - 1)) / n
        self.cells = [(dom[0] + i * (w + self.SUB_GAP), dom[0] + i * (w + self.SUB_GAP) + w) for i in range(n)]

    def _scene(self, i):
        return "scene" if i == 0 else f"scene{i + 1}"

    def traces(self, k):
        data = []
        for i, (lab, f) in enumerate(self.fms.items()):
            tr = figures.landscape_traces(f, self.cds[lab], k, full=True)
            tr[0] = dict(tr[0], showscale=False)                 # each panel its own range: no shared colour bar
            data += [dict(t, scene=self._scene(i)) for t in tr]
        return data

    def frame(self, k):
        data, ids, base = [], [], 0
        for lab, f in self.fms.items():
            data += figures.landscape_traces(f, self.cds[lab], k, full=False)
            ids += [base + j for j in figures.landscape_frame_traces(f)]
            base += 1 + 2 * len(f.paths)
        return data, ids

    def layout(self):
        out = {}
        for i, (lab, f) in enumerate(self.fms.items()):
            units = axis_units(self.subs[lab].plane)
            scene = figures.scene_layout(f, units)
            for axis, sym in (("xaxis", "α"), ("yaxis", "β")):      # small cells: the units in the cell's title
                scene[axis] = dict(scene[axis], title=dict(text=sym, font=dict(size=10)), tickfont=dict(size=9),
                                   nticks=4)                       # a few ticks: 9 px labels ran into each other
            scene["zaxis"] = dict(scene["zaxis"], tickfont=dict(size=9), title=dict(text="", font=dict(size=9)),
                                  nticks=4)
            x0, x1 = self.cells[i]
            out[self._scene(i)] = dict(scene, domain=dict(x=[x0, x1], y=[self.ydom[0], self.ydom[1] - 0.06]))
        return out

    def annotations(self, k):
        def title(lab, f):                      # three short lines: the cells are narrow
            ev = self.subs[lab].plane.explained_variance * 100
            units = units_text(*axis_units(self.subs[lab].plane))
            return (f"<b>{lab}</b>, in plane {share_text(f.paths[lab].in_plane)}<br>own uncentred PCA "
                    f"{ev[0]:.0f}% + {ev[1]:.0f}%<br>{units}")
        return [dict(text=title(lab, f), x=(x0 + x1) / 2, y=self.ydom[1] - 0.055,
                     xref="paper", yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
                     font=dict(size=10))
                for (lab, f), (x0, x1) in zip(self.fms.items(), self.cells)]


class _LinePanel(_Part):
    """A 2-D panel against step (sharpness or curves) with a step line that frames move."""
    n_axes = 1
    log_title = ""

    def __init__(self, result, opts, fm, dom, axis, legend=False, ydom=(BOTTOM, TOP)):
        self.fm, self.dom, self.ydom, self.axis, self.legend = fm, dom, ydom, axis, legend
        self.xa, self.ya, self.xkey, self.ykey = _axes(axis)
        self.lines = [dict(t, xaxis=self.xa, yaxis=self.ya) for t in self.build(result, opts)]
        lo, hi = self.value_range()
        self.lo, self.hi = lo / 1.5, hi * 1.5
        self.n = len(self.lines) + 1
        row_h = opts.size[1] if opts.size else 480                 # px a row (the app's download: no size)
        self.plot_h = row_h * len(grid_rows(opts.panels)) * (ydom[1] - ydom[0])

    def traces(self, k):
        return self.lines + [_step_line(self.fm.steps[k], self.lo, self.hi, self.xa, self.ya)]

    def frame(self, k):
        return [_step_line(self.fm.steps[k], self.lo, self.hi, self.xa, self.ya)], [self.n - 1]

    def layout(self):
        return {self.xkey: dict(domain=list(self.dom), anchor=self.ya, title=dict(text="step"),
                                range=[0, float(self.fm.last_step)]),
                self.ykey: dict(domain=list(self.ydom), anchor=self.xa, type="log", **self.ticks(),
                                range=[float(np.log10(self.lo)), float(np.log10(self.hi))],
                                title=dict(text=self.log_title, font=dict(size=11)))}

    def ticks(self):
        vals, texts = log_ticks(*self.value_range())
        return dict(tickvals=vals, ticktext=texts) if vals else dict(dtick="D2")

    def annotations(self, k):
        return [_title(self.panel_title, *self.dom, y=self.ydom[1])]


class _Sharpness(_LinePanel):
    panel_title = "sharpness (solid) and its stability threshold (dashed)"

    def build(self, result, opts):
        self.series = panel_data.sharpness_data(result, opts.optimizers)
        self.log_title = panel_data.sharpness_axis_title(self.series)
        traces = sharpness_traces(self.series)
        return [t if self.legend and j % 3 == 0 else dict(t, showlegend=False) for j, t in enumerate(traces)]

    def value_range(self):
        return panel_data.sharpness_range(self.series)

    def annotations(self, k):               # and each threshold's value where its dashed line ends, right of the plot
        yrange = (float(np.log10(self.lo)), float(np.log10(self.hi)))
        return super().annotations(k) + threshold_labels(self.series, xref=self.xa, yref=self.ya, yrange=yrange,
                                                         plot_height=self.plot_h, names=False)


class _Curves(_LinePanel):
    panel_title = "train loss (log axis)"
    log_title = "train loss"

    def build(self, result, opts):
        self.series = panel_data.curves_data(result, opts.optimizers)
        self.panel_title = panel_data.loss_curve_title(result)
        return [t for c in self.series for t in (figures.loss_trace(c, legend=self.legend), figures.frames_trace(c))]

    def value_range(self):
        return panel_data.loss_range(self.series)


class _Slices(_Part):
    n_axes = 3

    def __init__(self, result, opts, fm, dom, axis, legend=False, ydom=(BOTTOM, TOP)):
        labels = list(fm.paths)
        label = opts.slice_optimizer or labels[0]
        self.panels = S.panels_at(result, label, fm.steps, labels)
        self.dom, self.axes = dom, [_axes(axis + i) for i in range(3)]
        lo, top = ydom
        gap = SLICE_GAP * (top - lo) / (TOP - BOTTOM)
        h = (top - lo - 2 * gap) / 3
        self.top = top
        self.ydoms = [(top - (i + 1) * h - i * gap, top - i * h - i * gap) for i in range(3)]
        a, b, c = slice_traces(self.panels[0])
        self.sizes = (len(a), len(b), len(c))
        self.n = sum(self.sizes)
        self.n_lines_c = 2 * len(self.panels[0].lines)

    def traces(self, k):
        out = []
        for (xa, ya, _, _), group in zip(self.axes, slice_traces(self.panels[k])):
            out += [dict(t, xaxis=xa, yaxis=ya, showlegend=False) for t in group]
        return out

    def frame(self, k):
        data = self.traces(k)
        na, nb, _ = self.sizes
        ids = list(range(na + nb)) + list(range(na + nb + self.n_lines_c, self.n))   # (c): only the markers
        return [data[i] for i in ids], ids

    def layout(self):
        out = {}
        for (xa, ya, xk, yk), ydom, (xr, yr) in zip(self.axes, self.ydoms, S.ranges(self.panels[-1])):
            out[xk] = dict(domain=list(self.dom), anchor=ya, range=list(xr))
            out[yk] = dict(domain=list(ydom), anchor=xa, range=list(yr))
        return out

    def annotations(self, k):
        p = self.panels[k]
        return [_title(t, *self.dom, y=yd[1]) for t, yd in zip(S.titles(p), self.ydoms)] + \
            [_title(f"1-D slices of {p.label}: loss (solid), quadratic model (dashed)", *self.dom, y=self.top + 0.04)]

    def frame_layout(self, k):
        out = {}
        for (_, _, xk, yk), (xr, yr) in zip(self.axes[:2], S.ranges(self.panels[k])):
            out[xk] = {"range": list(xr)}
            out[yk] = {"range": list(yr)}
        return out


PARTS = {"landscape": _Landscape, "sharpness": _Sharpness, "curves": _Curves, "slices": _Slices}


def panels_figure(result, opts):
    """The export's panels as one animated plotly figure (frames named by their training step)."""
    view = opts.view()
    fm = build_frames(result, view)
    parts, offset, axis = [], 0, 1
    legend = "landscape" not in opts.panels           # else the landscape's trails carry the legend
    per_run = per_run_planes(result, view)            # "pca_per_run": small multiples in the landscape's cell
    for name, (dom, ydom) in zip(opts.panels, grid_cells(opts.panels)):
        kind = _PerRunLandscape if per_run and name == "landscape" else PARTS[name]
        part = kind(result, opts, fm, dom, axis, legend=legend and name in ("sharpness", "curves"),
                           ydom=ydom)
        legend = legend and name not in ("sharpness", "curves")
        part.offset, offset, axis = offset, offset + part.n, axis + part.n_axes
        parts.append(part)
    k0 = len(fm.steps) - 1
    dynamic = "slices" in opts.panels               # titles and ranges that change with the frame
    frames = [_frame(parts, k, s, dynamic) for k, s in enumerate(fm.steps)]
    menus, sliders = figures.player(fm.steps, k0)
    head = per_run_title(result, fm.zlabel) if per_run and "landscape" in opts.panels and opts.title is None \
        else figures.landscape_title(result, fm, opts.title)
    layout = dict(title=dict(text=head, x=0.01, xanchor="left",
                             font=dict(size=15)),
                  template=pio.templates["plotly_white"], updatemenus=menus,
                  margin=dict(l=50, r=50 if "sharpness" in opts.panels else 20, t=70, b=60),   # threshold values
                  sliders=sliders,
                  legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"), hovermode="closest",
                  annotations=[a for p in parts for a in p.annotations(k0)])
    for p in parts:
        layout.update(p.layout())
    data = [t for p in parts for t in p.traces(k0)]
    return go.Figure(data=data, layout=layout, frames=frames, _validate=False)


def _frame(parts, k, step, dynamic):
    data, ids, lay = [], [], {}
    for p in parts:
        d, i = p.frame(k)
        data += d
        ids += [p.offset + j for j in i]
        lay.update(p.frame_layout(k))
    f = dict(name=str(int(step)), data=data, traces=ids)
    if dynamic:
        lay["annotations"] = [a for p in parts for a in p.annotations(k)]
        f["layout"] = lay
    return f
