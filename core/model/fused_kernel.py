"""The fused loss-and-gradient kernel of R runs of a one-hidden-layer network (train_batch(..., exact=False)):
fewer passes over the hidden layer than core.model.batched_training's exact kernel, other last bits.

    k = FusedKernel(net, R, rows); wb, gv = k.views(P), k.views(G)     # P, G (R, P) stacked weights, gradients
    k.loss_and_grad(wb, gv, Xa.T, Xa, ym)                              # -> k.loss (R,), G filled; Xa = [X, 1]

Shapes: R runs, h hidden units, d inputs, rows samples a step.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FusedKernel", "output_layer"]

# NumPy's functions bound once, constants as 0-d arrays (a Python float is converted at every call)
_mm, _add, _sub, _mul, _div = np.matmul, np.add, np.subtract, np.multiply, np.divide
_gt, _ge, _exp, _log1p, _copysign, _sum = np.greater, np.greater_equal, np.exp, np.log1p, np.copysign, np.add.reduce
_ZERO, _ONE, _MINUS_ONE = np.array(0.0), np.array(1.0), np.array(-1.0)


def output_layer(k, ym):
    """The output layer of both kernels (this one and batched_training._Kernel), on kernel ``k``'s buffers:
    from the logits k.zf (R rows,) and labels ym (R rows,), each run's mean BCE into k.loss (R,) and
    dz = (sigmoid(z) - y) / rows into k.dzf. The same NumPy calls in the same order as MLP.loss_and_grad's."""
    zf, e, u, v, s = k.zf, k.e, k.u, k.v, k.s
    _copysign(zf, _MINUS_ONE, e)                             # e = exp(-|z|) serves the loss and the sigmoid
    _exp(e, e)
    np.maximum(zf, _ZERO, out=u)                             # softplus(z) - y z
    _log1p(e, v)
    _add(u, v, u)
    _mul(ym, zf, v)
    _sub(u, v, u)
    _sum(k.u3, 2, None, k.lsum)
    _div(k.lsum[:, 0], k.n, k.loss)
    # sigmoid(z) = where(z >= 0, 1, e) / (1 + e); max([z >= 0], e) is that numerator (0 <= e <= 1, nan kept)
    _ge(zf, _ZERO, s)
    np.maximum(s, e, out=s)
    _add(e, _ONE, v)
    _div(s, v, s)
    _sub(s, ym, k.dzf)                                       # dz = (sigmoid(z) - y) / rows
    _div(k.dzf, k.n, k.dzf)


class FusedKernel:
    """Loss and gradient of R runs of a ONE-hidden-layer network, with fewer passes over the (R, h, rows)
    arrays than batched_training._Kernel (the ``exact=False`` path of train_batch). Not MLP.loss_and_grad's
    order of operations, so the last bits differ from a single run's (about 1e-16 relative a step; the bound
    after training is in core.model.batched_training's notes and tested); each run's numbers do not depend on
    the other runs of the batch (every product is a per-run BLAS call of the same shape), so any split of the
    runs into batches (a sweep's chunks on any engine) gives the same bits.

    With Xa = [X, 1] (rows, d+1) and Wa = [W1, b1] (h, d+1):
        Z = Wa Xa^T              (one product: the bias rides in the ones column, no pass to add it)
        S = [Z > 0];  A = Z S    (two passes)
        z = w2 A + b2;  dz = (sigmoid(z) - y) / rows      (rows-long work only)
        dW2 = dz A^T;  db2 = sum dz
        M = (S dz) Xa            (one pass and one product: (h, d+1))
        dW1 = w2 M[:, :d];  db1 = w2 M[:, d]              (dZ1 = (w2 dz) S is never formed)
    Against batched_training._Kernel: no bias pass, no outer product w2 dz, no mask pass and no row sum over
    (R, h, rows).
    """

    def __init__(self, net, R, rows):
        d, h = net.layer_sizes[0], net.layer_sizes[1]
        self.net, self.R, self.rows, self.d, self.h = net, R, rows, d, h
        self.Wa = np.empty((R, h, d + 1))                        # [W1, b1] of each run
        self.Wa_w, self.Wa_b = self.Wa[:, :, :d], self.Wa[:, :, d]
        self.Z = np.empty((R, h, rows))                          # Z, then A = relu(Z)
        self.S = np.empty((R, h, rows))                          # [Z > 0], then [Z > 0] dz
        self.Zf, self.Sf, self.AT = self.Z.reshape(-1), self.S.reshape(-1), self.Z.transpose(0, 2, 1)
        self.z = np.empty((R, 1, rows))                          # output logits
        self.zf = self.z.reshape(-1)
        self.e, self.u, self.v, self.s = (np.empty(R * rows) for _ in range(4))     # (R rows,) scratch
        self.u3 = self.u.reshape(R, 1, rows)
        self.dz = np.empty((R, 1, rows))
        self.dzf = self.dz.reshape(-1)
        self.M = np.empty((R, h, d + 1))
        self.M_w, self.M_b = self.M[:, :, :d], self.M[:, :, d]
        self.lsum, self.loss = np.empty((R, 1)), np.empty(R)
        self.n = np.array(float(rows))

    def views(self, flat):
        """(W1 (R, h, d), b1 (R, h), w2 (R, 1, h), b2 (R, 1, 1), w2 (R, h, 1), w2 (R, h)) views into a stacked
        (R, P) array, made once a buffer (for the gradient: the same slots)."""
        (w1, shape, b1), (w2, _, b2) = self.net.layout
        W2 = flat[:, w2]
        return (flat[:, w1].reshape(self.R, *shape), flat[:, b1], W2[:, None, :], flat[:, b2][:, :, None],
                W2[:, :, None], W2)

    def loss_and_grad(self, wb, gv, A0, X0, ym):
        """As batched_training._Kernel.loss_and_grad, with A0 = Xa^T (d+1, rows) or (R, d+1, rows) and X0 = Xa
        (rows, d+1) or (R, rows, d+1): the data with a column of ones."""
        W1, b1, w2, b2, w2c, w2r = wb
        gW1, gb1, gW2, gb2, _, _ = gv
        np.copyto(self.Wa_w, W1)
        np.copyto(self.Wa_b, b1)
        Z, Zf, Sf = self.Z, self.Zf, self.Sf
        _mm(self.Wa, A0, Z)                                      # Z = W1 X^T + b1
        _gt(Zf, _ZERO, Sf)
        _mul(Zf, Sf, Zf)                                         # A = Z [Z > 0] (as _Kernel)
        z = self.z
        _mm(w2, Z, z)                                            # (R, 1, rows)
        _add(z, b2, z)
        output_layer(self, ym)                                   # the output layer exactly as _Kernel
        _mm(self.dz, self.AT, gW2)                               # dW2 = dz A^T
        _sum(self.dz, 2, None, gb2[:, :, 0])                     # db2
        _mul(self.S, self.dz, self.S)                            # [Z > 0] dz
        _mm(self.S, X0, self.M)                                  # M = ([Z > 0] dz) Xa  (R, h, d+1)
        _mul(self.M_w, w2c, gW1)                                 # dW1 = w2 M[:, :d]
        _mul(self.M_b, w2r, gb1)                                 # db1 = w2 M[:, d]
