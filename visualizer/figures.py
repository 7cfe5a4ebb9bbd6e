"""Plotly figures of an ExperimentResult: pure functions (result + ViewOptions in, figure out).

Shared by the Dash app and the exporters; no Dash imports here.

    fig = animated_landscape(result, ViewOptions())        # 3D surface + trail and ball per optimizer, with frames
    fig = contour_figure(result, ViewOptions(), step=500)    # the same plane from above, markers at ``step``
    fig = curves_figure(result, ViewOptions(), step=500)     # loss and accuracies against step
    rows = summary_records(result)                          # the comparison table

Trace layout of ``animated_landscape`` (frames rely on it):
  0            the surface
  1 + 2k       trail of the k-th shown optimizer (every recorded frame up to the current step)
  2 + 2k       ball of the k-th shown optimizer (its current step)
Frames update only the path traces (``traces=[1, ..., 2n]``); in moving mode
(``view.moving`` and the result has a moving landscape) they replace the surface too.

Heights: the surface is ``view.height(result.surface)``; a path point sits at the
top of the drawn grid cell under its projected (alpha, beta), lifted a hair so the
renderer's triangles never hide it. The true loss of the weights, which the
plane does not capture exactly, is in the hover text beside the surface loss.
Arrays are cast to float32 (plotly 7 sends them base64-encoded), so a 51 x 51
surface with 100 frames of four paths is well under 1 MB of JSON.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import view as _view
from .view import ViewOptions

COLORSCALE = "Viridis"
LIFT = 0.015          # path points float this share of the z range above the surface
FRAME_MS = 80         # playback: milliseconds per frame

CAMERA_EYE = dict(x=-1.0, y=-1.6, z=1.2)        # the 3D landscape's default camera
# Plotly rejects an interrupted animation's promise with no reason and nothing catches it (Pause does that):
# keep those out of the console of an exported page, as assets/app.js does in the app.
QUIET_INTERRUPTS = ('window.addEventListener("unhandledrejection", function (e) '
                    '{ if (e.reason === undefined) { e.preventDefault(); } });')


def to_html(fig, **config):
    """A self-contained page (plotly.js inlined) that plays offline, not auto-playing. The div id is fixed,
    so the same figure always gives the same bytes. ``config``: plotly config options."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False, div_id="loss-landscape",
                       post_script=QUIET_INTERRUPTS, config=config or None)


_HOVER_PATH = ("<b>%{fullData.name}</b><br>step %{customdata[0]:.0f}"
               "<br>surface loss at (α, β) %{customdata[1]:.4g}"
               "<br>true loss of the weights %{customdata[2]:.4g}<extra></extra>")


def _f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64), dtype=np.float32)


def _labels(result, view):
    return _view.check_labels(result, view.optimizers)


def _is_moving(result, view):
    return bool(view.moving and result.moving is not None)


def _plane_text(result):
    pl = result.plane
    txt = f"{pl.method} plane"
    if pl.explained_variance is not None:
        ev = np.asarray(pl.explained_variance) * 100
        txt += f" (PCA explains {ev[0]:.0f}% + {ev[1]:.0f}% of the path variance)"
    return txt


def _title(result, extra=""):
    n = result.info.get("n_params") or result.plane.n_params
    name = result.spec.name
    return f"{name}<br><sup>{_plane_text(result)} through {n} weights{extra}</sup>"


class _Paths:
    """Per optimizer: (alpha, beta, z, customdata[step, surface loss, true loss]) of every recorded frame."""

    def __init__(self, result, view, H, z_lift):
        self.data = {}
        for lab in _labels(result, view):
            pr = result.paths[lab]
            sl = pr.surface_loss
            if sl is None:
                sl = _view.surface_at(result.alphas, result.betas, result.surface, pr.alpha, pr.beta)
            # on the drawn surface: the top of the drawn cell under the point, so the renderer's triangles
            # never hide it (the exact loss at the point, and the true loss, are in the hover)
            z = _view.surface_top(result.alphas, result.betas, H, pr.alpha, pr.beta) + z_lift
            cd = np.stack([np.asarray(pr.steps, dtype=np.float64), sl, pr.loss], axis=1)
            self.data[lab] = (np.asarray(pr.alpha), np.asarray(pr.beta), z, cd, np.asarray(pr.steps))

    def upto(self, lab, step):
        a, b, z, cd, steps = self.data[lab]
        i = _view.frame_index(steps, step)
        return a[:i + 1], b[:i + 1], z[:i + 1], cd[:i + 1]


