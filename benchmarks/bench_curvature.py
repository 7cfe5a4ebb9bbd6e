"""Curvature of every recorded frame of the four_optimizers preset, against the usual way without autodiff.

Run from the repo root:  python benchmarks/bench_curvature.py [--baseline-frames 20] [--repeats 3]

Trains the preset with core.run_experiment, then times core.trajectory_curvature (sharpness and bottom
eigenvalue of all frames of all four runs) against the usual way on a subset of frames, per frame, in
one process: a dense Hessian from central differences of loss_and_grad (2 P gradient calls, step 1e-5,
symmetrized), then np.linalg.eigh. The baseline runs with BLAS held to one thread (faster than two for
these small matrices here); trajectory_curvature does the same inside. Timings drift on shared
machines: compare the ratio. Target (the issue): all frames in at most about 1.5 s, and >= 20x faster
per frame than the baseline.

Then, per run: sharpness at the first frame, its peak and final value, the stability threshold
(2/lr for gradient descent, (2 + 2 beta)/lr for heavy-ball momentum) and the share of frames at or
above it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import nullcontext

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import core  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:                                   # the fast path limits itself the same way when it can
    threadpool_limits = None


def fd_hessian(net, p, X, y, h=1e-5):
    """The usual way without autodiff: column i = (grad(p + h e_i) - grad(p - h e_i)) / 2h, symmetrized."""
    P = net.n_params
    H = np.empty((P, P))
    for i in range(P):
        e = np.zeros(P); e[i] = h
        H[:, i] = (net.loss_and_grad(p + e, X, y)[1] - net.loss_and_grad(p - e, X, y)[1]) / (2 * h)
    return (H + H.T) / 2


def kink_params(net, p, X, h=1e-5):
    """(P,) bool: parameters whose stencil p +- h e_i flips some ReLU mask [Z > 0] (there finite differences
    of the gradient, which jumps at a kink, spike like 1/h; not timed)."""
    def masks(q):
        A, out = X.T, []
        for W, b in net.unflatten(q)[:-1]:
            Z = W @ A + b[:, None]
            out.append(Z > 0)
            A = np.maximum(Z, 0.0)
        return np.concatenate([m.ravel() for m in out])
    m0 = masks(p)
    bad = np.zeros(net.n_params, dtype=bool)
    for i in range(net.n_params):
        e = np.zeros(net.n_params); e[i] = h
        bad[i] = np.any(masks(p + e) != m0) or np.any(masks(p - e) != m0)
    return bad


def main(baseline_frames=20, repeats=3):
    spec = core.ExperimentSpec.preset("four_optimizers")
    t0 = time.perf_counter()
    result = core.run_experiment(spec)
    t_run = time.perf_counter() - t0
    d = spec.data
    ds = core.load_dataset(d.name, seed=spec.seed, split=d.split, test_fraction=d.test_fraction,
                           n_samples=d.n_samples, noise=d.noise, path=d.path, target=d.target)
    X, y = ds.X_train, ds.y_train
    net = core.MLP([ds.n_features] + list(spec.model.hidden) + [1])
    trajs = result.trajectories
    F = sum(len(t.steps) for t in trajs.values())
    print(f"four_optimizers: {net!r}, P = {net.n_params}, {len(y)} training rows; {len(trajs)} runs, "
          f"{F} frames in all (run_experiment {t_run:.2f} s); cpus: {os.cpu_count()}")

    # timed rounds, interleaved (fast path on all frames, then the baseline on a subset), so both see the same
    # machine; wall and CPU time (CPU time counts both threads of the fast path; it does not grow when
    # other processes take the cores), best round of each
    flat = [(lab, f) for lab, t in trajs.items() for f in range(len(t.steps))]
    pick = [flat[i] for i in np.linspace(0, len(flat) - 1, baseline_frames).round().astype(int)]
    fast_w, fast_c, base_w, base_c = [], [], [], []

    def fast():
        return {lab: core.frames_curvature(net, X, y, t.params, t.lr, t.optimizer, hparams=t.hparams, precond=t.precond)
                for lab, t in trajs.items()}

    def baseline():
        fd = [fd_hessian(net, trajs[lab].params[f], X, y) for lab, f in pick]
        return fd, [np.linalg.eigh(H)[0] for H in fd]

    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        curv = fast()
        fast_w.append(time.perf_counter() - w0); fast_c.append(time.process_time() - c0)
        with threadpool_limits(limits=1) if threadpool_limits is not None else nullcontext():
            w0, c0 = time.perf_counter(), time.process_time()
            fd, base = baseline()
            base_w.append(time.perf_counter() - w0); base_c.append(time.process_time() - c0)
    w0 = time.perf_counter()
    [np.linalg.eigh(fd_hessian(net, trajs[lab].params[f], X, y))[0] for lab, f in pick[:5]]
    ms_unl = 1e3 * (time.perf_counter() - w0) / 5

    per = lambda v, k: 1e3 * min(v) / k
    fw, fc, bw, bc = per(fast_w, F), per(fast_c, F), per(base_w, len(pick)), per(base_c, len(pick))
    print(f"\ntrajectory_curvature, all {F} frames, wall s: " + ", ".join(f"{v:.3f}" for v in fast_w)
          + f"; best {min(fast_w):.3f} s (target <= ~1.5 s), CPU best {min(fast_c):.3f} s")
    print(f"baseline, central differences of loss_and_grad (2P = {2 * net.n_params} gradients, step 1e-5) + eigh, "
          f"BLAS {'1 thread' if threadpool_limits else 'threads NOT limited'}, {len(pick)} frames a round, wall s: "
          + ", ".join(f"{v:.3f}" for v in base_w) + f" -> {bw * F / 1e3:.1f} s for all {F} frames")
    print(f"  (the same baseline with BLAS threads not limited: {ms_unl:.1f} ms/frame, 5 frames)")
    print(f"per frame:  fast {fw:.3f} ms wall, {fc:.3f} ms CPU;  baseline {bw:.2f} ms wall, {bc:.2f} ms CPU")
    print(f"ratio baseline / fast: {bw / fw:.1f}x wall, {bc / fc:.1f}x CPU  (target >= 20x)")

    # agreement (not timed): exact per-frame Hessians; finite differences where their stencil crosses no kink
    ent, top_exact, bot_exact, n_kink, fd_top_err = [], [], [], 0, []
    for (lab, f), H_fd, w_fd in zip(pick, fd, base):
        p, c = trajs[lab].params[f], curv[lab]
        H = core.hessian(net, p, X, y)
        w = np.linalg.eigvalsh(H)
        top_exact.append(abs(w[-1] - c.sharpness[f]) / abs(w[-1]))
        bot_exact.append(abs(w[0] - c.min_eig[f]) / abs(w[-1]))
        ok = ~kink_params(net, p, X)
        n_kink += not ok.all()
        ent.append(np.abs(H_fd - H)[np.ix_(ok, ok)].max() / np.abs(H).max())
        fd_top_err.append(abs(w_fd[-1] - w[-1]) / abs(w[-1]))
    print(f"agreement with per-frame core.hessian + eigvalsh: top max rel diff {max(top_exact):.1e}, "
          f"bottom max diff / top {max(bot_exact):.1e}")
    print(f"agreement with the finite-difference Hessian, entries of parameters whose +-1e-5 stencil crosses no "
          f"ReLU kink: max |H_fd - H| / max |H| = {max(ent):.1e}")
    print(f"frames where some stencil crosses a kink (units at Z = 0 on the 3 all-zero rows, e.g. every unit at "
          f"the start, biases 0): {n_kink} of {len(pick)}; "
          f"the finite-difference top eigenvalue's relative error there: "
          f"median {np.median(fd_top_err):.1e}, max {max(fd_top_err):.1f} (spikes ~1/h at the kinks)")
    agree = max(top_exact) < 1e-8 and max(bot_exact) < 1e-8 and max(ent) < 1e-6

    # the figures for the README
    print(f"\n{'run':<14} {'optimizer':<10} {'lr':>11} {'sharp@0':>8} {'peak':>8} {'final':>8} "
          f"{'threshold':>15} {'final/thr':>9} {'>= thr':>7} {'min eig final':>13}")
    for lab, t in trajs.items():
        c = curv[lab]
        s = c.sharpness
        lr = f"{t.lr[0]:.3g}" if t.lr[0] == t.lr[-1] else f"{t.lr[0]:.3g}->{t.lr[-1]:.2g}"
        thr = f"{c.threshold[0]:.3f}" if c.threshold[0] == c.threshold[-1] else \
            f"{c.threshold[0]:.3f}->{c.threshold[-1]:.1f}"
        print(f"{lab:<14} {t.optimizer:<10} {lr:>11} {s[0]:>8.4f} {np.nanmax(s):>8.4f} {s[-1]:>8.4f} "
              f"{thr:>15} {s[-1] / c.threshold[-1]:>9.3f} {100 * c.above_threshold():>6.1f}% {c.min_eig[-1]:>13.2e}")
    print("\nagreement:", "OK" if agree else "FAILED")
    return 0 if agree else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-frames", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    sys.exit(main(a.baseline_frames, a.repeats))
