"""Small multiples: each run on its own PCA plane ("pca_per_run"), side by side, one shared step control.

    fig = per_run_landscape(result, ViewOptions())    # one 3D scene per shown run, frames named by training step

Each panel draws that run's frame model (visualizer.plotdata.frames, on a copy of the result whose plane, grid,
surface and path are the run's own: core.experiment.per_run) with the landscape's trace builders, so balls,
true-loss markers, legends and units mean what they mean on the shared plane. All panels share the step grid
of the whole result, so one slider and one Play button move every run to the same training step.
``landscape(result, view)`` picks this figure or the shared plane's (visualizer.figures.animated_landscape);
``landscape_frames(result, view)`` gives the same figure's frames alone, JSON-ready (the app sends them apart).
Trace layout: per panel k (of n), 1 + 2 = 3 traces from 3k: surface, trail, ball. Frames update trails and balls.
"""
from __future__ import annotations

import plotly.graph_objects as go

from core.model.training import frame_index
from visualizer.figures import landscape as L
from visualizer.plotdata import frames as _frames
from visualizer.plotdata import view as _view
from visualizer.plotdata.per_run import per_run_frames, per_run_planes
from visualizer.plotdata.view import ViewOptions

GAP = 0.02          # between the panels (paper fraction)

__all__ = ["per_run_landscape", "landscape", "landscape_frames", "per_run_title"]


def landscape(result, view: ViewOptions | None = None, step=None, height=640, title=None, colour=None, frames=True):
    """The app's and the HTML export's 3D landscape: small multiples for "pca_per_run" results (without a
    curvature colour), else visualizer.figures.landscape.animated_landscape. ``visualizer.figures.animated_landscape``
    is this function. ``frames=False``: without its frames (``landscape_frames`` gives them)."""
    v = (view or ViewOptions()).validate()
    if colour is None and per_run_planes(result, v):
        return per_run_landscape(result, v, step=step, height=height, title=title, frames=frames)
    return L.animated_landscape(result, v, step=step, height=height, title=title, colour=colour, frames=frames)


def landscape_frames(result, view: ViewOptions | None = None, coloured=False):
    """The frames of ``landscape(result, view, colour=...)`` (``coloured``: a colour was given), JSON-ready (plotly's
    typed arrays): equal to that figure's ``to_plotly_json()["frames"]``, built without plotly objects."""
    v = (view or ViewOptions()).validate()
    if not coloured and per_run_planes(result, v):
        return L.json_ready(_per_run_frames(per_run_frames(result, v)[1]))
    return L.landscape_frames(result, v)


def _panel_title(sub, p):
    """A small multiple's title: the run, its in-plane share, its own plane's uncentred PCA variance."""
    ev = sub.plane.explained_variance * 100
    return (f"<b>{p.label}</b> on its own plane<br>in plane {_frames.share_text(p.in_plane)}; "
            f"uncentred PCA {ev[0]:.0f}% + {ev[1]:.0f}%")


def per_run_title(result, zlabel):
    """The small multiples' figure title (the HTML panels page uses it too)."""
    return (f"{result.spec.name}<br><sup>each run on its own PCA plane (uncentred, through its own "
            f"{result.spec.plane.center} weights); height and colour: {zlabel}, each panel its own range</sup>")


def per_run_landscape(result, view: ViewOptions | None = None, step=None, height=520, title=None, frames=True):
    """One 3D panel per shown run, each on its own PCA plane, animated together over training steps
    (``frames=False``: without the frames)."""
    view = (view or ViewOptions()).validate()
    subs, fms = per_run_frames(result, view)
    grid = next(iter(fms.values())).steps
    n = len(fms)
    k0 = len(grid) - 1 if step is None else frame_index(grid, step)
    width = (1.0 - GAP * (n - 1)) / n
    data, layout_scenes, notes = [], {}, []
    for i, (lab, fm) in enumerate(fms.items()):
        scene = "scene" if i == 0 else f"scene{i + 1}"
        cds = L.path_customdata(fm)
        traces = L.landscape_traces(fm, cds, k0, full=True)
        traces[0] = dict(traces[0], showscale=False)
        data += [dict(t, scene=scene) for t in traces]
        x0 = i * (width + GAP)
        units = _view.axis_units(subs[lab].plane)
        layout_scenes[scene] = dict(L.scene_layout(fm, units), domain=dict(x=[x0, x0 + width], y=[0.08, 0.86]))
        notes.append(dict(text=_panel_title(subs[lab], fm.paths[lab]), x=x0 + width / 2, y=0.87, xref="paper",
                          yref="paper", xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=12)))
    menus, sliders = L.player(grid, k0)
    text = title or per_run_title(result, next(iter(fms.values())).zlabel)
    layout = dict(title=dict(text=text, x=0.01, xanchor="left", font=dict(size=15)), height=height,
                  margin=dict(l=0, r=0, t=70, b=70), template="plotly_white", uirevision="landscape",
                  showlegend=False, updatemenus=menus, sliders=sliders, annotations=notes, **layout_scenes)
    return go.Figure(data=data, layout=go.Layout(layout).to_plotly_json(),
                     frames=_per_run_frames(fms) if frames else None, _validate=False)


def _per_run_frames(fms):
    """The frames of the small multiples (plain dicts), ``fms``: label -> frame model, one panel each."""
    grid = next(iter(fms.values())).steps
    cds = [L.path_customdata(fm) for fm in fms.values()]
    frames = []
    for k, s in enumerate(grid):
        fdata, ids = [], []
        for i, fm in enumerate(fms.values()):
            fdata += L.landscape_traces(fm, cds[i], k, full=False)
            ids += [3 * i + j for j in L.landscape_frame_traces(fm)]
        frames.append(dict(name=str(int(s)), data=fdata, traces=ids))
    return frames
