"""The spec editor's controls <-> a spec dict (plain functions; no Dash imports).

    values, extras = controls_from_spec(spec_dict)       # control values, and hidden per-row extras
    spec_dict = spec_from_controls(values, base, extras) # back to a validated spec dict (ValueError names the field)
"""
from __future__ import annotations

import copy

import core
from core.model import optimizers as _opt
from core.errors import quote

N_ROWS = 8                                 # optimizer rows in the editor (core allows at most 8)
DATASETS = ("wisconsin", "moons", "circles", "spirals", "xor")
DEFAULT_PRESET = "four_optimizers"
MOMENTUM_OPTS = tuple(n for n in _opt.OPTIMIZERS if "momentum" in _opt.allowed_hparams(n))
CSV_PREFIX = "csv:"                        # dataset values "csv:<data.path>": an upload or a file of the data folder
TARGET_NAMES = ("target", "label", "class", "y", "diagnosis", "outcome")   # a CSV's default target column
SPEC_FIELDS = ("dataset", "csv_target", "hidden", "seed", "steps", "batch_size", "record_every", "target_loss",
               "plane_method", "grid_resolution", "grid_range", "moving", "curvature", "curvature_stride")
ROW_FIELDS = ("opt_enabled", "opt_name", "opt_label", "opt_lr", "opt_momentum", "opt_schedule")


# ----------------------------------------------------------------- spec <-> controls
def controls_from_spec(spec_dict):
    """Control values (a dict of SPEC_FIELDS and ROW_FIELDS, the latter lists of N_ROWS) and the extras
    the controls do not show (per-row hyper-parameters such as decay_rate)."""
    s = core.ExperimentSpec.from_dict(spec_dict).to_dict()
    data = s["data"]
    v = dict(dataset=CSV_PREFIX + data["path"] if data["name"] == "csv" else data["name"],
             csv_target=data["target"] if data["name"] == "csv" else None,
             hidden=", ".join(str(h) for h in s["model"]["hidden"]),
             seed=s["seed"], steps=s["training"]["steps"], batch_size=s["training"]["batch_size"],
             record_every=s["training"]["record_every"], target_loss=s["training"]["target_loss"],
             plane_method=s["plane"]["method"], grid_resolution=s["grid"]["resolution"],
             grid_range=s["grid"]["range"], moving=["on"] if s["grid"]["moving"] else [],
             curvature=["on"] if s["curvature"]["enabled"] else [], curvature_stride=s["curvature"]["stride"])
    rows = {k: [] for k in ROW_FIELDS}
    extras = []
    for i in range(N_ROWS):
        o = s["optimizers"][i] if i < len(s["optimizers"]) else None
        if o is None:
            name = ("sgd", "momentum", "nesterov", "adam", "rmsprop", "annealing", "large_lr", "sgd")[i]
            o = dict(name=name, label=f"{name} {i + 1}")
            on = []
        else:
            on = ["on"]
        hp = _opt.hparams_for(o["name"], {k: val for k, val in o.items() if k not in ("name", "label")})
        rows["opt_enabled"].append(on)
        rows["opt_name"].append(o["name"])
        rows["opt_label"].append(o.get("label") or o["name"])
        rows["opt_lr"].append(hp["lr"])
        rows["opt_momentum"].append(hp.get("momentum"))
        rows["opt_schedule"].append(hp["schedule"])
        extras.append({k: val for k, val in o.items()
                       if k not in ("name", "label", "lr", "momentum", "schedule")} if on else {})
    v.update(rows)
    return v, extras


def default_target(columns):
    """The column a CSV's target most likely is: a usual name (target, label, class, ...), else the last."""
    low = [c.lower() for c in columns]
    for name in TARGET_NAMES:
        if name in low:
            return columns[low.index(name)]
    return columns[-1]


def dataset_options(spec_dict, data_files, upload_names=None):
    """The dataset menu: the built-in sets, the spec's own CSV (an upload, by its file name when known, or a
    file), the data folder's CSVs."""
    opts = [{"label": n, "value": n} for n in DATASETS]
    data = (spec_dict or {}).get("data") or {}
    listed = data_files.listing() if data_files is not None else []
    if data.get("name") == "csv" and data.get("path") not in listed:
        path = str(data.get("path"))
        name = (upload_names or {}).get(path)
        label = (f"uploaded CSV: {name[:40]}" if name else "uploaded CSV") if path.startswith("upload:") \
            else f"CSV: {path[:40]}"
        opts.append({"label": label, "value": CSV_PREFIX + path})
    opts += [{"label": f"CSV: {p}", "value": CSV_PREFIX + p} for p in listed]
    return opts


