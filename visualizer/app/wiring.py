"""Dash wiring: the page's callbacks, each a thin wrapper around a plain function of ``callbacks`` (the main
callback), ``render_callbacks``, ``curvature_callbacks``, ``download_callbacks`` or ``progress_callbacks``
(the Sweep tab's: of ``sweep_callbacks``); ``_safe`` guards the plain functions that may raise.

    register_callbacks(app, services)     # services: app/services.Services (cache, jobs, sweeps, slices, maps)

Shared state lives in ``services`` (made by ``create_app``), never in module globals. Every callback that
may need heavy work (render, markers, slices, min-eig, downloads) passes the page's ``session-id`` so that
work is a job of the page (serving/jobs.py).
Each main-callback request is bracketed by ``jobs.request`` (so a newer request of the page,
valid or not, cancels what an older one started). ``progress-tick`` polls the session's progress into
``run-status``: every 0.5 s while a request is in flight (Dash's ``running`` speeds it up when one starts;
only the poll, which knows whether any request of the page is still in flight, slows it down, so a
superseded request's end cannot stop the newer one's progress), every 5 s otherwise; the polls are the
page's heartbeat. The Sweep tab polls its sweep with its own ``sweep-tick`` (every second while a sweep runs,
off otherwise), its heartbeat.
"""
from __future__ import annotations

import logging

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update

from core.errors import clip_message

from visualizer.app import sweep_callbacks as SC
from visualizer.app.spec_callbacks import control_options, main
from visualizer.app.controls import N_ROWS, ROW_FIELDS, SPEC_FIELDS
from visualizer.app.curvature_callbacks import min_eig_visibility, slices
from visualizer.app.download_callbacks import download_html, download_npz, download_spec
from visualizer.app.progress_callbacks import POLL_MS, progress_poll
from visualizer.app.render_callbacks import landscape_frames, render

log = logging.getLogger("visualizer")


def _row(field):
    return {"type": field, "index": ALL}


def _safe(name, fn, *args):
    """``fn(*args)``, or no_update (and one log line) when it raises: the callbacks have no message to show."""
    try:
        return fn(*args)
    except Exception as e:
        log.warning("%s failed: %s", name, clip_message(f"{type(e).__name__}: {e}"))
        return no_update


def register_callbacks(app, services):
    """Connect the page to the plain functions of the callbacks' modules (``services``: app/services.Services)."""
    cache, jobs = services.cache, services.jobs
    _register_main(app, cache, jobs)
    _register_render(app, cache, jobs, services.maps)
    _register_step(app, cache, jobs, services.slices)
    _register_files(app, cache, jobs, services.maps)
    _register_sweep(app, cache, services.sweeps)
    _register_focus(app)


def _register_main(app, cache, jobs):
    spec_ids = [f.replace("_", "-") for f in SPEC_FIELDS]     # the layout's ids: batch_size -> batch-size
    field_deps = [(i, "value") for i in spec_ids]
    row_deps = [(_row(f), "value") for f in ROW_FIELDS]
    nf, nr = len(field_deps), len(row_deps)

    @app.callback(
        [Output(i, p) for i, p in field_deps]
        + [Output(i, p) for i, p in row_deps]
        + [Output("spec-base", "data"), Output("spec-store", "data"), Output("alert-error", "children"),
           Output("run-status", "children"), Output("invalid-field", "data"), Output("preset", "value")],
        [Input("preset", "value"), Input("upload", "contents")]
        + [Input(i, p) for i, p in field_deps] + [Input(i, p) for i, p in row_deps]
        + [Input("sweep-open", "data")],
        [State("upload", "filename"), State("spec-base", "data"), State("session-id", "data")],
        prevent_initial_call=True,
        running=[(Output("progress-tick", "interval"), POLL_MS, POLL_MS)],     # only ever speeds polling up
    )
    def _main(preset, upload_contents, *rest):
        fields, rows = rest[:nf], rest[nf:nf + nr]
        opened, upload_filename, base, session = rest[nf + nr:]
        values = dict(zip(SPEC_FIELDS, fields))
        values.update(zip(ROW_FIELDS, (list(r) for r in rows)))
        trigger = ctx.triggered_id
        if isinstance(trigger, dict):
            trigger = {"type": trigger["type"], "index": trigger["index"]}
        elif trigger in spec_ids:
            trigger = "controls"
        with jobs.request(session) as req:
            o = main(trigger, values, base, cache, preset=preset, upload_contents=upload_contents,
                     upload_filename=upload_filename, jobs=jobs, session=session, opened=opened)
            req["status"] = o["status"]
        v = o["values"]
        if v is no_update:
            ctl = [no_update] * nf + [[no_update] * N_ROWS] * nr
        else:
            ctl = [v[f] for f in SPEC_FIELDS] + [v[f] for f in ROW_FIELDS]
        return ctl + [o["base"], o["store"], o["alert"], o["status"], o["invalid"], o["preset"]]

    # the field an error names is outlined (assets/app.js: lln.markInvalid)
    app.clientside_callback(ClientsideFunction("lln", "markInvalid"), Output("invalid-echo", "data"),
                            Input("invalid-field", "data"))


