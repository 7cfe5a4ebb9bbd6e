"""Plotly figures of curvature: the sharpness panel and the 1-D slices panel (pure: result + view in, figure out).

    fig = sharpness_figure(result, ViewOptions(), step=500)          # sharpness (solid) and threshold (dashed)
    fig = slices_figure(result, ViewOptions(), step=500, label="large LR")   # three 1-D slices with quadratics

Both draw their panel's data module (visualizer.plotdata.panels, visualizer.plotdata.slices), as the exporter's
matplotlib panels do. Raises visualizer.errors.PanelUnavailable (a ValueError saying why) for a result without
curvature (sharpness) or without its training data (slices).

Trace layout of ``sharpness_figure`` (figures.marker_patch and ``min_eig_patch`` are the only other code
that knows it): per shown run with curvature, k-th: 3k sharpness (solid, log axis), 3k + 1 its threshold
(dashed, same colour), 3k + 2 |bottom eigenvalue| (dotted, hidden unless asked). Shape 0 is the step line.
``slices_figure`` is drawn whole for each (step, run): its lines change with the step.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from visualizer.figures import labels
from visualizer.plotdata import panels as P
from visualizer.plotdata import slices as S
from visualizer.plotdata.frames import current_step
from visualizer.plotdata.ticks import log_ticks
from visualizer.plotdata.view import ViewOptions

SHARP_TRACES = 3                         # traces per run in sharpness_figure
SHARP_MARGIN = dict(l=60, r=14, t=60, b=84)
LABEL_FONT = 11                          # threshold values (px)
STEP_LINE = dict(color="#333", width=1.5)


def _f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64), dtype=np.float32)


def _pos(v):
    """Values for a log axis: non-positive and non-finite ones become gaps."""
    v = np.asarray(v, np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


# ------------------------------------------------------------------ sharpness
def sharpness_traces(series, min_eig=False):
    """The traces (dicts) of the sharpness panel, SHARP_TRACES per series, in series order."""
    out = []
    for s in series:
        x = _f32(s.steps)
        what = "preconditioned sharpness" if s.preconditioned else "sharpness"
        out.append(dict(type="scatter", x=x, y=_f32(_pos(s.sharpness)), mode="lines", name=s.name,
                        legendgroup=s.label, line=dict(color=s.color, width=2), text=P.above_notes(s),
                        customdata=_f32(np.stack([s.threshold, s.lr], axis=1)),
                        hovertemplate=f"<b>{s.name}</b><br>step %{{x:.0f}}<br>{what} %{{y:.4g}}<br>threshold "
                                      f"{s.rule} = %{{customdata[0]:.4g}} at lr %{{customdata[1]:.4g}}%{{text}}"
                                      "<extra></extra>"))
        out.append(dict(type="scatter", x=x, y=_f32(_pos(s.threshold)), mode="lines", name=f"{s.label} threshold",
                        legendgroup=s.label, showlegend=False, line=dict(color=s.color, width=1.5, dash="dash"),
                        hovertemplate=f"<b>{s.name}</b><br>step %{{x:.0f}}<br>stability threshold {s.rule} = "
                                      "%{y:.4g}<extra></extra>"))
        what = "preconditioned bottom eigenvalue" if s.preconditioned else "bottom eigenvalue"
        out.append(dict(type="scatter", x=x, y=_f32(np.abs(s.min_eig)), customdata=_f32(s.min_eig), mode="lines",
                        name=f"{s.label} |λmin|", legendgroup=s.label, showlegend=False, visible=bool(min_eig),
                        line=dict(color=s.color, width=1, dash="dot"),
                        hovertemplate=f"<b>{s.name}</b><br>step %{{x:.0f}}<br>{what} %{{customdata:.4g}} "
                                      "(drawn as |λmin| on the log axis)<extra></extra>"))
    return out


def sharpness_figure(result, view: ViewOptions | None = None, step=None, height=360, min_eig=False):
    """Sharpness per run (solid, log axis) and its stability threshold (dashed, same colour); a step line at
    ``step``; ``min_eig``: also |bottom eigenvalue| (dotted). Hover says when a frame is above its threshold."""
    view = (view or ViewOptions()).validate()
    series = P.sharpness_data(result, view.optimizers)
    fig = go.Figure(data=sharpness_traces(series, min_eig), _validate=False)
    s = current_step(result, view, step)
    lo, hi = P.sharpness_range(series, min_eig)
    vals, texts = log_ticks(lo, hi)
    # plotly's autorange (the |bottom eigenvalue| lines can be shown later) spans about the values' range
    yrange = [float(np.log10(lo)), float(np.log10(hi))]
    yaxis = dict(title=P.SHARPNESS_AXIS_SHORT, type="log", automargin=True)
    yaxis.update(dict(tickvals=vals, ticktext=texts) if vals else dict(dtick="D2"))
    notes = threshold_labels(series, yrange=yrange, plot_height=height - SHARP_MARGIN["t"] - SHARP_MARGIN["b"])
    right = max([labels.text_size(a["text"], LABEL_FONT)[0] for a in notes] + [0.0]) + 12
    # the title (the app appends " · step N") under the modebar's row; the legend at the bottom, under the x
    # axis' title; the threshold values in the right margin, where no line crosses them
    fig.update_layout(
        title=dict(text="Sharpness (solid) and its stability threshold (dashed)", font=dict(size=14), x=0,
                   xref="paper", xanchor="left", y=1, yref="container", yanchor="top", pad=dict(t=30)),
        shapes=[dict(type="line", xref="x", yref="y domain", x0=s, x1=s, y0=0, y1=1, line=STEP_LINE)],
        annotations=notes,
        height=height, margin=dict(SHARP_MARGIN, r=max(SHARP_MARGIN["r"], int(np.ceil(right)))),
        template="plotly_white", uirevision="sharpness",
        legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left"),
        hovermode="closest", xaxis=dict(title="step", automargin=True), yaxis=yaxis)
    return fig


def threshold_labels(series, xref="x", yref="y", yrange=None, plot_height=200, names=True):
    """Each run's threshold value ("SGD: 28.6") in the right margin of its plot, at the height where its dashed
    line ends (its last finite point): outside the plot, so no line or step line crosses it (annotation
    dicts; y is log10 of the value, as plotly places annotations on a log axis). Labels closer than a line
    are stacked apart (labels.stack_apart), in pixels of a plot ``plot_height`` px high spanning ``yrange``
    (log10; default: the values' own range). ``names=False``: the value alone ("28.6", in the run's colour; the
    hover names the run), for a narrow margin."""
    rows = []
    for s in series:
        ok = np.flatnonzero(np.isfinite(s.threshold) & (s.threshold > 0))
        if ok.size:
            v = float(s.threshold[ok[-1]])
            rows.append((s, v, float(np.log10(v))))
    if not rows:
        return []
    ys = np.array([y for _, _, y in rows])
    r0, r1 = yrange if yrange is not None else (ys.min() - 0.5, ys.max() + 0.5)
    px = (ys - r0) / ((r1 - r0) or 1.0) * plot_height
    shifts = labels.stack_apart(px, gap=labels.LINE * LABEL_FONT + 2, top=plot_height)
    return [dict(x=1, y=y, xref=f"{xref} domain", yref=yref, xanchor="left", yanchor="middle", xshift=4,
                 yshift=float(sh), showarrow=False, text=f"{s.label}: {v:.3g}" if names else f"{v:.3g}",
                 font=dict(size=LABEL_FONT, color=s.color),
                 hovertext=f"{s.name}: stability threshold {s.rule} = {v:.4g} at its last step")
            for (s, v, y), sh in zip(rows, shifts)]


def sharpness_patch(result, view, step):
    """Plain updates moving the sharpness panel's step line to ``step`` ({} without curvature)."""
    if not P.has_curvature(result, view.optimizers):
        return {}
    return {("layout", "shapes", 0, x): int(step) for x in ("x0", "x1")}


