"""A fully connected network: ReLU hidden layers, sigmoid output, binary cross-entropy.

Parameters live in ONE flat float64 vector ``p`` of length ``net.n_params``.
``net.unflatten(p)`` returns ``[(W1, b1), (W2, b2), ...]`` as *views* into ``p``
with ``W`` of shape (out, in) and ``b`` of shape (out,), so that, as in the
article, ``Z = W X + b`` for a column of inputs. Data matrices here hold one
sample per row, ``X`` of shape (n, in), so in code ``Z = X @ W.T + b``.

Layout of ``p``: for each layer in order, W row-major (out*in values) then b.
"""
from __future__ import annotations

import numpy as np
from core.errors import quote
from core.rng import rng_for

MAX_HIDDEN_LAYERS = 4
MAX_UNITS = 512
INIT_SCHEMES = ("default", "article")


def softplus(z):
    """log(1 + exp(z)), stable and cheap (np.logaddexp is ~100x slower here)."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def sigmoid(z):
    """Stable logistic function: never overflows in exp."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def bce_from_logits(z, y):
    """Mean binary cross-entropy of logits z against labels y in {0, 1}.

    -[y log s(z) + (1-y) log(1-s(z))] = softplus(z) - y z  (log-sigmoid form,
    never log(0)).
    """
    return float(np.mean(softplus(z) - y * z))