VIEW_STATES = ("height-scale", "clip-percentile", "exaggerate")


def _register_render(app, cache, jobs, maps):
    @app.callback(
        Output("graph-landscape-3d", "figure"), Output("graph-contour", "figure"),
        Output("graph-curves", "figure"), Output("graph-sharpness", "figure"),
        Output("sharpness-box", "hidden"), Output("sharpness-message", "children"), Output("summary-table", "data"),
        Output("step-slider", "min"), Output("step-slider", "max"), Output("step-slider", "marks"),
        Output("step-table", "data"), Output("explain-numbers", "children"),
        Output("slice-optimizer", "options"), Output("slice-optimizer", "value"), Output("alert-view", "children"),
        Input("spec-store", "data"), *[Input(i, "value") for i in VIEW_STATES], Input("surface-colour", "value"),
        State("show-min-eig", "value"), State("slice-optimizer", "value"), State("session-id", "data"),
    )
    def _render(store, scale, clip, exaggerate, colour, min_eig, slice_label, session):
        o = render(store, scale, clip, exaggerate, cache, min_eig=bool(min_eig), slice_label=slice_label,
                   colour=colour, maps=maps, jobs=jobs, session=session)
        sl = o["slider"]
        sl_vals = [sl[k] for k in ("min", "max", "marks")] if sl is not no_update else [no_update] * 3
        sl_vals.append(o["step_table"])
        note = o["sharpness_note"]
        hidden = no_update if note is no_update else bool(note)
        return [o["fig3d"], o["contour"], o["curves"], o["sharpness"], hidden, note, o["table"], *sl_vals,
                o["explain"], o["slice_options"], o["slice_label"], o["alert"]]

    # the 3D figure's frames, after it is drawn without them (assets/app.js asks: frames-request)
    @app.callback(Output("landscape-frames", "data"), Input("frames-request", "data"), State("step-table", "data"),
                  State("spec-store", "data"), *[State(i, "value") for i in VIEW_STATES], State("session-id", "data"),
                  prevent_initial_call=True)
    def _frames(request, table, store, scale, clip, exaggerate, session):
        return landscape_frames(table, store, scale, clip, exaggerate, cache, jobs=jobs, session=session)

    app.clientside_callback(ClientsideFunction("lln", "attachFrames"), Output("frames-echo", "data"),
                            Input("landscape-frames", "data"), State("step-store", "data"),
                            State("step-table", "data"), prevent_initial_call=True)

    @app.callback(Output("graph-sharpness", "figure", allow_duplicate=True), Input("show-min-eig", "value"),
                  State("spec-store", "data"), State("session-id", "data"), prevent_initial_call=True)
    def _min_eig(show, store, session):
        return min_eig_visibility(bool(show), store, cache, jobs, session)

    @app.callback(Output("dataset", "options"), Output("csv-target", "options"), Input("spec-base", "data"),
                  State("session-id", "data"))
    def _options(base, session):
        out = _safe("control options", control_options, base, cache, session)
        return out if out is not no_update else (no_update, no_update)