def min_eig_patch(result, view, show):
    """Plain updates showing or hiding the |bottom eigenvalue| traces ({} without curvature)."""
    if not P.has_curvature(result, view.optimizers):
        return {}
    n = len(P.sharpness_data(result, view.optimizers))
    return {("data", SHARP_TRACES * k + 2, "visible"): bool(show) for k in range(n)}


# ------------------------------------------------------------------ slices
def _line(s, color, name, group, legend=False):
    """A slice's exact loss (solid) and its quadratic model (dashed), as two trace dicts."""
    x = _f32(s.ts)
    return [dict(type="scatter", x=x, y=_f32(s.loss), mode="lines", name=name, legendgroup=group,
                 showlegend=legend, line=dict(color=color, width=2),
                 hovertemplate=f"{name}<br>t %{{x:.3f}}<br>loss %{{y:.4g}}<extra></extra>"),
            dict(type="scatter", x=x, y=_f32(s.quadratic), mode="lines", name=f"{name}: quadratic model",
                 legendgroup=group, showlegend=False, line=dict(color=color, width=1.5, dash="dash"),
                 hovertemplate=f"{name}<br>t %{{x:.3f}}<br>quadratic model %{{y:.4g}}<extra></extra>")]


def _dot(x, y, color, text):
    return dict(type="scatter", x=_f32(x), y=_f32(y), mode="markers", showlegend=False,
                marker=dict(size=9, color=color, line=dict(color="white", width=1.5)),
                hovertemplate=f"{text}<extra></extra>")


