"""The render callback's plain functions: spec-store -> the figures (tested directly in
tests/test_render_callbacks.py; ``wiring`` connects them to the page).

    out = render(store, scale, clip, exaggerate, cache, min_eig, slice_label, colour, maps, jobs=, session=)
    frames = landscape_frames(table, store, scale, clip, exaggerate, cache, jobs=, session=)  # {id, frames}
    result = result_for(store, cache, jobs, session, kind)   # from the cache, else recomputed as a job of the page
    view = view_from(scale, clip, exaggerate, result)  # ViewOptions; ValueError names the field

``render`` draws the figures, the table, the step slider, the explain numbers and the slices' run menu of
the result a store points at (the worker's prerendered figures when they match the view; the surface
coloured by curvature on request); the current-step markers move in the browser (assets/app.js, step_state).
The 3D figure goes without its animation frames (``"frames": []``; about 1 MB of the 1.3 MB the page gets):
the page draws it first, then asks ``landscape_frames`` for them (assets/app.js), so the first figure
appears sooner; the step table's ``landscape`` {id, coloured} names the figure the frames must match.
Neither raises: a bad view option is the message of ``alert-view`` and the figures stay (``no_update``).
"""
from __future__ import annotations

import json
import logging

import numpy as np
from dash import Patch, no_update

import core
from core.errors import clip_message, quote
from core.model import optimizers as _opt

from visualizer import figures

from visualizer.plotdata import panels as panel_data
from visualizer.plotdata import surface_colour as _colour
from visualizer.serving.cache import spec_key
from visualizer.app.spec_callbacks import accept_spec, valid_session
from visualizer.serving.jobs import Cancelled
from visualizer.app.controls import DEFAULT_PRESET
from visualizer.plotdata.frames import share_text
from visualizer.app import step_state
from visualizer.plotdata.view import DEFAULT_SCALE
from visualizer.serving.tasks import n_weights, view_key
from visualizer.plotdata.view import ViewOptions
from visualizer.errors import ColourUnavailable

log = logging.getLogger("visualizer")


def result_for(store, cache, jobs=None, session=None, kind="render"):
    """The result a store points at: from the cache (never waits), else recomputed from its spec (e.g. after
    eviction) as a job of ``kind`` of the page ``session`` (jobs.JobRegistry: the work cap, the workers,
    "newest request wins", the heartbeat). Without ``jobs`` (tests): through the cache's runner."""
    if not store or "spec" not in store:
        store = {"key": None, "spec": core.ExperimentSpec.preset(DEFAULT_PRESET).to_dict()}
    r = cache.get(store.get("key")) if isinstance(store.get("key"), str) else None
    if r is None:
        spec = accept_spec(store["spec"], cache, session)
        if jobs is None:
            _, r, _ = cache.get_or_compute(spec)
        else:
            r = jobs.result(spec, valid_session(session), kind)
    return r


def view_from(scale, clip, exaggerate, result=None):
    """ViewOptions from the view controls (validated; ValueError names the field)."""
    def num(name, v):
        if v is None or v == "":
            raise ValueError(f"{name}: missing; give a number")
        return v
    v = ViewOptions(scale=scale or DEFAULT_SCALE, clip_percentile=num("clip percentile", clip),
                    exaggerate=num("vertical exaggeration", exaggerate))
    v.moving = bool(result is not None and result.moving is not None)
    return v.validate()


