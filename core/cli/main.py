"""Command line: python -m core run SPEC|PRESET [--out run.npz] [--quiet] | python -m core presets
| python -m core sweep SPEC|PRESET [--out sweep.npz] [--scheduler ADDR] [--workers N] [--resume FILE]
(the sweep: core/cli/sweep.py)

Prints a comparison table per optimizer. Errors and exit statuses: core.cli.common (docs/cli.md): bad input one
line on stderr and exit status 2, an internal failure exit status 1 (``--traceback`` shows where).
"""
from __future__ import annotations

import json
import os
import time

from core.cli import sweep as sweepcli
from core.cli.common import ArgParser, add_traceback_option, run_command
from core.cli.progress import StageBar
from core.errors import EngineError
from core.experiment.run import run_experiment
from core.experiment.spec import ExperimentSpec
from core.fileio import check_writable


def load_spec(arg):
    """A preset name or a path to a JSON spec file."""
    if arg.endswith(".json") or os.path.sep in arg:
        return ExperimentSpec.load(arg)
    return ExperimentSpec.preset(arg)


def _fmt(v, kind):
    if v is None:
        return "-"
    if kind == "f4":
        return f"{v:.4f}"
    if kind == "f3":
        return f"{v:.3f}"
    if kind == "f2":
        return f"{v:.2f}"
    if kind == "pct":
        return f"{100 * v:.0f}%"
    return str(v)


COLUMNS = [("optimizer", "label", "s"), ("final loss", "final_loss", "f4"), ("train acc", "train_acc", "f3"),
           ("test acc", "test_acc", "f3"), ("steps<target", "steps_to_target", "s"),
           ("diverged at", "diverged_at", "s"),
           # core.model.failure: first step from which the run is judged failed, live units at the end, peak loss
           ("failed at", "failed_at", "s"), ("live units", "live_units", "s"), ("peak loss", "peak_loss", "f4"),
           ("path length", "path_length", "f2"), ("in plane", "in_plane", "pct")]
# with curvature (spec.curvature.enabled): peak sharpness, final sharpness / its stability threshold, and the
# share of frames at or above the threshold
CURVATURE_COLUMNS = [("peak sharpness", "peak_sharpness", "f3"), ("final / threshold", "sharpness_ratio", "f3"),
                     ("frames >= threshold", "above_threshold", "pct")]


def format_table(rows):
    """Plain-text comparison table (one row per optimizer; curvature columns when the runs have curvature)."""
    cols = COLUMNS + (CURVATURE_COLUMNS if any(r.get("peak_sharpness") is not None for r in rows) else [])
    cells = [[h for h, _, _ in cols]] + [[_fmt(r.get(k), kind) for _, k, kind in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    lines = []
    for j, c in enumerate(cells):
        lines.append("  ".join(s.ljust(w) if i == 0 else s.rjust(w) for i, (s, w) in enumerate(zip(c, widths))))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_run(args):
    if args.out is not None:                    # before anything is computed
        check_writable("--out", args.out, ".npz", "run file")
    spec = load_spec(args.spec)
    t0 = time.perf_counter()
    with StageBar(enabled=not args.quiet, min_total=20000) as bar:   # long runs only; silent off a terminal
        result = run_experiment(spec, progress=bar)
    rows = result.summary()
    print(f"{spec.name}  (seed {spec.seed}, {result.info['dataset']}: {result.info['n_train']} train / "
          f"{result.info['n_test']} test, network {result.layer_sizes}, {result.info['n_params']} weights)")
    ev = result.plane.explained_variance
    explained = f", explained variance {ev[0]:.3f} + {ev[1]:.3f}" if ev is not None else ""
    print(f"plane: {result.plane.method}{explained}; target loss {spec.training.target_loss}")
    print(format_table(rows))
    if args.json:
        print(json.dumps(rows))
    if args.out:
        result.save(args.out)
        print(f"saved {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_presets(args):
    for name in ExperimentSpec.presets():
        spec = ExperimentSpec.preset(name)
        print(f"{name:18s} {spec.name}")
    return 0


def main(argv=None):
    ap = ArgParser(prog="python -m core", description="Train optimizers, build loss landscapes, compare.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a spec (a preset name or a .json file) and print the comparison table")
    r.add_argument("spec", help="preset name (see `python -m core presets`) or path to a JSON spec")
    r.add_argument("--out", help="save the result to this .npz file")
    r.add_argument("--json", action="store_true", help="also print the table's rows as JSON")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    add_traceback_option(r)
    p = sub.add_parser("presets", help="list the bundled presets")
    add_traceback_option(p)
    add_traceback_option(sweepcli.add_parser(sub))
    args = ap.parse_args(argv)
    commands = {"run": cmd_run, "presets": cmd_presets, "sweep": lambda a: sweepcli.cmd_sweep(a, load_spec)}
    return run_command(lambda: commands[args.cmd](args), traceback=args.traceback, failures=(EngineError,))
