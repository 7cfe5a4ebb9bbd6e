"""Messages in the user's words: the core's errors name spec paths (``optimizers[0].lr=-1: must be a number in
(0, 100]``); the page names the run by its label and the field by its form label ("SGD: learning rate -1
must be a number in (0, 100]"), says which field to outline, names an upload by its file name, and when a
budget is exceeded says which of the user's changes caused it.

    m = user_message(error_text, spec_dict, base_spec=None, row_of=None, upload_names=None)
    m.text, m.field          # the message; the DOM id of the field to outline ("" when none)
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

# spec path -> (form label, DOM id of its control)
FIELDS = {
    "seed": ("seed", "seed"),
    "model.hidden": ("hidden units", "hidden"),
    "training.steps": ("steps", "steps"),
    "training.batch_size": ("batch size", "batch-size"),
    "training.record_every": ("record every", "record-every"),
    "training.target_loss": ("target loss", "target-loss"),
    "grid.resolution": ("grid points", "grid-resolution"),
    "grid.range": ("grid range", "grid-range"),
    "plane.method": ("plane", "plane-method"),
    "curvature.stride": ("curvature stride", "curvature-stride"),
    "data.target": ("target column", "csv-target"),
    "data": ("dataset", "dataset"),
    "data.name": ("dataset", "dataset"),
    "data.path": ("dataset", "dataset"),
}
# optimizer field -> (form label, the row's control type)
OPT_FIELDS = {"lr": ("learning rate", "opt_lr"), "momentum": ("momentum", "opt_momentum"),
              "schedule": ("schedule", "opt_schedule"), "name": ("optimizer", "opt_name"),
              "label": ("label", "opt_label")}
# the user-facing fields whose change can make a budget too large, in the order a message names them
BUDGET_FIELDS = ("model.hidden", "training.steps", "training.record_every", "grid.resolution", "optimizers")

_ID_OF_LABEL = {label: dom_id for label, dom_id in FIELDS.values()}
_HEAD = re.compile(r"^(?P<path>[A-Za-z_][\w.]*(?:\[\d+\])?(?:\.[A-Za-z_]\w*)*)(?:=(?P<value>[^:]*))?:\s*(?P<rule>.*)$",
                   re.S)
_OPT = re.compile(r"^optimizers\[(?P<i>\d+)\](?:\.(?P<field>\w+))?$")
_UPLOAD = re.compile(r"upload:[0-9a-f]{8,}")


@dataclass
class Message:
    text: str
    field: str = ""              # DOM id of the control to outline ("" when none)


def pattern_id(kind, index):
    """The DOM id Dash gives a pattern-matching control {"type": kind, "index": index}."""
    return json.dumps({"index": int(index), "type": kind}, separators=(",", ":"), sort_keys=True)


def _get(d, path):
    for part in path.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def _show(v):
    if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v):
        return ", ".join(f"{x:g}" for x in v)
    if isinstance(v, list):
        return f"{len(v)} optimizers" if v and isinstance(v[0], dict) else str(v)
    return "—" if v is None else f"{v:g}" if isinstance(v, float) else str(v)


def spec_of_controls(values):
    """What the controls ask for, without validation (for a message about a spec that did not validate): the
    enabled runs' labels and the budget fields; and the table row of each enabled run (spec index -> row)."""
    rows = [i for i, on in enumerate(values.get("opt_enabled") or []) if on]
    opts = [{"name": values["opt_name"][i], "label": (values["opt_label"][i] or "").strip() or values["opt_name"][i]}
            for i in rows]
    hidden = values.get("hidden")
    try:
        hidden = [int(p) for p in str(hidden).replace(";", ",").split(",")]
    except ValueError:
        pass
    spec = {"optimizers": opts, "model": {"hidden": hidden},
            "training": {"steps": values.get("steps"), "record_every": values.get("record_every")},
            "grid": {"resolution": values.get("grid_resolution")}}
    return spec, dict(enumerate(rows))


def changes(spec, base):
    """[(form label, old, new)] of the budget fields the user changed from ``base`` to ``spec``."""
    out = []
    for path in BUDGET_FIELDS:
        old, new = _get(base or {}, path), _get(spec or {}, path)
        if path == "optimizers":
            old, new = len(old or []), len(new or [])
            if base and old != new:
                out.append(("optimizers ticked", old, new))
            continue
        if base and old != new and new is not None:
            out.append((FIELDS[path][0], _show(old), _show(new)))
    return out


# spec words inside a rule ("use record_every >= 10") -> the form's words
_RULE_WORDS = (("curvature.enabled false", "curvature off"), ("curvature.stride", "curvature stride"),
               ("training.record_every", "record every"), ("record_every", "record every"),
               ("model.hidden", "hidden units"), ("training.steps", "steps"), ("grid.resolution", "grid points"))


def in_form_words(rule):
    for spec_word, form_word in _RULE_WORDS:
        rule = rule.replace(spec_word, form_word)
    return rule


def rename_uploads(text, upload_names):
    names = upload_names or {}
    return _UPLOAD.sub(lambda m: f"'{names.get(m.group(0), 'the uploaded CSV')}'", text)


def user_message(text, spec=None, base_spec=None, row_of=None, upload_names=None):
    """The error ``text`` in the form's words. ``spec``: the spec dict the controls made (its optimizers name
    the runs); ``base_spec``: the spec before the user's change; ``row_of``: the table row of each enabled
    optimizer (spec index -> row); ``upload_names``: data path -> uploaded file name."""
    text = rename_uploads(str(text), upload_names)
    m = _HEAD.match(text)
    if not m:
        return Message(text)
    path, value, rule = m.group("path"), m.group("value"), m.group("rule")
    value = "" if value is None else value
    o = _OPT.match(path)
    if o:
        i = int(o.group("i"))
        opts = (spec or {}).get("optimizers") or []
        run = opts[i].get("label") or opts[i].get("name") if i < len(opts) else f"optimizer {i + 1}"
        label, kind = OPT_FIELDS.get(o.group("field") or "", (o.group("field") or "settings", ""))
        row = (row_of or {}).get(i, i)
        field = pattern_id(kind, row) if kind else ""
        return Message(f"{run}: {label} {value} {in_form_words(rule)}".replace("  ", " "), field)
    layer = re.match(r"^(?P<p>.*)\[(?P<k>\d+)\]$", path)
    if layer and layer.group("p") in FIELDS:                  # model.hidden[0]: its first layer
        path, value = layer.group("p"), f"(layer {int(layer.group('k')) + 1}) {value}".strip()
    if path in FIELDS:
        label, field = FIELDS[path]
        value = "(auto)" if value == "None" else value
        rule = in_form_words(rule)
        said = f"{label} {value}: {rule}" if value else f"{label}: {rule}"
        if "over the cap" in rule or "budget" in rule:
            changed = [c for c in changes(spec, base_spec) if c[0] != label]
            if changed:
                lab, old, new = changed[0]
                field = _ID_OF_LABEL.get(lab, field)
                said = f"Your change of {lab} ({old} → {new}) makes this run too large: {said}"
        return Message(said, field)
    return Message(text)
