"""Training speed against a plain loop written like the article's class, all measured in this one process.

    python benchmarks/bench_train.py [--quick]

Prints, each with the naive loop's time for the same work measured here and the ratio (ours / naive):
  1. one run, per full-batch step: core.train on [9, 15, 1], 500 rows (gradient descent, lr 0.07);
  2. 120 runs (SGD, 40 learning rates x 3 seeds x 500 steps): core.model.training.train_batch, and the same
     grid as a sweep through core.sweep(scheduler="inline") (sharpness off, then on);
  3. the presets four_optimizers and article through core.run_experiment, split into their stages;
  4. the achieved GFLOP/s of the training step (its matrix products: 4 h d n + 4 h n a step) against a large
     NumPy GEMM measured here.
BLAS runs on one thread throughout (as in the sweep's workers). These machines are shared and noisy: every
figure is the best of a few interleaved repeats, and the load average is printed.
--quick: fewer steps and repeats (under a minute).
"""
import argparse
import os
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import core  # noqa: E402
from core.model.training import train_batch  # noqa: E402


class ArticleNet:
    """The seed article's style: X is (features, samples), explicit W1, b1, W2, b2 attributes."""

    def __init__(self, W1, b1, W2, b2, lr):
        self.W1, self.b1, self.W2, self.b2, self.lr = W1.copy(), b1.copy()[:, None], W2.copy(), b2.copy()[:, None], lr

    def forward(self, X):
        self.Z1 = self.W1.dot(X) + self.b1
        self.A1 = np.maximum(self.Z1, 0)
        self.Z2 = self.W2.dot(self.A1) + self.b2
        self.A2 = 1 / (1 + np.exp(-self.Z2))
        return self.A2

    def loss(self, Y):
        m = Y.shape[1]
        return float(-(Y @ np.log(self.A2).T + (1 - Y) @ np.log(1 - self.A2).T)[0, 0] / m)

    def backward(self, X, Y):
        m = X.shape[1]
        dZ2 = self.A2 - Y
        dW2 = dZ2 @ self.A1.T / m
        db2 = dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = (self.W2.T @ dZ2) * (self.Z1 > 0)
        dW1 = dZ1 @ X.T / m
        db1 = dZ1.sum(axis=1, keepdims=True) / m
        self.W1 -= self.lr * dW1; self.b1 -= self.lr * db1
        self.W2 -= self.lr * dW2; self.b2 -= self.lr * db2

    def fit(self, X, Y, steps):
        losses = []
        with np.errstate(all="ignore"):                # large rates overflow exp, as they may
            for _ in range(steps):
                self.forward(X)
                losses.append(self.loss(Y))
                self.backward(X, Y)
        return losses


def naive(net, p0, lr, X, Y, steps):
    (W1, b1), (W2, b2) = net.unflatten(p0)
    a = ArticleNet(W1, b1, W2, b2, lr)
    a.fit(X, Y, steps)
    return a