class MLP:
    """``MLP([n_in, h1, ..., n_out])``; n_out must be 1 (binary classification)."""

    def __init__(self, layer_sizes):
        sizes = list(layer_sizes) if not isinstance(layer_sizes, (int, str)) else None
        if sizes is None or len(sizes) < 2:
            raise ValueError(
                f"layer_sizes={quote(layer_sizes)}: give a list [n_inputs, hidden..., 1], e.g. [9, 15, 1]")
        for i, s in enumerate(sizes):
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
                raise ValueError(f"layer_sizes[{i}]={quote(s)}: every layer needs a positive integer number of units")
        if sizes[-1] != 1:
            raise ValueError(f"layer_sizes[-1]={sizes[-1]}: the output layer must have 1 unit (binary classification)")
        if len(sizes) - 2 > MAX_HIDDEN_LAYERS:
            raise ValueError(f"layer_sizes={sizes}: at most {MAX_HIDDEN_LAYERS} hidden layers are allowed")
        for i, s in enumerate(sizes[1:-1], start=1):
            if s > MAX_UNITS:
                raise ValueError(f"layer_sizes[{i}]={s}: at most {MAX_UNITS} units a layer are allowed")
        self.layer_sizes = [int(s) for s in sizes]
        # layout: list of (W slice, W shape, b slice) per layer
        self.layout = []
        off = 0
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            w = slice(off, off + n_out * n_in); off += n_out * n_in
            b = slice(off, off + n_out); off += n_out
            self.layout.append((w, (n_out, n_in), b))
        self.n_params = off

    def __repr__(self):
        return f"MLP({self.layer_sizes})"

    # ------------------------------------------------------------------ params
    def unflatten(self, p):
        """Flat vector (P,) -> [(W (out,in), b (out,)), ...] as views into p."""
        p = np.asarray(p)
        if p.shape != (self.n_params,):
            raise ValueError(f"params shape {p.shape}: expected ({self.n_params},) for {quote(self)}")
        return [(p[w].reshape(shape), p[b]) for w, shape, b in self.layout]

    def flatten(self, layers):
        """[(W, b), ...] -> flat float64 vector (P,)."""
        return np.concatenate([np.concatenate([np.ravel(W), np.ravel(b)]) for W, b in layers]).astype(np.float64)

    def weight_mask(self):
        """Boolean (P,): True where the entry is a weight (not a bias)."""
        m = np.zeros(self.n_params, dtype=bool)
        for w, _, _ in self.layout:
            m[w] = True
        return m

    def init(self, seed=0, scheme="default"):
        """Gaussian weights scaled by 1/sqrt(fan_in), zero biases.

        scheme="default": the "init" stream of ``seed`` (core.rng.rng_for), or a Generator passed as ``seed``.
        scheme="article": the article's exact numbers, one legacy
        ``RandomState(seed)`` stream, each layer in order W = randn(out, in)/sqrt(in).
        """
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"init scheme={quote(scheme)}: allowed are {', '.join(INIT_SCHEMES)}")
        if scheme == "article":
            rs = np.random.RandomState(seed)
            draw = lambda shape: rs.randn(*shape)
        else:
            rng = rng_for(seed, "init")
            draw = lambda shape: rng.standard_normal(shape)
        p = np.zeros(self.n_params)
        for w, (n_out, n_in), _ in self.layout:
            p[w] = (draw((n_out, n_in)) / np.sqrt(n_in)).ravel()
        return p

    # ----------------------------------------------------------------- forward
    def logits(self, p, X):
        """Output pre-activation, shape (n,)."""
        A = np.asarray(X, dtype=np.float64)
        layers = self.unflatten(p)
        for W, b in layers[:-1]:
            A = np.maximum(A @ W.T + b, 0.0)
        W, b = layers[-1]
        return (A @ W.T + b)[:, 0]

    def predict_proba(self, p, X):
        """P(y = 1 | x), shape (n,)."""
        return sigmoid(self.logits(p, X))

    def accuracy(self, p, X, y):
        """Share of samples whose thresholded probability (logit > 0) equals y."""
        return float(np.mean((self.logits(p, X) > 0) == (np.asarray(y) > 0.5)))

    def loss(self, p, X, y):
        """Mean binary cross-entropy."""
        return bce_from_logits(self.logits(p, X), np.asarray(y, dtype=np.float64))

    # ---------------------------------------------------------------- backprop
    def loss_and_grad(self, p, X, y):
        """Mean BCE and its gradient (P,) by hand-written backprop.

        Computed in the article's column layout (one sample per column), which was
        faster here than the row layout for these small matrices:
        Forward:  A0 = X^T (in, n);  Z_l = W_l A_{l-1} + b_l (out, n);  A_l = relu(Z_l);  z = Z_L (n,)
        Backward: dz = (sigmoid(z) - y) / n;  dW_l = dZ_l A_{l-1}^T;  db_l = sum_n dZ_l;
                  dZ_{l-1} = (W_l^T dZ_l) * [Z_{l-1} > 0]
        """
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n = X.shape[0]
        layers = self.unflatten(p)
        A = X.T                                        # (in, n) view
        acts = [A]                                     # A_0 .. A_{L-1}
        pre = []                                       # Z_1 .. Z_{L-1}
        for W, b in layers[:-1]:
            Z = W @ A
            Z += b[:, None]
            pre.append(Z)
            A = np.maximum(Z, 0.0)
            acts.append(A)
        W, b = layers[-1]
        z = (W @ A)[0] + b[0]                          # (n,)
        # bce_from_logits and sigmoid, fused: one exp(-|z|) serves both (this is the training hot path)
        e = np.exp(-np.abs(z))
        loss = float(np.add.reduce(np.maximum(z, 0.0) + np.log1p(e) - y * z)) / n
        s = np.where(z >= 0, 1.0, e) / (1.0 + e)       # sigmoid(z), stable
        grad = np.empty(self.n_params)
        dZ = ((s - y) / n)[None, :]                    # (1, n)
        for li in range(len(layers) - 1, -1, -1):
            W, _ = layers[li]
            wsl, shape, bsl = self.layout[li]
            grad[wsl] = (dZ @ acts[li].T).ravel()      # (out, in)
            grad[bsl] = np.add.reduce(dZ, axis=1)
            if li > 0:
                if W.shape[0] == 1:                    # outer product: broadcasting beats a matmul
                    dA = W[0][:, None] * dZ
                else:
                    dA = W.T @ dZ
                dA *= pre[li - 1] > 0
                dZ = dA
        return loss, grad