def slice_traces(panel):
    """The traces (dicts) of the three slices, as three lists: (a), (b), (c)."""
    st, c = panel.steps, panel.color
    a = _line(st.eigen, c, panel.label, "a") + [_dot([0.0], [st.eigen.loss0], c,
                                                     f"{panel.label}'s weights at step {st.step}")]
    g = st.gradient
    land = float(np.interp(1.0, g.ts, g.loss))
    b = _line(g, c, panel.label, "b") + [_dot([0.0, 1.0], [g.loss0, land], c,
                                              "t = 0: the weights; t = 1: where the step lands, loss %{y:.4g}")]
    cc = []
    for line in panel.lines:
        cc += _line(line.slice, line.color, line.label, line.label, legend=True)
    for line, (t, loss) in zip(panel.lines, panel.at):
        cc.append(_dot([t], [loss], line.color, f"{line.label} at step {st.step}: t %{{x:.3f}} on its line"))
    return a, b, cc


def grid_axes(n, spacing=0.07, titles=(), y=(0.0, 1.0), first=1, title_size=12):
    """Layout entries of n side-by-side xy subplots numbered from ``first`` (as plotly's make_subplots, without
    its per-property validation): ``{"xaxis2": ..., "yaxis2": ..., "annotations": [titles]}``."""
    w = (1.0 - spacing * (n - 1)) / n
    out, notes = {}, []
    for k in range(n):
        i = first + k
        sx = "" if i == 1 else str(i)
        x0 = k * (w + spacing)
        out[f"xaxis{sx}"] = dict(domain=[x0, x0 + w], anchor=f"y{sx}")
        out[f"yaxis{sx}"] = dict(domain=list(y), anchor=f"x{sx}")
        if k < len(titles):
            notes.append(dict(text=titles[k], x=x0 + w / 2, y=y[1], xref="paper", yref="paper", xanchor="center",
                              yanchor="bottom", showarrow=False, font=dict(size=title_size)))
    out["annotations"] = notes
    return out


def slices_figure(result, view: ViewOptions | None = None, step=None, label=None, height=380, panel=None):
    """Loss (solid) and its quadratic model (dashed) along (a) the top Hessian eigenvector and (b) the gradient
    step of run ``label`` (default: the first shown) at ``step``, and (c) each run's initial -> final line.
    ``panel``: a slice_data.SlicePanel already computed for these (the app caches them)."""
    view = (view or ViewOptions()).validate()
    labels = P._labels(result, view.optimizers)
    label = label if label is not None else labels[0]
    panel = panel if panel is not None else S.slice_panel(result, label, step, labels)
    layout = grid_axes(3, titles=S.titles(panel))
    data = []
    for col, (traces, (xr, yr)) in enumerate(zip(slice_traces(panel), S.ranges(panel)), start=1):
        sx = "" if col == 1 else str(col)
        data += [dict(t, xaxis=f"x{sx}", yaxis=f"y{sx}") for t in traces]
        layout[f"xaxis{sx}"].update(range=list(xr), title=dict(text="t"))
        layout[f"yaxis{sx}"].update(range=list(yr))
    layout["yaxis"]["title"] = dict(text="training loss")
    layout.update(
        title=dict(text=f"1-D slices at step {panel.steps.step} of {panel.label}: loss (solid), quadratic model "
                        "from the exact gradient and Hessian (dashed)", font=dict(size=14), x=0, xref="paper",
                   xanchor="left", y=1, yref="paper", yanchor="bottom", pad=dict(b=26)),
        height=height, margin=dict(l=60, r=14, t=84, b=40), template=pio.templates["plotly_white"],
        uirevision="slices", legend=dict(orientation="h", y=-0.2), hovermode="closest")
    return go.Figure(data=data, layout=layout, _validate=False)
