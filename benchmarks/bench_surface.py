"""Time core.landscape.surface (the sweep) against the per-point loop, in one process.

Run from the repo root:  python benchmarks/bench_surface.py [--quick]

Wisconsin data, all 683 complete rows (train + test), a random filter-normalized plane around a seeded init, grid range
[-1, 1]. The per-point loop runs with BLAS limited to one thread when that can
be arranged (threadpoolctl, or numpy's bundled OpenBLAS via ctypes); the table
says which. Timings drift on shared machines: compare the ratios.
Targets: >= 8x at 101 x 101 / 64 units, >= 12x at 201 x 201 / 256 units.
"""
from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import sys
import time
import tracemalloc

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from core.network import MLP  # noqa: E402
from core.directions import make_plane  # noqa: E402
from core.landscape import per_point_surface, surface  # noqa: E402

CASES = [(51, 15), (101, 64), (201, 256)]
TARGETS = {(101, 64): 8.0, (201, 256): 12.0}


def load_wisconsin():
    """(X, y, source): core.load_dataset if present, else a tiny local parser (same rules)."""
    try:
        import core
        ds = core.load_dataset("wisconsin", seed=0)          # train + test: all 683 rows, as in the issue
        X = np.concatenate([np.asarray(ds.X_train, float), np.asarray(ds.X_test, float)])
        y = np.concatenate([np.asarray(ds.y_train, float), np.asarray(ds.y_test, float)])
        return X, y, "core.load_dataset, train + test"
    except Exception:                                   # not written yet, or another error: parse locally
        pass
    path = os.path.join(ROOT, "assets", "data", "breast-cancer-wisconsin.data")
    rows = [r.strip().split(",") for r in open(path) if r.strip() and "?" not in r]
    raw = np.array(rows, dtype=float)
    X = raw[:, 1:10]
    lo, hi = X.min(axis=0), X.max(axis=0)
    X = (X - lo) / np.where(hi > lo, hi - lo, 1.0)
    y = (raw[:, 10] == 4).astype(float)
    return X, y, "local parser, all rows"


def _openblas_setter():
    """ctypes handle to numpy's bundled OpenBLAS thread setter, or None."""
    import numpy
    dirs = [os.path.join(os.path.dirname(numpy.__file__), "..", "numpy.libs")]
    try:
        import scipy_openblas64  # type: ignore
        dirs.append(os.path.join(os.path.dirname(scipy_openblas64.__file__), "lib"))
    except ImportError:
        pass
    for d in dirs:
        for lib in glob.glob(os.path.join(d, "*openblas*.so*")):
            try:
                h = ctypes.CDLL(lib)
            except OSError:
                continue
            for prefix in ("scipy_", ""):
                for suffix in ("64_", "", "_64"):
                    name = f"{prefix}openblas_set_num_threads{suffix}"
                    getter = f"{prefix}openblas_get_num_threads{suffix}"
                    if hasattr(h, name) and hasattr(h, getter):
                        return getattr(h, name), getattr(h, getter)
    return None


@contextlib.contextmanager
def blas_one_thread():
    """Yields a description of how BLAS was limited."""
    try:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1):
            yield "1 BLAS thread (threadpoolctl)"
        return
    except ImportError:
        pass
    fns = _openblas_setter()
    if fns is None:
        yield "BLAS threads NOT limited (no threadpoolctl / OpenBLAS handle)"
        return
    setter, getter = fns
    before = getter()
    setter(1)
    try:
        yield "1 BLAS thread (OpenBLAS via ctypes)"
    finally:
        setter(before)


def main(quick=False):
    X, y, source = load_wisconsin()
    print(f"data: {X.shape[0]} samples x {X.shape[1]} features ({source}); cpus: {os.cpu_count()}")
    rows = []
    cases = CASES[:2] if quick else CASES
    for G, H in cases:
        net = MLP([X.shape[1], H, 1])
        p0 = net.init(seed=0)
        plane = make_plane("random", net, center=p0, seed=0)
        grid = np.linspace(-1.0, 1.0, G)
        surface(net, X, y, plane, grid[:5], grid[:5])        # warm-up
        t = time.perf_counter()
        Z = surface(net, X, y, plane, grid, grid)
        t_fast = time.perf_counter() - t
        with blas_one_thread() as how:
            t = time.perf_counter()
            R = per_point_surface(net, X, y, plane, grid, grid)
            t_loop = time.perf_counter() - t
        err = float(np.nanmax(np.abs(Z - R)))
        rows.append((G, H, t_fast, t_loop, t_loop / t_fast, err, how))
    print()
    print(f"{'grid':>9} {'hidden':>6} {'surface s':>10} {'per-point s':>12} {'ratio':>7} {'target':>7} {'max |diff|':>11}")
    for G, H, tf, tl, r, err, how in rows:
        tgt = TARGETS.get((G, H))
        print(f"{G:>4}x{G:<4} {H:>6} {tf:>10.3f} {tl:>12.3f} {r:>6.1f}x {('>=%gx' % tgt) if tgt else '':>7} {err:>11.2e}")
    print(f"per-point loop: {rows[0][6]}; surface: default threads/chunks")

    G, H = cases[-1]
    net = MLP([X.shape[1], H, 1])
    p0 = net.init(seed=0)
    plane = make_plane("random", net, center=p0, seed=0)
    grid = np.linspace(-1.0, 1.0, G)
    tracemalloc.start()
    surface(net, X, y, plane, grid, grid)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory of surface at {G}x{G}, {H} hidden units: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
