"""Plotly figures of an ExperimentResult: pure functions (result + ViewOptions in, figure out).

Shared by the Dash app and the exporters; no Dash imports here.

    fig = animated_landscape(result, ViewOptions())        # 3D surface + trail and ball per optimizer, with frames
    fig = contour_figure(result, ViewOptions(), step=500)    # the same plane from above, markers at ``step``
    fig = animated_landscape(result, view, colour=c)        # surface coloured by curvature
    fig = animated_landscape(result, view, frames=False)    # without frames; then, JSON-ready:
    frames = landscape_frames(result, view)                  # == animated_landscape(...).to_plotly_json()["frames"]
    (visualizer.plotdata.surface_colour)
    fig = curves_figure(result, ViewOptions(), step=500)     # loss and accuracies against step
    fig = sharpness_figure(result, ViewOptions(), step=500)  # sharpness and threshold (visualizer.figures.curvature)
    fig = slices_figure(result, ViewOptions(), step=500, label="SGD")   # 1-D slices with quadratic models
    rows = summary_records(result)                          # the comparison table
    patch = marker_patch(result, ViewOptions(), step=500)    # what moves the contour / curves / sharpness markers

Trace layout of ``animated_landscape`` (frames rely on it):
  0            the surface
  1 + 2k       trail of the k-th shown optimizer (every recorded frame up to the current step)
  2 + 2k       ball of the k-th shown optimizer (its current step); where its true loss is far from the plane's
               (frames.TRUTH_RATIO) a second, hollow point at the true loss, the trace's dotted line the stalk
Frames update only the path traces (``traces=[1, ..., 2n]``); in moving mode
(``view.moving`` and the result has a moving landscape) they replace the surface too.
Trace layout of ``contour_figure``: 0 contour; 1 + k trail; 1 + n + k marker of the k-th optimizer; with a
curvature colour, 1 + 2n the colour's heatmap (plotly draws heatmaps below contours and lines whatever
their order), the contour then drawing only its lines.
``curves_figure``: shapes 0 and 1 are the step lines; per run, the loss at every step (``loss_trace``), its
recorded frames (``frames_trace``), train and test accuracy; last, the target loss's dotted line (a legend entry).
The contour's marker traces carry each run's end label (text and side: ``label_positions``). ``marker_patch`` is
the only other code that knows these indices (the sharpness figure's own: visualizer.figures.curvature).

Heights, steps and surfaces come from the frame model (visualizer.plotdata.frames.build_frames), which
the matplotlib exporter draws too: a ball sits where that module's one rule puts it, and the hover
text gives the exact surface loss under it beside the true loss of the weights.
Arrays are cast to float32 (plotly 7 sends them base64-encoded), so a 51 x 51
surface with 100 frames of four paths is well under 1 MB of JSON.
"""
from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale
from plotly.subplots import make_subplots

from core.model.training import frame_index
from visualizer.plotdata import frames as _frames
from visualizer.plotdata import panels as _panels
from visualizer.plotdata import view as _view
from visualizer.figures import labels as _labels_mod
from visualizer.figures.curvature import sharpness_patch
from visualizer.plotdata.frames import current_step
from visualizer.plotdata.style import legend_name, run_style
from visualizer.plotdata.ticks import log_ticks
from visualizer.plotdata.view import ViewOptions

COLORSCALE = "Viridis"
CURVES_TITLE = "Training curves"
LABEL_FONT = 12       # the contour's end labels (px)
LABEL_HALO = "0px 0px 3px white, 0px 0px 2px white"   # readable on the dark valleys too
CONTOUR_MARGIN = dict(l=50, r=10, t=76, b=70)
NARROW_CONTOUR, NEAR = 240, 14     # px: the app's narrowest contour plot; markers closer share one end label
# legends of the 2-D panels: one row (two when narrow) at the bottom of the figure, under the x axis' title
BOTTOM_LEGEND = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left")
FRAME_MS = 80         # playback: milliseconds per frame

CAMERA_EYE = dict(x=-1.0, y=-1.6, z=1.2)        # the 3D landscape's default camera
# Plotly rejects an interrupted animation's promise with no reason and nothing catches it (Pause does that):
# keep those out of the console of an exported page, as assets/app.js does in the app.
QUIET_INTERRUPTS = ('window.addEventListener("unhandledrejection", function (e) '
                    '{ if (e.reason === undefined) { e.preventDefault(); } });')


