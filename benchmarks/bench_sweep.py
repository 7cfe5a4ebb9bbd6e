"""The lr_sweep preset in this process against a LocalCluster of N workers (default 2), and the cost of a run.

Run from the repo root:  python benchmarks/bench_sweep.py [--preset lr_sweep] [--workers 2] [--quick]

Also, against the article-style loop of benchmarks/bench_train.py timed here: the time that loop would take
for the sweep's run-steps (an estimate: its step time x the run-steps the sweep computed, diverged runs
stopping early), and the GFLOP/s of the training steps' products against a large NumPy GEMM timed here.
--quick: the preset's grid cut to 10 learning rates (and 4 momenta), one seed: under a minute.

Prints, for the same sweep: the wall time inline (scheduler="inline", one process) and on a LocalCluster of
``--workers`` processes of one thread (its start-up and shut-down timed apart), the speed-up, whether both
results are bit-identical, and the cost of one run (wall and CPU seconds, inline). From those it prints an
*estimate* (a calculation, not a measurement) of the time on N workers of this speed:
start-up + runs x (cluster seconds a run x workers used here) / N. These machines are shared and noisy: the
load average is printed before and after; a busy machine gives a smaller speed-up than its core count, so the
script also prints the cluster's CPU efficiency (inline CPU seconds / the cluster's CPU seconds, workers plus
client and scheduler) and the speed-up that gives on idle cores.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import core  # noqa: E402
from core.parallel.engine import Engine, quiet_dask_logs  # noqa: E402
from bench_train import best, gemm_gflops, naive  # noqa: E402


def _cpu():
    t = os.times()
    return t.user + t.system


def same(a, b):
    return all(np.array_equal(a.blocks[k].metrics[m], b.blocks[k].metrics[m], equal_nan=True)
               for k in a.blocks for m in a.blocks[k].metrics)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="lr_sweep")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="a smaller grid: under a minute")
    a = ap.parse_args()
    quiet_dask_logs()
    spec = core.ExperimentSpec.preset(a.preset)
    if a.quick:
        for o in spec.sweep.optimizers:
            for k, v in o.axes.items():
                if isinstance(v, dict):
                    kind, (lo, hi, m) = next(iter(v.items()))
                    o.axes[k] = {kind: [lo, hi, min(m, 10 if k == "lr" else 4)]}
        spec.sweep.seeds = spec.sweep.seeds[:1]
    n = spec.sweep.n_runs()
    print(f"{a.preset}: {n:,} runs of {spec.training.steps} steps "
          f"(sharpness {'on' if spec.sweep.sharpness else 'off'}); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")

    c0, t0 = time.process_time(), time.perf_counter()
    inline = core.sweep(spec, scheduler="inline")
    t_inline, cpu_inline = time.perf_counter() - t0, time.process_time() - c0
    print(f"inline:               {t_inline:7.1f} s   ({1000 * t_inline / n:.1f} ms a run wall, "
          f"{1000 * cpu_inline / n:.1f} ms CPU; chunks of {inline.info['chunk_size']})")

    t0 = time.perf_counter()
    with Engine(workers=a.workers) as eng:
        t_start = time.perf_counter() - t0
        w0, c0 = sum(eng.client.run(_cpu).values()), time.process_time()
        t1 = time.perf_counter()
        dist = core.sweep(spec, scheduler=eng.client)
        t_dist = time.perf_counter() - t1
        cpu_workers = sum(eng.client.run(_cpu).values()) - w0
        cpu_here = time.process_time() - c0             # the client and the LocalCluster's scheduler
        t2 = time.perf_counter()
    t_close = time.perf_counter() - t2
    total = t_start + t_dist + t_close
    print(f"LocalCluster({a.workers}):      {t_dist:7.1f} s   (+ {t_start:.1f} s start-up, {t_close:.1f} s shut-down; "
          f"chunks of {dist.info['chunk_size']})")
    print(f"speed-up: {t_inline / t_dist:.2f}x on the sweep, {t_inline / total:.2f}x with start-up and shut-down "
          f"(ideal {a.workers}x); bit-identical: {same(inline, dist)}")
    per = cpu_workers / n                               # CPU seconds a run in the workers
    print(f"CPU a run: {1000 * cpu_inline / n:.1f} ms inline; {1000 * per:.1f} ms in the workers + "
          f"{1000 * cpu_here / n:.1f} ms in the client and scheduler on the cluster")
    eff = cpu_inline / (cpu_workers + cpu_here)
    print(f"CPU efficiency of the cluster: {eff:.2f} (inline CPU / cluster CPU); on {a.workers} idle cores that is "
          f"a speed-up of about {a.workers * eff:.2f}x on the sweep (a calculation; the measured one above is "
          f"lower when other processes hold the cores)")
    print("ESTIMATE (a calculation from the numbers above, not a measurement), on N idle workers of this "
          "speed: start-up + runs x worker CPU a run / N")
    for k in (1, 2, 8, 32, 128):
        print(f"  N = {k:4d}: {t_start + n * per / k:7.1f} s for this sweep; "
              f"{t_start + 20_000 * per / k:8.1f} s for 20,000 such runs (the cap)")
    _against_naive(spec, inline, t_inline)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def _against_naive(spec, res, seconds):
    """The inline sweep against the article-style loop (timed here, one BLAS thread) for its run-steps."""
    from threadpoolctl import threadpool_limits
    ds = core.load_dataset(spec.data.name, seed=spec.seed)
    net = core.MLP(res.layer_sizes)
    steps = spec.training.steps
    run_steps = sum(int(np.where(b.diverged_at >= 0, b.diverged_at, steps).sum()) for b in res.blocks.values())
    with threadpool_limits(limits=1):
        p0 = net.init(0)
        t, _ = best(lambda: naive(net, p0, 0.07, ds.X_train.T, ds.y_train[None, :], 1000), 3)
        peak = gemm_gflops()
    per = t / 1000
    h, d, n = res.layer_sizes[1], res.layer_sizes[0], len(ds.y_train)
    flops = (4 * h * d * n + 4 * h * n) * run_steps
    print(f"against the naive article-style loop ({per * 1e6:.1f} us a step here): {run_steps:,} run-steps would take "
          f"{per * run_steps:.1f} s (an estimate); inline sweep / naive = {seconds / (per * run_steps):.2f}")
    print(f"GFLOP/s of the training products, inline (sharpness time included): {flops / seconds / 1e9:.2f}, "
          f"{100 * flops / seconds / 1e9 / peak:.0f}% of a large GEMM here ({peak:.1f} GFLOP/s, one thread)")


if __name__ == "__main__":
    main()
