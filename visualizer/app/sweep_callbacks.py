"""The plain functions behind the Sweep tab's callbacks (tested directly, as visualizer.app.spec_callbacks);
``wiring`` connects them to the page, ``sweep_jobs.SweepService`` runs the sweeps.

    out = sweep_run(source, custom, landscape_store, uploaded, session, sweeps, cache)   # Run: start it
    out = sweep_poll(session, shown, sweeps)           # sweep-tick: the partial map, redrawn when runs came in
    out = sweep_upload(contents, filename, session, sweeps)   # a sweep spec (.json) or a sweep (.npz)
    out = sweep_click(click, session, sweeps, cache)   # a cell -> sweep-open (the main callback computes it)

Where a sweep's spec comes from (``sweep-preset``):
  "preset:NAME"   a bundled preset with a sweep section (lr_sweep);
  "custom"        the Landscape tab's experiment (its data, model, training) with a sweep section built from
                  the simple controls: one optimizer, lr from .. to (log, n points), for momentum and Nesterov
                  momentum from .. to (n points; 1: not swept), n seeds (0 .. n-1);
  "upload"        the sweep spec (.json) or the spec of the sweep (.npz) last uploaded on this page.
Uploads go through the app's rules (size caps on the base64 text before decoding, core.sweeps.result.load_sweep's
checks before anything is unpacked); every spec through core's validation and the data-file rule
(callbacks.accept_spec), then the sweep caps (sweep_jobs.admit). No function raises: a problem is a message
naming the field (``sweep-alert``), and the map shown stays.

Clicking a cell opens that run in the Landscape tab: the sweep spec's experiment with that optimizer at the
cell's hyper-parameters and the seed of the cell's median run (sweep_data.cell_spec), handed to the main
callback through ``sweep-open``, so it is computed like any other request of the page (the ResultCache, the
work cap, cancellation by a newer request).
"""
from __future__ import annotations

import io
import logging
import math

from dash import dcc, no_update

import core
from core.errors import clip_message, quote
from core.sweeps.summary import format_summary

from visualizer.plotdata import sweep_map as D
from visualizer.app.spec_callbacks import MAX_UPLOAD_UNPACKED, accept_spec, decode_upload, valid_session
from visualizer.figures.sweep import placeholder, sweep_heatmap, trace_cells

log = logging.getLogger("visualizer")

CUSTOM, UPLOAD, PRESET = "custom", "upload", "preset:"
CUSTOM_FIELDS = ("optimizer", "lr_min", "lr_max", "lr_points", "momentum_min", "momentum_max", "momentum_points",
                 "seeds")
CUSTOM_DEFAULTS = dict(optimizer="momentum", lr_min=0.001, lr_max=20.0, lr_points=20, momentum_min=0.0,
                       momentum_max=0.95, momentum_points=5, seeds=3)
MOMENTUM_OPTS = ("momentum", "nesterov")
SWEEP_POLL_MS = 1000       # the page polls a running sweep (its heartbeat too)
NOT_CELL = "Click a cell of the map (not a line) to open its run in the Landscape tab."


def empty_figure():
    return placeholder("Choose a sweep and press Run (or drop a sweep file): its map fills in here as runs finish")


def sweep_presets():
    """The bundled presets that have a sweep section: [(name, spec name)]."""
    out = []
    for name in core.ExperimentSpec.presets():
        s = core.ExperimentSpec.preset(name)
        if s.sweep is not None:
            out.append((name, s.name))
    return out


def source_options(uploaded=None):
    opts = [{"label": f"{n}: {title}", "value": PRESET + n} for n, title in sweep_presets()]
    opts.append({"label": "custom: the Landscape tab's experiment, swept as below", "value": CUSTOM})
    if uploaded:
        opts.append({"label": f"uploaded: {str(uploaded.get('name') or 'sweep')[:60]}", "value": UPLOAD})
    return opts


def custom_locked(source):
    """The custom sweep's fields are read-only unless the custom sweep is the source (a preset or an upload
    fixes them): True while locked."""
    return source != CUSTOM


def _int(where, v, lo, hi):
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{where}={quote(v)}: must be an integer in [{lo}, {hi}]")
    return v


