"""Many training runs of one network on one dataset, advanced together as one computation: the engine under
core.model.training's ``train`` (one run) and ``train_batch`` (many), which check the arguments, record the
frames and return Trajectories.

    trajs = train_batch(net, p0s, ds, opts, steps=500, record_every=500, seeds=[0, 1, 2])   # core.model.training
    hist, diverged = descend(net, X, y, p0s, opts=opts, steps=500, record_set={0, 500}, batches=None,
                             diverge_factor=100.0, frames=frames, tick=None)               # one turn, here

Every run keeps its own initial weights, optimizer (hyper-parameters, schedule), mini-batch order, divergence
test and frames; ``train_batch(...)[r]`` has the same bits as ``train(net, p0s[r], ds, opts[r], ...,
seed=seeds[r])``, which is train_batch with one run (the default, exact kernel; see the fused kernel below).

How: the R runs' parameters are stacked (R, P) and each step is a few NumPy calls over all of them, in the
column layout of MLP.loss_and_grad (A_0 = X^T (d, n), Z_l = W_l A_{l-1} + b_l (h_l, n)). Every product is
``np.matmul`` over the run axis, so NumPy makes, for each run, the very BLAS call a single run makes (one
(R*h, d) @ (d, n) product is a little faster but its last bits differ, so it is not used); everything else
is elementwise or a reduction along a contiguous row, the same numbers in any batch. Optimizer states are
stacked too, each run with its own rates; optimizers this module does not know (not built by
core.optimizers.make) step one run at a time through their own update. A run that diverges stops at that
step as in core.model.training; the others go on without it (its rows are dropped). Per run the loss of every
step and the frames come back as a Trajectory.

Same numbers, not only close: relu is formed as Z * [Z > 0], which equals max(Z, 0) except that a negative Z
gives -0.0 for 0.0; a zero's sign only reaches an exact-zero sum, which then meets a bias that is never -0.0,
so weights, losses and frames match MLP.loss_and_grad's byte for byte
(tests/core/model/test_batched_training.py compares with a plain reference loop; the run file's recorded
checksum is unchanged). The outer product of
a width-1 layer, w[:, None] * dz, is a (h, 2) @ (2, n) product with zero second column and row: BLAS forms
each product once, exactly. Where it pays: the runs of a sweep chunk or of an experiment share every NumPy
call, so the per-call cost (most of a step at these sizes) is paid once a step, not once a run.

The fused kernel (``descend(..., fused=True)``, train_batch's ``exact=False``; one hidden layer only): the same
loss and gradient with fewer passes over the (R, h, rows) arrays (core/model/fused_kernel.py), 16-18% less CPU for the
120-run SGD grid of benchmarks/bench_train.py (1.50 s -> 1.26 s). Its numbers are not MLP.loss_and_grad's: one
step's loss and gradient agree to about 1e-16 relative, and training carries that on. Measured (tests/core/model/
test_fused_kernel.py): stable runs stay within 1e-15 of ``train`` over 150 steps (every family, schedules,
mini-batches, runs that diverge at the same step), but runs near the edge of stability amplify the
difference step after step: 2e-11 to 4e-9 relative on the loss after 150 steps, and over 500 steps some (SGD
lr 20 before it diverges, adam lr 0.05 beta1 0.5) end O(1) apart, equally valid roundings of a chaotic
path. So it is opt-in: sweeps and experiments use the exact kernel, whose runs equal ``train``'s bit for bit.
A fused run's bits do not depend on the other runs of its batch (tested), so any chunking gives the same.

Shapes: R runs, P weights, n rows a step, h_l units of hidden layer l, d inputs.
"""
from __future__ import annotations

import numpy as np

from core.model import optimizers as _opt
from core.model.fused_kernel import FusedKernel, output_layer
from core.model.schedules import constant

__all__ = ["descend", "by_family", "fusable", "runs_per_turn", "MAX_BATCH_BYTES"]

MAX_BATCH_BYTES = 4 * 2 ** 20     # working buffers of the runs advanced together (more runs go in turns)


# NumPy's functions bound once, constants as 0-d arrays (a Python float is converted at every call)
_mm, _add, _sub, _mul, _div = np.matmul, np.add, np.subtract, np.multiply, np.divide
_gt, _ge, _exp, _log1p, _copysign, _sum = np.greater, np.greater_equal, np.exp, np.log1p, np.copysign, np.add.reduce
_ZERO, _ONE, _MINUS_ONE = np.array(0.0), np.array(1.0), np.array(-1.0)


