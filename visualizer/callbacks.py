"""The plain functions behind the Dash callbacks (tested directly in tests/test_callbacks.py);
``wiring.register_callbacks`` connects them to the page, ``controls`` maps the editor to a spec.

Flow (one direction):
  controls / preset / upload / sweep-open --main()--> spec-store {key, spec, source}   (result kept in the ResultCache)
  spec-store + view controls --render()--> the figures, the table, the step slider, the explain numbers
  step-slider --markers()--> Patch of the contour, curves and sharpness markers (no full figure resend)
  step-slider + slices' run --curvature_callbacks.slices()--> the slices figure (cached per run and frame)
  download buttons --download_*()--> dcc.Download payloads

No callback raises: bad input becomes a message naming the field and what is allowed
(``alert-error`` for the spec and uploads, ``alert-view`` for the view options), the
server logs one line, and the figures are left as they were (``no_update``).
A computation superseded by a newer request of the same page (``jobs.JobRegistry``) is
cancelled and answers ``no_update`` everywhere, silently.
"""
from __future__ import annotations

import base64
import binascii
import copy
import io
import json
import logging
import re
import time

import numpy as np
from dash import Patch, dcc, no_update

import core
from core.csvdata import MAX_CSV_BYTES, check_table
from core.csvdata import file_header as csv_header_of
from core.constraints import within
from core.errors import clip_message, quote
from core import optimizers as _opt

from . import figures, panel_data
from . import surface_colour as _colour
from .cache import bytes_key, spec_key
from .controls import (CSV_PREFIX, DEFAULT_PRESET, DEFAULT_SCALE, N_ROWS, controls_from_spec,  # noqa: F401
                       dataset_options, default_target, spec_from_controls)
from .jobs import Cancelled
from .uploads import UploadStore
from .runner import view_key
from .view import ViewOptions

log = logging.getLogger("visualizer")

MAX_UPLOAD_BYTES = 50 * 2**20
MAX_UPLOAD_UNPACKED = 4 * MAX_UPLOAD_BYTES      # an uploaded run's arrays, unpacked (checked before unpacking)
_SESSION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# ----------------------------------------------------------------- main: controls -> spec-store
def decode_upload(contents, filename):
    """(kind, payload) for an uploaded file: ('json', text), ('npz', bytes) or ('csv', bytes). Raises ValueError.

    Sizes are checked on the base64 text before it is decoded (a CSV may have at most MAX_CSV_BYTES)."""
    name = quote(filename or "uploaded file")
    if not isinstance(contents, str) or "," not in contents:
        raise ValueError(f"upload {name}: empty or unreadable; upload a run (.npz), a spec (.json) or data (.csv)")
    low = str(filename or "").lower()
    cap = MAX_CSV_BYTES if low.endswith(".csv") else MAX_UPLOAD_BYTES
    if len(contents) > 4 * (cap // 3 + 1) + 200:                 # base64 is 4/3 of the bytes, plus the data: header
        raise ValueError(f"upload {name}: about {len(contents) * 3 / 4 / 2**20:.1f} MB; at most {cap // 2**20} MB "
                         "allowed for this kind of file")
    try:
        raw = base64.b64decode(contents.split(",", 1)[1], validate=False)
    except (binascii.Error, ValueError):
        raise ValueError(f"upload {name}: not valid base64 data; upload a run (.npz) or a spec (.json)") from None
    if len(raw) > cap:
        raise ValueError(f"upload {name}: {len(raw) / 2**20:.1f} MB; at most {cap // 2**20} MB allowed")
    if low.endswith(".csv"):
        return "csv", raw
    if low.endswith(".json") or (not low.endswith(".npz") and raw.lstrip()[:1] == b"{"):
        try:
            return "json", raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"upload {name}: not UTF-8 text, so not a spec (.json)") from None
    if low.endswith(".npz") or raw[:2] == b"PK":
        return "npz", raw
    raise ValueError(f"upload {name}: not a run (.npz), a spec (.json) or data (.csv); upload one of those")


def accept_spec(spec_dict, cache):
    """A spec from the browser (the controls, an uploaded JSON, the page's stored state, a download request):
    validated, and its data file allowed by the server's rule (an upload or a file of the operator's data
    folder, never another server path; see core.csvdata.DataFiles). Raises ValueError naming the field."""
    spec = core.ExperimentSpec.from_dict(spec_dict)
    if spec.data.name == "csv":
        with within("data"):
            cache.uploads.files.resolve(spec.data.path)
    return spec


def csv_columns(cache, path):
    """Column names of a CSV the server may read (``data.path`` of a spec); ValueError when it may not."""
    with within("data"):
        return csv_header_of(cache.uploads.files.resolve(path), path)


def _csv_spec(spec_base, path, columns):
    """The loaded spec with its data replaced by the CSV at ``path`` (the target: its most likely column)."""
    d = copy.deepcopy(spec_base or core.ExperimentSpec.preset(DEFAULT_PRESET).to_dict())
    d["data"] = {"name": "csv", "path": path, "target": default_target(columns)}
    return d