def custom_sweep(values, base_spec):
    """The spec dict of a custom sweep: ``base_spec`` (the Landscape tab's experiment) with a sweep section from
    the simple controls ``values`` (CUSTOM_FIELDS). core validates the result (messages name sweep.* fields)."""
    v = dict(CUSTOM_DEFAULTS, **{k: x for k, x in (values or {}).items() if k in CUSTOM_FIELDS})
    name = v["optimizer"]
    if name not in core.model.optimizers.OPTIMIZERS:
        raise ValueError(f"sweep optimizer={quote(name)}: allowed are {', '.join(core.model.optimizers.OPTIMIZERS)}")
    axes = {"lr": {"log": [v["lr_min"], v["lr_max"], _int("sweep lr points", v["lr_points"], 1, 200)]}}
    if name in MOMENTUM_OPTS:
        n = _int("sweep momentum points", v["momentum_points"], 1, 50)
        if n > 1:
            axes["momentum"] = {"linear": [v["momentum_min"], v["momentum_max"], n]}
        elif v["momentum_min"] is not None:
            axes["momentum"] = [v["momentum_min"]]
    seeds = _int("sweep seeds", v["seeds"], 1, 20)
    d = dict(base_spec or core.ExperimentSpec.preset("four_optimizers").to_dict())
    d["name"] = (f"{d.get('name', 'experiment')} (sweep of {name})")[:200]
    d["sweep"] = {"optimizers": [{"name": name, "axes": axes}], "seeds": list(range(seeds)), "sharpness": True}
    return d


def sweep_spec(source, custom, landscape_store, uploaded, cache, session=None):
    """The validated ExperimentSpec the Sweep tab's Run button asks for (ValueError naming the field)."""
    if isinstance(source, str) and source.startswith(PRESET):
        name = source[len(PRESET):]
        if name not in dict(sweep_presets()):
            raise ValueError(f"sweep preset {quote(name)}: allowed are {', '.join(n for n, _ in sweep_presets())}")
        d = core.ExperimentSpec.preset(name).to_dict()
    elif source == CUSTOM:
        d = custom_sweep(custom, (landscape_store or {}).get("spec"))
    elif source == UPLOAD:
        if not uploaded or not isinstance(uploaded.get("spec"), dict):
            raise ValueError("sweep: nothing uploaded on this page yet; drop a sweep spec (.json) or a sweep (.npz)")
        d = uploaded["spec"]
    else:
        raise ValueError(f"sweep source {quote(source)}: choose a preset, custom or an upload")
    spec = accept_spec(d, cache, session)
    if spec.sweep is None:
        raise ValueError("sweep: missing; a sweep spec needs a \"sweep\" section with its optimizers, axes and seeds "
                         "(see the lr_sweep preset)")
    return spec


def _figure_out(job, shown):
    """(figure, summary, shown key, running, status) of a job; the first three no_update when the page already
    shows this version. Read from one snapshot, so a finished sweep's last poll always brings its last map."""
    key, r, running, text = job.snapshot()
    if key == shown or r is None:
        return no_update, no_update, no_update, running, text
    return sweep_heatmap(r), format_summary(r.summary()), key, running, text


def _out(**kw):
    out = dict(alert=no_update, status=no_update, figure=no_update, summary=no_update, shown=no_update,
               disabled=no_update, options=no_update, source=no_update, uploaded=no_update)
    out.update(kw)
    return out


def _fail(where, e):
    msg = clip_message(e) if isinstance(e, ValueError) else clip_message(f"{type(e).__name__}: {e}")
    log.warning("%s: %s", where, msg)
    return msg


def sweep_run(source, custom, landscape_store, uploaded, session, sweeps, cache):
    """Run: start the sweep (cancelling the page's older one). Returns a dict (see ``_out``)."""
    try:
        session = valid_session(session)
        if session is None:
            raise ValueError("this page has no valid session id; reload the page")
        spec = sweep_spec(source, custom, landscape_store, uploaded, cache, session)
        job = sweeps.start(session, spec)
        fig, summary, key, _, text = _figure_out(job, None)
        return _out(alert="", status=text, figure=fig, summary=summary, shown=key, disabled=False)
    except Exception as e:
        return _out(alert=_fail("sweep refused", e))


def sweep_poll(session, shown, sweeps):
    """sweep-tick: the status line, the map redrawn when new runs came in, and whether to keep polling."""
    try:
        job = sweeps.poll(valid_session(session)) if valid_session(session) else None
        if job is None:
            return _out(disabled=True)
        fig, summary, key, running, text = _figure_out(job, shown)
        alert = job.message if job.state == "failed" else no_update
        return _out(status=text, figure=fig, summary=summary, shown=key, disabled=not running, alert=alert)
    except Exception as e:
        _fail("sweep poll failed", e)
        return _out()


