"""The main callback's plain functions: controls / preset / upload / sweep-open -> the spec store (tested
directly in tests/test_callbacks.py); ``wiring.register_callbacks`` connects them to the page, ``controls``
maps the editor to a spec.

Flow (one direction):
  controls / preset / upload / sweep-open --main()--> spec-store {key, spec, source}   (result kept in the ResultCache)
  spec-store + view controls --render_callbacks.render()--> figures, table, step slider, explain numbers
  step-store --assets/app.js (showStep)--> Patches of the contour, curves and sharpness markers (in the browser)
  step-store + slices' run --curvature_callbacks.slices()--> the slices figure (cached per run and frame)
  download buttons --download_callbacks.download_*()--> dcc.Download payloads
  progress-tick --progress_callbacks.progress_poll()--> the run-status text while a computation runs

Also here, for the other callbacks' modules: ``accept_spec`` (every spec from the browser), ``decode_upload``,
``valid_session`` and the upload caps.

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
import logging
import re
import time

from dash import no_update

import core
from core.data.csvfile import MAX_CSV_BYTES, UPLOAD_PREFIX, check_table
from core.data.csvfile import file_header as csv_header_of
from core.constraints import within
from core.errors import clip_message, quote
from core.model import optimizers as _opt

from visualizer.serving.tasks import n_weights
from visualizer.app.controls import (CSV_PREFIX, DEFAULT_PRESET, N_ROWS, controls_from_spec, dataset_options,
                       default_target, spec_from_controls)
from visualizer.app.messages import Message, rename_uploads, spec_of_controls, user_message
from visualizer.errors import Cancelled
from visualizer.serving.uploads import UploadStore

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


def accept_spec(spec_dict, cache, session=None):
    """A spec from the browser (the controls, an uploaded JSON, the page's stored state, a download request):
    validated, and its data file allowed by the server's rule (an upload of this page, ``session``, or a file
    of the operator's data folder, never another server path; see core.data.csvfile.DataFiles and
    uploads.UploadStore.owns). Raises ValueError naming the field."""
    spec = core.ExperimentSpec.from_dict(spec_dict)
    if spec.data.name == "csv":
        check_data_path(cache, spec.data.path, session)
    return spec


def check_data_path(cache, path, session):
    """The real file of ``path`` (a spec's data.path) for this page; ValueError when it may not read it (an
    upload of another page included)."""
    with within("data"):
        real = cache.uploads.files.resolve(path)
        if isinstance(path, str) and path.startswith(UPLOAD_PREFIX) and \
                not cache.uploads.owns(path[len(UPLOAD_PREFIX):], valid_session(session)):
            raise ValueError(f"path={quote(path, 48)}: not an upload of this page; upload the CSV file here")
    return real


def csv_columns(cache, path, session=None):
    """Column names of a CSV the server may read (``data.path`` of a spec); ValueError when it may not."""
    real = check_data_path(cache, path, session)
    with within("data"):
        return csv_header_of(real, path)


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
    n = n_weights(result)                     # measured from the arrays, not the file's own info
    how = "from the cache" if hit else f"computed in {seconds:.1f} s"
    if source == "upload":
        how = "loaded from the uploaded run"
    k = len(result.trajectories)
    return f"{k} optimizer{'' if k == 1 else 's'}, {n} weights, {result.alphas.size} × {result.betas.size} grid: {how}."


def main(trigger, values, base, cache, *, preset=None, upload_contents=None, upload_filename=None, jobs=None,
         session=None, opened=None):
    """One step of the main callback. Returns a dict with keys
    values (control values or None), base, store, alert, status, invalid, preset: each no_update when unchanged.
    ``preset``: what the preset menu shows once a spec is shown: the name of the preset the spec equals, or
    None ("custom": a sweep cell's run, an upload, edited controls); no_update when the menu chose it.

    ``trigger``: "controls", "preset", "upload", "sweep-open" or an {"type": "opt_name", "index": i} row;
    ``values``: the editor's control values; ``base``: the page's spec-base {spec, extras}; ``cache``: the
    ResultCache. ``preset`` (trigger "preset"): its name; ``upload_contents`` / ``upload_filename`` (trigger
    "upload"): the dcc.Upload's data URL and file name.

    ``jobs`` (a JobRegistry over ``cache``) and ``session`` (the page's id): compute through the registry,
    so a newer request of the same session cancels this one (then every value is no_update).
    ``opened`` (trigger "sweep-open"): {spec, note} of a sweep cell's run (sweep_callbacks.sweep_click),
    loaded like a preset; the note leads the status line."""
    out = dict(values=no_update, base=no_update, store=no_update, alert="", status=no_update, invalid="",
               preset=no_update)
    session = valid_session(session)
    if trigger == "preset" and preset is None:          # the menu emptied (it says "custom"): nothing to load
        return {k: no_update for k in out}
    try:
        base = base or {}
        if trigger == "preset":
            spec_dict = _preset_spec(preset, out)
        elif trigger == "upload":
            spec_dict = _upload_spec(upload_contents, upload_filename, base.get("spec"), cache, out, session)
        elif trigger == "sweep-open":
            spec_dict = _opened_spec(opened, out)
        else:
            spec_dict = _controls_spec(trigger, values, base, cache, out, session)
        if spec_dict is not None:               # None: an uploaded run, shown as it is (out is filled in)
            _compute(spec_dict, cache, jobs, session, out)
        if trigger != "preset" and isinstance(out["store"], dict):
            out["preset"] = preset_of(out["store"]["spec"])
        if trigger == "sweep-open" and isinstance(out["status"], str):
            out["status"] = f"{clip_message(opened.get('note', ''), 600)} {out['status']}".strip()
    except Cancelled:
        log.info("superseded computation cancelled (session %s)", session)
        out = {k: no_update for k in out}
    except ValueError as e:
        log.warning("rejected input: %s", clip_message(e))
        m = _in_users_words(e, trigger, values, base, upload_filename)
        out.update(alert=clip_message(m.text), store=no_update, invalid=m.field)
    except Exception as e:                                  # never let a callback raise
        msg = clip_message(f"{type(e).__name__}: {e}")
        log.warning("main callback failed: %s", msg)
        out.update(alert=f"Could not compute this experiment ({msg}).", store=no_update)
    return out


def preset_of(spec_dict):
    """The name of the preset whose spec ``spec_dict`` (a validated spec's to_dict()) is, or None."""
    for name in core.ExperimentSpec.presets():
        if core.ExperimentSpec.preset(name).to_dict() == spec_dict:
            return name
    return None


def _in_users_words(error, trigger, values, base, upload_filename):
    """The error as the form says it (visualizer.app.messages): the run's label, the field's form label, the
    field to outline, the upload's file name, the change that made a budget too large."""
    names = dict((base or {}).get("upload_names") or {})
    if trigger in ("preset", "upload", "sweep-open"):      # a spec file's own words; an upload by its name
        if trigger == "upload" and upload_filename:
            names.update({k: upload_filename for k in re.findall(r"upload:[0-9a-f]{8,}", str(error))})
        return Message(rename_uploads(str(error), names))
    try:
        spec, row_of = spec_of_controls(values)
    except (KeyError, IndexError, TypeError, AttributeError):
        spec, row_of = None, None
    return user_message(error, spec, (base or {}).get("spec"), row_of, names)


def _compute(spec_dict, cache, jobs, session, out):
    """Validate, compute (through the JobRegistry when given) and fill out's store and status."""
    spec = accept_spec(spec_dict, cache, session)
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


def _upload_spec(contents, filename, spec_base, cache, out, session=None):
    """The spec of an uploaded JSON or CSV; an uploaded run goes into the cache as it is (returns None)."""
    kind, payload = decode_upload(contents, filename)
    if kind == "json":
        spec_dict = core.ExperimentSpec.from_json(payload).to_dict()
    elif kind == "csv":
        columns = check_table(payload, filename or "uploaded file")          # caps, before storing
        path = UploadStore.spec_path(cache.uploads.put(payload, session))
        spec_dict = _csv_spec(spec_base, path, columns)
        _loaded(spec_dict, out)
        out["base"]["upload_names"] = {path: str(filename or "uploaded file")}   # messages name the file
        return spec_dict
    else:
        result = core.load_result(io.BytesIO(payload), max_bytes=MAX_UPLOAD_UNPACKED)
        spec_dict = result.spec.to_dict()
        key = "npz:" + cache.uploads.key_for(payload, session)   # this page's key (not the bytes' hash)
        cache.put(key, result)
        _loaded(spec_dict, out)
        out.update(store=_store(key, spec_dict, "upload"), status=_status(result, False, 0, "upload"))
        return None
    _loaded(spec_dict, out)
    return spec_dict


def _controls_spec(trigger, values, base, cache, out, session=None):
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
            out["base"] = dict(base, spec=spec_base, extras=extras)
    if spec_base is None:
        spec_base = core.ExperimentSpec.preset(DEFAULT_PRESET).to_dict()
    values = _pick_csv_target(values, spec_base, cache, out, session)
    return spec_from_controls(values, spec_base, extras)


def _pick_csv_target(values, spec_base, cache, out, session=None):
    """When the dataset menu switches to another CSV, its target becomes that file's most likely column."""
    ds = values.get("dataset")
    if not (isinstance(ds, str) and ds.startswith(CSV_PREFIX)):
        return values
    path = ds[len(CSV_PREFIX):]
    base_data = spec_base.get("data") or {}
    if base_data.get("name") == "csv" and base_data.get("path") == path and values.get("csv_target"):
        return values
    columns = csv_columns(cache, path, session)
    if values.get("csv_target") in columns:
        return values
    values = dict(values, csv_target=default_target(columns))
    out["values"] = values
    return values


def control_options(base, cache, session=None):
    """(dataset menu, target-column menu) for the loaded spec (``spec-base``)."""
    spec = (base or {}).get("spec") or core.ExperimentSpec.preset(DEFAULT_PRESET).to_dict()
    datasets = dataset_options(spec, cache.uploads.files, (base or {}).get("upload_names"))
    data = spec.get("data") or {}
    targets = []
    if data.get("name") == "csv":
        try:
            targets = csv_columns(cache, data.get("path"), session)
        except (ValueError, OSError):                   # the message comes with the spec's own error
            targets = []
    return datasets, [{"label": c, "value": c} for c in targets]
