"""What a sweep's map shows, as plain arrays: shared by the app's heat map (visualizer.figures.sweep) and the
PNG export (visualizer.export.sweep_png), so both draw the same numbers. No plotly, no matplotlib, no Dash.

    d = map_data(result, "momentum")      # one optimizer's grid: medians, spreads, marks, the initial stability edge
    ps = panels(result)                   # how the app groups the optimizers into panels
    spec, note = cell_spec(result, "momentum", flat_cell)   # the experiment that opens one cell's run

The colour of a cell is the **median over the seeds** of the final training loss, shown only when every seed
of the cell has run (a partial sweep leaves the other cells blank); the spread is the min and max over the
seeds; a cell is marked failed when some seed's run failed (core.model.failure: diverged, a dead hidden layer,
or a final loss at or above min(L0, H(mean y))), and counts the diverged ones (core.model.training's rule).
The *initial stability edge* (a reference, not a prediction of failure: on the presets it marks where the
first ~30 steps stop decreasing monotonically) is where the largest initial sharpness lambda_0 of the seeds
meets the optimizer's stability threshold: threshold x lr / lambda_0 (gradient descent 2 / lambda_0,
heavy-ball momentum (2 + 2 beta) / lambda_0, ...), one value per row of a map.

Axes: a block's x axis is its main axis (lr when swept, else its first axis), y its second axis; further
axes are held at the best cell's values (``fixed``, as core.sweeps.summary reads the map).
"""
from __future__ import annotations

import copy

import numpy as np
from core.sweeps.summary import EOS_RATIO, summary_row

THRESHOLD_RULES = {"momentum": "(2 + 2μ) / λ₀", "nesterov": "(2 + 2μ) / ((1 + 2μ) λ₀)",
                   "adam": "(2 + 2β₁) / ((1 − β₁) λ₀)"}


EDGE_NAME = "initial stability edge"     # the reference line's name (never "predicted": it predicts no failure)


def edge_rule(optimizer):
    """The initial stability edge's formula, e.g. "(2 + 2μ) / λ₀"."""
    return THRESHOLD_RULES.get(optimizer, "2 / λ₀")


def axis_is_log(form, values):
    """Whether an axis is drawn on a log scale: a {"log": ...} range, or a list of positive values spanning
    at least a factor 100."""
    if isinstance(form, dict):
        return "log" in form
    v = np.asarray(values, dtype=float)
    return bool(v.size > 2 and np.all(v > 0) and v.max() / v.min() >= 100)


def edges(v, log):
    """Cell edges (n + 1,) around centres ``v`` (n,): midpoints, geometric on a log axis."""
    v = np.asarray(v, dtype=float)
    if v.size == 1:
        return np.array([v[0] / 2, v[0] * 2]) if log and v[0] > 0 else np.array([v[0] - 0.5, v[0] + 0.5])
    w = np.log(v) if log else v
    mid = (w[1:] + w[:-1]) / 2
    e = np.concatenate([[w[0] - (mid[0] - w[0])], mid, [w[-1] + (w[-1] - mid[-1])]])
    return np.exp(e) if log else e


def map_data(result, label, metric="final_loss"):
    """Arrays of one optimizer's map. Returns a dict:

    x, y            axis values (y None for a single axis); xname, yname, xlog, ylog; fixed {axis: value}
    seeds_z         (S, ny, nx) every seed's ``metric`` (nan where not computed); ny = 1 without y
    z, median       (ny, nx) the median over the seeds, where every seed is done (nan elsewhere)
    lo, hi          (ny, nx) min and max over the seeds done (nan where none is)
    seeds_done      (ny, nx) how many seeds are done; done (ny, nx) bool: all of them
    seeds_diverged  (ny, nx) how many diverged; diverged (ny, nx) bool: some seed did
    seeds_failed    (ny, nx) how many failed (core.model.failure); failed (ny, nx) bool: some seed did
    eos             (ny, nx) median over the seeds of final sharpness / threshold (1: the edge of stability;
                    nan until every seed is done, or without sharpness)
    at_eos          (ny, nx) bool: the cell trains *at the edge of stability*: every seed done, none failed, and
                    eos >= core.sweeps.summary.EOS_RATIO (the summary's "edge of stability" column, per cell)
    median_seed     (ny, nx) index (into result.seeds) of the median run: the lower middle one when the
                    number of seeds is even (-1 until every seed is done)
    flat            (ny, nx) the cell's flat index in the block's grid (block.cell(flat) gives its values)
    edge0           (ny,) the initial stability edge per row (nan where unknown; all nan unless x is lr)
    rule            its formula; n_done, n_runs: runs of the block; S: seeds
    """
    b = result.blocks[label]
    spec_opt = result.spec.sweep.optimizers[result.labels.index(label)]
    names = list(b.axes)
    xname = "lr" if "lr" in names else names[0]
    rest = [n for n in names if n != xname]
    yname = rest[0] if rest else None
    grid, fixed = _slicer(b, xname, yname, summary_row(b, result.spec.training.target_loss))
    done = grid(b.done)                                             # (S, ny, nx)
    vals = np.where(done, grid(b.metrics[metric]).astype(float), np.nan)
    stats = _seed_stats(vals, done)
    div = done & (grid(b.diverged_at) >= 0)
    failed = done & (grid(b.failed) | div)
    with np.errstate(all="ignore"):
        eos = np.where(done.all(axis=0), np.median(grid(b.sharpness) / grid(b.threshold), axis=0), np.nan)
    at_eos = done.all(axis=0) & ~failed.any(axis=0) & (np.nan_to_num(eos) >= EOS_RATIO)
    flat_full = np.arange(int(np.prod(b.shape))).reshape(b.shape)[None]
    x = b.axes[xname]
    edge0 = _edge0(x, done, grid(b.threshold), grid(b.sharpness0)) if xname == "lr" else \
        np.full(done.shape[1], np.nan)
    return dict(x=x, y=b.axes[yname] if yname else None, xname=xname, yname=yname,
                xlog=axis_is_log(spec_opt.axes[xname], x),
                ylog=axis_is_log(spec_opt.axes[yname], b.axes[yname]) if yname else False,
                fixed=fixed, seeds_z=vals, z=stats["median"], seeds_diverged=div.sum(axis=0),
                diverged=div.any(axis=0), seeds_failed=failed.sum(axis=0), failed=failed.any(axis=0), eos=eos,
                at_eos=at_eos, flat=grid(flat_full)[0], edge0=edge0, rule=edge_rule(b.optimizer), n_done=b.n_done,
                n_runs=b.n_runs, S=done.shape[0], metric=metric, **stats)


