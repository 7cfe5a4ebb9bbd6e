"""The app's picture of a sweep: a pure function (core.SweepResult in, plotly figure out; no Dash here).

    fig = sweep_heatmap(result)            # complete or partial (the app redraws it as runs come in)
    fig = placeholder("Run a sweep")       # before there is one
    labels = trace_cells(result)           # per trace: the optimizer whose cells it shows (None: not a cell)

It draws visualizer.plotdata.sweep_map (the numbers the PNG export draws too), one panel per group of
``sweep_data.panels``, stacked:

* **lr x optimizer** (optimizers with one axis): one row per optimizer, x its learning rates;
* **lr x momentum** (an optimizer with two or more axes): x its main axis, y its second.

Colour: the median over the seeds of the final training loss, on a log scale (z = log10 of it; the colour
bar's ticks name the losses), shared by every panel; a cell stays blank until all its seeds are done.
A red x marks a cell where some seed failed (core.model.failure: diverged, a dead hidden layer, or a final
loss at or above min(L0, H(mean y))). The dashed white line is a *reference*, the initial stability edge:
the learning rate at which the largest initial sharpness lambda_0 meets the optimizer's stability threshold
(for a momentum map (2 + 2 beta) / lambda_0 at every beta, for a row a vertical segment). It marks where the
first steps stop decreasing monotonically, not where training fails; the red marks show that. A white ring
marks a cell that trains at the *edge of stability*: no seed failed and the median final sharpness is at
least 0.9 x the stability threshold (core.sweeps.summary.EOS_RATIO; sharpness x lr / 2 ~ 1 for gradient
descent), the region between the initial edge and failure where runs catapult and then sharpen back to the
threshold. Hover: the cell's values, the median, min and max over the seeds, how many failed and diverged.

Trace layout (the click handler reads it): first one heatmap per optimizer (``panels`` order), then one
marker trace per optimizer (its failed cells), then one per optimizer (its cells at the edge of stability),
then one edge trace per optimizer that has an initial stability edge. Heatmap cells and markers carry the
cell's flat index in the optimizer's grid as customdata; ``trace_cells`` gives each trace's optimizer.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from visualizer.plotdata import sweep_map as D

COLORSCALE = "Viridis"
ROW_PX = 46               # height of one optimizer's row in the lr x optimizer panel
MAP_PX = 300              # height of a map panel
GAP_PX = 70               # between panels (their titles)
FAILED_NAME = "some seed failed"               # the marks' legend entry
EDGE_LEGEND = f"{D.EDGE_NAME} (from λ₀)"       # the dashed reference line's legend entry
EOS_NAME = f"at the edge of stability (final sharpness ≥ {D.EOS_RATIO:g} × threshold)"   # the rings' legend entry


def _f(a):
    return np.asarray(a, dtype=np.float64)


def _log10(v):
    v = _f(v)
    with np.errstate(all="ignore"):
        return np.where(np.isfinite(v) & (v > 0), np.log10(np.where(v > 0, v, 1.0)), np.nan)


def _panel_data(result):
    """[(panel, {label: map_data})] in drawing order."""
    return [(p, {lab: D.map_data(result, lab) for lab in (p["labels"] if p["kind"] == "rows" else [p["label"]])})
            for p in D.panels(result)]


def trace_cells(result):
    """The optimizer label of every trace ``sweep_heatmap`` draws, in order (None for an edge line)."""
    heat, lines = [], []
    for p, ds in _panel_data(result):
        for lab, d in ds.items():
            heat.append(lab)
            if np.isfinite(d["edge0"]).any():
                lines.append(None)
    return heat + heat + heat + lines                   # heat maps, failed marks, edge-of-stability rings


def _colour_range(all_z):
    fin = np.concatenate([z[np.isfinite(z)] for z in all_z]) if all_z else np.array([])
    if not fin.size:
        return -3.0, 0.0
    lo, hi = float(fin.min()), float(fin.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def _colorbar(lo, hi, S):
    def inside(ts):
        return [t for t in ts if lo - 1e-9 <= t <= hi + 1e-9]
    ticks = inside(range(math.floor(lo), math.ceil(hi) + 1))
    if len(ticks) < 3:                                     # less than two decades: 1, 2, 5 ticks
        ticks = inside([math.log10(m * 10.0 ** e) for e in range(math.floor(lo) - 1, math.ceil(hi) + 1)
                        for m in (1, 2, 5)])
    ticks = ticks or [lo, hi]
    return dict(title=dict(text=f"final train loss<br>(median of {S} seed{'s' if S != 1 else ''}, log colour)",
                           side="right"),
                tickvals=ticks, ticktext=[f"{10 ** t:.3g}" for t in ticks], thickness=14, len=0.9)


def _text(result, d, label):
    ny, nx = d["median"].shape
    return [[D.cell_text(result, d, j, i, label) for i in range(nx)] for j in range(ny)]


def _axis_range(v, log):
    e = D.edges(v, log)
    return [float(np.log10(e[0])), float(np.log10(e[-1]))] if log else [float(e[0]), float(e[-1])]


def placeholder(text):
    """An empty map with a line of text (before any sweep)."""
    fig = go.Figure()
    fig.update_layout(height=360, template="plotly_white", xaxis=dict(visible=False), yaxis=dict(visible=False),
                      annotations=[dict(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                                        font=dict(size=14, color="#6b7280"))], margin=dict(l=20, r=20, t=20, b=20))
    return fig


def sweep_heatmap(result, height=None, title=None):
    """The sweep's map (see the module docstring): a plotly Figure."""
    pds = _panel_data(result)
    heights = [ROW_PX * len(p["labels"]) + 40 if p["kind"] == "rows" else MAP_PX for p, _ in pds]
    total = sum(heights) + GAP_PX * (len(pds) - 1)
    fig = make_subplots(rows=len(pds), cols=1, row_heights=heights, vertical_spacing=GAP_PX / (total + 1e-9)
                        if len(pds) > 1 else 0.0, subplot_titles=_titles(pds))
    for r, t in _traces(result, pds):
        fig.add_trace(t, row=r, col=1)
    _axes(fig, pds)
    lo, hi = _colour_range([_log10(d["median"]) for _, ds in pds for d in ds.values()])
    done, runs = result.n_done, result.n_runs
    state = "complete" if done == runs else f"partial: {done:,} of {runs:,} runs"
    head = title if title is not None else result.spec.name
    fig.update_layout(
        title=dict(text=f"{head}<br><sup>final train loss after {result.spec.training.steps:,} steps; {state}; "
                        "red x: some seed failed; ring: at the edge of stability; "
                        "dashed: initial stability edge from λ₀ (a reference)</sup>",
                   x=0.01, xanchor="left", font=dict(size=15)),
        coloraxis=dict(colorscale=COLORSCALE, cmin=lo, cmax=hi, colorbar=_colorbar(lo, hi, len(result.seeds))),
        height=height or total + 170, margin=dict(l=70, r=20, t=90, b=70), template="plotly_white",
        plot_bgcolor="#e5e7eb", legend=dict(orientation="h", xref="container", yref="container", x=0.99,
                                             xanchor="right", y=0.01, yanchor="bottom", bgcolor="#6b7280",
                                             font=dict(color="white")),
        uirevision="sweep", hovermode="closest", clickmode="event")
    return fig