def to_html(fig, **config):
    """A self-contained page (plotly.js inlined) that plays offline, not auto-playing. The div id is fixed,
    so the same figure always gives the same bytes. ``config``: plotly config options. A figure without a
    layout width fills the window's width (plotly's default div width is 100%; ``responsive=True`` follows
    the window when it changes)."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False, div_id="loss-landscape",
                       post_script=QUIET_INTERRUPTS, config=config or None)


_HOVER_PATH = ("<b>%{fullData.name}</b><br>step %{customdata[0]:.0f}"
               "<br>surface loss at (α, β) %{customdata[1]:.4g}"
               "<br>true loss of the weights %{customdata[2]:.4g}<extra></extra>")


_HOVER_TRUTH = ("<b>%{fullData.name}</b>: hollow marker at the true loss of the weights %{customdata[2]:.4g}"
                "<br>(the ball sits on the plane's loss %{customdata[1]:.4g})<br>step %{customdata[0]:.0f}"
                "<extra></extra>")


def _f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64), dtype=np.float32)


def _labels(result, view):
    return _view.check_labels(result, view.optimizers)


def variance_text(plane):
    """What a PCA plane's explained_variance means, saying whether it is centred (None: not a PCA plane)."""
    if plane.explained_variance is None:
        return None
    ev = np.asarray(plane.explained_variance) * 100
    if plane.method.startswith("pca-centered"):
        return f"centred PCA: {ev[0]:.0f}% + {ev[1]:.0f}% of the path variance"
    what = "of the runs' equally weighted squared displacement" if plane.method.startswith("pca_balanced") \
        else "of the stacked squared displacement from the centre"
    return f"uncentred PCA: {ev[0]:.0f}% + {ev[1]:.0f}% {what}"


def _plane_text(result, moving=False):
    pl = result.plane
    if moving and pl.method != "random":
        # core.experiment.run._moving re-normalises the plane's directions to each frame's weights (filter norm):
        # no longer the PCA / Hessian directions, so their variance or eigenvalues would not describe it
        return f"{pl.method} directions filter-normalised to each frame's weights"
    txt = f"{pl.method} plane"
    if pl.explained_variance is not None:
        txt += f" ({variance_text(pl)})"
    lam = getattr(pl, "eigenvalues", None)
    if lam is not None:
        txt += f" (top two Hessian eigenvectors at the centre, λ₁ = {lam[0]:.3g}, λ₂ = {lam[1]:.3g})"
    return txt


def _title(result, extra="", moving=False):
    """(title, subtitle) of the landscape: the spec's name, then what the plane is."""
    n = result.info.get("n_params") or result.plane.n_params
    return result.spec.name, f"{_plane_text(result, moving)} through {n} weights{extra}"


def path_name(p):
    """A run's legend entry on the landscape: frames.PathFrames.name, built by visualizer.plotdata.style.legend_name
    ("large LR (failed at 120; in plane 43%)": failed runs say where, a static plane says how much of the path it
    holds)."""
    return p.name or legend_name(p.label)


def _style(st):
    return st if st is not None else run_style(0)


def _trail(lab, st, a, b, z, cd=None, name=None):
    """Trail trace (dict), in the run's colour and dash. Frames leave out ``cd``: the trail is a prefix of the
    base trace's path, whose customdata already holds every recorded point, so hover stays right and frames
    stay small."""
    t = dict(type="scatter3d", x=_f32(a), y=_f32(b), z=_f32(z))
    if cd is not None:
        st = _style(st)
        t.update(customdata=_f32(cd), mode="lines", name=name or legend_name(lab), legendgroup=lab,
                 line=dict(color=st.color, width=6, dash=st.dash), hovertemplate=_HOVER_PATH)
    return t


def _ball(lab, st, a, b, z, cd, full=True, legend=False, truth=None, name=None):
    """The run's ball at (a, b, z) (one point): its own symbol and a dark outline (no text: on the surface's dark
    valleys a label would not read; the contour labels the end points). Later runs' balls are smaller, so balls
    at one place nest as rings. ``truth``: the true loss's height where it is far from the ball's
    (frames.TRUTH_RATIO), drawn as a second, hollow point with a dotted stalk (the trace's line) down or up to it."""
    x, y, zz, c = _f32(a[-1:]), _f32(b[-1:]), _f32(z[-1:]), _f32(cd[-1:])
    if truth is not None:
        x, y, zz, c = (np.concatenate([v, v]) for v in (x, y, zz, c))
        zz[1] = truth
    t = dict(type="scatter3d", x=x, y=y, z=zz, customdata=c)
    if full:
        st = _style(st)
        t.update(mode="lines+markers", name=name or legend_name(lab), legendgroup=lab, showlegend=legend,
                 marker=dict(size=[st.size * 0.75, st.size * 0.6], color=st.color, symbol=[st.symbol, "circle-open"],
                             line=dict(color="#111", width=2)),
                 line=dict(color=st.color, width=3, dash="dot"),
                 hovertemplate=[_HOVER_PATH, _HOVER_TRUTH])
    return t