def valid_session(session):
    """The page's session id (the layout makes 32 hex digits; at most 64 letters, digits, - or _), or None for
    anything else a client sends."""
    return session if isinstance(session, str) and _SESSION.match(session) else None


def _store(key, spec_dict, source):
    return {"key": key, "spec": spec_dict, "source": source}


def _status(result, hit, seconds, source="spec"):
    n = result.info.get("n_params", result.plane.n_params)
    how = "from the cache" if hit else f"computed in {seconds:.1f} s"
    if source == "upload":
        how = "loaded from the uploaded run"
    return f"{len(result.trajectories)} optimizers, {n} weights, {result.alphas.size} × {result.betas.size} grid: {how}."


def main(trigger, preset, upload_contents, upload_filename, values, base, cache, jobs=None, session=None,
         opened=None):
    """One step of the main callback. Returns a dict with keys
    values (control values or None), base, store, alert, status: each no_update when unchanged.

    ``jobs`` (a JobRegistry over ``cache``) and ``session`` (the page's id): compute through the registry,
    so a newer request of the same session cancels this one (then every value is no_update).
    ``opened`` (trigger "sweep-open"): {spec, note} of a sweep cell's run (sweep_callbacks.sweep_click),
    loaded like a preset; the note leads the status line."""
    out = dict(values=no_update, base=no_update, store=no_update, alert="", status=no_update)
    session = valid_session(session)
    try:
        base = base or {}
        if trigger == "preset":
            spec_dict = _preset_spec(preset, out)
        elif trigger == "upload":
            spec_dict = _upload_spec(upload_contents, upload_filename, base.get("spec"), cache, out)
        elif trigger == "sweep-open":
            spec_dict = _opened_spec(opened, out)
        else:
            spec_dict = _controls_spec(trigger, values, base, cache, out)
        if spec_dict is not None:               # None: an uploaded run, shown as it is (out is filled in)
            _compute(spec_dict, cache, jobs, session, out)
        if trigger == "sweep-open" and isinstance(out["status"], str):
            out["status"] = f"{clip_message(opened.get('note', ''), 600)} {out['status']}".strip()
    except Cancelled:
        log.info("superseded computation cancelled (session %s)", session)
        out = {k: no_update for k in out}
    except ValueError as e:
        msg = clip_message(e)
        log.warning("rejected input: %s", msg)
        out.update(alert=msg, store=no_update)
    except Exception as e:                                  # never let a callback raise
        msg = clip_message(f"{type(e).__name__}: {e}")
        log.warning("main callback failed: %s", msg)
        out.update(alert=f"Could not compute this experiment ({msg}).", store=no_update)
    return out


def _compute(spec_dict, cache, jobs, session, out):
    """Validate, compute (through the JobRegistry when given) and fill out's store and status."""
    spec = accept_spec(spec_dict, cache)
    t0 = time.perf_counter()
    if jobs is not None:
        key, result, hit = jobs.compute(spec, session)
    else:
        key, result, hit = cache.get_or_compute(spec)
    out["store"] = _store(key, spec.to_dict(), "spec")
    out["status"] = _status(result, hit, time.perf_counter() - t0)


def _loaded(spec_dict, out):
    """The controls and base of a newly loaded spec (a preset or an upload)."""
    values, extras = controls_from_spec(spec_dict)
    out["values"], out["base"] = values, {"spec": spec_dict, "extras": extras}


def _opened_spec(opened, out):
    """The spec of a sweep cell's run (the page's sweep-open store), loaded into the controls."""
    if not isinstance(opened, dict) or not isinstance(opened.get("spec"), dict):
        raise ValueError("sweep cell: no run to open; click a cell of the sweep's map")
    d = core.ExperimentSpec.from_dict(opened["spec"]).to_dict()
    _loaded(d, out)
    return d


def _preset_spec(preset, out):
    d = core.ExperimentSpec.preset(preset).to_dict()
    _loaded(d, out)
    return d


def _upload_spec(contents, filename, spec_base, cache, out):
    """The spec of an uploaded JSON or CSV; an uploaded run goes into the cache as it is (returns None)."""
    kind, payload = decode_upload(contents, filename)
    if kind == "json":
        spec_dict = core.ExperimentSpec.from_json(payload).to_dict()
    elif kind == "csv":
        columns = check_table(payload, filename or "uploaded file")          # caps, before storing
        spec_dict = _csv_spec(spec_base, UploadStore.spec_path(cache.uploads.put(payload)), columns)
    else:
        result = core.load_result(io.BytesIO(payload), max_bytes=MAX_UPLOAD_UNPACKED)
        spec_dict = result.spec.to_dict()
        key = bytes_key(payload)
        cache.put(key, result)
        _loaded(spec_dict, out)
        out.update(store=_store(key, spec_dict, "upload"), status=_status(result, False, 0, "upload"))
        return None
    _loaded(spec_dict, out)
    return spec_dict