def _titles(pds):
    titles = []
    for p, ds in pds:
        if p["kind"] == "rows":
            titles.append(f"{p['xname']} × optimizer")
        else:
            d = ds[p["label"]]
            fixed = ", ".join(f"{k}={D.fmt(v)}" for k, v in d["fixed"].items())
            titles.append(f"{p['label']}: {d['xname']} × {d['yname']}" + (f" (at the best {fixed})" if fixed else ""))
    return titles


def _traces(result, pds):
    """(row, trace) of every panel: the heat maps first, then the failed marks, then the edge-of-stability
    rings, then the initial stability edges (one legend entry each)."""
    heat, marks, rings, lines = [], [], [], []
    for r, (p, ds) in enumerate(pds, start=1):
        for k, (lab, d) in enumerate(ds.items()):
            if p["kind"] == "rows":
                ye, yc = np.array([k - 0.5, k + 0.5]), np.array([float(k)])
            else:
                ye, yc = D.edges(d["y"], d["ylog"]), _f(d["y"])
            heat.append((r, go.Heatmap(
                x=_f(D.edges(d["x"], d["xlog"])), y=_f(ye), z=_log10(d["median"]), customdata=d["flat"],
                text=_text(result, d, lab), hovertemplate="%{text}<extra></extra>", coloraxis="coloraxis",
                name=lab, showlegend=False, hoverongaps=True)))
            marks.append((r, _cell_marks(result, d, lab, yc, d["failed"], FAILED_NAME, "failed",
                                         dict(symbol="x-thin", size=9, color="#ff2d2d"))))
            rings.append((r, _cell_marks(result, d, lab, yc, d["at_eos"], EOS_NAME, "eos",
                                         dict(symbol="circle-open", size=11, color="white"))))
            line = _edge_line(p, d, lab, k, yc)
            if line is not None:
                lines.append((r, line))
    for group in (marks, rings):
        shown = next((t for _, t in group if len(t.x)), None)
        if shown is not None:
            shown.showlegend = True
    if lines:
        lines[0][1].showlegend = True
    return heat + marks + rings + lines