def _surface(alphas, betas, H, raw, label, zrange, colour=None):
    t = dict(type="surface", x=_f32(alphas), y=_f32(betas), z=_f32(H), customdata=_f32(raw),
             colorscale=COLORSCALE, cmin=zrange[0], cmax=zrange[1], opacity=0.92, showscale=True,
             colorbar=dict(title=dict(text=label, side="right"), len=0.7, thickness=14),
             contours=dict(z=dict(show=True, usecolormap=True, width=1)),   # level lines on the surface
             hovertemplate="α %{x:.3f}, β %{y:.3f}<br>train loss %{customdata:.4g}<extra>surface</extra>",
             name="surface", showlegend=False)
    if colour is not None:          # colour by curvature: its own values, scale and colour bar (heights unchanged)
        t.update(surfacecolor=_f32(colour.values), colorscale=get_colorscale(colour.colorscale), cmin=colour.cmin,
                 cmax=colour.cmax,
                 colorbar=dict(title=dict(text=colour.title, side="right"), len=0.7, thickness=14),
                 contours=dict(z=dict(show=True, color="rgba(40,40,40,0.5)", width=1)),
                 text=[[f"{v:.4g}" for v in row] for row in np.asarray(colour.values, dtype=np.float64)],
                 hovertemplate=("α %{x:.3f}, β %{y:.3f}<br>train loss %{customdata:.4g}"
                                f"<br>{colour.name} %{{text}}<extra>surface</extra>"))
    return t


def player(steps, active):
    """Play / pause buttons and a step slider, built into the figure (so an HTML export animates too)."""
    names = [str(int(s)) for s in steps]
    play = dict(label="▶ Play", method="animate",
                args=[None, dict(frame=dict(duration=FRAME_MS, redraw=True), fromcurrent=True,
                                 transition=dict(duration=0), mode="immediate")])
    pause = dict(label="❚❚ Pause", method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0),
                                    mode="immediate")])
    menus = [dict(type="buttons", direction="left", showactive=False, x=0.0, y=0.0, xanchor="left",
                  yanchor="top", pad=dict(t=8, r=8), buttons=[play, pause])]
    sliders = [dict(active=active, x=0.2, y=0.0, len=0.78, xanchor="left", yanchor="top", pad=dict(t=8),
                    currentvalue=dict(prefix="step ", visible=True, xanchor="left", font=dict(size=13, color="#333")),
                    font=dict(size=1, color="rgba(0,0,0,0)"), ticklen=2, minorticklen=0,
                    transition=dict(duration=0),
                    steps=[dict(label=n, method="animate",
                                args=[[n], dict(frame=dict(duration=0, redraw=True), mode="immediate",
                                                transition=dict(duration=0))]) for n in names])]
    return menus, sliders


def _check_colour(colour, fm):
    if colour is None:
        return
    if fm.moving:
        raise ValueError("surface colour: a curvature colour needs the static landscape (untick moving landscape)")
    if np.shape(colour.values) != fm.heights.shape[1:]:
        raise ValueError(f"surface colour: values of shape {np.shape(colour.values)}, expected the surface's "
                         f"{fm.heights.shape[1:]}")


def animated_landscape(result, view: ViewOptions | None = None, step=None, height=640, title=None, colour=None,
                       frames=True):
    """The 3D landscape with one trail and ball per optimizer, animated over training steps.

    Draws the frame model (visualizer.plotdata.frames: steps, surfaces, ball heights) and nothing else.
    ``step``: the frame shown before playing, the last at or before ``step`` (default: the last, full trails).
    Frames are named by their training step (``str(step)``). ``colour``: a surface_colour.SurfaceColour (the
    surface's colour by curvature, static landscape only; None: by height). ``frames=False``: the figure
    without its frames (the app draws it first and sends ``landscape_frames`` after).
    """
    view = (view or ViewOptions()).validate()
    fm = _frames.build_frames(result, view)
    _check_colour(colour, fm)
    cds = path_customdata(fm)
    k0 = len(fm.steps) - 1 if step is None else frame_index(fm.steps, step)
    layout = _landscape_layout(result, fm, k0, height, title)
    # Traces and frames are plain dicts (tests check they validate); skipping plotly's per-property
    # validation of ~800 frame traces makes this about 30x faster.
    return go.Figure(data=landscape_traces(fm, cds, k0, full=True, colour=colour), layout=layout,
                     frames=frame_dicts(fm, cds) if frames else None, _validate=False)