def _register_step(app, cache, jobs, slice_cache):
    """One step for every panel (assets/app.js): Play, the slider, the step box and the keys move the step-store;
    it jumps the 3D figure and patches the contour, curves and sharpness in the browser, and redraws the
    slices here (cached per run and frame), which report the step they show (Play waits for them)."""
    app.clientside_callback(
        ClientsideFunction("lln", "stepper"),
        Output("step-store", "data"), Output("step-slider", "value"), Output("step-input", "value"),
        Output("step-tick", "disabled"), Output("step-play", "children"),
        Input("step-table", "data"), Input("step-slider", "value"), Input("step-input", "value"),
        Input("step-play", "n_clicks"), Input("step-tick", "n_intervals"), Input("step-key", "data"),
        State("step-store", "data"), State("step-tick", "disabled"), State("slices-step", "data"),
        prevent_initial_call=True)

    app.clientside_callback(
        ClientsideFunction("lln", "showStep"),
        Output("graph-contour", "figure", allow_duplicate=True),
        Output("graph-curves", "figure", allow_duplicate=True),
        Output("graph-sharpness", "figure", allow_duplicate=True),
        Input("step-store", "data"), State("step-table", "data"), prevent_initial_call=True)

    @app.callback(Output("graph-slices", "figure"), Output("slices-box", "hidden"),
                  Output("slices-message", "children"), Output("slices-step", "data"),
                  Input("step-store", "data"), Input("slice-optimizer", "value"), State("spec-store", "data"),
                  State("session-id", "data"), prevent_initial_call=True)
    def _slices(step_store, label, store, session):
        step = step_store.get("step") if isinstance(step_store, dict) else None
        o = slices(step, label, store, cache, slice_cache, jobs, session)
        return o["figure"], o["hidden"], o["message"], step


def _register_files(app, cache, jobs, maps):
    @app.callback(Output("run-status", "children", allow_duplicate=True),
                  Output("progress-tick", "interval", allow_duplicate=True), Input("progress-tick", "n_intervals"),
                  State("session-id", "data"), State("progress-tick", "interval"), State("run-status", "children"),
                  prevent_initial_call=True)
    def _progress(n, session, interval, shown):
        return progress_poll(jobs, session, interval, shown)

    @app.callback(Output("download-npz", "data"), Input("download-npz-btn", "n_clicks"),
                  State("spec-store", "data"), State("session-id", "data"), prevent_initial_call=True)
    def _dl_npz(n, store, session):
        return _safe("npz download", download_npz, store, cache, jobs, session)

    @app.callback(Output("download-spec", "data"), Input("download-spec-btn", "n_clicks"),
                  State("spec-store", "data"), State("session-id", "data"), prevent_initial_call=True)
    def _dl_spec(n, store, session):
        return _safe("spec download", download_spec, store, cache, jobs, session)

    @app.callback(Output("download-html", "data"), Input("download-html-btn", "n_clicks"),
                  State("spec-store", "data"), *[State(i, "value") for i in VIEW_STATES],
                  State("surface-colour", "value"), State("session-id", "data"), prevent_initial_call=True)
    def _dl_html(n, store, scale, clip, exaggerate, colour, session):
        return _safe("html download", download_html, store, scale, clip, exaggerate, cache, colour, maps, jobs,
                     session)


SWEEP_OUT = (("alert", "sweep-alert", "children"), ("status", "sweep-status", "children"),
             ("figure", "graph-sweep-heatmap", "figure"), ("summary", "sweep-summary", "children"),
             ("shown", "sweep-shown", "data"), ("disabled", "sweep-tick", "disabled"),
             ("options", "sweep-preset", "options"), ("source", "sweep-preset", "value"),
             ("uploaded", "sweep-spec-store", "data"))
CUSTOM_IDS = ("sweep-optimizer", "sweep-lr-min", "sweep-lr-max", "sweep-lr-points", "sweep-momentum-min",
              "sweep-momentum-max", "sweep-momentum-points", "sweep-seeds")      # SC.CUSTOM_FIELDS, in order


