"""Time per full-batch step: core.train against a plain loop written like the article's class.

    python benchmarks/bench_train.py [--steps 5000]

Both train the article's network [9, 15, 1] on the Wisconsin training rows with
gradient descent at lr 0.07 from the same weights, in the same process. Prints
microseconds per step and the ratio, and checks the final weights agree.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import core  # noqa: E402


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
        for _ in range(steps):
            self.forward(X)
            losses.append(self.loss(Y))
            self.backward(X, Y)
        return losses


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    ds = core.load_dataset("wisconsin")
    net = core.MLP([9, 15, 1])
    p0 = net.init(1, scheme="article")
    (W1, b1), (W2, b2) = net.unflatten(p0)
    opt = core.model.optimizers.make("sgd", lr=0.07)
    X, Y = ds.X_train.T, ds.y_train[None, :]
    ours, base = [], []
    for _ in range(args.repeats):                      # interleave to share the machine's noise
        t = time.perf_counter()
        tr = core.train(net, p0, ds, opt, steps=args.steps, record_every=max(1, args.steps // 100))
        ours.append(time.perf_counter() - t)
        a = ArticleNet(W1, b1, W2, b2, 0.07)
        t = time.perf_counter()
        a.fit(X, Y, args.steps)
        base.append(time.perf_counter() - t)
    final = net.flatten([(a.W1, a.b1[:, 0]), (a.W2, a.b2[:, 0])])
    diff = float(np.max(np.abs(final - tr.params[-1])))
    o, b = min(ours) / args.steps * 1e6, min(base) / args.steps * 1e6
    print(f"full-batch step, [9, 15, 1], 500 rows, {args.steps} steps, best of {args.repeats}")
    print(f"  core.train (records {len(tr.steps)} frames, accuracies, loss history): {o:8.1f} us/step")
    print(f"  article-style loop:                                             {b:8.1f} us/step")
    print(f"  ratio loop / core.train: {b / o:.2f}x   max |weights difference| after training: {diff:.2e}")
    print(f"  the article's 67,000 steps at this speed: {o * 67000 / 1e6:.1f} s")


if __name__ == "__main__":
    main()
