"""Training speed against a plain loop written like the article's class, all measured in this one process.

    python benchmarks/bench_train.py [--quick]

Prints, each with the naive loop's time for the same work measured here and the ratio (ours / naive):
  1. one run, per full-batch step: core.train on [9, 15, 1], 500 rows (gradient descent, lr 0.07);
  2. 120 runs (SGD, 40 learning rates x 3 seeds x 500 steps): core.model.training.train_batch, and the same
     grid as a sweep through core.sweep(scheduler="inline") (sharpness off, then on);
  3. the presets four_optimizers and article through core.run_experiment, split into their stages;
  4. the achieved GFLOP/s of the training step (its matrix products: 4 h d n + 4 h n a step) against a large
     NumPy GEMM measured here;
  5. where a batched step's time goes (CPU time, one turn of runs): its matrix products, its elementwise passes
     over the (R, h, n) hidden layer, the output layer, the optimizer update and the loop around them; for
     the exact kernel (the bits of core.train) and the fused one (train_batch(exact=False)).
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
from core.model import batched_training as bt  # noqa: E402
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


def best_both(fn, repeats):
    """(best wall seconds, best CPU seconds of this process, the last result) of ``repeats`` calls: on a shared
    machine the CPU time is the steadier figure (other processes' turns on the cores are not in it)."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), out


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
    """Seconds of run_experiment's stages (train, curvature, surface), in total, and the CPU seconds of this
    process (the curvature's chunks run on up to 2 threads: CPU can exceed wall)."""
    marks = {}
    t0, c0 = time.perf_counter(), time.process_time()
    core.run_experiment(spec, progress=lambda stage, done, total: marks.setdefault(stage, time.perf_counter()))
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    order = [s for s in ("train", "curvature", "surface") if s in marks] + [None]
    ends = {s: (marks[order[i + 1]] if order[i + 1] else t0 + total) for i, s in enumerate(order[:-1])}
    return {s: ends[s] - (marks[s] if s != "train" else t0) for s in order[:-1]}, total, cpu


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
            ours.append(best_both(lambda: core.train(net, p0, ds, opt, steps=steps1, record_every=steps1), 1)[:2])
            base.append(best_both(lambda: naive(net, p0, 0.07, X, Y, steps1), 1)[:2])
        o, b = min(w for w, _ in ours) / steps1, min(w for w, _ in base) / steps1
        oc, bc = min(c for _, c in ours) / steps1, min(c for _, c in base) / steps1
        tr = core.train(net, p0, ds, opt, steps=200, record_every=200)
        w = naive(net, p0, 0.07, X, Y, 200)
        diff = float(np.max(np.abs(net.flatten([(w.W1, w.b1[:, 0]), (w.W2, w.b2[:, 0])]) - tr.params[-1])))
        print(f"\n1. one run, full-batch step, [9, 15, 1], {n} rows, {steps1} steps")
        print(f"   core.train {o * 1e6:6.1f} us/step   naive loop {b * 1e6:6.1f} us/step   ratio {o / b:.2f}   "
              f"(max |weights difference| after 200 steps: {diff:.1e})")
        print(f"   CPU time: core.train {oc * 1e6:6.1f} us/step   naive loop {bc * 1e6:6.1f} us/step   "
              f"ratio {oc / bc:.2f}")
        print(f"   {flops_step / o / 1e9:.2f} GFLOP/s in the step's products, {100 * flops_step / o / 1e9 / peak:.0f}% "
              f"of a {1000 if q else 1500}^2 GEMM here ({peak:.1f} GFLOP/s)")

        lrs = np.geomspace(0.001, 20, n_lrs)
        runs = [(float(lr), s) for lr in lrs for s in (0, 1, 2)]
        p0s = np.stack([net.init(s) for _, s in runs])
        opts = [core.optimizers.make("sgd", lr=lr) for lr, _ in runs]
        R = len(runs)
        t_batch, c_batch, trs = best_both(lambda: train_batch(net, p0s, ds, opts, steps=sweep_steps,
                                                              record_every=sweep_steps), max(2, reps // 2))
        live = sum(len(t.loss_history) - 1 for t in trs)
        k = 12 if q else 30                             # naive loops timed; the rest scaled (same work a step)
        pick = np.linspace(0, R - 1, k).round().astype(int)
        t_naive_k, c_naive_k, _ = best_both(lambda: [naive(net, p0s[i], runs[i][0], X, Y, sweep_steps) for i in pick],
                                            2)
        t_naive, c_naive = t_naive_k * R / k, c_naive_k * R / k
        print(f"\n2. {R} runs: SGD, {n_lrs} learning rates x 3 seeds x {sweep_steps} steps ({live:,} run-steps; "
              f"naive: {k} loops timed, x {R / k:.0f})")
        print(f"   train_batch {t_batch:6.2f} s   naive loops {t_naive:6.2f} s   ratio {t_batch / t_naive:.2f}   "
              f"({t_batch / live * 1e6:.1f} us a run-step, {flops_step * live / t_batch / 1e9:.2f} GFLOP/s)")
        t_fused, c_fused, _ = best_both(lambda: train_batch(net, p0s, ds, opts, steps=sweep_steps,
                                                            record_every=sweep_steps, exact=False), max(2, reps // 2))
        print(f"   train_batch(exact=False) {t_fused:6.2f} s   ratio {t_fused / t_naive:.2f}   (the fused kernel: "
              f"{t_fused / live * 1e6:.1f} us a run-step; last bits differ from core.train, see docs/benchmarks.md)")
        print(f"   CPU time: train_batch {c_batch:.2f} s, exact=False {c_fused:.2f} s, naive loops {c_naive:.2f} s: "
              f"ratios {c_batch / c_naive:.2f} and {c_fused / c_naive:.2f}")
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
        stages, total, cpu = stage_times(spec)
        runs_steps = spec.training.steps * len(spec.optimizers)
        nv = b * runs_steps
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
        print(f"3. {name}{' (10,000 steps with --quick)' if q and name == 'article' else ''}: {total:.2f} s "
              f"({parts}; CPU {cpu:.2f} s); training {runs_steps:,} steps: naive loop {nv:.2f} s (estimate: its step "
              f"time above x steps), ratio {stages['train'] / nv:.2f}")
    with threadpool_limits(limits=1):
        breakdown(net, ds, bc, reps)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


def cpu_per_call(fn, calls=300, repeats=5):
    """Best CPU seconds (this thread) of one call of ``fn``."""
    fn()
    out = []
    for _ in range(repeats):
        t = time.thread_time()
        for _ in range(calls):
            fn()
        out.append((time.thread_time() - t) / calls)
    return min(out)


def breakdown(net, ds, naive_step, reps):
    """5. CPU time per run-step of a batched turn, by part, for the exact and the fused kernel; naive_step: the
    naive loop's CPU seconds a step."""
    A, B = np.random.default_rng(0).standard_normal((2, 1000, 1000))
    peak = 2e9 / cpu_per_call(lambda: A @ B, calls=3, repeats=reps) / 1e9          # GFLOP/s, CPU time
    X, y = np.ascontiguousarray(ds.X_train, dtype=np.float64), ds.y_train.astype(np.float64)
    n, (d, h) = len(y), net.layer_sizes[:2]
    R = bt.runs_per_turn(net, n, False)
    p0s = np.stack([net.init(s) for s in range(R)])
    opts = [core.optimizers.make("sgd", lr=0.05)] * R
    print(f"\n5. one batched step, {R} runs (a turn), [9, 15, 1], {n} rows: CPU us per run-step (thread time, best "
          f"of {reps}; the parts timed one by one, so they need not add up exactly; a 1000^2 GEMM: {peak:.1f} "
          f"GFLOP/s of CPU time)")
    for fused in (False, True):
        runs = bt._Runs(net, p0s.copy(), opts, n, False, fused=fused)
        runs.loss_and_grad(X, y, None)
        k, (pv, gv, _), (A0, X0, _) = runs.kernel, runs.plan[0], runs.data
        step = cpu_per_call(lambda: (runs.loss_and_grad(X, y, None), runs.update(0)), repeats=reps)
        kern = cpu_per_call(lambda: runs.loss_and_grad(X, y, None), repeats=reps)
        if not fused:
            Z, (Zf, Sf) = k.Z[0], k.flat[0]
            gemm = {"Z = W1 X": lambda: np.matmul(pv[0][0], A0, Z), "z = w2 A": lambda: np.matmul(pv[1][0], Z, k.z),
                    "dW2 = dz A^T": lambda: np.matmul(k.dz, k.AT[0], gv[1][0]),
                    "dA = w2 dz (outer)": lambda: np.matmul(k.w2[1][0], k.dz2, Z),
                    "dW1 = dZ X": lambda: np.matmul(Z, X0, gv[0][0])}
            passes = {"+ b1": lambda: np.add(Z, pv[0][1], Z), "S = [Z > 0]": lambda: np.greater(Zf, 0.0, Sf),
                      "A = Z S": lambda: np.multiply(Zf, Sf, Zf), "dZ = dA S": lambda: np.multiply(Zf, Sf, Zf),
                      "db1 = sum dZ": lambda: np.add.reduce(Z, 2, None, gv[0][3])}
        else:
            wb, gw = pv, gv
            gemm = {"Z = [W1 b1] [X 1]^T": lambda: np.matmul(k.Wa, A0, k.Z),
                    "z = w2 A": lambda: np.matmul(wb[2], k.Z, k.z),
                    "dW2 = dz A^T": lambda: np.matmul(k.dz, k.AT, gw[2]),
                    "M = (S dz) [X 1]": lambda: np.matmul(k.S, X0, k.M)}
            passes = {"S = [Z > 0]": lambda: np.greater(k.Zf, 0.0, k.Sf),
                      "A = Z S": lambda: np.multiply(k.Zf, k.Sf, k.Zf),
                      "S dz": lambda: np.multiply(k.S, k.dz, k.S)}
        with np.errstate(all="ignore"):
            tg = {a: cpu_per_call(f, repeats=reps) / R for a, f in gemm.items()}
            tp = {a: cpu_per_call(f, repeats=reps) / R for a, f in passes.items()}
        g_sum, p_sum = sum(tg.values()), sum(tp.values())
        flops = 2 * (h * (d + (1 if fused else 0)) * n * 2 + 2 * h * n) + (0 if fused else 2 * h * n)
        print(f"   {'fused' if fused else 'exact'}: step {step / R * 1e6:5.1f} = products {g_sum * 1e6:4.1f} "
              f"({flops / g_sum / 1e9:.0f} GFLOP/s, {100 * flops / g_sum / 1e9 / peak:.0f}% of the large GEMM) + "
              f"hidden-layer passes {p_sum * 1e6:4.1f} ({len(tp)} x {h * n:,} values, "
              f"{p_sum / len(tp) / (h * n) * 1e9:.2f} ns a value) + output layer "
              f"{(kern / R - g_sum - p_sum) * 1e6:4.1f} + update {(step - kern) / R * 1e6:4.1f}; "
              f"ratio to the naive step {step / R / naive_step:.2f}")
        print("      " + ", ".join(f"{a} {v * 1e6:.2f}" for a, v in {**tg, **tp}.items()))


if __name__ == "__main__":
    main()
