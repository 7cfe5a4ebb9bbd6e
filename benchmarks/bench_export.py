"""Seconds per frame of the GIF and MP4 exporters at 640 x 480 for the four-optimizer preset.

    python benchmarks/bench_export.py [--frames 120] [--size 640x480] [--rotate 0]

Runs the preset once (timed separately), then exports 120 frames as GIF and as MP4
with a fixed camera (the surface is drawn once; each frame redraws only trails,
balls and text) and with a camera turn (--rotate: the whole figure per frame).
Prints wall seconds, seconds per frame and the file size. The issue's target:
120 frames in under 20 s on a 2-core machine. Timings on shared machines drift.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import core  # noqa: E402
from visualizer import export as E  # noqa: E402
from visualizer.export.options import parse_size  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--rotate", type=float, default=45.0, help="camera turn for the second pass (0: skip it)")
    a = ap.parse_args()
    size = parse_size(a.size)
    t = time.perf_counter()
    result = core.run_experiment(core.ExperimentSpec.preset("four_optimizers"))
    t_run = time.perf_counter() - t
    print(f"four_optimizers: experiment {t_run:.2f} s (train + surface, once); "
          f"exports of {a.frames} frames at {size[0]}x{size[1]}, log scale")
    passes = [("fixed camera", 0.0)] + ([(f"rotate {a.rotate:g} deg", a.rotate)] if a.rotate else [])
    with tempfile.TemporaryDirectory() as d:
        for what, rot in passes:
            for fmt in ("gif", "mp4"):
                out = os.path.join(d, f"bench.{fmt}")
                opts = E.ExportOptions(out=out, frames=a.frames, size=size, scale="log", rotate=rot, progress=False)
                t = time.perf_counter()
                s = E.export(result, opts)
                dt = time.perf_counter() - t
                print(f"  {fmt.upper():3}  {what:<16} {dt:6.2f} s  {dt / s.frames * 1000:6.1f} ms/frame  "
                      f"{s.bytes / 1e6:5.2f} MB  ({s.frames} frames; with the experiment: {dt + t_run:.1f} s)")


if __name__ == "__main__":
    main()