def explain_numbers(result):
    n = n_weights(result)                      # measured from the arrays, not the file's own info
    pl = result.plane
    txt = (f"This network has **{n} weights**, so every point of training lives in a {n}-dimensional space. "
           f"The picture is a 2D slice of it: the weights `center + α·d1 + β·d2` for a grid of (α, β), "
           f"with directions from the **{pl.method}** method.")
    if pl.explained_variance is not None:
        ev = np.asarray(pl.explained_variance) * 100
        what = ("variance of the paths (centred PCA)" if pl.method.startswith("pca-centered") else
                "runs' equally weighted squared displacement from the centre (uncentred, balanced PCA)"
                if pl.method.startswith("pca_balanced") else "paths' squared displacement from the centre "
                "(uncentred PCA: the run that moves furthest weighs most)")
        txt += f" The two PCA directions hold {ev[0]:.1f}% and {ev[1]:.1f}% of the {what} ({ev.sum():.1f}% together)."
    lam = getattr(pl, "eigenvalues", None)
    if lam is not None:
        txt += (f" They are the top two eigenvectors of the Hessian at the centre, with eigenvalues "
                f"λ₁ = {lam[0]:.4g} and λ₂ = {lam[1]:.4g}: along d1 the loss curves up like 0.5·λ₁·α².")
    rows = result.summary()
    caps = ", ".join(f"{r['label']} {share_text(r['in_plane'])}" for r in rows)
    txt += (f" Share of each run's squared displacement from the centre that the plane holds (in plane): {caps}."
            " A run with little in the plane is drawn at the plane's loss, not its own.")
    return txt + _curvature_numbers(result, rows) + _plane_curvature_numbers(rows)


def _plane_curvature_numbers(rows):
    """What the plane shows of the curvature at each run's last weights (result.summary: curv_d1, curv_d2,
    lambda_max, top_in_plane)."""
    if not any(r.get("lambda_max") is not None for r in rows):
        return ""
    parts = [f"{r['label']}: d₁ᵀHd₁ = {r['curv_d1']:.2g}, d₂ᵀHd₂ = {r['curv_d2']:.2g} against λmax = "
             f"{r['lambda_max']:.3g}, {share_text(r['top_in_plane'])} of the top eigenvector in the plane"
             for r in rows if r.get("lambda_max") is not None]
    return ("\n\n**What the surface cannot show.** Stability is decided along the Hessian's top eigenvector "
            "(lr·λmax against 2); the plane's unit axes see far less curvature. At each run's last weights: "
            + "; ".join(parts) + ".")


def _curvature_numbers(result, rows):
    if not any(r.get("peak_sharpness") is not None for r in rows):
        return ""
    parts = []
    for r in rows:
        if r.get("peak_sharpness") is None:
            continue
        pre = " (preconditioned)" if _opt.is_preconditioned(r["optimizer"]) else ""
        parts.append(f"{r['label']}{pre}: peak sharpness {r['peak_sharpness']:.3g}, final sharpness "
                     f"{r['sharpness_ratio']:.2f}× its threshold, {100 * r['above_threshold']:.0f}% of frames "
                     "above it")
    return "\n\n**Curvature of each run.** " + "; ".join(parts) + "."


def slider_props(result, view):
    steps = figures.step_grid(result, view)
    lo, hi = int(steps[0]), int(steps[-1])
    ticks = np.unique(np.round(np.linspace(lo, hi, 6)).astype(int))
    marks = {int(t): str(int(t)) for t in ticks}
    return dict(min=lo, max=hi, marks=marks, value=hi)


PRERENDERED = ("fig3d", "contour", "curves", "sharpness")


def _prerendered(store, cache, view):
    """The figures a worker process already drew for this view (tasks.prerender; kept by the cache beside the
    result, under its key), as dicts, or None."""
    key = store_key(store)
    pre = cache.figures(key) if hasattr(cache, "figures") else None
    if pre is None and store and "spec" in store and hasattr(cache, "figures"):
        pre = cache.figures(spec_key(store["spec"]))
    if not pre or pre.get("view") != view_key(view):
        return None
    return {k: json.loads(pre[k]) if pre.get(k) is not None else None for k in PRERENDERED}


def apply_updates(fig, updates):
    """Apply figures' plain updates {(key, ..., key): value} to a figure dict (or a Dash Patch), in place."""
    for path, value in updates.items():
        target = fig
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return fig