def frame_dicts(fm, cds):
    """The animation frames of a frame model (K plain dicts: name, data, traces), ``cds``: path_customdata(fm)."""
    ids = landscape_frame_traces(fm)
    return [dict(name=str(int(s)), data=landscape_traces(fm, cds, k, full=False), traces=ids)
            for k, s in enumerate(fm.steps)]


_TYPED = {"float32": "f4", "float64": "f8", "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2",
          "int32": "i4", "uint32": "u4"}


def json_ready(obj):
    """Plain dicts and lists holding NumPy arrays -> the same holding plotly's typed arrays ({dtype, bdata[, shape]},
    what a figure's ``to_plotly_json`` holds for them; other arrays as lists), replaced in place; returns obj.
    (plotly's own converter asks narwhals about every array: about 30x slower on a figure's frames.)"""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        if isinstance(v, np.ndarray):
            code = _TYPED.get(str(v.dtype)) if v.size else None
            if code is None:
                obj[k] = v.tolist()
            else:
                obj[k] = {"dtype": code, "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii")}
                if v.ndim > 1:
                    obj[k]["shape"] = str(v.shape)[1:-1]
        elif isinstance(v, (dict, list)):
            json_ready(v)
    return obj


def landscape_frames(result, view: ViewOptions | None = None):
    """The frames of ``animated_landscape(result, view)``, JSON-ready: equal to its ``to_plotly_json()["frames"]``
    but without building plotly objects (about 10x faster; the app sends them after the first draw). One
    difference: a moving surface's colour scale stays named ("Viridis", as in the figure's own surface trace)
    where plotly's validator spells it out."""
    view = (view or ViewOptions()).validate()
    fm = _frames.build_frames(result, view)
    return json_ready(frame_dicts(fm, path_customdata(fm)))


def path_customdata(fm):
    """label -> (N, 3) hover data of every point: step, surface loss at (α, β), true loss."""
    return {lab: np.stack([p.steps.astype(np.float64), p.surface_loss, p.loss], axis=1) for lab, p in fm.paths.items()}


def landscape_frame_traces(fm):
    """The landscape traces a frame updates: the path traces; in moving mode the surface too."""
    return ([0] if fm.moving else []) + list(range(1, 1 + 2 * len(fm.paths)))


def landscape_traces(fm, cds, k, full, colour=None):
    """Traces of frame k: [surface] + (trail, ball) per optimizer. ``full``: the figure's own traces (styles,
    hover, the trail's customdata for every point); frames carry only what changes."""
    data = []
    if full or fm.moving:
        i = int(fm.surface_of_frame[k])
        data.append(_surface(fm.alphas, fm.betas, fm.heights[i], fm.surfaces[i], fm.zlabel, fm.zrange, colour))
    for lab, p in fm.paths.items():
        e = int(p.ends[k])
        n = e + 1 if fm.trails else 0                 # a moving frame's own plane holds no earlier positions
        a, b, z, cd = p.alpha, p.beta, p.height, cds[lab]
        data.append(_trail(lab, p.style, a[:n], b[:n], z[:n], (cd if fm.trails else cd[:0]) if full else None,
                           name=path_name(p)))
        truth = float(p.true_height[e]) if p.apart[e] else None
        data.append(_ball(lab, p.style, a[e:e + 1], b[e:e + 1], z[e:e + 1], cd[e:e + 1], full, legend=not fm.trails,
                          truth=truth, name=path_name(p)))
    return data


def landscape_titles(result, fm, title=None):
    """(title, subtitle or None) of the landscape; a ``title`` given replaces both."""
    if title:
        return title, None
    extra = f"; moving landscape: the surface follows {fm.follow}'s weights" if fm.moving else ""
    return _title(result, extra, moving=fm.moving)


def landscape_title(result, fm, title=None):
    """The landscape's title and subtitle as one text (two lines, the second small)."""
    text, sub = landscape_titles(result, fm, title)
    return f"{text}<br><sup>{sub}</sup>" if sub else text


