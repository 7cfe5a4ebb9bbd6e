"""Calibrate core.experiment.run.estimate_work: estimated against measured seconds of real runs.

    python benchmarks/bench_work.py [--quick]

For each experiment (presets, and models from [9, 15, 1] up to four layers of 512 units), prints the
estimate in work units, the seconds it predicts (units / WORK_UNITS_PER_SECOND) and the seconds
``run_experiment`` took here with one BLAS thread (as in the server's worker processes). The estimate
should track the measurement within about 2x, erring high for big models. The server refuses a request
whose estimate is over ``serve --max-work`` (default visualizer.serving.runner.DEFAULT_MAX_WORK).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from threadpoolctl import threadpool_limits  # noqa: E402

import core  # noqa: E402
from core.experiment.run import WORK_UNITS_PER_SECOND, estimate_work  # noqa: E402


def variant(name, **changes):
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["name"] = name
    for path, v in changes.items():
        sec, _, key = path.partition("__")
        if key:
            d[sec][key] = v
        else:
            d[sec] = v
    return d


def cases(quick):
    out = [("four_optimizers", core.ExperimentSpec.preset("four_optimizers").to_dict()),
           ("moons_adam", core.ExperimentSpec.preset("moons_adam").to_dict()),
           ("article", core.ExperimentSpec.preset("article").to_dict()),
           ("4 opt, 20,000 steps", variant("a", training__steps=20000, training__record_every=100)),
           ("1 opt, [256], 2,000 steps, 201 grid",
            variant("b", model__hidden=[256], optimizers=[{"name": "sgd", "lr": 0.07}], grid__resolution=201)),
           ("4 opt, [64, 64], 1,000 steps, 31 grid",
            variant("c", model__hidden=[64, 64], training__steps=1000, grid__resolution=31)),
           ("  the same, curvature every 10th frame",
            variant("c2", model__hidden=[64, 64], training__steps=1000, grid__resolution=31,
                    curvature={"enabled": True, "stride": 10})),
           ("1 opt, [512, 512], 100 steps, 15 grid",
            variant("d", model__hidden=[512, 512], training__steps=100, optimizers=[{"name": "sgd", "lr": 0.01}],
                    grid__resolution=15, curvature={"enabled": False})),
           ("moving, 40 frames of 31 x 31", variant("e", grid__moving=True)),
           ]
    if not quick:
        out.append(("1 opt, 4 x [512], 50 steps, 15 grid",
                    variant("f", model__hidden=[512] * 4, training__steps=50, training__record_every=5,
                            optimizers=[{"name": "sgd", "lr": 0.01}], grid__resolution=15, curvature={"enabled": False})))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the largest model")
    args = ap.parse_args(argv)
    print(f"WORK_UNITS_PER_SECOND = {WORK_UNITS_PER_SECOND:.3g}; one BLAS thread")
    print(f"{'experiment':40s} {'units':>9s} {'est. s':>7s} {'measured s':>10s} {'ratio':>6s}")
    with threadpool_limits(limits=1):
        core.run_experiment(variant("warm", training__steps=50))
        for label, d in cases(args.quick):
            spec = core.ExperimentSpec.from_dict(d)
            w = estimate_work(spec)["total"]
            t = time.perf_counter()
            core.run_experiment(spec)
            dt = time.perf_counter() - t
            est = w / WORK_UNITS_PER_SECOND
            print(f"{label:40s} {w:9.2g} {est:7.2f} {dt:10.2f} {est / dt:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