def sweep_stop(session, sweeps):
    try:
        job = sweeps.cancel(valid_session(session)) if valid_session(session) else None
        return _out(status="stopping ..." if job is not None and job.running else no_update)
    except Exception as e:
        _fail("sweep stop failed", e)
        return _out()


def sweep_upload(contents, filename, session, sweeps, cache):
    """An uploaded sweep spec (.json: becomes the "uploaded" source) or sweep (.npz: shown at once; Run
    computes its missing runs)."""
    try:
        session = valid_session(session)
        kind, payload = decode_upload(contents, filename)
        name = str(filename or "uploaded file")[:80]
        if kind == "json":
            spec = accept_spec(core.ExperimentSpec.from_json(payload).to_dict(), cache, session)
            if spec.sweep is None:
                raise ValueError(f"upload {quote(name)}: its spec has no \"sweep\" section; a sweep spec needs one "
                                 "(see the lr_sweep preset); a plain experiment spec goes in the Landscape tab")
            up = {"spec": spec.to_dict(), "name": name}
            return _out(alert="", uploaded=up, options=source_options(up), source=UPLOAD,
                        status=f"loaded the sweep spec {name}: {spec.sweep.n_runs():,} runs; press Run.")
        if kind == "csv":
            raise ValueError(f"upload {quote(name)}: data (.csv) go in the Landscape tab; here upload a sweep spec "
                             "(.json) or a sweep (.npz)")
        try:
            result = core.load_sweep(io.BytesIO(payload), max_bytes=MAX_UPLOAD_UNPACKED)
        except ValueError as e:
            msg = str(e).replace("sweep file 'uploaded file'", f"upload {quote(name)}")
            if "loss-landscape-navigator/result" in msg:
                msg += "; this is a run of the Landscape tab: upload it there"
            raise ValueError(msg) from None
        up = {"spec": result.spec.to_dict(), "name": name}
        if session is None:
            raise ValueError("this page has no valid session id; reload the page")
        job = sweeps.load(session, result, name)
        fig, summary, key, _, text = _figure_out(job, None)
        return _out(alert="", uploaded=up, options=source_options(up), source=UPLOAD, status=text,
                    figure=fig, summary=summary, shown=key, disabled=True)
    except Exception as e:
        return _out(alert=_fail("sweep upload refused", e))


def sweep_click(click, session, sweeps, cache=None):
    """A click on the map: dict(open=sweep-open data {spec, note} or no_update, tab="landscape" or no_update,
    alert). The cell is looked up in the page's sweep on the server (the click gives a trace and a cell
    index, both checked)."""
    none = dict(open=no_update, tab=no_update, alert=no_update)
    try:
        session = valid_session(session)
        job = sweeps.job(session) if session else None
        if job is None or job.result is None:
            return dict(none, alert="This page's sweep is no longer on the server; run it again.")
        pts = (click or {}).get("points") or []
        if not isinstance(pts, list) or not pts or not isinstance(pts[0], dict):
            return none
        p = pts[0]
        labels = trace_cells(job.result)
        curve, flat = p.get("curveNumber"), p.get("customdata")
        if isinstance(flat, list) and len(flat) == 1:
            flat = flat[0]
        if isinstance(flat, float) and math.isfinite(flat) and flat.is_integer():
            flat = int(flat)
        if (isinstance(curve, bool) or not isinstance(curve, int) or not 0 <= curve < len(labels)
                or labels[curve] is None or isinstance(flat, bool) or not isinstance(flat, int)):
            return dict(none, alert=NOT_CELL)
        d, note = D.cell_spec(job.result, labels[curve], flat)
        if cache is not None:
            accept_spec(d, cache, session)
        return dict(open={"spec": d, "note": note[:600]}, tab="landscape", alert="")
    except Exception as e:
        return dict(none, alert=_fail("sweep click refused", e))


def sweep_download(session, sweeps):
    """The page's sweep (complete or partial) as a .npz, or no_update."""
    session = valid_session(session)
    job = sweeps.job(session) if session else None
    if job is None or job.result is None:
        return no_update
    return dcc.send_bytes(job.result.write, "sweep.npz")