def scene_layout(fm, units=None):
    """The 3D scene of the landscape (axes with their units, ranges, camera). The two plane axes are drawn in
    proportion to their spans (both measure the same kind of length); ``units``: axis_units(...) of the plane."""
    zmin, zmax = fm.zlim                    # the surface's range and every true-loss marker
    top = zmax + 2 * fm.lift
    ua, ub = units or ("direction 1", "direction 2")
    ax, ay = _view.plane_aspect(fm.alphas, fm.betas)
    return dict(
        xaxis=dict(title=dict(text=f"α ({ua})"), range=[float(fm.alphas[0]), float(fm.alphas[-1])]),
        yaxis=dict(title=dict(text=f"β ({ub})"), range=[float(fm.betas[0]), float(fm.betas[-1])]),
        zaxis=dict(title=dict(text=fm.zlabel), range=[zmin - 0.02 * (top - zmin), top]),
        aspectmode="manual", aspectratio=dict(x=ax, y=ay, z=0.6),
        camera=dict(eye=dict(CAMERA_EYE)),                  # from above the valleys: every path in view
        uirevision="landscape")


def plane_annotations(fm, x=0.01, y=0.04):
    """The warning next to the surface when some run keeps under frames.LOW_IN_PLANE of its path in the plane
    (its left end at paper (x, y); two lines, split after the colon)."""
    text = _frames.plane_warning(fm)
    if not text:
        return []
    return [dict(text="⚠ " + text.replace(": ", ":<br>", 1), name="in-plane warning", xref="paper", yref="paper",
                 x=x, y=y, xanchor="left", yanchor="bottom", showarrow=False, align="left",
                 font=dict(size=12, color="#8a1c00"),
                 bgcolor="rgba(255,255,255,0.85)", bordercolor="#8a1c00", borderwidth=1, borderpad=4)]


def _landscape_layout(result, fm, k0, height, title):
    menus, sliders = player(fm.steps, k0)
    units = _view.axis_units(result.plane, moving=fm.moving)
    text, sub = landscape_titles(result, fm, title)
    head = dict(text=text, x=0.01, xanchor="left", font=dict(size=15), y=1, yref="container", yanchor="top",
                pad=dict(t=34))        # below the modebar's row (which takes the top ~30 px)
    if sub:                            # on a line of its own (the app appends " · step N" to the title's text)
        head["subtitle"] = dict(text=sub, font=dict(size=11))
    return go.Layout(
        title=head,
        height=height, margin=dict(l=0, r=0, t=84, b=70), uirevision="landscape",
        template="plotly_white", legend=dict(x=0.01, y=0.92, bgcolor="rgba(255,255,255,0.7)"),
        updatemenus=menus, sliders=sliders, scene=scene_layout(fm, units), annotations=plane_annotations(fm),
    ).to_plotly_json()