def _cell_marks(result, d, lab, yc, where, name, group, marker):
    """Markers on the cells where ``where`` (ny, nx) holds (failed, at the edge of stability), clickable like
    the cells (customdata: the flat index) with the cell's hover text."""
    jj, ii = np.nonzero(where)
    return go.Scatter(x=_f(d["x"])[ii], y=yc[jj], mode="markers", name=name, legendgroup=group,
                      marker=dict(marker, line=dict(width=2, color=marker["color"])), customdata=d["flat"][jj, ii],
                      text=[D.cell_text(result, d, j, i, lab) for j, i in zip(jj, ii)],
                      hovertemplate="%{text}<extra></extra>", showlegend=False)


def _edge_line(p, d, lab, k, yc):
    """The dashed initial-stability-edge line of one optimizer (a vertical segment on an lr x optimizer row), or
    None."""
    edge = d["edge0"]
    if not np.isfinite(edge).any():
        return None
    rule = d["rule"]
    if p["kind"] == "rows":
        x, y = [edge[0], edge[0]], [k - 0.45, k + 0.45]
        txt = [f"<b>{lab}</b>: initial stability edge {rule} = {edge[0]:.4g} (a reference: where the first steps "
               "stop decreasing monotonically, not where runs fail)"] * 2
    else:
        ok = np.isfinite(edge)
        x, y = edge[ok], yc[ok]
        txt = [f"<b>{lab}</b>: initial stability edge at {d['yname']} {D.fmt(v.item())}: {rule} = {q:.4g} "
               "(a reference)" for v, q in zip(d["y"][ok], edge[ok])]
    return go.Scatter(x=_f(x), y=_f(y), mode="lines", name=EDGE_LEGEND, legendgroup="edge0",
                      line=dict(color="white", width=2.5, dash="dash"), text=txt,
                      hovertemplate="%{text}<extra></extra>", showlegend=False)


def _axes(fig, pds):
    for r, (p, ds) in enumerate(pds, start=1):
        d = next(iter(ds.values()))
        fig.update_xaxes(type="log" if d["xlog"] else "linear", title_text=d["xname"], row=r, col=1,
                         range=_axis_range(np.concatenate([_f(v["x"]) for v in ds.values()]), d["xlog"]),
                         showgrid=False, zeroline=False)
        if p["kind"] == "rows":
            n = len(p["labels"])
            fig.update_yaxes(tickvals=list(range(n)), ticktext=p["labels"], range=[n - 0.5, -0.5], row=r, col=1,
                             showgrid=False, zeroline=False, fixedrange=True)
        else:
            fig.update_yaxes(type="log" if d["ylog"] else "linear", title_text=d["yname"], row=r, col=1,
                             range=_axis_range(d["y"], d["ylog"]), showgrid=False, zeroline=False)