def _controls_spec(trigger, values, base, cache, out):
    """The spec the controls describe; a new optimizer in a row first gets its own defaults."""
    spec_base, extras = base.get("spec"), base.get("extras")
    if isinstance(trigger, dict) and trigger.get("type") == "opt_name":
        i = trigger["index"]
        name = values["opt_name"][i]
        if name in _opt.OPTIMIZERS:               # its defaults, not the old optimizer's hyper-parameters
            dflt = _opt.hparams_for(name)
            values = copy.deepcopy(values)
            values["opt_lr"][i] = dflt["lr"]
            values["opt_momentum"][i] = dflt.get("momentum")
            values["opt_schedule"][i] = dflt["schedule"]
            extras = list(extras or [{}] * N_ROWS)
            extras[i] = {k: val for k, val in dflt.items() if k not in ("lr", "momentum", "schedule")}
            out["values"] = values
            out["base"] = {"spec": spec_base, "extras": extras}
    if spec_base is None:
        spec_base = core.ExperimentSpec.preset(DEFAULT_PRESET).to_dict()
    values = _pick_csv_target(values, spec_base, cache, out)
    return spec_from_controls(values, spec_base, extras)


def _pick_csv_target(values, spec_base, cache, out):
    """When the dataset menu switches to another CSV, its target becomes that file's most likely column."""
    ds = values.get("dataset")
    if not (isinstance(ds, str) and ds.startswith(CSV_PREFIX)):
        return values
    path = ds[len(CSV_PREFIX):]
    base_data = spec_base.get("data") or {}
    if base_data.get("name") == "csv" and base_data.get("path") == path and values.get("csv_target"):
        return values
    columns = csv_columns(cache, path)
    if values.get("csv_target") in columns:
        return values
    values = dict(values, csv_target=default_target(columns))
    out["values"] = values
    return values


def control_options(base, cache):
    """(dataset menu, target-column menu) for the loaded spec (``spec-base``)."""
    spec = (base or {}).get("spec") or core.ExperimentSpec.preset(DEFAULT_PRESET).to_dict()
    datasets = dataset_options(spec, cache.uploads.files)
    data = spec.get("data") or {}
    targets = []
    if data.get("name") == "csv":
        try:
            targets = csv_columns(cache, data.get("path"))
        except (ValueError, OSError):                   # the message comes with the spec's own error
            targets = []
    return datasets, [{"label": c, "value": c} for c in targets]


# ----------------------------------------------------------------- render: spec-store -> figures
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
        raise _colour.ColourUnavailable("surface colour: a curvature colour needs a static landscape; this run's "
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


# ----------------------------------------------------------------- downloads
def _slug(spec_dict):
    s = re.sub(r"[^a-z0-9]+", "-", str(spec_dict.get("name", "experiment")).lower()).strip("-")
    return (s[:40].rstrip("-") or "experiment")


def download_npz(store, cache):
    result = result_for(store, cache)
    return dcc.send_bytes(result.write, f"{_slug(store['spec'])}.npz")


def download_spec(store, cache):
    spec = accept_spec(store["spec"], cache)
    return dict(content=spec.to_json(), filename=f"{_slug(store['spec'])}.json", type="application/json")


def animation_html(result, view):
    """The animation as a self-contained HTML page (see figures.to_html)."""
    return figures.to_html(figures.animated_landscape(result, view))


def download_html(store, scale, clip, exaggerate, cache, colour="loss", maps=None):
    result = result_for(store, cache)
    view = view_from(scale, clip, exaggerate, result)
    try:
        c = surface_colour(result, store, colour, maps)
    except ValueError:                          # the page already says why; the page's picture is by loss
        c = None
    html = figures.to_html(figures.animated_landscape(result, view, colour=c))
    return dict(content=html, filename=f"{_slug(store['spec'])}.html", type="text/html")


def progress_status(jobs, session):
    """The run-status text while this session's computation runs (no_update when none runs)."""
    try:
        session = valid_session(session)
        text = jobs.status(session) if session else None
    except Exception as e:
        log.warning("progress status failed: %s", clip_message(f"{type(e).__name__}: {e}"))
        text = None
    return no_update if text is None else text


POLL_MS, IDLE_POLL_MS = 500, 5000     # progress polls while the page waits for a computation / otherwise


def progress_poll(jobs, session, interval, shown):
    """The page's progress poll (also its heartbeat): (run-status text or no_update, poll interval or no_update).

    While a request of the session is in flight: its progress, polled every POLL_MS. Otherwise the status
    its newest request answered with (if the text shown differs, e.g. a late progress answer), polled every
    IDLE_POLL_MS. Only this poll slows polling down (Dash's ``running`` only speeds it up)."""
    try:
        p = jobs.poll(session) if session else dict(text=None, waiting=False, final=None)
    except Exception as e:
        log.warning("progress poll failed: %s: %s", type(e).__name__, e)
        return no_update, no_update
    want = POLL_MS if p["waiting"] else IDLE_POLL_MS
    text = p["text"] if p["waiting"] else p["final"]
    return (no_update if text is None or text == shown else text), (no_update if interval == want else want)


def _safe(name, fn, *args):
    try:
        return fn(*args)
    except Exception as e:
        log.warning("%s failed: %s", name, clip_message(f"{type(e).__name__}: {e}"))
        return no_update
