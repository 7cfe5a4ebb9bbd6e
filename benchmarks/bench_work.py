"""Calibrate core.experiment.budget (the one cost model): estimated against measured seconds of real runs.

    python benchmarks/bench_work.py [--quick] [--only TEXT]

For each experiment (presets, and models from [9, 15, 1] up to four layers of 512 units, a Hessian plane,
20,000 rows, [300, 300], Lanczos curvature), prints the estimate in work units, the part that costs most,
the seconds it predicts (units / WORK_UNITS_PER_SECOND) and the seconds ``run_experiment`` took here with one
BLAS thread (as in the server's worker processes); then one frame's 1-D slices (slices_work) and one sweep
run (run_work). The estimate should track the measurement within 0.5-2x, erring high for big models. First
line: the multiply-adds a second of a BLAS matrix product now, to judge a loaded machine (timings drift on
the shared machines: compare the ratio column with that line). The server refuses a request whose
estimate is over ``serve --max-work`` (default visualizer.serving.runner.DEFAULT_MAX_WORK).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from threadpoolctl import threadpool_limits  # noqa: E402

import core  # noqa: E402
import numpy as np  # noqa: E402

from core.experiment.budget import WORK_UNITS_PER_SECOND, estimate_work, run_work, slices_work  # noqa: E402
from core.landscape import slices as core_slices  # noqa: E402
from core.model.optimizers import make  # noqa: E402
from core.model.training import train  # noqa: E402


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
           ("hessian plane, [64]", variant("h1", model__hidden=[64], plane={"method": "hessian"},
                                            curvature={"enabled": False})),
           ("hessian plane, [30, 30]", variant("h2", model__hidden=[30, 30], plane={"method": "hessian"},
                                                training__steps=300, curvature={"enabled": False})),
           ("lanczos curvature, [64], stride 20", variant("l", model__hidden=[64],
                                                          curvature={"enabled": True, "method": "lanczos",
                                                                     "stride": 20})),
           ("moons 20,000 rows, [64], 200 steps",
            variant("m", data={"name": "moons", "n_samples": 20000}, model__hidden=[64], training__steps=200,
                    curvature={"enabled": False})),
           ("moons 20,000 rows, [300, 300], 1 opt, 60 steps, 7 grid",
            variant("m2", data={"name": "moons", "n_samples": 20000}, model__hidden=[300, 300], training__steps=60,
                    training__record_every=10, optimizers=[{"name": "sgd", "lr": 0.05}], grid__resolution=7,
                    curvature={"enabled": False})),
           ]
    if not quick:
        out.append(("hessian plane, [360]", variant("h3", model__hidden=[360], plane={"method": "hessian"},
                                                     curvature={"enabled": False})))
        out.append(("1 opt, 4 x [512], 50 steps, 15 grid",
                    variant("f", model__hidden=[512] * 4, training__steps=50, training__record_every=5,
                            optimizers=[{"name": "sgd", "lr": 0.01}], grid__resolution=15,
                            curvature={"enabled": False})))
    return out


def gemm_rate():
    """Multiply-adds a CPU second of a 1,000 x 1,000 matrix product now, one BLAS thread."""
    a = np.random.default_rng(0).standard_normal((1000, 1000))
    t = time.process_time()
    for _ in range(3):
        a @ a
    return 3e9 / (time.process_time() - t)


def row(label, units, part, measured):
    est = units / WORK_UNITS_PER_SECOND
    print(f"{label:56s} {units:9.2g} {part:>9s} {est:7.2f} {measured:10.2f} {est / measured:6.2f}", flush=True)


def slices_row():
    """One frame's three slices (the app's and the exporter's slices panel) on the four_optimizers model."""
    ds = core.load_dataset("wisconsin", seed=0)
    net = core.MLP([9, 64, 1])
    p0 = net.init(seed=0)
    p1 = p0 + 0.1 * np.random.default_rng(1).standard_normal(p0.shape)
    X, y = ds.X_train, ds.y_train
    t = time.process_time()
    core_slices.top_eigen_slice(net, X, y, p1)
    core_slices.gradient_step_slice(net, X, y, p1, 0.1)
    core_slices.interpolation_slice(net, X, y, p0, p1)
    row("slices of one frame, [64]", slices_work([64], net.n_params, len(y)), "slices", time.process_time() - t)


def sweep_row():
    """One sweep run (lr_sweep's network), training and the sharpness at its first and last weights."""
    spec = core.ExperimentSpec.preset("lr_sweep")
    ds = core.load_dataset("wisconsin", seed=0)
    net = core.MLP([9] + list(spec.model.hidden) + [1])
    steps = spec.training.steps
    t = time.process_time()
    tr = train(net, net.init(seed=0), ds, make("sgd", lr=0.05), steps=steps, record_every=steps)
    core.frames_curvature(net, ds.X_train, ds.y_train, tr.params[[0, -1]], np.zeros(2), "sgd", threads=1)
    row(f"one sweep run, {steps} steps + sharpness", run_work(steps, len(ds.y_train), net.n_params, True,
                                                              spec.model.hidden), "run", time.process_time() - t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the largest models")
    ap.add_argument("--only", help="only the rows whose label holds this text")
    args = ap.parse_args(argv)
    with threadpool_limits(limits=1):
        print(f"WORK_UNITS_PER_SECOND = {WORK_UNITS_PER_SECOND:.3g}; one BLAS thread; a matrix product does "
              f"{gemm_rate():.3g} multiply-adds a second now; load average {os.getloadavg()[0]:.1f}")
        print(f"{'experiment':56s} {'units':>9s} {'most':>9s} {'est. s':>7s} {'CPU s':>10s} {'ratio':>6s}")
        core.run_experiment(variant("warm", training__steps=50))
        for label, d in cases(args.quick):
            if args.only and args.only not in label:
                continue
            spec = core.ExperimentSpec.from_dict(d)
            est = estimate_work(spec)
            part = max(("train", "surface", "curvature", "plane", "other"), key=est.get)
            t = time.process_time()
            core.run_experiment(spec)
            row(label, est["total"], part, time.process_time() - t)
        if not args.only or "slices" in args.only:
            slices_row()
        if not args.only or "sweep" in args.only:
            sweep_row()
    return 0


if __name__ == "__main__":
    sys.exit(main())
