"""python -m core sweep SPEC|PRESET [--out sweep.npz] [--scheduler ADDR] [--workers N] [--resume FILE] ...

Runs a sweep spec (core.sweeps.run) with a progress bar over runs (on a terminal only), then prints the compact
table: per optimizer, the best value of its main axis (lr when swept), the widest converging range, the measured
edges (non-monotone from, fails from, catapult height) and, for lr, the initial stability edge 2 / lambda0 as a
reference (it marks where the first steps stop decreasing monotonically, not where training fails).

--out FILE is written atomically as runs finish (a partial sweep, at most every 2 s), so an interrupted
sweep (Ctrl-C, SIGTERM) keeps what is done; ``--resume FILE`` computes only the missing runs (the spec comes
from the file; a SPEC given too must be the same) and writes to --out, or back to FILE without one.
Bad input, an unreachable scheduler or a peer that is not one: one line on stderr, exit status 2; a cluster
failure: exit status 1 (core.cli.common, docs/cli.md).
"""
from __future__ import annotations

import json
import os
import sys
import time

from core.cli.common import INTERRUPTED, TERMINATED, parse_int, parse_number
from core.cli.progress import StageBar
from core.errors import Terminated
from core.fileio import check_writable
from core.parallel.engine import CONNECT_TIMEOUT, TIMEOUT, quiet_dask_logs
from core.model.failure import NONMONOTONE_STEPS
from core.sweeps.result import load_sweep
from core.sweeps.run import sweep
from core.sweeps.summary import EOS_RATIO, format_summary

EDGE_NOTE = ("converges: every seed below the target loss; non-monotone from: the smallest value at which some "
             f"seed's loss rose in its first {NONMONOTONE_STEPS} steps;\nfails from: the smallest value (at or "
             "above the best) at which some seed failed (diverged, a dead hidden layer, or a final loss >= "
             "min(L0, H(mean y)));\ncatapult: the highest peak / initial loss among cells that spiked without failing; "
             f"edge of stability: the values where no seed failed and the median final sharpness / threshold >= "
             f"{EOS_RATIO};\n"
             "initial stability edge (a reference, not a prediction): the lr at which\nthe largest initial "
             "sharpness lambda0 of the seeds meets the optimizer's threshold (gradient descent 2 / lambda0, "
             "momentum (2 + 2 beta) / lambda0); fails / edge = fails from / that edge")


def add_parser(sub):
    s = sub.add_parser("sweep", help="sweep hyper-parameters over seeds (a spec with a \"sweep\" section, e.g. "
                                     "the lr_sweep preset) and print the stability table")
    s.add_argument("spec", nargs="?", help="preset name or JSON spec with a sweep section (optional with --resume)")
    s.add_argument("--out", help="save the sweep to this .npz file (written as runs finish)")
    s.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:8786), or \"inline\" to run in this "
                                       "process; default: $DASK_SCHEDULER_ADDRESS, else a local cluster")
    s.add_argument("--workers", help="processes of the local cluster (default: one per CPU)")
    s.add_argument("--resume", metavar="FILE", help="compute only the missing runs of this partial sweep")
    s.add_argument("--timeout", default=str(CONNECT_TIMEOUT),
                   help=f"seconds to reach the scheduler (default {CONNECT_TIMEOUT:g})")
    s.add_argument("--chunk-size", help="runs a task (default: about 2 s of work)")
    s.add_argument("--json", action="store_true", help="also print the table's rows as JSON")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    return s


def _options(args):
    """(workers, chunk size, timeout) from the command line, checked."""
    workers = None if args.workers is None else parse_int("--workers", args.workers)
    chunk = None if args.chunk_size is None else parse_int("--chunk-size", args.chunk_size)
    timeout = parse_number("--timeout", args.timeout, TIMEOUT, "seconds")
    if workers is not None and (args.scheduler is not None or os.environ.get("DASK_SCHEDULER_ADDRESS")):
        where = "--scheduler" if args.scheduler is not None else "DASK_SCHEDULER_ADDRESS"
        raise ValueError(f"--workers {workers}: sets the size of the local cluster only; {where} names another")
    return workers, chunk, timeout