def _sharpness(result, view, pre, min_eig):
    """(figure, message): the sharpness panel, or a blank figure and why it cannot be drawn."""
    if not panel_data.has_curvature(result, view.optimizers):
        return {}, NO_CURVATURE
    fig = pre["sharpness"] if pre is not None and pre.get("sharpness") is not None else \
        figures.sharpness_figure(result, view).to_plotly_json()
    return apply_updates(fig, figures.min_eig_patch(result, view, min_eig)), ""


NO_CURVATURE = ("No sharpness for this run: it was computed without curvature. Tick “curvature” under "
                "Experiment (raise its stride for a big network) to compute it.")
RENDER_KEYS = ("fig3d", "contour", "curves", "sharpness", "sharpness_note", "table", "slider", "explain",
               "slice_options", "slice_label", "step_table", "alert")


def store_key(store):
    """The result key of a store (its spec's key when it has none)."""
    if store and store.get("key"):
        return store["key"]
    return spec_key(store["spec"]) if store and "spec" in store else "default"


def surface_colour(result, store, colour, maps, jobs=None, session=None):
    """The landscape's SurfaceColour for the "surface colour" control (None for loss). The curvature map is
    computed on a worker as a "curvature-map" job of the page (``jobs``; about 1-2 s for the four_optimizers
    preset at 26 x 26; in this thread without ``jobs``: tests) and kept in ``maps`` (an LRU such as
    curvature_callbacks.SliceCache) per result key and resolution.
    Raises ValueError (surface_colour.ColourUnavailable) with the reason."""
    if colour in (None, "", "loss"):
        return None
    if colour not in _colour.COLOURS:
        raise ValueError(f"surface colour={quote(colour)}: allowed are {', '.join(_colour.COLOURS)}")
    if result.moving is not None:
        raise ColourUnavailable("surface colour: a curvature colour needs a static landscape; this run's "
                                        "surface moves with the weights (untick moving landscape)")
    _colour.check_colourable(result)
    key = ("curvature-map", store_key(store), _colour.MAX_MAP_RES)
    if jobs is not None:
        def compute():
            return jobs.task("curvature-map", "|".join(map(str, key)), "curvature-map", result, valid_session(session))
    else:
        def compute():
            return _colour.curvature_grid(result)
    cm = maps.get(key, compute) if maps is not None else compute()
    return _colour.surface_colour(result, colour, cm)


def _coloured(out, result, store, view, colour, maps, jobs=None, session=None):
    """Redraw the landscape and contour coloured by curvature; a problem is the alert (figures by loss)."""
    try:
        c = surface_colour(result, store, colour, maps, jobs, session)
    except ValueError as e:
        msg = clip_message(e)
        log.warning("surface colour unavailable: %s", msg)
        out["alert"] = msg
        return
    if c is not None:
        out["fig3d"] = figures.animated_landscape(result, view, colour=c, frames=False)
        out["contour"] = figures.contour_figure(result, view, colour=c)
        out["coloured"] = True


def _step_titles(out, result, view, store):
    """Titles at the figures' step (the last frame), the 3D figure without its own player nor its frames, and
    the page's step table (step_state.step_table) naming that figure (``landscape``: see ``frames_id``)."""
    last = out["slider"]["max"]
    fig3d = out["fig3d"].to_plotly_json() if hasattr(out["fig3d"], "to_plotly_json") else out["fig3d"]
    fig3d["frames"] = []              # the page asks for them once this is drawn (landscape_frames); [] drops old ones
    out["fig3d"], base3d = step_state.app_landscape(fig3d, last)
    titles = {"fig3d": base3d, "contour": step_state.title_of(out["contour"]), "curves": step_state.CURVES_TITLE,
              "sharpness": step_state.title_of(out["sharpness"]) if out["sharpness"] else None}
    for panel in step_state.PANELS:
        if titles[panel] is not None:
            step_state.retitle(out[panel], titles[panel], last)
    table = step_state.step_table(result, view, store_key(store), titles)
    coloured = bool(out.get("coloured"))
    table["landscape"] = {"id": frames_id(store, view, coloured), "coloured": coloured}
    return table