def contour_figure(result, view: ViewOptions | None = None, step=None, height=460, colour=None):
    """The plane seen from above (static surface), every path, and a marker per optimizer at ``step``.

    Traces: 0 contour; 1..n trails; n+1..2n markers (see ``marker_positions``, ``marker_patch``); with
    ``colour`` (a surface_colour.SurfaceColour) 2n+1 its heatmap, under the contour's lines.
    """
    view = (view or ViewOptions()).validate()
    labels = _labels(result, view)
    clip = _view.clip_value(result.surface, view)
    H, zlabel = _view.height(result.surface, view, clip)
    if colour is not None and np.shape(colour.values) != np.shape(result.surface):
        raise ValueError(f"surface colour: values of shape {np.shape(colour.values)}, expected the surface's "
                         f"{np.shape(result.surface)}")
    fig = go.Figure()
    lines = {} if colour is None else dict(contours=dict(coloring="lines"), showscale=False,
                                           line=dict(width=1.2), colorscale=[[0, "#222"], [1, "#eee"]])
    fig.add_trace(go.Contour(x=_f32(result.alphas), y=_f32(result.betas), z=_f32(H), customdata=_f32(result.surface),
                             colorscale=COLORSCALE, ncontours=30, line=dict(width=0.5),
                             colorbar=dict(title=dict(text=zlabel, side="right"), thickness=12),
                             hovertemplate="α %{x:.3f}, β %{y:.3f}<br>train loss %{customdata:.4g}<extra></extra>",
                             showlegend=False).update(**lines))
    for lab in labels:
        pr = result.paths[lab]
        cd = np.stack([np.asarray(pr.steps, dtype=np.float64),
                       pr.surface_loss if pr.surface_loss is not None else np.full(len(pr.steps), np.nan),
                       pr.loss], axis=1)
        st = _view.style_of(result, lab)
        fig.add_trace(go.Scatter(x=_f32(pr.alpha), y=_f32(pr.beta), customdata=_f32(cd), mode="lines",
                                 name=_view.run_name(result, lab), legendgroup=lab,
                                 line=dict(color=st.color, width=2.5, dash=st.dash),
                                 hovertemplate=_HOVER_PATH.replace("surface loss at (α, β)", "surface loss")))
    pos = marker_positions(result, view, step)
    places = label_positions(result, view, pos, height)
    for lab in labels:                    # traces _contour_marker(n, k)
        a, b, _ = pos[lab]
        st = _view.style_of(result, lab)
        fig.add_trace(go.Scatter(x=[a], y=[b], mode="markers+text", name=legend_name(lab), legendgroup=lab,
                                 showlegend=False, text=[places[lab][1]], textposition=places[lab][0],
                                 textfont=dict(color=st.color, size=LABEL_FONT, shadow=LABEL_HALO),
                                 marker=dict(size=st.size, color=st.color, symbol=st.symbol,
                                             line=dict(color="#111", width=1.5)), hoverinfo="skip"))
    if colour is not None:               # last in the list, drawn first: plotly's heatmap layer is below the rest
        fig.add_trace(go.Heatmap(x=_f32(result.alphas), y=_f32(result.betas), z=_f32(colour.values),
                                 colorscale=colour.colorscale, zmin=colour.cmin, zmax=colour.cmax, showlegend=False,
                                 colorbar=dict(title=dict(text=colour.name, side="right"), thickness=12),
                                 hovertemplate=(f"α %{{x:.3f}}, β %{{y:.3f}}<br>{colour.name} "
                                                "%{z:.4g}<extra></extra>")))
        zlabel = f"{colour.name}, lines: loss"
    # the title, then its subtitle on a line of its own, both under the modebar's row (the top ~30 px) and above
    # the plot (the app appends " · step N" to the title's text)
    fig.update_layout(title=panel_title("Contour of the same plane", f"colour: {zlabel}"),
                      height=height, margin=dict(CONTOUR_MARGIN), template="plotly_white",
                      uirevision="contour", legend=BOTTOM_LEGEND,
                      xaxis=dict(title="α", range=[float(result.alphas[0]), float(result.alphas[-1])]),
                      yaxis=dict(title="β", range=[float(result.betas[0]), float(result.betas[-1])]))
    return fig


def panel_title(text, subtitle=None):
    """A 2-D panel's title: ``text`` at the top left below the modebar's row, ``subtitle`` on its own line under
    it (the panel's margin.t leaves room for both)."""
    t = dict(text=text, font=dict(size=14), x=0, xref="paper", xanchor="left", y=1, yref="container",
             yanchor="top", pad=dict(t=30))
    if subtitle:
        t["subtitle"] = dict(text=subtitle, font=dict(size=11, color="#555"))
    return t


def label_positions(result, view, pos, height=460):
    """label -> (plotly textposition, text) of each run's end label on the contour, beside its marker at ``pos``
    (marker_positions), inside the plot and apart from the others (visualizer.figures.labels.place_labels), for
    plots from the app's narrowest contour panel to its widest. Runs whose markers (nearly) coincide share one
    label, on the first one's marker: their names, one a line, each in its colour (the others' text is "")."""
    a0, a1 = float(result.alphas[0]), float(result.alphas[-1])
    b0, b1 = float(result.betas[0]), float(result.betas[-1])
    labs = list(pos)
    pts = [((pos[lab][0] - a0) / ((a1 - a0) or 1.0), (pos[lab][1] - b0) / ((b1 - b0) or 1.0)) for lab in labs]
    h = height - CONTOUR_MARGIN["t"] - CONTOUR_MARGIN["b"] - 20          # 20: a second legend row
    styles = [_view.style_of(result, lab) for lab in labs]
    groups = _labels_mod.clusters(pts, (NARROW_CONTOUR, h), near=NEAR)
    texts = {}
    for g in groups:
        texts[labs[g[0]]] = (labs[g[0]] if len(g) == 1 else
                             "<br>".join(f"<span style='color:{styles[i].color}'>{labs[i]}</span>" for i in g))
    lead = [g[0] for g in groups]
    gaps = [styles[i].size / 2 + 3 for i in lead]                      # about plotly's offset: the marker's radius
    places = _labels_mod.place_labels([pts[i] for i in lead], [texts[labs[i]] for i in lead],
                                      [(NARROW_CONTOUR, h), (820, h)], font=LABEL_FONT, gap=gaps,
                                      prefer=[styles[i].text_position for i in lead])
    out = {lab: (styles[k].text_position, "") for k, lab in enumerate(labs)}
    out.update({labs[i]: (p, texts[labs[i]]) for i, p in zip(lead, places)})
    return out


