"""Pictures of a sweep (core.sweeps.run.SweepResult): the stability map of each optimizer.

    data = map_data(result, "momentum")             # plain arrays (visualizer.plotdata.sweep_map): what the app's map
    draws too
    fig = sweep_figure(result, size=(960, 480))     # a matplotlib Figure: one panel per optimizer
    write_sweep_png(result, "sweep.png")            # atomically, as the exporters write
    python -m visualizer export SWEEP.npz --format png --out sweep.png [--size WxH] [--title TEXT]

A panel's x axis is the optimizer's main axis (lr when swept, else its first axis); with a second axis
(momentum, ...) the panel is a heat map of the median final training loss over the seeds on a log colour scale,
otherwise the final loss of every seed (thin) and their median (thick) against x. Further axes are held at the
best cell's values (named in the panel title). Cells where some seed failed (core.model.failure) are marked
with a red x; runs not computed yet (a partial sweep) are grey. The dashed line is a reference, the initial
stability edge: the lr at which the largest initial sharpness lambda_0 of the seeds meets the optimizer's
stability threshold (gradient descent 2 / lambda_0, momentum (2 + 2 beta) / lambda_0; for every value of the
second axis on a map). It marks where the first steps stop decreasing monotonically, not where runs fail.
"""
from __future__ import annotations

import os
import time

import numpy as np

from visualizer.plotdata.sweep_map import EDGE_NAME, EOS_RATIO
from visualizer.plotdata.sweep_map import edges as _edges
from visualizer.plotdata.sweep_map import map_data
from core.cli.progress import check_interrupted
from core.fileio import atomic_path, check_writable
from visualizer.errors import UsageError
from visualizer.export.options import EXPORT_CONSTRAINTS
from visualizer.export.options import SIZE_RULE
from visualizer.export.options import parse_size
from visualizer.export.run import Summary
import core
from core.sweeps.result import is_sweep_file

EDGE_LABEL = EDGE_NAME + " ($\\lambda_0$)"
EOS_LABEL = f"edge of stability (sharpness $\\geq$ {EOS_RATIO:g} threshold)"

PNG_SIZE = (960, 480)