def _trail(lab, color, a, b, z, cd=None):
    """Trail trace (dict). Frames leave out ``cd``: the trail is a prefix of the base trace's path, whose
    customdata already holds every recorded point, so hover stays right and frames stay small."""
    t = dict(type="scatter3d", x=_f32(a), y=_f32(b), z=_f32(z))
    if cd is not None:
        t.update(customdata=_f32(cd), mode="lines", name=lab, legendgroup=lab,
                 line=dict(color=color, width=6), hovertemplate=_HOVER_PATH)
    return t


def _ball(lab, color, a, b, z, cd, full=True, legend=False):
    t = dict(type="scatter3d", x=_f32(a[-1:]), y=_f32(b[-1:]), z=_f32(z[-1:]), customdata=_f32(cd[-1:]))
    if full:
        t.update(mode="markers", name=lab, legendgroup=lab, showlegend=legend,
                 marker=dict(size=8, color=color, line=dict(color="white", width=2)),
                 hovertemplate=_HOVER_PATH)
    return t


def _surface(alphas, betas, H, raw, label, zrange):
    return dict(type="surface", x=_f32(alphas), y=_f32(betas), z=_f32(H), customdata=_f32(raw),
                      colorscale=COLORSCALE, cmin=zrange[0], cmax=zrange[1], opacity=0.92, showscale=True,
                      colorbar=dict(title=dict(text=label, side="right"), len=0.7, thickness=14),
                      contours=dict(z=dict(show=True, usecolormap=True, width=1)),   # level lines on the surface
                      hovertemplate="α %{x:.3f}, β %{y:.3f}<br>train loss %{customdata:.4g}<extra>surface</extra>",
                      name="surface", showlegend=False)


def _player(steps, active):
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


def animated_landscape(result, view: ViewOptions | None = None, step=None, height=640, title=None):
    """The 3D landscape with one trail and ball per optimizer, animated over training steps.

    ``step``: training step shown before playing (default: the last, full trails).
    Frames are named by their training step (``str(step)``).
    """
    view = (view or ViewOptions()).validate()
    labels = _labels(result, view)
    moving = _is_moving(result, view)
    n = len(labels)
    path_idx = list(range(1, 1 + 2 * n))
    colors = {lab: _view.color_of(result, lab) for lab in labels}

    if moving:
        mv = result.moving
        clip = _view.clip_value(mv.surfaces, view)
        Hs = [_view.height(S, view, clip)[0] for S in mv.surfaces]
        zlabel = _view.scale_label(view)
        zmin = float(min(np.min(H) for H in Hs)); zmax = float(max(np.max(H) for H in Hs))
        lift = LIFT * max(zmax - zmin, 1e-9)
        steps = np.asarray(mv.steps)
        alphas, betas = mv.alphas, mv.betas

        def frame_data(k, full):
            data = [_surface(alphas, betas, Hs[k], mv.surfaces[k], zlabel, (zmin, zmax))]
            for lab in labels:
                p = mv.paths[lab]
                a, b = p["alpha"][k:k + 1], p["beta"][k:k + 1]
                sl = _view.surface_at(alphas, betas, mv.surfaces[k], a, b)
                z = _view.surface_top(alphas, betas, Hs[k], a, b) + lift
                cd = np.stack([steps[k:k + 1].astype(np.float64), sl, p["loss"][k:k + 1]], axis=1)
                # each frame has its own plane, so earlier positions are not on this surface: no trail
                data.append(_trail(lab, colors[lab], a[:0], b[:0], z[:0], cd[:0] if full else None))
                data.append(_ball(lab, colors[lab], a, b, z, cd, full, legend=True))
            return data
        frame_traces = [0] + path_idx
        k0 = len(steps) - 1 if step is None else _view.frame_index(steps, step)
        base = frame_data(k0, True)
        frames = [dict(name=str(int(s)), data=frame_data(k, False), traces=frame_traces)
                  for k, s in enumerate(steps)]
        extra = f"; moving landscape: the surface follows {mv.follow}'s weights"
    else:
        clip = _view.clip_value(result.surface, view)
        H, zlabel = _view.height(result.surface, view, clip)
        zmin, zmax = float(np.min(H)), float(np.max(H))
        lift = LIFT * max(zmax - zmin, 1e-9)
        paths = _Paths(result, view, H, lift)
        steps = _view.animation_steps(result, view.n_frames, labels)

        def path_data(s, full):
            data = []
            for lab in labels:
                a, b, z, cd = paths.upto(lab, s)
                data.append(_trail(lab, colors[lab], a, b, z, paths.data[lab][3] if full else None))
                data.append(_ball(lab, colors[lab], a, b, z, cd, full))
            return data
        s0 = steps[-1] if step is None else step
        k0 = _view.frame_index(steps, s0)
        base = [_surface(result.alphas, result.betas, H, result.surface, zlabel, (zmin, zmax))] + path_data(s0, True)
        frames = [dict(name=str(int(s)), data=path_data(s, False), traces=path_idx) for s in steps]
        extra = ""
        alphas, betas = result.alphas, result.betas

    menus, sliders = _player(steps, k0)
    top = zmax + 2 * lift
    layout = go.Layout(
        title=dict(text=title or _title(result, extra), x=0.01, xanchor="left", font=dict(size=15)),
        height=height, margin=dict(l=0, r=0, t=60, b=70), uirevision="landscape",
        template="plotly_white", legend=dict(x=0.01, y=0.92, bgcolor="rgba(255,255,255,0.7)"),
        updatemenus=menus, sliders=sliders,
        scene=dict(
            xaxis=dict(title="α (direction 1)", range=[float(alphas[0]), float(alphas[-1])]),
            yaxis=dict(title="β (direction 2)", range=[float(betas[0]), float(betas[-1])]),
            zaxis=dict(title=zlabel, range=[zmin - 0.02 * (top - zmin), top]),
            aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.6),
            camera=dict(eye=dict(CAMERA_EYE)),                  # from above the valleys: every path in view
            uirevision="landscape"),
    )
    # Traces and frames are plain dicts built above (tests check they validate); skipping plotly's
    # per-property validation of ~800 frame traces makes this about 30x faster.
    fig = go.Figure(data=base, layout=layout.to_plotly_json(), frames=frames, _validate=False)
    return fig