def best(fn, repeats):
    """(best wall seconds of ``repeats`` calls, the last result)."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def gemm_gflops(n=1500, repeats=3):
    A, B = np.random.default_rng(0).standard_normal((2, n, n))
    t, _ = best(lambda: A @ B, repeats)
    return 2 * n ** 3 / t / 1e9


def sgd_sweep_spec(n_lrs, steps, sharpness):
    d = core.ExperimentSpec.preset("lr_sweep").to_dict()
    d["training"]["steps"] = steps
    d["sweep"] = {"optimizers": [{"name": "sgd", "label": "SGD", "axes": {"lr": {"log": [0.001, 20, n_lrs]}}}],
                  "seeds": [0, 1, 2], "sharpness": sharpness}
    return d


def stage_times(spec):
    """Seconds of run_experiment's stages (train, curvature, surface) and in total."""
    marks = {}
    t0 = time.perf_counter()
    core.run_experiment(spec, progress=lambda stage, done, total: marks.setdefault(stage, time.perf_counter()))
    total = time.perf_counter() - t0
    order = [s for s in ("train", "curvature", "surface") if s in marks] + [None]
    ends = {s: (marks[order[i + 1]] if order[i + 1] else t0 + total) for i, s in enumerate(order[:-1])}
    return {s: ends[s] - (marks[s] if s != "train" else t0) for s in order[:-1]}, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats: under a minute")
    a = ap.parse_args()
    q = a.quick
    steps1, reps = (1000, 3) if q else (5000, 5)
    n_lrs, sweep_steps = (40, 200) if q else (40, 500)
    ds = core.load_dataset("wisconsin")
    net = core.MLP([9, 15, 1])
    X, Y = ds.X_train.T, ds.y_train[None, :]
    h, d, n = 15, 9, len(ds.y_train)
    flops_step = 4 * h * d * n + 4 * h * n
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; BLAS on one thread; best of {reps}"
          f"{' (--quick)' if q else ''}")
    with threadpool_limits(limits=1):
        peak = gemm_gflops(1000 if q else 1500)
        p0 = net.init(1, scheme="article")
        opt = core.optimizers.make("sgd", lr=0.07)
        ours, base = [], []
        for _ in range(reps):                           # interleaved, to share the machine's noise
            ours.append(best(lambda: core.train(net, p0, ds, opt, steps=steps1, record_every=steps1), 1)[0])
            base.append(best(lambda: naive(net, p0, 0.07, X, Y, steps1), 1)[0])
        o, b = min(ours) / steps1, min(base) / steps1
        tr = core.train(net, p0, ds, opt, steps=200, record_every=200)
        w = naive(net, p0, 0.07, X, Y, 200)
        diff = float(np.max(np.abs(net.flatten([(w.W1, w.b1[:, 0]), (w.W2, w.b2[:, 0])]) - tr.params[-1])))
        print(f"\n1. one run, full-batch step, [9, 15, 1], {n} rows, {steps1} steps")
        print(f"   core.train {o * 1e6:6.1f} us/step   naive loop {b * 1e6:6.1f} us/step   ratio {o / b:.2f}   "
              f"(max |weights difference| after 200 steps: {diff:.1e})")
        print(f"   {flops_step / o / 1e9:.2f} GFLOP/s in the step's products, {100 * flops_step / o / 1e9 / peak:.0f}% "
              f"of a {1000 if q else 1500}^2 GEMM here ({peak:.1f} GFLOP/s)")

        lrs = np.geomspace(0.001, 20, n_lrs)
        runs = [(float(lr), s) for lr in lrs for s in (0, 1, 2)]
        p0s = np.stack([net.init(s) for _, s in runs])
        opts = [core.optimizers.make("sgd", lr=lr) for lr, _ in runs]
        R = len(runs)
        t_batch, trs = best(lambda: train_batch(net, p0s, ds, opts, steps=sweep_steps, record_every=sweep_steps),
                            max(2, reps // 2))
        live = sum(len(t.loss_history) - 1 for t in trs)
        k = 12 if q else 30                             # naive loops timed; the rest scaled (same work a step)
        pick = np.linspace(0, R - 1, k).round().astype(int)
        t_naive_k, _ = best(lambda: [naive(net, p0s[i], runs[i][0], X, Y, sweep_steps) for i in pick], 2)
        t_naive = t_naive_k * R / k
        print(f"\n2. {R} runs: SGD, {n_lrs} learning rates x 3 seeds x {sweep_steps} steps ({live:,} run-steps; "
              f"naive: {k} loops timed, x {R / k:.0f})")
        print(f"   train_batch {t_batch:6.2f} s   naive loops {t_naive:6.2f} s   ratio {t_batch / t_naive:.2f}   "
              f"({t_batch / live * 1e6:.1f} us a run-step, {flops_step * live / t_batch / 1e9:.2f} GFLOP/s)")
        for sharp in (False, True):
            spec = sgd_sweep_spec(n_lrs, sweep_steps, sharp)
            t_sw, res = best(lambda: core.sweep(spec, scheduler="inline"), max(1, reps // 3))
            print(f"   core.sweep inline, sharpness {'on ' if sharp else 'off'} {t_sw:6.2f} s   "
                  f"ratio to the naive loops {t_sw / t_naive:.2f}")

    print()
    for name in ("four_optimizers", "article"):
        spec = core.ExperimentSpec.preset(name)
        if q and name == "article":
            spec.training.steps = 10_000
        stages, total = stage_times(spec)
        runs_steps = spec.training.steps * len(spec.optimizers)
        nv = b * runs_steps
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
        print(f"3. {name}{' (10,000 steps with --quick)' if q and name == 'article' else ''}: {total:.2f} s "
              f"({parts}); training {runs_steps:,} steps: naive loop {nv:.2f} s (estimate: its step time above x "
              f"steps), ratio {stages['train'] / nv:.2f}")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