def marker_positions(result, view, step=None):
    """label -> (alpha, beta, step shown) of each optimizer at ``step`` (default: the last step)."""
    labels = _labels(result, view)
    out = {}
    for lab in labels:
        pr = result.paths[lab]
        i = len(pr.steps) - 1 if step is None else frame_index(pr.steps, step)
        out[lab] = (float(pr.alpha[i]), float(pr.beta[i]), int(pr.steps[i]))
    return out


def curves_figure(result, view: ViewOptions | None = None, step=None, height=360):
    """Loss (log axis) and train/test accuracy against step; a vertical line at ``step`` in both panels.
    Draws visualizer.plotdata.panels.curves_data (as the exporter's curves panel does)."""
    view = (view or ViewOptions()).validate()
    loss_title = _panels.loss_curve_title(result).replace(" (", "<br>(", 1)     # two lines: a half-width panel
    fig = make_subplots(rows=1, cols=2, subplot_titles=(loss_title, "accuracy (train —, test ┄)"),
                        horizontal_spacing=0.12)
    fig.update_annotations(font=dict(size=13))
    series = _panels.curves_data(result, view.optimizers)
    for c in series:
        _add_curves(fig, c)
    target = result.spec.training.target_loss
    if target is not None:          # a legend entry, not a label on the plot (the loss lines cross it there)
        last = max(float(c.history_steps[-1]) for c in series)
        fig.add_trace(dict(type="scatter", x=[0, last], y=[target, target], mode="lines", name=f"target {target:g}",
                           legendgroup="target", line=dict(color="#888", dash="dot", width=1), hoverinfo="skip"),
                      1, 1)
    s = current_step(result, view, step)
    # the step lines are shapes _STEP_SHAPES, the first two (marker_patch moves them)
    marker = [dict(type="line", xref=x, yref=f"{y} domain", x0=s, x1=s, y0=0, y1=1,
                   line=dict(color="#333", width=1.5)) for x, y in (("x", "y"), ("x2", "y2"))]
    fig.layout.shapes = marker + [s.to_plotly_json() for s in fig.layout.shapes]
    vals, texts = log_ticks(*_panels.loss_range(series))            # 1-2-5 ticks, only decades labelled if crowded
    fig.update_yaxes(type="log", row=1, col=1, **(dict(tickvals=vals, ticktext=texts) if vals else dict(dtick="D2")))
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(title_text="step", nticks=5)
    # the title (the app appends " · step N") on its own row above the two subplots' titles
    fig.update_layout(title=panel_title(CURVES_TITLE), height=height, margin=dict(l=50, r=14, t=96, b=84),
                      template="plotly_white", uirevision="curves", legend=BOTTOM_LEGEND, hovermode="closest")
    return fig


def loss_trace(c, legend=True):
    """One run's training loss at every step (a trace dict; the curves figure and the HTML export's panel)."""
    st = _style(c.style)
    return dict(type="scatter", x=_f32(c.history_steps), y=_f32(c.history), mode="lines",
                name=c.name or legend_name(c.label), legendgroup=c.label, showlegend=legend,
                line=dict(color=c.color, width=2, dash=st.dash),
                hovertemplate=f"{c.label}<br>step %{{x:.0f}}<br>loss %{{y:.4g}}<extra></extra>")


def frames_trace(c):
    """The recorded frames on the loss line (markers; the landscape's balls stand at these steps)."""
    return dict(type="scatter", x=_f32(c.steps), y=_f32(c.loss), mode="markers", name=c.label,
                legendgroup=c.label, showlegend=False, marker=dict(color=c.color, size=4),
                hovertemplate=f"{c.label}<br>recorded frame, step %{{x:.0f}}<br>loss %{{y:.4g}}<extra></extra>")