def contour_figure(result, view: ViewOptions | None = None, step=None, height=460):
    """The plane seen from above (static surface), every path, and a marker per optimizer at ``step``.

    Traces: 0 contour; 1..n trails; n+1..2n markers (see ``marker_positions``).
    """
    view = (view or ViewOptions()).validate()
    labels = _labels(result, view)
    clip = _view.clip_value(result.surface, view)
    H, zlabel = _view.height(result.surface, view, clip)
    fig = go.Figure()
    fig.add_trace(go.Contour(x=_f32(result.alphas), y=_f32(result.betas), z=_f32(H), customdata=_f32(result.surface),
                             colorscale=COLORSCALE, ncontours=30, line=dict(width=0.5),
                             colorbar=dict(title=dict(text=zlabel, side="right"), thickness=12),
                             hovertemplate="α %{x:.3f}, β %{y:.3f}<br>train loss %{customdata:.4g}<extra></extra>",
                             showlegend=False))
    for lab in labels:
        pr = result.paths[lab]
        cd = np.stack([np.asarray(pr.steps, dtype=np.float64),
                       pr.surface_loss if pr.surface_loss is not None else np.full(len(pr.steps), np.nan),
                       pr.loss], axis=1)
        fig.add_trace(go.Scatter(x=_f32(pr.alpha), y=_f32(pr.beta), customdata=_f32(cd), mode="lines", name=lab,
                                 legendgroup=lab, line=dict(color=_view.color_of(result, lab), width=2.5),
                                 hovertemplate=_HOVER_PATH.replace("surface loss at (α, β)", "surface loss")))
    pos = marker_positions(result, view, step)
    for lab in labels:
        a, b, _ = pos[lab]
        fig.add_trace(go.Scatter(x=[a], y=[b], mode="markers", name=lab, legendgroup=lab, showlegend=False,
                                 marker=dict(size=12, color=_view.color_of(result, lab),
                                             line=dict(color="white", width=2)), hoverinfo="skip"))
    # the title sits just above the plot area, below the modebar (which takes the top ~30 px)
    fig.update_layout(title=dict(text=f"Contour of the same plane (colour: {zlabel})", font=dict(size=14),
                                 x=0, xref="paper", xanchor="left", y=1, yref="paper", yanchor="bottom",
                                 pad=dict(b=8)),
                      height=height, margin=dict(l=50, r=10, t=64, b=40), template="plotly_white",
                      uirevision="contour", legend=dict(orientation="h", y=-0.15),
                      xaxis=dict(title="α", range=[float(result.alphas[0]), float(result.alphas[-1])]),
                      yaxis=dict(title="β", range=[float(result.betas[0]), float(result.betas[-1])]))
    return fig


