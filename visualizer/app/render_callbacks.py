"""The render callback's plain functions: spec-store -> the figures (tested directly in
tests/test_render_callbacks.py; ``wiring`` connects them to the page).

    out = render(store, scale, clip, exaggerate, cache, min_eig, slice_label, colour, maps)   # RENDER_KEYS
    contour, curves, sharpness = markers(step, store, scale, clip, exaggerate, cache)         # Patches
    result = result_for(store, cache)                  # from the cache, else recomputed (also for downloads, slices)
    view = view_from(scale, clip, exaggerate, result)  # ViewOptions; ValueError names the field

``render`` draws the figures, the table, the step slider, the explain numbers and the slices' run menu of
the result a store points at (the worker's prerendered figures when they match the view; the surface
coloured by curvature on request); ``markers`` moves the current-step markers without resending a figure.
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
from visualizer.app.spec_callbacks import accept_spec
from visualizer.app.controls import DEFAULT_PRESET
from visualizer.plotdata.view import DEFAULT_SCALE
from visualizer.serving.runner import view_key
from visualizer.plotdata.view import ViewOptions
from visualizer.errors import ColourUnavailable

log = logging.getLogger("visualizer")


def result_for(store, cache):
    """The result a store points at: from the cache, else recomputed from its spec (e.g. after eviction)."""
    if not store or "spec" not in store:
        store = {"key": None, "spec": core.ExperimentSpec.preset(DEFAULT_PRESET).to_dict()}
    r = cache.get(store.get("key")) if store.get("key") else None
    if r is None:
        _, r, _ = cache.get_or_compute(accept_spec(store["spec"], cache))
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
    n = result.info.get("n_params", result.plane.n_params)
    pl = result.plane
    txt = (f"This network has **{n} weights**, so every point of training lives in a {n}-dimensional space. "
           f"The picture is a 2D slice of it: the weights `center + α·d1 + β·d2` for a grid of (α, β), "
           f"with directions from the **{pl.method}** method.")
    if pl.explained_variance is not None:
        ev = np.asarray(pl.explained_variance) * 100
        txt += (f" The two PCA directions hold {ev[0]:.1f}% and {ev[1]:.1f}% of the paths' squared "
                f"displacement from the centre ({ev.sum():.1f}% together).")
    lam = getattr(pl, "eigenvalues", None)
    if lam is not None:
        txt += (f" They are the top two eigenvectors of the Hessian at the centre, with eigenvalues "
                f"λ₁ = {lam[0]:.4g} and λ₂ = {lam[1]:.4g}: along d1 the loss curves up like 0.5·λ₁·α².")
    rows = result.summary()
    caps = ", ".join(f"{r['label']} {100 * r['capture']:.0f}%" for r in rows)
    txt += f" Share of each path the plane captures (1 − residual): {caps}."
    return txt + _curvature_numbers(result, rows)


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


def _prerendered(result, view):
    """The figures a worker process already drew for this view (runner.prerender), as dicts, or None."""
    pre = getattr(result, "prerendered", None)
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
               "slice_options", "slice_label", "alert")


def store_key(store):
    """The result key of a store (its spec's key when it has none)."""
    if store and store.get("key"):
        return store["key"]
    return spec_key(store["spec"]) if store and "spec" in store else "default"


def surface_colour(result, store, colour, maps):
    """The landscape's SurfaceColour for the "surface colour" control (None for loss). The curvature map is
    computed in this thread (BLAS held to one thread; about 1-2 s for the four_optimizers preset at 26 x 26)
    and kept in ``maps`` (an LRU such as curvature_callbacks.SliceCache) per result key and resolution.
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
    cm = maps.get(key, lambda: _colour.curvature_grid(result)) if maps is not None else _colour.curvature_grid(result)
    return _colour.surface_colour(result, colour, cm)


def _coloured(out, result, store, view, colour, maps):
    """Redraw the landscape and contour coloured by curvature; a problem is the alert (figures by loss)."""
    try:
        c = surface_colour(result, store, colour, maps)
    except ValueError as e:
        msg = clip_message(e)
        log.warning("surface colour unavailable: %s", msg)
        out["alert"] = msg
        return
    if c is not None:
        out["fig3d"] = figures.animated_landscape(result, view, colour=c)
        out["contour"] = figures.contour_figure(result, view, colour=c)


def render(store, scale, clip, exaggerate, cache, min_eig=False, slice_label=None, colour="loss", maps=None):
    """Figures, table, slider and the slices' run menu for a store and view options. Returns a dict
    (RENDER_KEYS; values or no_update). ``colour``: the surface colour (loss, sharpness, convexity; see
    ``surface_colour``), ``maps``: the app's LRU of curvature maps."""
    out = {k: no_update for k in RENDER_KEYS}
    out["alert"] = ""
    try:
        result = result_for(store, cache)
        view = view_from(scale, clip, exaggerate, result)
        pre = _prerendered(result, view)
        if pre is not None:
            out["fig3d"], out["contour"], out["curves"] = pre["fig3d"], pre["contour"], pre["curves"]
        else:
            out["fig3d"] = figures.animated_landscape(result, view)
            out["contour"] = figures.contour_figure(result, view)
            out["curves"] = figures.curves_figure(result, view)
        _coloured(out, result, store, view, colour, maps)
        out["sharpness"], out["sharpness_note"] = _sharpness(result, view, pre, bool(min_eig))
        out["table"] = figures.summary_records(result)
        out["slider"] = slider_props(result, view)
        out["explain"] = explain_numbers(result)
        labels = list(result.trajectories)
        out["slice_options"] = labels
        out["slice_label"] = slice_label if slice_label in labels else labels[0]
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


def patch_of(updates):
    """A Dash Patch from figures' plain updates {(key, ..., key): value} (see figures.marker_patch); no_update
    when there is nothing to change."""
    return apply_updates(Patch(), updates) if updates else no_update


def markers(step, store, scale, clip, exaggerate, cache):
    """(contour, curves, sharpness) Patches moving the current-step markers; no_update on any problem."""
    try:
        result = result_for(store, cache)
        view = view_from(scale, clip, exaggerate, result)
        mp = figures.marker_patch(result, view, step)
        return patch_of(mp["contour"]), patch_of(mp["curves"]), patch_of(mp["sharpness"])
    except Exception as e:
        log.warning("marker update failed: %s", clip_message(f"{type(e).__name__}: {e}"))
        return no_update, no_update, no_update
