"""The compact table of a sweep: per optimizer, the best cell, the widest converging range along the main axis,
where divergence starts, and that learning rate against the one the initial curvature predicts.

    rows = [summary_row(block, target) for block in result.blocks.values()]   # or result.summary()
    print(format_summary(rows))
"""
from __future__ import annotations

import numpy as np


def _fmt_value(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def summary_row(block, target):
    """The table's numbers for one optimizer.

    main axis: lr when swept, else the first axis. Cells are judged over all seeds: a cell *converges* when
    every seed's run is done, did not diverge and ended below ``target``. best: the cell of lowest mean final
    loss among the cells where no seed diverged; ``at``: its values of the other axes, the slice along the
    main axis that the rest of the row reads. converges: the widest run of consecutive converging values in
    that slice (lo, hi). diverges_from: the smallest value in the slice at which some seed diverged.
    predicted: (lr only) the learning rate at which the optimizer's threshold meets the largest initial
    sharpness of the seeds, threshold x lr / max sharpness0 (gradient descent 2 / lambda_0, momentum
    (2 + 2 beta) / lambda_0, ...); ratio = diverges_from / predicted.
    """
    names = list(block.axes)
    main = "lr" if "lr" in names else names[0]
    m = names.index(main)
    row = dict(label=block.label, optimizer=block.optimizer, axis=main, at={}, runs=block.n_runs,
               done=block.n_done, diverged=int(np.sum(block.done & (block.diverged_at >= 0))), best=None,
               best_loss=None, converges=None, diverges_from=None, predicted=None, ratio=None)
    all_done = block.done.all(axis=0)
    no_div = all_done & ~np.any(block.done & (block.diverged_at >= 0), axis=0)
    mean = np.where(all_done, np.where(block.done, block.final_loss, np.nan).mean(axis=0), np.nan)
    ok = no_div & np.isfinite(mean)
    if not ok.any():
        return row
    best = np.unravel_index(int(np.argmin(np.where(ok, mean, np.inf))), ok.shape)
    row["best"] = block.axes[main][best[m]].item()
    row["best_loss"] = float(mean[best])
    row["at"] = {k: block.axes[k][best[i]].item() for i, k in enumerate(names) if i != m}
    sl = tuple(slice(None) if i == m else best[i] for i in range(len(names)))
    vals = block.axes[main]
    conv = block.converged(target)[(slice(None),) + sl].all(axis=0)          # (len(main axis),)
    run, widest = None, None
    for i, c in enumerate(list(conv) + [False]):
        if c and run is None:
            run = i
        if not c and run is not None:
            if widest is None or i - run > widest[1] - widest[0] + 1:
                widest = (run, i - 1)
            run = None
    if widest is not None:
        row["converges"] = (vals[widest[0]].item(), vals[widest[1]].item())
    div = np.any((block.done & (block.diverged_at >= 0))[(slice(None),) + sl], axis=0)
    if div.any():
        row["diverges_from"] = vals[int(np.argmax(div))].item()
    if main == "lr":
        thr = block.threshold[(slice(None),) + sl]                           # (S, len(lr))
        s0 = block.sharpness0[(slice(None),) + sl]
        done = block.done[(slice(None),) + sl]
        c = (thr * vals)[done & np.isfinite(thr)]                            # threshold x lr: free of lr
        lam = s0[done & np.isfinite(s0)]
        if c.size and lam.size and lam.max() > 0:
            row["predicted"] = float(np.median(c) / lam.max())
            if row["diverges_from"] is not None:
                row["ratio"] = row["diverges_from"] / row["predicted"]
    return row


def format_summary(rows):
    """The compact plain-text table: one row per optimizer."""
    def rng(r):
        return "-" if r["converges"] is None else f"[{_fmt_value(r['converges'][0])}, {_fmt_value(r['converges'][1])}]"
    cols = [("optimizer", lambda r: r["label"]), ("axis", lambda r: r["axis"]),
            ("at", lambda r: ", ".join(f"{k}={_fmt_value(v)}" for k, v in r["at"].items()) or "-"),
            ("best", lambda r: "-" if r["best"] is None else _fmt_value(r["best"])),
            ("final loss", lambda r: "-" if r["best_loss"] is None else f"{r['best_loss']:.4f}"),
            ("converges in", rng),
            ("diverges from", lambda r: "-" if r["diverges_from"] is None else _fmt_value(r["diverges_from"])),
            ("predicted", lambda r: "-" if r["predicted"] is None else f"{r['predicted']:.3g}"),
            ("ratio", lambda r: "-" if r["ratio"] is None else f"{r['ratio']:.2f}"),
            ("runs", lambda r: f"{r['done']}/{r['runs']}" if r["done"] != r["runs"] else str(r["runs"])),
            ("diverged", lambda r: str(r["diverged"]))]
    cells = [[h for h, _ in cols]] + [[f(r) for _, f in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    lines = []
    for j, c in enumerate(cells):
        lines.append("  ".join(s.ljust(w) if i < 3 else s.rjust(w) for i, (s, w) in enumerate(zip(c, widths))))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