def frames_id(store, view, coloured):
    """What identifies the app's 3D figure, so its frames (``landscape_frames``) match it: the result's key,
    the view (tasks.view_key) and whether the surface is coloured by curvature."""
    return "|".join(map(str, (store_key(store), *view_key(view), bool(coloured))))


def render(store, scale, clip, exaggerate, cache, min_eig=False, slice_label=None, colour="loss", maps=None,
           jobs=None, session=None):
    """Figures, table, slider and the slices' run menu for a store and view options. Returns a dict
    (RENDER_KEYS; values or no_update). ``colour``: the surface colour (loss, sharpness, convexity; see
    ``surface_colour``), ``maps``: the app's LRU of curvature maps; ``jobs``, ``session``: the page's jobs
    (a result or curvature map to recompute is one of its jobs; superseded: every value no_update)."""
    out = {k: no_update for k in RENDER_KEYS}
    out["alert"] = ""
    try:
        result = result_for(store, cache, jobs, session, "render")
        view = view_from(scale, clip, exaggerate, result)
        pre = _prerendered(store, cache, view)
        if pre is not None:
            out["fig3d"], out["contour"], out["curves"] = pre["fig3d"], pre["contour"], pre["curves"]
        else:
            out["fig3d"] = figures.animated_landscape(result, view, frames=False)
            out["contour"] = figures.contour_figure(result, view)
            out["curves"] = figures.curves_figure(result, view)
        _coloured(out, result, store, view, colour, maps, jobs, session)
        out["sharpness"], out["sharpness_note"] = _sharpness(result, view, pre, bool(min_eig))
        out["table"] = figures.summary_records(result)
        out["slider"] = slider_props(result, view)
        out["step_table"] = _step_titles(out, result, view, store)
        out.pop("coloured", None)
        out["explain"] = explain_numbers(result)
        labels = list(result.trajectories)
        out["slice_options"] = labels
        out["slice_label"] = slice_label if slice_label in labels else labels[0]
    except Cancelled:
        out = {k: no_update for k in RENDER_KEYS}
    except ValueError as e:
        msg = clip_message(e)
        log.warning("rejected view option: %s", msg)
        out = {k: no_update for k in RENDER_KEYS}
        out["alert"] = msg
    except Exception as e:
        msg = clip_message(f"{type(e).__name__}: {e}")
        log.warning("render failed: %s", msg)
        out = {k: no_update for k in RENDER_KEYS}
        out["alert"] = f"Could not draw this result ({msg})."
    return out


def landscape_frames(table, store, scale, clip, exaggerate, cache, jobs=None, session=None):
    """{"id", "frames"}: the animation frames of the 3D figure ``render`` drew (figures.landscape_frames,
    JSON-ready), asked by the page once that figure is drawn. ``table``: the step table of that render (its
    ``landscape`` id and colour flag); no_update when the view has changed since (a newer figure asks for its
    own) or on any problem."""
    try:
        lf = table.get("landscape") if isinstance(table, dict) else None
        if not lf:
            return no_update
        result = result_for(store, cache, jobs, session, "frames")
        view = view_from(scale, clip, exaggerate, result)
        coloured = bool(lf.get("coloured"))
        if lf.get("id") != frames_id(store, view, coloured):
            return no_update
        return {"id": lf["id"], "frames": figures.landscape_frames(result, view, coloured=coloured)}
    except Cancelled:
        return no_update
    except Exception as e:
        log.warning("landscape frames failed: %s", clip_message(f"{type(e).__name__}: {e}"))
        return no_update


def patch_of(updates):
    """A Dash Patch from figures' plain updates {(key, ..., key): value} (see figures.marker_patch); no_update
    when there is nothing to change."""
    return apply_updates(Patch(), updates) if updates else no_update