# ------------------------------------------------------------------ optimizers, stacked
# the code of each update closure core.optimizers.make builds; an Optimizer is stacked only when its update is
# one of these, and its numbers (rates, schedule) are read from that closure, so the stacked step is its step
_CODES = {getattr(_opt.make(n).update, "__code__", None): n for n in ("sgd", "momentum", "adam", "rmsprop")}
_CONSTANT = constant(1.0).__code__


def _closure(opt):
    """The free variables of ``opt.update`` by name (lr: the schedule, mu, nesterov, b1, b2, eps, a)."""
    u = opt.update
    return dict(zip(u.__code__.co_freevars, (c.cell_contents for c in u.__closure__ or ())))


def _family(opt):
    """The stacked update that computes exactly ``opt.update``: sgd, momentum, nesterov, adam, rmsprop; or
    "one" (its own update, one run at a time)."""
    f = _CODES.get(getattr(opt.update, "__code__", None), "one")
    if f == "momentum" and _closure(opt)["nesterov"]:
        return "nesterov"
    return f


def _col(values):
    return np.array(values, dtype=np.float64)[:, None]          # (R, 1)


class _Stacked:
    """The update of R runs of one family (sgd, momentum, nesterov, adam, rmsprop), the arithmetic of
    core.optimizers term by term, into preallocated buffers. States are double-buffered (the previous one
    is kept for a run that diverges: its last frame's preconditioner)."""

    N_STATE = {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 2, "rmsprop": 1}

    def __init__(self, family, opts, n_params):
        self.family, self.opts = family, list(opts)
        cl = [_closure(o) for o in self.opts]
        R = len(cl)
        self.sched = [c["lr"] for c in cl]                                      # step -> learning rate, each run
        self.const = all(getattr(s, "__code__", None) is _CONSTANT for s in self.sched)
        self.neglr = _col([-s(0) for s in self.sched]) if self.const else np.empty((R, 1))   # (R, 1) -lr
        if family in ("momentum", "nesterov"):
            self.mu = _col([c["mu"] for c in cl])
        elif family == "adam":
            self.b1s, self.b2s = [c["b1"] for c in cl], [c["b2"] for c in cl]     # Python numbers, for b ** t
            self.b1, self.b2, self.eps = _col(self.b1s), _col(self.b2s), _col([c["eps"] for c in cl])
            self.omb1, self.omb2 = 1 - self.b1, 1 - self.b2                     # (R, 1): 1 - beta, as Python does
            self.c1, self.c2 = np.empty((R, 1)), np.empty((R, 1))
        elif family == "rmsprop":
            self.a, self.eps = _col([c["a"] for c in cl]), _col([c["eps"] for c in cl])
            self.oma = 1 - self.a
        k = self.N_STATE[family]
        self.cur = tuple(np.zeros((R, n_params)) for _ in range(k))             # state of this step, (R, P) each
        self.prev = tuple(np.zeros((R, n_params)) for _ in range(k))            # of the step before
        self.tmp = np.empty((R, n_params)) if family in ("adam", "rmsprop") else None
        self.tmp2 = np.empty((R, n_params)) if family == "adam" else None

    def state(self, i, prev=False):
        """Run i's state in core.optimizers' form (a tuple of (P,) arrays)."""
        return tuple(s[i] for s in (self.prev if prev else self.cur))

    def keep(self, idx):
        """Only the runs at local indices ``idx`` from now on."""
        out = object.__new__(_Stacked)
        out.__dict__.update(self.__dict__)
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray):
                setattr(out, k, v[idx])
            elif isinstance(v, tuple):
                setattr(out, k, tuple(a[idx] for a in v))
            elif isinstance(v, list):
                setattr(out, k, [v[i] for i in idx])
        return out

    def update(self, t, p, g, p_next, d):
        """p_next = p + delta of step t; p, g, p_next, d (R, P), d a scratch buffer."""
        if not self.const:
            self.neglr[:, 0] = [-s(t) for s in self.sched]
        neglr, f = self.neglr, self.family
        if f == "sgd":                                   # delta = -lr g
            _mul(neglr, g, d)
        elif f in ("momentum", "nesterov"):              # v = mu v + g;  delta = -lr v  or  -lr (g + mu v)
            v, = self.prev
            _mul(self.mu, self.cur[0], v)
            _add(v, g, v)
            if f == "nesterov":
                _mul(self.mu, v, d)
                _add(g, d, d)
                _mul(neglr, d, d)
            else:
                _mul(neglr, v, d)
        elif f == "adam":                                # m = b1 m + (1-b1) g;  s = b2 s + (1-b2) g g
            m, s = self.prev
            tmp, den = self.tmp, self.tmp2
            _mul(self.b1, self.cur[0], m)
            _mul(self.omb1, g, tmp)
            _add(m, tmp, m)
            _mul(self.b2, self.cur[1], s)
            _mul(self.omb2, g, tmp)
            _mul(tmp, g, tmp)
            _add(s, tmp, s)
            t1 = t + 1                                   # -lr (m / (1-b1^t)) / (sqrt(s / (1-b2^t)) + eps)
            self.c1[:, 0] = [1 - b ** t1 for b in self.b1s]
            self.c2[:, 0] = [1 - b ** t1 for b in self.b2s]
            _div(m, self.c1, tmp)
            _div(s, self.c2, den)
            np.sqrt(den, den)
            _add(den, self.eps, den)
            _mul(neglr, tmp, tmp)
            _div(tmp, den, d)
        else:                                            # rmsprop: s = a s + (1-a) g g;  -lr g / (sqrt(s) + eps)
            s, = self.prev
            tmp = self.tmp
            _mul(self.a, self.cur[0], s)
            _mul(self.oma, g, tmp)
            _mul(tmp, g, tmp)
            _add(s, tmp, s)
            np.sqrt(s, tmp)
            _add(tmp, self.eps, tmp)
            _mul(neglr, g, d)
            _div(d, tmp, d)
        _add(p, d, p_next)
        self.cur, self.prev = self.prev, self.cur