def _slicer(b, xname, yname, row):
    """(grid, fixed): grid(a) takes a block array (S, *axes) to (S, ny, nx) on the map's two axes, the other
    axes held at the best cell's values (``fixed``, {axis: value})."""
    names = list(b.axes)
    fixed, index = {}, []
    for n in names:
        if n in (xname, yname):
            index.append(slice(None))
        else:
            v = row["at"].get(n, b.axes[n][0].item())
            fixed[n] = v
            index.append(int(np.flatnonzero(b.axes[n] == v)[0]))
    sel = (slice(None),) + tuple(index)
    kept = [n for n in names if n in (xname, yname)]               # the order of the remaining dimensions

    def grid(a):                                                    # (S, ...) -> (S, ny, nx)
        a = a[sel]
        if yname is None:
            return a[:, None, :]
        return a if kept == [yname, xname] else np.swapaxes(a, 1, 2)
    return grid, fixed


def _seed_stats(vals, done):
    """Over the seeds (axis 0) of vals (S, ny, nx): median (where every seed is done), lo, hi (where some is),
    seeds_done, done, and median_seed (the lower middle run's index, -1 until every seed is done)."""
    S = done.shape[0]
    all_done = done.all(axis=0)
    seeds_done = done.sum(axis=0)
    with np.errstate(all="ignore"):
        order = np.argsort(np.where(np.isnan(vals), np.inf, vals), axis=0, kind="stable")    # (S, ny, nx)
        mid = np.take_along_axis(order, np.full((1,) + all_done.shape, (S - 1) // 2), axis=0)[0]
        median = np.where(all_done, np.median(np.where(all_done, vals, 0.0), axis=0), np.nan)
        some = seeds_done > 0
        lo = np.where(some, np.nanmin(np.where(some, vals, 0.0), axis=0), np.nan)
        hi = np.where(some, np.nanmax(np.where(some, vals, 0.0), axis=0), np.nan)
    return dict(median=median, lo=lo, hi=hi, seeds_done=seeds_done, done=all_done,
                median_seed=np.where(all_done, mid, -1))


def _edge0(x, done, thr, s0):
    """(ny,) the learning rate per row at which the threshold meets the largest initial sharpness λ₀ of the
    seeds: median(threshold x lr) / max λ₀ (nan where unknown)."""
    edge0 = np.full(done.shape[1], np.nan)
    for j in range(done.shape[1]):
        ok = done[:, j, :]
        c = (thr[:, j, :] * x[None, :])[ok & np.isfinite(thr[:, j, :])]
        lam = s0[:, j, :][ok & np.isfinite(s0[:, j, :])]
        if c.size and lam.size and lam.max() > 0:
            edge0[j] = np.median(c) / lam.max()
    return edge0


def panels(result):
    """How the app draws a sweep: a list of dicts ``{"kind": "rows", "xname", "labels"}`` (optimizers with one
    axis, one row each, grouped by that axis: the lr x optimizer map) and ``{"kind": "map", "label"}`` (an
    optimizer with two or more axes: x its main axis, y its second). Rows panels come first, then the maps,
    each in the spec's order."""
    rows, maps = {}, []
    for label, b in result.blocks.items():
        if len(b.axes) == 1:
            x = next(iter(b.axes))
            rows.setdefault(x, []).append(label)
        else:
            maps.append({"kind": "map", "label": label})
    return [{"kind": "rows", "xname": x, "labels": labs} for x, labs in rows.items()] + maps


def fmt(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def cell_text(result, d, j, i, label):
    """One cell's hover text: its values, the median and spread over the seeds, how many failed and diverged."""
    where = f"{d['xname']} {fmt(d['x'][i].item())}"
    if d["y"] is not None:
        where += f", {d['yname']} {fmt(d['y'][j].item())}"
    where += "".join(f", {k} {fmt(v)}" for k, v in d["fixed"].items())
    S, n = d["S"], int(d["seeds_done"][j, i])
    head = f"<b>{label}</b>: {where}<br>"
    if n == 0:
        return head + "not computed yet"
    if not d["done"][j, i]:
        return head + f"{n} of {S} seeds done so far (min {d['lo'][j, i]:.4g}, max {d['hi'][j, i]:.4g})"
    seed = int(result.seeds[d["median_seed"][j, i]])
    txt = (head + f"final train loss: median {d['median'][j, i]:.4g} over {S} seed{'s' if S != 1 else ''}"
           f" (min {d['lo'][j, i]:.4g}, max {d['hi'][j, i]:.4g})<br>failed: {int(d['seeds_failed'][j, i])} of {S}, "
           f"diverged: {int(d['seeds_diverged'][j, i])} of {S}")
    if np.isfinite(d["eos"][j, i]):
        txt += f"<br>final sharpness / stability threshold: median {d['eos'][j, i]:.3g} (1: edge of stability)"
    return txt + f"<br>click: open the median run (seed {seed}) in the Landscape tab"


# ------------------------------------------------------------------ a cell's run as an experiment
def data_depends_on_seed(spec):
    """Whether the spec's data (points or split) are drawn from its seed: every split but the article's."""
    d = spec.data
    split = d.split if d.split is not None else ("article" if d.name in ("wisconsin", "csv") else "stratified")
    return split != "article"


def cell_spec(result, label, flat, seed_index=None):
    """(experiment spec dict, note) of one cell's run: the sweep spec's experiment (data, model, training,
    plane, grid, curvature) with one optimizer, the block's fixed hyper-parameters and the cell's values,
    and ``spec.seed`` = the run's seed (default: the cell's median run, else its first seed). ValueError when
    the cell does not exist. The note says which run it is and, when the data are drawn from the seed, that
    the experiment's points differ from the sweep's (a sweep takes its data from the spec's own seed)."""
    if label not in result.blocks:
        raise ValueError(f"sweep cell: no optimizer {label!r} in this sweep")
    b = result.blocks[label]
    n = int(np.prod(b.shape))
    if isinstance(flat, bool) or not isinstance(flat, (int, np.integer)) or not 0 <= int(flat) < n:
        raise ValueError(f"sweep cell: index {flat!r} is outside {label}'s grid of {n} cells")
    flat = int(flat)
    values = b.cell(flat)
    idx = np.unravel_index(flat, b.shape)
    done = b.done[(slice(None),) + idx]
    if seed_index is None:
        if done.all():
            v = b.final_loss[(slice(None),) + idx]
            seed_index = int(np.argsort(v, kind="stable")[(len(v) - 1) // 2])
            which = (f"the median run of {len(v)} seeds" if len(v) % 2 else
                     f"the lower of the two middle runs of {len(v)} seeds, whose mean the map shows")
        else:
            seed_index = 0
            which = "its first seed"
    else:
        which = "the chosen seed"
    seed = int(result.seeds[seed_index])
    spec = result.spec
    d = copy.deepcopy(spec.to_dict())
    d.pop("sweep", None)
    opt = {"name": b.optimizer, **dict(b.hparams)}
    batch = values.pop("batch_size", None)
    opt.update(values)
    cells = ", ".join(f"{k}={fmt(v)}" for k, v in values.items())
    opt["label"] = (f"{label} {cells}")[:40].rstrip(" ,")
    d["optimizers"] = [opt]
    d["seed"] = seed
    d["name"] = f"{spec.name} | {label} {cells}{f', batch_size={batch}' if batch else ''}, seed {seed}"[:200]
    if batch is not None:
        d["training"]["batch_size"] = int(batch)
    d.setdefault("plane", {})["center_on"] = None
    batch_text = f", batch_size={batch}" if batch else ""
    note = f"Opened from the sweep: {label} at {cells}{batch_text}, seed {seed} ({which})."
    if data_depends_on_seed(spec):
        note += (f" Its data are drawn from the seed, so this run trains on seed {seed}'s points, not the sweep's "
                 f"(seed {spec.seed}); its numbers can differ from the map's.")
    return d, note