def marker_positions(result, view, step=None):
    """label -> (alpha, beta, step shown) of each optimizer at ``step`` (default: the last step)."""
    labels = _labels(result, view)
    out = {}
    for lab in labels:
        pr = result.paths[lab]
        i = len(pr.steps) - 1 if step is None else _view.frame_index(pr.steps, step)
        out[lab] = (float(pr.alpha[i]), float(pr.beta[i]), int(pr.steps[i]))
    return out


def curves_figure(result, view: ViewOptions | None = None, step=None, height=360):
    """Loss (log axis) and train/test accuracy against step; a vertical line at ``step`` in both panels."""
    view = (view or ViewOptions()).validate()
    labels = _labels(result, view)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("train loss (log axis)", "accuracy (train —, test ┄)"),
                        horizontal_spacing=0.12)
    fig.update_annotations(font=dict(size=13))
    for lab in labels:
        t = result.trajectories[lab]
        c = _view.color_of(result, lab)
        steps = _f32(t.steps)
        fig.add_trace(go.Scatter(x=steps, y=_f32(t.loss), mode="lines", name=lab, legendgroup=lab,
                                 line=dict(color=c, width=2),
                                 hovertemplate=f"{lab}<br>step %{{x:.0f}}<br>loss %{{y:.4g}}<extra></extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=steps, y=_f32(t.train_acc), mode="lines", name=lab, legendgroup=lab,
                                 showlegend=False, line=dict(color=c, width=2),
                                 hovertemplate=f"{lab}<br>step %{{x:.0f}}<br>train acc %{{y:.3f}}<extra></extra>"), 1, 2)
        fig.add_trace(go.Scatter(x=steps, y=_f32(t.test_acc), mode="lines", name=lab, legendgroup=lab,
                                 showlegend=False, line=dict(color=c, width=1.5, dash="dot"),
                                 hovertemplate=f"{lab}<br>step %{{x:.0f}}<br>test acc %{{y:.3f}}<extra></extra>"), 1, 2)
        if t.diverged_at is not None:
            fig.add_vline(x=t.diverged_at, line=dict(color=c, dash="dash", width=1), row=1, col=1)
    target = result.spec.training.target_loss
    fig.add_hline(y=target, line=dict(color="#888", dash="dot", width=1), row=1, col=1,
                  annotation_text=f"target {target:g}", annotation_position="bottom left")
    s = current_step(result, view, step)
    # the step markers are the first two shapes (the app moves them with a Patch)
    marker = [dict(type="line", xref=x, yref=f"{y} domain", x0=s, x1=s, y0=0, y1=1,
                   line=dict(color="#333", width=1.5)) for x, y in (("x", "y"), ("x2", "y2"))]
    fig.layout.shapes = marker + [s.to_plotly_json() for s in fig.layout.shapes]
    fig.update_yaxes(type="log", dtick="D2", row=1, col=1)          # label only 2 and 5 between decades
    fig.update_xaxes(title_text="step", nticks=5)
    fig.update_layout(height=height, margin=dict(l=50, r=14, t=64, b=40), template="plotly_white",
                      uirevision="curves", legend=dict(orientation="h", y=-0.2), hovermode="closest")
    return fig


def current_step(result, view, step=None):
    """The step shown: ``step`` or the last recorded step of the shown runs."""
    if step is not None:
        return int(step)
    labels = _labels(result, view)
    return int(max(result.trajectories[l].steps[-1] for l in labels))


def step_grid(result, view):
    """Training steps offered by the app's step slider (the animation's frame steps)."""
    if _is_moving(result, view):
        return [int(s) for s in result.moving.steps]
    return [int(s) for s in _view.animation_steps(result, view.n_frames, _labels(result, view))]


SUMMARY_COLUMNS = [
    ("label", "optimizer"), ("final_loss", "final train loss"), ("train_acc", "train acc"),
    ("test_acc", "test acc"), ("steps_to_target", "first step < target"), ("diverged_at", "diverged at"),
    ("path_length", "path length"), ("capture", "plane captures (1 − residual)"),
]


def summary_records(result, digits=4):
    """The comparison table: one dict per optimizer, numbers rounded (None where not applicable)."""
    rows = []
    for r in result.summary():
        row = {}
        for k, _ in SUMMARY_COLUMNS:
            v = r[k]
            if isinstance(v, float):
                v = round(v, digits) if np.isfinite(v) else None
            row[k] = v
        row["optimizer_name"] = r["optimizer"]
        rows.append(row)
    return rows


def figure_json_size(fig):
    """Bytes of the figure's JSON (what the app sends to the browser)."""
    return len(fig.to_json().encode())
