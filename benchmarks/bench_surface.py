"""Time core.surface (the sweep) against the per-point loop, in one process.

Run from the repo root:  python benchmarks/bench_surface.py [--quick]

Wisconsin data, all 683 complete rows (train + test), a random filter-normalized plane around a seeded init, grid range
[-1, 1]. The per-point loop runs with BLAS limited to one thread (threadpoolctl); core.surface with its
default threads and chunks. Timings drift on shared machines: compare the ratios.
Targets: >= 8x at 101 x 101 / 64 units, >= 12x at 201 x 201 / 256 units.
"""
from __future__ import annotations

import os
import sys
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from core.data.datasets import load_dataset  # noqa: E402
from core.landscape.planes import make_plane  # noqa: E402
from core.model.network import MLP  # noqa: E402
from core.landscape.surfaces import per_point_surface, surface  # noqa: E402

CASES = [(51, 15), (101, 64), (201, 256)]
TARGETS = {(101, 64): 8.0, (201, 256): 12.0}


def load_wisconsin():
    """(X, y): every complete Wisconsin row, train + test (683)."""
    ds = load_dataset("wisconsin", seed=0)
    return np.concatenate([ds.X_train, ds.X_test]), np.concatenate([ds.y_train, ds.y_test])


def make_case(n_features, G, H):
    """(net, plane, grid) of one case: a [d, H, 1] network, a random plane around its seeded init, G points an axis."""
    net = MLP([n_features, H, 1])
    plane = make_plane("random", net, center=net.init(seed=0), seed=0)
    return net, plane, np.linspace(-1.0, 1.0, G)


def main(quick=False):
    X, y = load_wisconsin()
    print(f"data: {X.shape[0]} samples x {X.shape[1]} features (core.load_dataset, train + test); "
          f"cpus: {os.cpu_count()}")
    rows = []
    cases = CASES[:2] if quick else CASES
    for G, H in cases:
        net, plane, grid = make_case(X.shape[1], G, H)
        surface(net, X, y, plane, grid[:5], grid[:5])        # warm-up
        t = time.perf_counter()
        Z = surface(net, X, y, plane, grid, grid)
        t_fast = time.perf_counter() - t
        with threadpool_limits(limits=1):
            t = time.perf_counter()
            R = per_point_surface(net, X, y, plane, grid, grid)
            t_loop = time.perf_counter() - t
        err = float(np.nanmax(np.abs(Z - R)))
        rows.append((G, H, t_fast, t_loop, t_loop / t_fast, err))
    print()
    print(f"{'grid':>9} {'hidden':>6} {'surface s':>10} {'per-point s':>12} {'ratio':>7} {'target':>7} "
          f"{'max |diff|':>11}")
    for G, H, tf, tl, r, err in rows:
        tgt = TARGETS.get((G, H))
        print(f"{G:>4}x{G:<4} {H:>6} {tf:>10.3f} {tl:>12.3f} {r:>6.1f}x "
              f"{('>=%gx' % tgt) if tgt else '':>7} {err:>11.2e}")
    print("per-point loop: 1 BLAS thread (threadpoolctl); surface: default threads/chunks")

    G, H = cases[-1]
    net, plane, grid = make_case(X.shape[1], G, H)
    tracemalloc.start()
    surface(net, X, y, plane, grid, grid)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory of surface at {G}x{G}, {H} hidden units: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