def _add_curves(fig, c):
    lab, steps = c.label, _f32(c.steps)
    fig.add_trace(loss_trace(c), 1, 1)
    fig.add_trace(frames_trace(c), 1, 1)
    for y, name, width, dash in ((c.train_acc, "train", 2, None), (c.test_acc, "test", 1.5, "dot")):
        fig.add_trace(go.Scatter(x=steps, y=_f32(y), mode="lines", name=c.name or legend_name(lab), legendgroup=lab,
                                 showlegend=False,
                                 line=dict(color=c.color, width=width, dash=dash),
                                 hovertemplate=f"{lab}<br>step %{{x:.0f}}<br>{name} acc %{{y:.3f}}<extra></extra>"),
                      1, 2)
    if c.diverged_at is not None:
        fig.add_vline(x=c.diverged_at, line=dict(color=c.color, dash="dash", width=1), row=1, col=1)


_STEP_SHAPES = (0, 1)          # curves_figure: the step line of each panel


def _contour_marker(n, k):
    """contour_figure's trace index of the k-th of n shown optimizers' marker."""
    return 1 + n + k


def marker_patch(result, view, step=None):
    """What moves the current-step markers to ``step``, as plain updates (no Dash here):
    ``{"contour": {path: value}, "curves": {path: value}, "sharpness": {path: value}}`` where a path is a
    tuple of keys into the figure's JSON, e.g. ``("data", 5, "x")`` ({} for the sharpness of a run without
    curvature). step_state.step_table keeps them per frame; assets/app.js applies them as Dash Patches."""
    pos = marker_positions(result, view, step)
    places = label_positions(result, view, pos)
    n = len(pos)
    contour = {}
    for k, (lab, (a, b, _)) in enumerate(pos.items()):
        contour[("data", _contour_marker(n, k), "x")] = [a]
        contour[("data", _contour_marker(n, k), "y")] = [b]
        contour[("data", _contour_marker(n, k), "textposition")] = places[lab][0]
        contour[("data", _contour_marker(n, k), "text")] = [places[lab][1]]
    s = current_step(result, view, step)
    curves = {("layout", "shapes", j, x): s for j in _STEP_SHAPES for x in ("x0", "x1")}
    return {"contour": contour, "curves": curves, "sharpness": sharpness_patch(result, view, s)}


def step_grid(result, view):
    """Training steps offered by the app's step slider (the animation's frame steps)."""
    return [int(s) for s in _frames.frame_steps(result, view)[0]]


SUMMARY_COLUMNS = [
    ("label", "optimizer"), ("final_loss", "final train loss"), ("train_acc", "train acc"),
    ("test_acc", "test acc"), ("steps_to_target", "first step < target"), ("diverged_at", "diverged at"),
    # core.model.failure: first step from which the run is judged failed, live units at the end, peak loss
    ("failed_at", "failed at"), ("live_units", "live units"), ("peak_loss", "peak loss"),
    ("path_length", "path length"), ("in_plane", "in plane (share of the path)"),
    # with curvature (core.cli.main CURVATURE_COLUMNS); Adam / RMSProp: of the preconditioned Hessian
    ("peak_sharpness", "peak sharpness"), ("sharpness_ratio", "final sharpness / threshold"),
    ("above_threshold", "frames ≥ threshold"),
    # at each run's last weights (core.landscape.plane_curvature): what the surface's axes can show of the curvature
    ("plane_curvature", "curvature along d₁, d₂ vs λmax (end)"), ("top_in_plane", "top eigenvector in plane"),
]


def plane_curvature_text(r):
    """ "0.0078, 0.015 vs 0.55": u^T H u along the two unit plane axes beside the Hessian's top eigenvalue (None
    without the training data)."""
    if r.get("lambda_max") is None:
        return None
    return f"{r['curv_d1']:.2g}, {r['curv_d2']:.2g} vs {r['lambda_max']:.3g}"


def summary_records(result, digits=4):
    """The comparison table: one dict per optimizer, numbers rounded (None where not applicable)."""
    rows = []
    for r in result.summary():
        row = {}
        for k, _ in SUMMARY_COLUMNS:
            v = plane_curvature_text(r) if k == "plane_curvature" else r[k]
            if isinstance(v, float):
                v = round(v, digits) if np.isfinite(v) else None
            row[k] = v
        row["optimizer_name"] = r["optimizer"]
        rows.append(row)
    return rows


def figure_json_size(fig):
    """Bytes of the figure's JSON (what the app sends to the browser)."""
    return len(fig.to_json().encode())