def _int(where, v, allow_none=False):
    if v is None or v == "":
        if allow_none:
            return None
        raise ValueError(f"{where}: missing; give an integer")
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v                                # core validation names the field if it is not an integer


def _num(v):
    return None if v == "" else v


def parse_hidden(text):
    """'15' or '16, 16' -> [15] / [16, 16]."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = str(int(text)) if float(text).is_integer() else str(text)
    parts = [p.strip() for p in str(text or "").replace(";", ",").split(",")]
    try:
        if not parts or any(not p for p in parts):
            raise ValueError
        return [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"model.hidden={quote(text)}: must be comma-separated layer widths (integers in "
                         f"[1, 512]) such as 15 or 16, 16") from None


def spec_from_controls(v, base, extras=None):
    """Build a spec dict from control values over ``base`` (the loaded spec dict). Raises ValueError."""
    d = copy.deepcopy(base)
    for section in ("data", "model", "training", "plane", "grid", "curvature"):
        d.setdefault(section, {})
    _data_from(v, d)
    d["model"]["hidden"] = parse_hidden(v["hidden"])
    d["seed"] = _int("seed", v["seed"])
    t = d["training"]
    t["steps"] = _int("training.steps", v["steps"])
    t["batch_size"] = _int("training.batch_size", v["batch_size"], allow_none=True)
    t["record_every"] = _int("training.record_every", v["record_every"])
    t["target_loss"] = _num(v["target_loss"])
    extras = extras or [{}] * N_ROWS
    base_opts = base.get("optimizers") or []
    opts = [_optimizer_from(v, i, base_opts[i] if i < len(base_opts) else {}, extras[i] if i < len(extras) else {})
            for i in range(N_ROWS) if v["opt_enabled"][i]]
    if not opts:
        raise ValueError("optimizers: none enabled; tick at least one (at most 8)")
    d["optimizers"] = opts
    p = d["plane"]
    p["method"] = v["plane_method"]
    labels = [o.get("label", o["name"]) for o in opts]
    if p.get("center_on") not in labels:
        p["center_on"] = None                    # the run the plane is centred on was removed: use the first
    g = d["grid"]
    g["resolution"] = _int("grid.resolution", v["grid_resolution"])
    g["range"] = _num(v["grid_range"])
    g["moving"] = bool(v["moving"])
    c = d["curvature"]
    c["enabled"] = bool(v["curvature"])
    c["stride"] = _int("curvature.stride", v["curvature_stride"], allow_none=True)   # empty: auto
    return core.ExperimentSpec.from_dict(d).to_dict()


def _data_from(v, d):
    """The data section from the dataset menu (a built-in set, or a CSV and its target column)."""
    if isinstance(v["dataset"], str) and v["dataset"].startswith(CSV_PREFIX):
        path = v["dataset"][len(CSV_PREFIX):]
        if d["data"].get("name") != "csv" or d["data"].get("path") != path:
            d["data"] = {"name": "csv", "path": path}
        d["data"]["target"] = v.get("csv_target")
    elif v["dataset"] != d["data"].get("name"):
        d["data"] = {"name": v["dataset"], "n_samples": d["data"].get("n_samples", 400)}


def _optimizer_from(v, i, base_opt, extra):
    """Row i of the optimizer table as a spec entry. A key the loaded spec did not give is left out while it
    equals the default, so an untouched preset keeps its own spec (and its cache key)."""
    name = v["opt_name"][i]
    o = {"name": name}
    label = (v["opt_label"][i] or "").strip()
    if label:
        o["label"] = label
    given = base_opt if base_opt.get("name") == name else {}
    dflt = _opt.hparams_for(name) if name in _opt.OPTIMIZERS else {"schedule": "constant"}
    o["lr"] = _num(v["opt_lr"][i])
    mom = _num(v["opt_momentum"][i])
    if mom is not None and name in MOMENTUM_OPTS and ("momentum" in given or mom != dflt.get("momentum")):
        o["momentum"] = mom
    sch = v["opt_schedule"][i]
    if sch and ("schedule" in given or sch != dflt["schedule"]):
        o["schedule"] = sch
    allowed = _opt.allowed_hparams(name) if name in _opt.OPTIMIZERS else set()
    for k, val in extra.items():
        if k in allowed and k not in o:
            o[k] = val
    return o
