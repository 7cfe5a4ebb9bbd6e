"""python -m visualizer export: the command line (parse, check early, export, one line out).

Bad input prints one line (``error: --size 100x100: must be WxH pixels ...``) and exits with status 2;
a missing or failing encoder exits with 1; Ctrl-C 130, SIGTERM 143; nothing is left behind
(core.cli.common, docs/cli.md). ``--out`` is checked for writing before anything is computed.
"""
from __future__ import annotations

import sys
import time


from visualizer.plotdata import view as V
from visualizer.plotdata.panels import PANELS
from visualizer.errors import EncoderError, UsageError
from visualizer.export.inputs import check_optimizers, check_spec_panels, check_slice_optimizer, read_input, spec_labels
from visualizer.export.options import (EXPORT_CONSTRAINTS, FORMATS, MAX_SIZE, MIN_SIZE, ExportOptions, parse_panels,
                                         parse_size)
from visualizer.export.run import export
from core.cli.common import ArgParser, add_traceback_option, parse_int, parse_number, run_command
from core.fileio import check_writable
from visualizer.export.sweep_png import export_sweep, is_sweep_input


def build_parser():
    ap = ArgParser(
        prog="python -m visualizer export",
        description="Export a loss-landscape animation (GIF, MP4, HTML) or a still (PNG).",
        epilog="Example: python -m visualizer export four_optimizers --format gif --out four.gif "
               "--frames 120 --size 640x480 --scale log")
    ap.add_argument("spec", metavar="SPEC", help="a preset name, a .json spec file or a saved .npz run "
                                                 "(or sweep: --format png, --size and --title only)")
    C = {k: c.hint() for k, c in EXPORT_CONSTRAINTS.items()}
    size = f"{MIN_SIZE[0]}x{MIN_SIZE[1]}..{MAX_SIZE[0]}x{MAX_SIZE[1]}"
    ap.add_argument("--format", help=f"{C['--format']} (default: from the --out extension)")
    ap.add_argument("--out", required=True, help="output file (its folder must exist)")
    ap.add_argument("--frames", default="100", help=f"animation frames, {C['--frames']} (default 100)")
    ap.add_argument("--fps", default="20", help=f"frames per second, {C['--fps']} (default 20)")
    ap.add_argument("--size", help=f"WxH in pixels of the whole frame, {size} (default 640x480; each panel "
                                   "more adds 480 pixels of width)")
    ap.add_argument("--elev", help=f"camera elevation in degrees, {C['--elev']} (default 30; HTML: the app's camera)")
    ap.add_argument("--azim", help=f"camera azimuth in degrees, {C['--azim']} (default -60; HTML: the app's camera)")
    ap.add_argument("--rotate", default="0", help=f"camera turn over the animation in degrees, {C['--rotate']} "
                                                  "(default 0)")
    ap.add_argument("--scale", default=V.DEFAULT_SCALE,
                    help=f"height scale: {C['--scale']} (default {V.DEFAULT_SCALE}, as the app)")
    ap.add_argument("--clip", default="100", help=f"clip heights above this percentile, {C['--clip']} (default 100)")
    ap.add_argument("--exaggerate", default="1", help=f"vertical exaggeration, {C['--exaggerate']} (default 1)")
    ap.add_argument("--moving", action="store_true", help="the landscape follows the weights (moving landscape)")
    ap.add_argument("--optimizers", help="comma-separated labels to show (default: all)")
    ap.add_argument("--title", help="title (default: the spec's name)")
    ap.add_argument("--step", help="PNG: the training step to show (default: the last)")
    ap.add_argument("--panels", default="landscape", help=f"comma-separated, side by side: {','.join(PANELS)} "
                                                          "(default landscape)")
    ap.add_argument("--slice-optimizer", help="the slices panel's run (default: the first shown)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    add_traceback_option(ap)
    return ap


def _optional(parse, option, s):
    return parse(option, s) if s is not None else None


def options_from_args(a):
    opts = ExportOptions(
        out=a.out, format=a.format.lower() if a.format else None,
        frames=parse_int("--frames", a.frames), fps=parse_int("--fps", a.fps),
        size=parse_size(a.size) if a.size is not None else None,
        elev=_optional(parse_number, "--elev", a.elev), azim=_optional(parse_number, "--azim", a.azim),
        rotate=parse_number("--rotate", a.rotate), scale=a.scale, clip=parse_number("--clip", a.clip),
        exaggerate=parse_number("--exaggerate", a.exaggerate), moving=a.moving,
        optimizers=[s.strip() for s in a.optimizers.split(",")] if a.optimizers is not None else None,
        title=a.title, step=_optional(parse_int, "--step", a.step), progress=not a.quiet,
        panels=parse_panels(a.panels), slice_optimizer=a.slice_optimizer)
    if a.format and opts.format not in FORMATS:
        raise UsageError("--format", a.format, f"allowed are {', '.join(FORMATS)}")
    return opts.validate()


def _run(a, t0):
    if a.spec.lower().endswith(".npz"):       # a sweep file: its map as a PNG (visualizer/sweep_figures.py)
        if is_sweep_input(a.spec):
            return export_sweep(a, t0)
    opts = options_from_args(a)
    check_writable("--out", opts.out)         # a read-only or full folder: before anything is computed
    labels = spec_labels(a.spec)              # early checks: before a possibly long run
    if labels is not None:
        check_optimizers(opts.optimizers, labels)
        check_slice_optimizer(opts.slice_optimizer, opts.optimizers or labels)
        check_spec_panels(a.spec, opts.panels)
    result = read_input(a.spec, moving=opts.moving, progress=opts.progress)
    return export(result, opts, t0=t0)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    a = build_parser().parse_args(argv)       # argparse's own errors: one line, exit 2
    t0 = time.perf_counter()
    summary = []

    def body():
        summary.append(_run(a, t0))           # SIGTERM cleans up like Ctrl-C: export() removes its .part file

    status = run_command(body, traceback=a.traceback, failures=(EncoderError,))
    if status == 0:
        print(summary[0].line(), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