class _OneByOne:
    """Optimizers this module cannot stack: each run's own ``update`` (pure functions), one run at a time."""

    def __init__(self, opts, p0):
        self.opts = list(opts)
        self.cur = [o.init(p.copy()) for o, p in zip(self.opts, p0)]           # as core.train: init(p0)
        self.prev = list(self.cur)

    def state(self, i, prev=False):
        return (self.prev if prev else self.cur)[i]

    def keep(self, idx):
        out = object.__new__(_OneByOne)
        out.opts = [self.opts[i] for i in idx]
        out.cur, out.prev = [self.cur[i] for i in idx], [self.prev[i] for i in idx]
        return out

    def update(self, t, p, g, p_next, d):
        self.prev = list(self.cur)
        for i, o in enumerate(self.opts):
            delta, self.cur[i] = o.update(g[i], self.cur[i], t)
            np.add(p[i], delta, out=p_next[i])


# ------------------------------------------------------------------ the forward and backward pass
class _Kernel:
    """Loss and gradient of R runs on ``rows`` samples a step, into preallocated buffers: MLP.loss_and_grad's
    operations in its order, over a leading run axis. Every view is made once; elementwise work goes through
    flat views (fewer iterator steps, the same numbers)."""

    def __init__(self, net, R, rows):
        self.net, self.R, self.rows = net, R, rows
        hidden = net.layer_sizes[1:-1]
        # one buffer a hidden layer holds Z_l, then A_l = relu(Z_l) = Z_l * S_l, then (once dW_{l+1} has read
        # A_l) dL/dZ_l: fewer bytes through the caches
        self.Z = [np.empty((R, h, rows)) for h in hidden]       # (R, h_l, rows)
        self.S = [np.empty((R, h, rows)) for h in hidden]       # 1.0 where Z_l > 0, else 0.0
        self.flat = [(Z.reshape(-1), S.reshape(-1)) for Z, S in zip(self.Z, self.S)]
        self.AT = [Z.transpose(0, 2, 1) for Z in self.Z]         # A_l^T (R, rows, h_l)
        self.z = np.empty((R, 1, rows))                          # output logits
        self.zf = self.z.reshape(-1)
        self.e, self.u, self.v, self.s = (np.empty(R * rows) for _ in range(4))     # (R rows,) scratch
        self.u3 = self.u.reshape(R, 1, rows)
        # dL/dz of each run (R, 1, rows) is row 0 of the (2, rows) blocks dz2 (R, 2, rows), whose row 1 stays 0;
        # allocated (2, R, rows), so that dL/dz is one contiguous (R rows,) array
        dz2 = np.zeros((2, R, rows))
        self.dz2, self.dz, self.dzf = dz2.transpose(1, 0, 2), dz2[0][:, None, :], dz2[0].reshape(-1)
        # a width-1 layer's outer product W^T dZ as (R, h, 2) @ (R, 2, rows) with zeros in the second
        # column and row: BLAS forms each product w dz exactly once, as the broadcast w[:, None] * dz does
        self.w2 = {}                                             # layer -> ((R, h, 2) buffer, its column 0)
        for li in range(1, len(net.layout)):
            if net.layer_sizes[li + 1] == 1:
                w2 = np.zeros((R, net.layer_sizes[li], 2))
                self.w2[li] = (w2, w2[:, :, 0])
        self.lsum, self.loss = np.empty((R, 1)), np.empty(R)   # summed and mean loss of each run
        self.n = np.array(float(rows))

    def views(self, flat):
        """[(W (R, out, in), b (R, out, 1), W^T (R, in, out), b (R, out), W[:, 0] (R, in)), ...] views into a
        stacked (R, P) array, made once a buffer."""
        out = []
        for w, shape, b in self.net.layout:
            W = flat[:, w].reshape(self.R, *shape)
            out.append((W, flat[:, b][:, :, None], W.transpose(0, 2, 1), flat[:, b], W[:, 0, :]))
        return out

    def loss_and_grad(self, wb, gv, A0, X0, ym):
        """Each run's mean BCE into self.loss (R,); the gradient into the views ``gv`` of G (R, P).

        wb, gv: views() of the parameters and of the gradient; A0: X^T (d, rows) or (R, d, rows); X0: X
        (rows, d) or (R, rows, d); ym (R rows,) each run's labels. (Outputs are passed positionally and
        constants as 0-d arrays: at these sizes NumPy's argument handling is a good part of the time.)"""
        L = len(wb)
        A = A0
        for l in range(L - 1):                                   # Z = W A + b;  A = relu(Z)
            Z = self.Z[l]
            Zf, Sf = self.flat[l]
            _mm(wb[l][0], A, Z)
            _add(Z, wb[l][1], Z)
            _gt(Zf, _ZERO, Sf)
            _mul(Zf, Sf, Zf)                  # Z * [Z > 0] = max(Z, 0) up to the sign of a zero (module notes)
            A = Z
        z = self.z
        _mm(wb[-1][0], A, z)                                     # (R, 1, rows)
        _add(z, wb[-1][1], z)
        output_layer(self, ym)                                   # loss into self.loss, dz into self.dzf
        dZ = self.dz
        for li in range(L - 1, -1, -1):
            GW, _, _, Gb, Wrow = gv[li]
            _mm(dZ, X0 if li == 0 else self.AT[li - 1], GW)      # dW = dZ A^T
            _sum(dZ, 2, None, Gb)                                # db = sum over rows of dZ
            if li == 0:
                break
            T = self.Z[li - 1]                                   # A_{li-1} is read: its buffer takes dZ
            if li in self.w2:                                    # dA = W^T dZ, an outer product
                w2, col = self.w2[li]
                np.copyto(col, wb[li][4])
                _mm(w2, self.dz2 if dZ is self.dz else _pad(dZ), T)
            else:
                _mm(wb[li][2], dZ, T)
            Tf, Sf = self.flat[li - 1]
            _mul(Tf, Sf, Tf)                                     # dZ = dA * [Z > 0]
            dZ = T