def _sweep_outputs(dup):
    return [Output(i, p, allow_duplicate=dup) for _, i, p in SWEEP_OUT]


def _sweep_values(o):
    return [o[k] for k, _, _ in SWEEP_OUT]


def _register_sweep(app, cache, sweeps):
    """The Sweep tab: Run, the progress poll, Stop, uploads, a click on the map, the download; the tabs."""
    @app.callback(*_sweep_outputs(False), Input("sweep-run-btn", "n_clicks"), State("sweep-preset", "value"),
                  *[State(i, "value") for i in CUSTOM_IDS], State("spec-store", "data"),
                  State("sweep-spec-store", "data"), State("session-id", "data"), prevent_initial_call=True)
    def _run(n, source, *rest):
        custom = dict(zip(SC.CUSTOM_FIELDS, rest[:len(CUSTOM_IDS)]))
        landscape, uploaded, session = rest[len(CUSTOM_IDS):]
        return _sweep_values(SC.sweep_run(source, custom, landscape, uploaded, session, sweeps, cache))

    @app.callback(*_sweep_outputs(True), Input("sweep-tick", "n_intervals"), State("session-id", "data"),
                  State("sweep-shown", "data"), prevent_initial_call=True)
    def _poll(n, session, shown):
        return _sweep_values(SC.sweep_poll(session, shown, sweeps))

    @app.callback(*_sweep_outputs(True), Input("sweep-stop-btn", "n_clicks"), State("session-id", "data"),
                  prevent_initial_call=True)
    def _stop(n, session):
        return _sweep_values(SC.sweep_stop(session, sweeps))

    @app.callback(*_sweep_outputs(True), Input("sweep-upload", "contents"), State("sweep-upload", "filename"),
                  State("session-id", "data"), prevent_initial_call=True)
    def _upload(contents, filename, session):
        return _sweep_values(SC.sweep_upload(contents, filename, session, sweeps, cache))

    @app.callback(Output("sweep-open", "data"), Output("tabs", "value"),
                  Output("sweep-alert", "children", allow_duplicate=True),
                  Input("graph-sweep-heatmap", "clickData"), State("session-id", "data"), prevent_initial_call=True)
    def _click(click, session):
        o = SC.sweep_click(click, session, sweeps, cache)
        return o["open"], o["tab"], o["alert"]

    # the custom sweep's fields are read-only while a preset (or an upload) is the source
    @app.callback(Output(CUSTOM_IDS[0], "disabled"), *[Output(i, "readOnly") for i in CUSTOM_IDS[1:]],
                  Input("sweep-preset", "value"))
    def _lock(source):
        return [SC.custom_locked(source)] * len(CUSTOM_IDS)

    @app.callback(Output("sweep-download", "data"), Input("sweep-download-btn", "n_clicks"),
                  State("session-id", "data"), prevent_initial_call=True)
    def _download(n, session):
        return _safe("sweep download", SC.sweep_download, session, sweeps)

    # the tabs show one of the two page bodies (both stay mounted)
    app.clientside_callback(
        """function (tab) {
            var show = {}, hide = {display: "none"};
            return tab === "sweep" ? [hide, show] : [show, hide];
        }""",
        Output("tab-landscape", "style"), Output("tab-sweep", "style"), Input("tabs", "value"))


def _register_focus(app):
    """The focus menu (assets/focus.js): its runs follow the shown result (the slices' run menu); a focused run
    fades the others in every panel, in the browser, and becomes the slices' run."""
    app.clientside_callback(
        ClientsideFunction("llnFocus", "options"),
        Output("focus-run", "options"), Output("focus-run", "value"),
        Input("slice-optimizer", "options"), State("focus-run", "value"))
    app.clientside_callback(
        ClientsideFunction("llnFocus", "choose"),
        Output("focus-echo", "data"), Output("slice-optimizer", "value", allow_duplicate=True),
        Input("focus-run", "value"), State("slice-optimizer", "options"), State("slice-optimizer", "value"),
        prevent_initial_call=True)