def _spec_and_partial(args, load_spec):
    """(the sweep spec, the partial result to resume or None): from SPEC, --resume FILE, or both if they agree."""
    if args.spec is None and args.resume is None:
        raise ValueError("SPEC: give a preset name or a JSON spec with a sweep section (or --resume FILE)")
    if args.out is not None:                         # before anything is computed
        check_writable("--out", args.out, ".npz", "sweep file")
    elif args.resume is not None:                    # written back to the file resumed
        check_writable("--resume", args.resume, ".npz", "sweep file")
    partial = load_sweep(args.resume) if args.resume is not None else None
    spec = load_spec(args.spec) if args.spec is not None else partial.spec
    if partial is not None and args.spec is not None and spec.to_dict() != partial.spec.to_dict():
        raise ValueError(f"--resume {args.resume!r}: made from another spec than {args.spec!r}; resume it "
                         "without SPEC (its own spec is in the file)")
    if spec.sweep is None:
        raise ValueError(f"SPEC {args.spec!r}: has no \"sweep\" section; see the lr_sweep preset "
                         "(python -m core run runs a spec's single experiment)")
    return spec, partial


def _stopped(e, last, out):
    """The line and exit status for a sweep stopped by Ctrl-C or SIGTERM (what was saved, how to go on)."""
    what = "terminated" if isinstance(e, Terminated) else "interrupted"
    if out is not None and last is not None and last.n_done > 0 and os.path.isfile(out):
        msg = (f"{what}; {last.n_done:,} of {last.n_runs:,} runs saved in {out} (continue with: python -m core "
               f"sweep --resume {out})")
    else:
        msg = f"{what}; no file written"
    sys.stderr.write(msg + "\n")
    return TERMINATED if isinstance(e, Terminated) else INTERRUPTED


def _report(args, spec, result, out, new_runs, seconds):
    """The header, the table, and where it was saved."""
    info, sw = result.info, spec.sweep
    cells = ", ".join(f"{b.label} {' x '.join(map(str, b.shape))}" for b in result.blocks.values())
    print(f"{spec.name}  ({info['dataset']}: {info['n_train']} train / {info['n_test']} test, network "
          f"{result.layer_sizes}, {info['n_params']} weights)")
    print(f"{result.n_runs:,} runs ({cells} cells x {len(sw.seeds)} seed{'s' if len(sw.seeds) != 1 else ''}), "
          f"{spec.training.steps} steps each, target loss {spec.training.target_loss}; {info['engine']}, "
          f"chunks of {info['chunk_size']} runs")
    rows = result.summary()
    print(format_summary(rows))
    print(EDGE_NOTE)
    if args.json:
        print(json.dumps(rows))
    if out is not None:
        print(f"saved {out} ({os.path.getsize(out) / 1e6:.2f} MB)")
    per = f", {1000 * seconds / new_runs:.0f} ms a run" if new_runs else ""
    print(f"done in {seconds:.1f} s ({new_runs:,} runs computed{per})")


def cmd_sweep(args, load_spec):
    quiet_dask_logs()
    workers, chunk, timeout = _options(args)
    spec, partial = _spec_and_partial(args, load_spec)
    out = args.out if args.out is not None else args.resume
    t0 = time.perf_counter()
    last = [None]                                    # the result being filled, for the message on Ctrl-C

    def progress(result, done, total):
        last[0] = result
        bar("runs", done, total)

    try:
        with StageBar(enabled=not args.quiet, unit="run") as bar:
            result = sweep(spec, scheduler=args.scheduler, workers=workers, progress=progress, chunk_size=chunk,
                           resume=partial, checkpoint=out, timeout=timeout)
    except KeyboardInterrupt as e:
        return _stopped(e, last[0], out)
    done0 = partial.n_done if partial is not None else 0
    _report(args, spec, result, out, result.n_done - done0, time.perf_counter() - t0)
    return 0