def _fmt(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def sweep_figure(result, labels=None, size=PNG_SIZE, dpi=100, title=None):
    """A matplotlib Figure (Agg, not attached to pyplot): one panel per optimizer (see the module docstring)."""
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure
    labels = list(result.labels if labels is None else labels)
    w, h = size
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    axes = fig.subplots(1, len(labels), squeeze=False)[0]
    steps = result.spec.training.steps
    S = len(result.seeds)
    for ax, label in zip(axes, labels):
        d = map_data(result, label)
        x, z = d["x"], d["z"]
        sub = label + (" (" + ", ".join(f"{k}={_fmt(v)}" for k, v in d["fixed"].items()) + ")" if d["fixed"] else "")
        if d["n_done"] < d["n_runs"]:
            sub += f"\npartial: {d['n_done']:,} of {d['n_runs']:,} runs"
        ax.set_title(sub, fontsize=9)
        ax.set_xlabel(d["xname"])
        if d["xlog"]:
            ax.set_xscale("log")
        finite = z[np.isfinite(z) & (z > 0)]
        if d["y"] is not None:
            y = d["y"]
            vmin, vmax = (finite.min(), max(finite.max(), finite.min() * 1.01)) if finite.size else (1e-3, 1.0)
            zm = np.ma.masked_invalid(np.where(z > 0, z, np.nan))
            import matplotlib
            cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#d0d0d0")     # runs not computed: grey
            mesh = ax.pcolormesh(_edges(x, d["xlog"]), _edges(y, d["ylog"]), zm, norm=LogNorm(vmin, vmax),
                                 cmap=cmap, shading="flat")
            fig.colorbar(mesh, ax=ax, label=f"final loss (median of {S} seed{'s' if S != 1 else ''})")
            ax.set_ylabel(d["yname"])
            if d["ylog"]:
                ax.set_yscale("log")
            jj, ii = np.nonzero(d["failed"])
            if ii.size:
                ax.scatter(x[ii], y[jj], marker="x", s=14, c="red", linewidths=1.0, label="failed")
            jj, ii = np.nonzero(d["at_eos"])
            if ii.size:
                ax.scatter(x[ii], y[jj], marker="o", s=30, facecolors="none", edgecolors="white", linewidths=1.2,
                           label=EOS_LABEL)
            ok = np.isfinite(d["edge0"])
            if ok.any():
                ax.plot(d["edge0"][ok], y[ok], "--", color="white", lw=1.5, label=EDGE_LABEL)
            ax.set_xlim(_edges(x, d["xlog"])[[0, -1]])
            ax.set_ylim(_edges(y, d["ylog"])[[0, -1]])
        else:
            sz = d["seeds_z"][:, 0, :]
            for s in range(sz.shape[0]):
                ax.plot(x, sz[s], color="0.6", lw=0.8)
            ax.plot(x, z[0], color="C0", lw=2, label=f"median of {S} seed{'s' if S != 1 else ''}")
            ax.set_yscale("log")
            ax.set_ylabel("final loss")
            bad = d["failed"][0]
            if bad.any():
                top = np.nanmax(sz) if np.isfinite(sz).any() else 1.0
                ax.scatter(x[bad], np.full(bad.sum(), top), marker="x", s=18, c="red", label="failed")
            at = d["at_eos"][0]
            if at.any():
                ax.scatter(x[at], z[0][at], marker="o", s=40, facecolors="none", edgecolors="C1", linewidths=1.5,
                           label=EOS_LABEL)
            if np.isfinite(d["edge0"][0]):
                ax.axvline(d["edge0"][0], ls="--", color="k", lw=1, label=EDGE_LABEL)
        if d["y"] is not None:                  # under the map, so it hides no cell
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3,
                      facecolor="0.45", framealpha=1.0, labelcolor="white")     # grey: the white marks show
        else:
            ax.legend(fontsize=7, loc="lower left", framealpha=0.7)
    head = title if title is not None else result.spec.name
    fig.suptitle(f"{head}\nfinal training loss after {steps:,} steps; x: some seed failed; "
                 "o: at the edge of stability;\ndashed (a reference): "
                 "initial stability edge, where the initial sharpness meets the stability threshold", fontsize=9)
    fig.tight_layout()
    return fig


def write_sweep_png(result, path, size=PNG_SIZE, title=None, dpi=100):
    """Write the sweep's PNG atomically (core.fileio.atomic_path); return the path."""
    fig = sweep_figure(result, size=size, dpi=dpi, title=title)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi, metadata={"Software": None})
    return path


def is_sweep_input(src):
    return os.fspath(src).lower().endswith(".npz") and is_sweep_file(src)


def export_sweep(a, t0=None):
    """``python -m visualizer export SWEEP.npz --format png --out FILE [--size WxH] [--title TEXT]``: the still
    of a sweep's map; other options do not apply. Returns visualizer.export.Summary; UsageError on bad input."""
    t0 = time.perf_counter() if t0 is None else t0
    fmt = (a.format or os.path.splitext(a.out)[1].lstrip(".")).lower()
    if fmt != "png":
        raise UsageError("--format", a.format or f"(from --out {a.out})", "a sweep file exports as png only")
    w, h = parse_size(a.size)
    if not (EXPORT_CONSTRAINTS["--width"].allows(w) and EXPORT_CONSTRAINTS["--height"].allows(h)):
        raise UsageError("--size", a.size, SIZE_RULE)
    folder = os.path.dirname(os.path.abspath(a.out))
    if not os.path.isdir(folder):
        raise UsageError("--out", a.out, f"folder {folder!r} does not exist")
    check_writable("--out", a.out)                   # a read-only or full folder: before reading the sweep
    try:
        result = core.load_sweep(a.spec)
    except ValueError as e:
        raise UsageError("SPEC", a.spec, str(e).split("': ", 1)[-1]) from None
    write_sweep_png(result, a.out, size=(w, h), title=a.title)
    check_interrupted()
    return Summary(path=os.fspath(a.out), format="png", bytes=os.path.getsize(a.out), frames=1,
                   seconds=time.perf_counter() - t0, size=(w, h))