def _pad(dZ):
    """(R, 1, rows) -> (R, 2, rows) with a zero second row (a width-1 hidden layer; rare)."""
    return np.concatenate([dZ, np.zeros_like(dZ)], axis=1)


# ------------------------------------------------------------------ the runs of one turn
class _Runs:
    """The stacked state of the runs advancing together: parameters and gradients (R, P), each in two buffers
    that swap every step (this step's and the one before, kept for a run that diverges), optimizer groups
    (contiguous rows of one family), the kernel's buffers and, with mini-batches, each run's rows of the step.
    Every view a step uses is made once, for both parities of the buffers."""

    def __init__(self, net, p, opts, rows, mini_batch, fused=False):
        R, P = p.shape
        self.net, self.R, self.rows, self.fused, self.Xa = net, R, rows, fused, None
        self.pair_p, self.pair_g = (p, np.empty_like(p)), (np.empty((R, P)), np.empty((R, P)))
        self.d = np.empty((R, P))                              # scratch: the update
        fams = [_family(o) for o in opts]
        self.groups = []                                      # (lo, hi, updater) over contiguous rows
        lo = 0
        for hi in range(1, R + 1):
            if hi == R or fams[hi] != fams[lo]:
                sub = opts[lo:hi]
                self.groups.append((lo, hi, _OneByOne(sub, p[lo:hi]) if fams[lo] == "one"
                                    else _Stacked(fams[lo], sub, P)))
                lo = hi
        self.parity = 0
        self._buffers(mini_batch)

    def _buffers(self, mini_batch):
        self.kernel = (FusedKernel if self.fused else _Kernel)(self.net, self.R, self.rows)
        d = self.net.layer_sizes[0] + (1 if self.fused else 0)     # the fused kernel's data has a ones column
        self.Xb = np.empty((self.R, self.rows, d)) if mini_batch else None     # (R, rows, d) this step's rows
        self.yb = np.empty((self.R, self.rows)) if mini_batch else None
        if mini_batch:                                          # the kernel's A0, X0 and labels, as views
            self.data = (self.Xb.transpose(0, 2, 1), self.Xb, self.yb.reshape(-1))
        k = self.kernel
        # for each parity: kernel views of the weights and the gradient; each group's rows of p, g, p_next, d
        self.plan = []
        for par in (0, 1):
            p, p_next, g = self.pair_p[par], self.pair_p[1 - par], self.pair_g[par]
            self.plan.append((k.views(p), k.views(g), [(up, p[lo:hi], g[lo:hi], p_next[lo:hi], self.d[lo:hi])
                                                        for lo, hi, up in self.groups]))

    @property
    def p(self):
        return self.pair_p[self.parity]                        # (R, P) this step's weights

    @property
    def p_before(self):
        return self.pair_p[1 - self.parity]

    @property
    def g(self):
        return self.pair_g[self.parity]

    @property
    def g_before(self):
        return self.pair_g[1 - self.parity]

    def keep(self, mask):
        """The runs where ``mask`` (R,) is True, from now on."""
        idx = np.flatnonzero(mask)
        out = object.__new__(_Runs)
        out.__dict__.update(self.__dict__)
        out.R = len(idx)
        out.pair_p = tuple(a[idx] for a in self.pair_p)
        out.pair_g = tuple(a[idx] for a in self.pair_g)
        out.d = self.d[idx]
        out.groups = []
        lo = 0
        for glo, ghi, up in self.groups:
            local = idx[(idx >= glo) & (idx < ghi)] - glo
            if len(local):
                out.groups.append((lo, lo + len(local), up.keep(local)))
                lo += len(local)
        out._buffers(self.Xb is not None)
        return out

    def group_of(self, i):
        for lo, hi, up in self.groups:
            if lo <= i < hi:
                return up, i - lo

    def loss_and_grad(self, X, y, batch_rows):
        """Each run's loss (R,) on this step's rows, its gradient into self.g. batch_rows: (R, rows) row indices
        of each run's mini-batch, or None (full batch)."""
        if self.fused and self.Xa is None:                    # [X, 1] (n, d+1), once a turn
            self.Xa = np.concatenate([X, np.ones((len(X), 1))], axis=1)
        src = self.Xa if self.fused else X
        if batch_rows is None:
            if self.yb is None:
                self.yb = np.repeat(y[None, :], self.R, axis=0)   # (R, rows) the labels, once a turn
                # the fused kernel's A0 contiguous (a faster product); _Kernel's a view, as MLP.loss_and_grad
                # (OpenBLAS's last bits differ between the two)
                self.data = (np.ascontiguousarray(src.T) if self.fused else src.T, src, self.yb.reshape(-1))
        else:
            np.take(src, batch_rows, axis=0, out=self.Xb)
            np.take(y, batch_rows, out=self.yb)
        pv, gv, _ = self.plan[self.parity]
        self.kernel.loss_and_grad(pv, gv, *self.data)
        return self.kernel.loss

    def update(self, t):
        """Step t's update of every run, then this step becomes the one before."""
        for up, p, g, p_next, d in self.plan[self.parity][2]:
            up.update(t, p, g, p_next, d)
        self.parity = 1 - self.parity


