"""Where should the server run its computations: threads of the web process, or worker processes?

    python benchmarks/bench_workers.py [--steps 8000] [--repeat 2]

Runs the same kind of experiment (four_optimizers with more steps, two different seeds) four ways
and prints wall-clock seconds:
  1. one alone,
  2. two one after the other,
  3. two at once in two threads of this process (what the app did before: GIL contention),
  4. two at once in two worker processes (multiprocessing "forkserver", core preloaded),
and the cost of starting one worker process (what a cancellation by killing a worker costs).
Ratios matter, not the absolute numbers: the machine is shared and noisy.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import core  # noqa: E402


def spec(seed, steps):
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["seed"] = seed
    d["training"].update(steps=steps, record_every=max(10, steps // 200))
    return core.ExperimentSpec.from_dict(d)


def run(seed, steps):
    core.run_experiment(spec(seed, steps))
    return seed


def _noop(*_):
    return 0


def _one_blas_thread():
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1)                  # stays in force for the life of the worker


def timed(fn):
    """(wall seconds, CPU seconds of this process and its children) of fn()."""
    r0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    fn()
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum((b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime) for a, b in zip(r0, r1))
    return wall, cpu


def in_threads(steps):
    th = [threading.Thread(target=run, args=(s, steps)) for s in (1, 2)]
    for x in th:
        x.start()
    for x in th:
        x.join()


def in_processes(ctx, steps, one_blas):
    with ctx.Pool(2, initializer=_one_blas_thread if one_blas else None) as pool:
        pool.map(_noop, range(4))
        wall, _ = timed(lambda: pool.starmap(run, [(1, steps), (2, steps)], chunksize=1))
        return wall, None                          # the workers' CPU is not this process's


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["core"])
    run(0, 200)                                            # warm imports and caches
    print(f"four_optimizers with {args.steps:,} steps (x4 optimizers), two seeds; {os.cpu_count()} cores")
    from threadpoolctl import threadpool_limits
    for rep in range(args.repeat):
        load = open("/proc/loadavg").read().split()[0]
        r = {}
        r["one alone"] = timed(lambda: run(1, args.steps))
        r["two in sequence"] = timed(lambda: (run(1, args.steps), run(2, args.steps)))
        r["two in 2 threads"] = timed(lambda: in_threads(args.steps))
        with threadpool_limits(limits=1):
            r["two in 2 threads, BLAS 1 thread"] = timed(lambda: in_threads(args.steps))
        r["two in 2 processes"] = in_processes(ctx, args.steps, False)
        r["two in 2 processes, BLAS 1 thread"] = in_processes(ctx, args.steps, True)
        t = time.perf_counter()
        p = ctx.Process(target=_noop)
        p.start(); p.join()
        r["start one worker process"] = (time.perf_counter() - t, None)
        seq = r["two in sequence"][0]
        print(f"run {rep + 1} (load average before: {load}):")
        for k, (wall, cpu) in r.items():
            ratio = f"  {wall / seq:.2f}x the sequence" if k.startswith("two in 2") else ""
            cpu = "" if cpu is None else f"{cpu:6.2f} s CPU"
            print(f"  {k:36s} {wall:6.2f} s wall  {cpu:12s}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
