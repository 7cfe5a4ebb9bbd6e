"""The issue-17 slices case: a run of about 4,000 weights, then N concurrent slices requests (distinct pages),
through the app's own path (JobRegistry, ProcessRunner workers), measuring the web process.

    python benchmarks/bench_slices.py [--pages 3] [--hidden 360]

Prints each request's seconds and outcome, the web process's CPU seconds (getrusage of this process: all its
threads) and its RSS before and after (VmRSS, VmHWM), and the workers' peak RSS.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import core  # noqa: E402
from benchmarks.procfs import status  # noqa: E402
from visualizer.app.curvature_callbacks import SliceCache, slices  # noqa: E402
from visualizer.serving.cache import ResultCache, spec_key  # noqa: E402
from visualizer.serving.jobs import JobRegistry  # noqa: E402
from visualizer.serving.runner import ProcessRunner  # noqa: E402

MB = 2**20


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=360)
    args = ap.parse_args()
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["model"]["hidden"] = [args.hidden]
    d["training"].update(steps=50, record_every=1)
    d["curvature"]["enabled"] = False
    result = core.run_experiment(d)                          # computed here once, before measuring
    runner = ProcessRunner()
    try:
        cache = ResultCache(runner=runner, max_running=None)
        key = spec_key(result.spec)
        cache.put(key, result)
        jobs, sc = JobRegistry(cache), SliceCache()
        store = {"key": key, "spec": result.spec.to_dict()}
        label = result.labels[0]
        weights = result.trajectories[label].params.shape[1]
        rss0, cpu0 = status(os.getpid(), "VmRSS"), resource.getrusage(resource.RUSAGE_SELF)
        out = [None] * args.pages
        peak_workers = [0]
        stop = threading.Event()

        def watch():
            while not stop.wait(0.2):
                kids = [w.proc.pid for w in list(runner._all)]          # the pool's worker processes
                peak_workers[0] = max(peak_workers[0], max((status(p, "VmRSS") for p in kids), default=0))

        def go(i):
            t0 = time.perf_counter()
            o = slices(30 + i, label, store, cache, sc, jobs, f"page{i}")
            out[i] = (time.perf_counter() - t0, o["message"] or "drawn")
        w = threading.Thread(target=watch, daemon=True)
        w.start()
        th = [threading.Thread(target=go, args=(i,)) for i in range(args.pages)]
        for t in th:
            t.start()
        for t in th:
            t.join(timeout=600)
        stop.set()
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        web_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        print(f"{args.pages} concurrent slices requests (distinct pages) on a run of {weights:,} weights:")
        for i, (s, msg) in enumerate(out):
            print(f"  page{i}: {s:.1f} s, {msg[:120]}")
        print(f"  web process: CPU {web_cpu:.1f} s, RSS {rss0 / MB:.0f} -> {status(os.getpid(), 'VmRSS') / MB:.0f} MB; "
              f"largest worker RSS {peak_workers[0] / MB:.0f} MB; workers {runner.stats()}")
    finally:
        runner.close()


if __name__ == "__main__":
    main()