def _bytes_per_run(net, rows, mini_batch):
    hidden = sum(net.layer_sizes[1:-1])
    data = rows * (net.layer_sizes[0] + 1) if mini_batch else 0
    return 8 * (2 * hidden * rows + 9 * rows + 7 * net.n_params + data)


def runs_per_turn(net, rows, mini_batch):
    """How many runs advance together: their buffers within MAX_BATCH_BYTES (at least one)."""
    return max(1, MAX_BATCH_BYTES // _bytes_per_run(net, rows, mini_batch))


def by_family(opts):
    """Indices of ``opts`` with the runs of one stacked update next to each other (a turn's contiguous groups)."""
    return sorted(range(len(opts)), key=lambda r: _family(opts[r]))


def fusable(net):
    """Whether the fused kernel (exact=False) applies: one hidden layer."""
    return len(net.layer_sizes) == 3


def descend(net, X, y, p0, *, opts, steps, record_set, batches, diverge_factor, frames, tick, fused=False):
    """One turn: the runs p0 (R, P) from step 0 to ``steps`` together on the training data X (n, d), y (n,)
    (float64, C order).

    opts: an Optimizer a run; batches: (batch size, [a generator of each step's row indices (batch size,) a
    run]), or None (full batch); frames: a recorder a run, ``record(t, params, full-batch loss, grad, state)`` with a
    list
    ``steps`` (core.model.training's); record_set: the steps to record; diverge_factor: as core.model.training;
    tick(t): progress, every 1000 // R steps (every 1000 steps for one run); fused: core.model.fused_kernel (one
    hidden layer only; last bits differ from a single run's, see the module notes). Returns each run's loss at every
    step ((steps + 1,), shorter when it diverged) and the step it diverged at (or None)."""
    n, R0 = len(y), len(p0)
    mini = batches is not None
    batch_size, batches = batches if mini else (n, None)
    runs = _Runs(net, np.array(p0, dtype=np.float64), opts, batch_size, mini, fused=fused and fusable(net))
    ids = np.arange(R0)                                        # (R,) which run each row is
    hist = np.empty((steps + 1, R0))                           # loss of every step of every run
    ends, diverged = [steps + 1] * R0, [None] * R0
    thr = None
    every = max(1, 1000 // R0)                                 # progress: every 1000 run-steps or so
    for t in range(steps + 1):
        rows = np.stack([next(batches[r]) for r in ids]) if mini else None
        loss = runs.loss_and_grad(X, y, rows)                 # (R,)
        if len(ids) == R0:
            hist[t] = loss
        else:
            hist[t, ids] = loss
        if t == 0:                                             # a factor over the first loss
            thr = np.array([diverge_factor * max(float(v), np.log(2.0)) if np.isfinite(v) else -np.inf
                            for v in loss])
        if not (loss[0] <= thr[0] if len(ids) == 1 else np.all(loss <= thr)):   # also catches nan and inf
            bad = ~(loss <= thr)
            for i in np.flatnonzero(bad):
                r = ids[i]
                diverged[r], ends[r] = t, t + 1
                f = frames[r]
                if (not f.steps or f.steps[-1] != t - 1) and t - 1 >= 0:   # the last finite weights end the path
                    up, j = runs.group_of(i)
                    last = runs.p_before[i]
                    f.record(t - 1, last, net.loss(last, X, y), runs.g_before[i], up.state(j, prev=True))
            if bad.all():
                break
            keep = ~bad
            runs, ids, thr = runs.keep(keep), ids[keep], thr[keep]
            loss = loss[keep]
        if t in record_set:
            for i, r in enumerate(ids):
                up, j = runs.group_of(i)
                p = runs.p[i]
                f_loss = loss[i] if not mini else net.loss(p, X, y)
                frames[r].record(t, p, f_loss, runs.g[i], up.state(j))
        if tick is not None and t % every == 0 and t:
            tick(t)
        if t == steps:
            break
        runs.update(t)
    return [hist[:ends[r], r].copy() for r in range(R0)], diverged
