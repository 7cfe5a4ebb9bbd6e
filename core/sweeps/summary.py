"""The compact table of a sweep: per optimizer, the best cell and the measured edges along the main axis (where
the first steps stop decreasing monotonically, where runs fail, how high the converging runs catapult), and, as
a *reference* only, the initial stability edge from the initial sharpness lambda_0.

    rows = [summary_row(block, target) for block in result.blocks.values()]   # or result.summary()
    print(format_summary(rows))
"""
from __future__ import annotations

import numpy as np

EOS_RATIO = 0.9     # "at the edge of stability": median final sharpness / threshold at least this

def _fmt_value(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def summary_row(block, target):
    """The table's numbers for one optimizer.

    main axis: lr when swept, else the first axis. Cells are judged over all seeds: a cell *converges* when
    every seed's run is done, did not diverge and ended below ``target``. best: the cell of lowest mean final
    loss among the cells where no seed failed (core.model.failure); ``at``: its values of the other axes, the
    slice along the main axis that the rest of the row reads. converges: the widest run of consecutive
    converging values in that slice (lo, hi). Measured edges in the slice (the smallest value at which some
    seed ...): nonmonotone_from (... had a loss that rose within its first failure.NONMONOTONE_STEPS steps),
    fails_from (... failed; at or above the best value when there is one), diverges_from (... diverged).
    catapult: the largest median over the seeds of peak loss / initial loss among the slice's cells where
    no seed failed but some spiked (None when none did). Reference, not a prediction: edge0, the *initial
    stability edge* (lr only), the learning rate at which the optimizer's threshold meets the largest initial
    sharpness of the seeds, threshold x lr / max lambda0 (gradient descent 2 / lambda0, momentum
    (2 + 2 beta) / lambda0, ...); lambda0: each seed's initial sharpness; fails_ratio = fails_from / edge0.
    eos: (lo, hi), the smallest and largest values of the slice at the *edge of stability*: no seed failed and
    the median over the seeds of final sharpness / threshold (gradient descent: sharpness x lr / 2) is at least
    EOS_RATIO; None without sharpness or when no cell is.
    """
    names = list(block.axes)
    main = "lr" if "lr" in names else names[0]
    m = names.index(main)
    done_all = block.done
    row = dict(label=block.label, optimizer=block.optimizer, axis=main, at={}, runs=block.n_runs,
               done=block.n_done, diverged=int(np.sum(done_all & (block.diverged_at >= 0))),
               failed=int(np.sum(done_all & block.failed)), best=None, best_loss=None, converges=None,
               nonmonotone_from=None, fails_from=None, diverges_from=None, catapult=None, edge0=None,
               lambda0=None, fails_ratio=None, eos=None)
    all_done = block.done.all(axis=0)
    no_fail = all_done & ~np.any(block.done & (block.failed | (block.diverged_at >= 0)), axis=0)
    mean = np.where(all_done, np.where(block.done, block.final_loss, np.nan).mean(axis=0), np.nan)
    ok = no_fail & np.isfinite(mean)
    if not ok.any():
        return row
    best = np.unravel_index(int(np.argmin(np.where(ok, mean, np.inf))), ok.shape)
    row["best"] = block.axes[main][best[m]].item()
    row["best_loss"] = float(mean[best])
    row["at"] = {k: block.axes[k][best[i]].item() for i, k in enumerate(names) if i != m}
    sl = (slice(None),) + tuple(slice(None) if i == m else best[i] for i in range(len(names)))
    vals = block.axes[main]
    row["converges"] = _widest(vals, block.converged(target)[sl].all(axis=0))    # (len(main axis),)
    done = block.done[sl]                                                        # (S, len(main axis))
    row["nonmonotone_from"] = _first(vals, done & block.nonmonotone[sl])
    row["fails_from"] = _first(vals, done & block.failed[sl], start=best[m])
    row["diverges_from"] = _first(vals, done & (block.diverged_at[sl] >= 0))
    with np.errstate(all="ignore"):
        height = np.median(block.peak_loss[sl] / block.loss0[sl], axis=0)        # (len(main axis),)
    kept = done.all(axis=0) & ~np.any(done & block.failed[sl], axis=0) & np.any(done & block.spiked[sl], axis=0)
    if np.any(kept & np.isfinite(height)):
        row["catapult"] = float(np.max(height[kept & np.isfinite(height)]))
    with np.errstate(all="ignore"):
        ratio = np.median(block.sharpness[sl] / block.threshold[sl], axis=0)      # (len(main axis),)
    at_eos = done.all(axis=0) & ~np.any(done & block.failed[sl], axis=0) & (np.nan_to_num(ratio) >= EOS_RATIO)
    if at_eos.any():
        row["eos"] = (vals[at_eos].min().item(), vals[at_eos].max().item())
    if main == "lr":
        thr, s0 = block.threshold[sl], block.sharpness0[sl]                       # (S, len(lr))
        c = (thr * vals)[done & np.isfinite(thr)]                                # threshold x lr: free of lr
        lam = [float(np.nanmax(np.where(done[i] & np.isfinite(s0[i]), s0[i], np.nan)))
               if np.any(done[i] & np.isfinite(s0[i])) else None for i in range(len(s0))]
        row["lambda0"] = lam
        known = [x for x in lam if x is not None]
        if c.size and known and max(known) > 0:
            row["edge0"] = float(np.median(c) / max(known))
            if row["fails_from"] is not None:
                row["fails_ratio"] = row["fails_from"] / row["edge0"]
    return row


def _widest(vals, conv):
    """(lo, hi) of the widest run of consecutive True in ``conv`` (len(vals),), or None."""
    run, widest = None, None
    for i, c in enumerate(list(conv) + [False]):
        if c and run is None:
            run = i
        if not c and run is not None:
            if widest is None or i - run > widest[1] - widest[0] + 1:
                widest = (run, i - 1)
            run = None
    return None if widest is None else (vals[widest[0]].item(), vals[widest[1]].item())


def _first(vals, flags, start=0):
    """The smallest value of ``vals`` at index >= start where some seed's flag (S, len(vals)) is set, or None."""
    hit = np.any(flags, axis=0)
    hit[:start] = False
    return vals[int(np.argmax(hit))].item() if hit.any() else None


def format_summary(rows):
    """The compact plain-text table: one row per optimizer."""
    def rng(r):
        return "-" if r["converges"] is None else f"[{_fmt_value(r['converges'][0])}, {_fmt_value(r['converges'][1])}]"
    def opt(k, f=_fmt_value):
        return lambda r: "-" if r[k] is None else f(r[k])
    cols = [("optimizer", lambda r: r["label"]), ("axis", lambda r: r["axis"]),
            ("at", lambda r: ", ".join(f"{k}={_fmt_value(v)}" for k, v in r["at"].items()) or "-"),
            ("best", opt("best")), ("final loss", opt("best_loss", lambda v: f"{v:.4f}")),
            ("converges in", rng),
            ("non-monotone from", opt("nonmonotone_from")), ("fails from", opt("fails_from")),
            ("diverges from", opt("diverges_from")),
            ("catapult", opt("catapult", lambda v: f"{v:.2f}x")),
            ("edge of stability", opt("eos", lambda v: f"[{_fmt_value(v[0])}, {_fmt_value(v[1])}]")),
            ("initial stability edge (ref.)", opt("edge0", lambda v: f"{v:.3g}")),
            ("lambda0 per seed", opt("lambda0", lambda v: ", ".join("-" if x is None else f"{x:.3g}" for x in v))),
            ("fails / edge", opt("fails_ratio", lambda v: f"{v:.2f}")),
            ("runs", lambda r: f"{r['done']}/{r['runs']}" if r["done"] != r["runs"] else str(r["runs"])),
            ("failed", lambda r: str(r["failed"])), ("diverged", lambda r: str(r["diverged"]))]
    cells = [[h for h, _ in cols]] + [[f(r) for _, f in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    lines = []
    for j, c in enumerate(cells):
        lines.append("  ".join(s.ljust(w) if i < 3 else s.rjust(w) for i, (s, w) in enumerate(zip(c, widths))))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
