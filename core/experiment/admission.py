"""Admission against a work cap: the estimate (core.experiment.budget), the budgets, and when the estimate is
over the cap, what to reduce and to what.

    units = admit(spec, max_work=3e10)     # ValueError: "... needs an estimated 8.1e+10 work units (about 27 s of
                                           # computing here), over this server's limit of 3e+10 (serve --max-work);
                                           # use training.steps <= 7,300 (now 20,000) or fewer optimizers ..."

The part of the estimate that costs most is cut first: training (training.steps), surfaces (grid.resolution,
grid.moving_frames), curvature (curvature.stride), the plane (a PCA of many frames: training.record_every; a
Hessian plane: another plane.method), each found by a binary search over that field (the work is monotone in
it). Used by the server's runners (visualizer.serving) for ``serve --max-work``; sweeps have their own cap and
advice (core.experiment.sweep_section.check_sweep_budget) in the same units.
"""
from __future__ import annotations

import copy

from core.experiment.budget import check_budget, curvature_stride, estimate_work, seconds
from core.experiment.spec import ExperimentSpec
from core.model.training import record_plan

PARTS = ("train", "surface", "curvature", "plane", "other")     # estimate_work's parts, what admit may cut


def _best(spec_dict, section, key, lo, hi, fits, largest=True):
    """The largest (or smallest) v in [lo, hi] for spec_dict[section][key] with fits(spec), by binary search
    (the work is monotone in each such field), or None."""
    def ok(v):
        d = copy.deepcopy(spec_dict)
        d[section][key] = v
        return fits(ExperimentSpec.from_dict(d))
    if hi < lo or not ok(lo if largest else hi):
        return None
    while lo < hi:
        if largest:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if ok(mid) else (lo, mid - 1)
        else:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if ok(mid) else (mid + 1, hi)
    return lo


def _searches(spec, biggest, n_params, n_train):
    """(section, key, lo, hi, largest) of the fields to search for the part that costs most."""
    t, g = spec.training, spec.grid
    if biggest == "train":
        return [("training", "steps", 1, t.steps - 1, True)]
    if biggest == "surface":
        return [("grid", "resolution", 3, g.resolution - 1, True)] + (
            [("grid", "moving_frames", 2, g.moving_frames - 1, True)] if g.moving else [])
    if biggest == "curvature":
        frames = len(record_plan(t.steps, t.record_every))
        now = curvature_stride(spec, n_params, n_train)
        return [("curvature", "stride", now + 1, max(frames, now + 1), False)]
    if biggest == "plane" and spec.plane.method == "pca":       # the PCA of many recorded frames of a big model
        return [("training", "record_every", t.record_every + 1, max(t.steps, t.record_every + 1), False)]
    return []


def advice(spec, est, max_work):
    """"use A or B ...": the fields to reduce (with the value that fits ``max_work`` and the value now), then
    the other ways down, for the part of ``est`` (estimate_work's dict) that costs most."""
    n_params, n_train, n_test = est["n_params"], est["n_train"], est["n_test"]

    def fits(s):
        return estimate_work(s, n_params, n_train, n_test)["total"] <= max_work
    d = spec.to_dict()
    biggest = max(PARTS, key=lambda k: est.get(k, 0.0))
    fixes = []
    for section, key, lo, hi, largest in _searches(spec, biggest, n_params, n_train):
        v = _best(d, section, key, lo, hi, fits, largest)
        if v is not None:
            fixes.append(f"{section}.{key} {'<=' if largest else '>='} {v:,} (now {d[section][key]:,})")
    t = spec.training
    others = ["curvature.enabled false" if biggest == "curvature" else None,
              "plane.method \"pca\" (a Hessian plane needs the Hessian's eigenvectors)"
              if biggest == "plane" and spec.plane.method == "hessian" else None,
              "fewer optimizers" if len(spec.optimizers) > 1 else None,
              f"a smaller model.hidden (now {list(spec.model.hidden)})",
              ("a training.batch_size (mini-batches)" if t.batch_size is None else "a smaller training.batch_size")
              if biggest == "train" else None]
    return "use " + " or ".join(fixes + [o for o in others if o])


def admit(spec, max_work=None, files=None, *, limit="this server's limit", option="serve --max-work"):
    """The estimated work (units) of ``spec``; ValueError naming what to reduce when it is over ``max_work``
    (None: no cap) or over a budget (check_budget). ``files``: the rule for CSV data (core.data.csvfile.DataFiles),
    to count a CSV's rows. ``limit``, ``option``: how the message names the cap and the setting that sets it."""
    est = estimate_work(spec, files=files)
    check_budget(spec, est["n_params"], est["n_train"])
    total = est["total"]
    if max_work is None or total <= max_work:
        return total
    raise ValueError(
        f"this experiment needs an estimated {total:.2g} work units (about {seconds(total):.0f} s of computing "
        f"here), over {limit} of {max_work:.2g} ({option}); {advice(spec, est, max_work)}")
