"""Exact second order (core/curvature.py) and the optimizers' stability thresholds."""
import numpy as np
import pytest

import core
from core import curvature as cv
from core.curvature import second_order as secondorder
from core.model.optimizers import make, stability_threshold


# ------------------------------------------------------------------ helpers
def _data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.5).astype(float)
    return X, y


def _preacts(net, p, X):
    """Every hidden pre-activation Z_l (out, n) at p."""
    A, out = X.T, []
    for W, b in net.unflatten(p)[:-1]:
        Z = W @ A + b[:, None]
        out.append(Z)
        A = np.maximum(Z, 0.0)
    return out


def _off_kink_point(net, X, seed, margin=1e-2):
    """A random point (init + jitter, with random biases) whose every hidden |pre-activation| > margin:
    the first seed from ``seed`` on that qualifies (deterministic)."""
    for s in range(seed, seed + 200):
        rng = np.random.default_rng(s)
        p = net.init(seed=s) + 0.3 * rng.standard_normal(net.n_params)
        if min(np.abs(Z).min() for Z in _preacts(net, p, X)) > margin:
            return p
    raise AssertionError("no off-kink point found")


def _fd_hvp(net, p, X, y, v, h):
    """Central difference of the backprop gradient along v."""
    return (net.loss_and_grad(p + h * v, X, y)[1] - net.loss_and_grad(p - h * v, X, y)[1]) / (2 * h)


SIZES = [[4, 6, 1], [4, 5, 4, 1], [3, 4, 5, 3, 1]]          # 1, 2 and 3 hidden layers


# ----------------------------------------------------------------------- hvp
@pytest.mark.parametrize("sizes", SIZES)
def test_hvp_matches_central_differences_off_the_kinks(sizes):
    net = core.MLP(sizes)
    X, y = _data(25, sizes[0], seed=len(sizes))
    p = _off_kink_point(net, X, seed=10)
    h, margin = 1e-5, 1e-2
    rng = np.random.default_rng(0)
    V = rng.standard_normal((net.n_params, 3))
    V /= np.linalg.norm(V, axis=0)
    # the stencil p +- h v crosses no ReLU kink: every |Z| is far above the step, and the masks agree
    zs = _preacts(net, p, X)
    assert min(np.abs(Z).min() for Z in zs) > margin > 100 * h
    for i in range(3):
        for sgn in (1, -1):
            for Z0, Z1 in zip(zs, _preacts(net, p + sgn * h * V[:, i], X)):
                np.testing.assert_array_equal(Z0 > 0, Z1 > 0)

    HV = cv.hvp(net, p, X, y, V)                                # batch (P, k)
    assert HV.shape == V.shape
    for i in range(3):
        fd = _fd_hvp(net, p, X, y, V[:, i], h)
        assert np.abs(HV[:, i] - fd).max() <= 1e-7 * np.abs(fd).max()
        hv1 = cv.hvp(net, p, X, y, V[:, i])                     # single vector (P,)
        assert hv1.shape == (net.n_params,)
        np.testing.assert_allclose(hv1, HV[:, i], rtol=0, atol=1e-14 * np.abs(fd).max())


@pytest.mark.parametrize("sizes", SIZES)
def test_hessian_symmetric_and_consistent_with_hvp(sizes):
    net = core.MLP(sizes)
    X, y = _data(30, sizes[0], seed=1)
    p = _off_kink_point(net, X, seed=3)
    H = cv.hessian(net, p, X, y)
    assert H.shape == (net.n_params, net.n_params)
    np.testing.assert_array_equal(H, H.T)                       # exactly symmetric
    v = np.random.default_rng(2).standard_normal(net.n_params)
    hv = cv.hvp(net, p, X, y, v)
    assert np.abs(H @ v - hv).max() <= 1e-12 * np.abs(hv).max()
    # the construction from one batched hvp over the identity
    Hid = cv.hvp(net, p, X, y, np.eye(net.n_params))
    assert np.abs(H - Hid).max() <= 1e-12 * np.abs(H).max()


def test_hvp_in_blocks_of_vectors_is_the_same(monkeypatch):
    net = core.MLP([4, 5, 4, 1])
    X, y = _data(20, 4, seed=2)
    p = _off_kink_point(net, X, seed=1)
    V = np.random.default_rng(1).standard_normal((net.n_params, 12))
    whole = cv.hvp(net, p, X, y, V)
    H = cv.hessian(net, p, X, y)
    monkeypatch.setattr(secondorder, "_CHUNK_BYTES", 1)        # one vector a block
    np.testing.assert_allclose(cv.hvp(net, p, X, y, V), whole, rtol=0, atol=1e-14 * np.abs(whole).max())
    np.testing.assert_allclose(cv.hessian(net, p, X, y), H, rtol=0, atol=1e-14 * np.abs(H).max())


def test_closed_form_equals_hvp_over_identity_on_real_data():
    ds = core.load_dataset("wisconsin", seed=0)
    net = core.MLP([9, 15, 1])
    p = net.init(0) + 0.1 * np.random.default_rng(0).standard_normal(net.n_params)
    Hc = secondorder.hessian_one_hidden(net, np.stack([p, 2 * p]), ds.X_train, ds.y_train)   # a stack of 2
    Xu, yu, cnt = secondorder.unique_rows(ds.X_train, ds.y_train)   # duplicate rows merged, weighted
    assert len(Xu) < len(ds.X_train) and cnt.sum() == len(ds.X_train)
    Hu = secondorder.hessian_one_hidden(net, np.stack([p, 2 * p]), Xu, yu, cnt)
    for i, q in enumerate((p, 2 * p)):
        Hid = cv.hvp(net, q, ds.X_train, ds.y_train, np.eye(net.n_params))
        assert np.abs(Hc[i] - Hid).max() <= 1e-12 * np.abs(Hid).max()
        assert np.abs(Hu[i] - Hid).max() <= 1e-12 * np.abs(Hid).max()


def test_hessian_by_hand_for_a_four_parameter_net():
    """MLP([1, 1, 1]): p = (w1, b1, w2, b2); z = w2 relu(w1 x + b1) + b2; L = mean(softplus(z) - y z).

    With a = w1 x + b1 and m = [a > 0]:  dz/dp = (w2 m x, w2 m, m a, 1); the only non-zero second
    derivatives of z are d2z/dw1 dw2 = m x and d2z/db1 dw2 = m. So, with s = sigmoid(z),
    H = mean_i [ s(1-s) g_i g_i^T ] + mean_i (s - y) [m x at (w1, w2) and (w2, w1); m at (b1, w2) and (w2, b1)].
    """
    net = core.MLP([1, 1, 1])
    w1, b1, w2, b2 = 0.5, 0.25, -1.5, 0.1
    p = np.array([w1, b1, w2, b2])                             # layout: W1, b1, W2, b2
    X = np.array([[1.0], [2.0], [-3.0]])                       # the third sample has its unit off
    y = np.array([1.0, 0.0, 1.0])
    H = np.zeros((4, 4))
    for x, t in zip(X[:, 0], y):
        a = w1 * x + b1
        m = 1.0 if a > 0 else 0.0
        z = w2 * m * a + b2
        s = 1 / (1 + np.exp(-z))
        g = np.array([w2 * m * x, w2 * m, m * a, 1.0])
        H += s * (1 - s) * np.outer(g, g)
        H[0, 2] += (s - t) * m * x; H[2, 0] += (s - t) * m * x
        H[1, 2] += (s - t) * m;     H[2, 1] += (s - t) * m
    H /= len(y)
    np.testing.assert_allclose(cv.hessian(net, p, X, y), H, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(cv.hvp(net, p, X, y, np.eye(4)), H, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------- Lanczos
@pytest.fixture(scope="module")
def wis():
    return core.load_dataset("wisconsin", seed=0)


@pytest.fixture(scope="module")
def trained(wis):
    """[9, 15, 1] after 300 steps of momentum: a point with clearly positive and negative curvature."""
    net = core.MLP([9, 15, 1])
    tr = core.train(net, net.init(0), wis, make("momentum", lr=0.07), steps=300, record_every=100)
    return net, tr.params[-1]


@pytest.mark.parametrize("which", ["largest", "smallest"])
def test_lanczos_agrees_with_dense(wis, trained, which):
    net, p = trained
    X, y = wis.X_train, wis.y_train
    wd, Vd = cv.hessian_eigs(net, p, X, y, k=2, which=which, method="dense")
    wl, Vl = cv.hessian_eigs(net, p, X, y, k=2, which=which, method="lanczos")
    full = np.linalg.eigvalsh(cv.hessian(net, p, X, y))
    np.testing.assert_allclose(wd, full[::-1][:2] if which == "largest" else full[:2], rtol=1e-12)
    assert (wd[0] > 0) if which == "largest" else (wd[0] < 0)
    np.testing.assert_allclose(wl, wd, rtol=1e-8)
    assert np.abs(Vl[:, 0] - Vd[:, 0]).max() < 1e-6           # same signs (largest entry positive)
    for V in (Vd, Vl):
        np.testing.assert_allclose(np.linalg.norm(V, axis=0), 1.0, rtol=1e-12)
        assert V[np.argmax(np.abs(V[:, 0])), 0] > 0
    assert list(wd) == sorted(wd, reverse=(which == "largest"))


def test_lanczos_known_spectrum_seeded_and_flagged():
    lam = np.linspace(-3.0, 7.0, 120)
    A = np.diag(lam)
    r1 = cv.lanczos(lambda v: A @ v, 120, k=3, which="largest", tol=1e-12, max_iter=120, seed=4)
    r2 = cv.lanczos(lambda v: A @ v, 120, k=3, which="largest", tol=1e-12, max_iter=120, seed=4)
    assert r1.converged
    np.testing.assert_allclose(r1.values, lam[::-1][:3], rtol=1e-10)
    np.testing.assert_array_equal(r1.values, r2.values)        # seeded: bit-identical
    np.testing.assert_array_equal(r1.vectors, r2.vectors)
    rs = cv.lanczos(lambda v: A @ v, 120, k=2, which="smallest", tol=1e-12, max_iter=120, seed=1)
    np.testing.assert_allclose(rs.values, lam[:2], rtol=1e-10)
    # too few iterations: no exception, converged=False and the best estimates
    short = cv.lanczos(lambda v: A @ v, 120, k=1, which="largest", tol=1e-12, max_iter=3, seed=0)
    assert not short.converged and short.n_iter == 3 and short.values[0] < 7.0
    # a start vector that is an eigenvector (an invariant Krylov space) is not trusted
    e = np.zeros(120); e[5] = 1.0
    r = cv.lanczos(lambda v: A @ v, 120, k=1, which="largest", tol=1e-12, max_iter=120, seed=0, v0=e)
    assert r.converged and r.values[0] == pytest.approx(7.0, rel=1e-10)


def test_hessian_eigs_warns_when_lanczos_stops_early(wis, trained):
    net, p = trained
    with pytest.warns(core.LanczosNotConverged):
        cv.hessian_eigs(net, p, wis.X_train, wis.y_train, k=1, method="lanczos", max_iter=2)


def test_lanczos_above_the_dense_cap():
    net = core.MLP([9, 450, 1])
    assert net.n_params > cv.MAX_DENSE_PARAMS
    X, y = _data(60, 9, seed=5)
    p = net.init(1)
    with pytest.raises(ValueError, match="MAX_DENSE_PARAMS"):
        cv.hessian(net, p, X, y)
    with pytest.raises(ValueError, match="method='dense'"):
        cv.hessian_eigs(net, p, X, y, k=1, method="dense")
    w, V = cv.hessian_eigs(net, p, X, y, k=1)                  # auto -> Lanczos
    w2, _ = cv.hessian_eigs(net, p, X, y, k=1, seed=9)
    assert w.shape == (1,) and V.shape == (net.n_params, 1)
    hv = cv.hvp(net, p, X, y, V[:, 0])
    assert np.linalg.norm(hv - w[0] * V[:, 0]) <= 1e-8 * abs(w[0])
    assert w2[0] == pytest.approx(w[0], rel=1e-9)              # another start finds the same top
    ray = [v @ cv.hvp(net, p, X, y, v) for v in np.random.default_rng(0).standard_normal((3, net.n_params))
           / np.sqrt(net.n_params)]
    assert max(ray) < w[0]


# ---------------------------------------------------------------- thresholds
def _simulate(opt, lam, steps, t0=0, frozen_v=None):
    """Run the real update on f(x) = lam x^2 / 2 from x = 1; return |x| at the end (inf if it blew up)."""
    x = np.array([1.0])
    state = opt.init(x)
    for t in range(t0, t0 + steps):
        g = lam * x
        if frozen_v is not None:
            state = frozen_v(state, g, t)
        delta, state = opt.update(g, state, t)
        x = x + delta
        if not abs(x[0]) < 1e12:
            return np.inf
    return abs(x[0])


@pytest.mark.parametrize("name,hp", [
    ("sgd", dict(lr=0.07)), ("large_lr", dict(lr=6.0)), ("annealing", dict(lr=0.5, schedule="constant")),
    ("momentum", dict(lr=0.07, momentum=0.9)), ("momentum", dict(lr=0.5, momentum=0.5)),
    ("nesterov", dict(lr=0.07, momentum=0.9)), ("nesterov", dict(lr=0.3, momentum=0.3)),
])
def test_thresholds_by_simulation_sgd_family(name, hp):
    opt = make(name, **hp)
    thr = stability_threshold(name, opt.hparams, hp["lr"])
    assert _simulate(opt, 0.98 * thr, 2000) < 1e-3             # just below: converges
    assert _simulate(opt, 1.02 * thr, 2000) == np.inf          # just above: blows up


@pytest.mark.parametrize("name,hp", [
    ("adam", dict(lr=0.01, beta1=0.9, beta2=0.999)), ("adam", dict(lr=0.1, beta1=0.5, beta2=0.99, eps=1e-3)),
    ("rmsprop", dict(lr=0.01, alpha=0.99)), ("rmsprop", dict(lr=0.2, alpha=0.9, eps=1e-2)),
])
def test_thresholds_by_simulation_preconditioned(name, hp):
    """The preconditioned picture (Cohen et al. 2022): with the second moment frozen, Adam is EMA heavy-ball
    momentum on the preconditioned curvature lam / P, P = sqrt(v) + eps, and RMSprop is gradient descent on it.

    What is checked: the REAL update functions, with the second-moment slot of the state reset before every
    call so that the (bias-corrected) second moment the update computes, b2 s + (1 - b2) g^2 (over
    1 - b2^t), equals a fixed v; and late in training (steps from 1000 on, where 1 - b1^t == 1 exactly, so
    the bias correction of m has faded, as it has for the frames the thresholds are used on). Then the
    iterate converges at lam / P = 0.98 x threshold and blows up at 1.02 x threshold.
    """
    opt = make(name, **hp)
    v = 4.0
    P = np.sqrt(v) + opt.hparams["eps"]
    if name == "adam":
        b2 = opt.hparams["beta2"]
        frozen = lambda st, g, t: (st[0], (v * (1 - b2 ** (t + 1)) - (1 - b2) * g * g) / b2)
    else:
        a = opt.hparams["alpha"]
        frozen = lambda st, g, t: ((v - (1 - a) * g * g) / a,)
    # the divisor the update used is exactly v's: check on one step against preconditioner()
    g = np.array([0.3]); st = frozen(opt.init(g), g, 1000)
    np.testing.assert_allclose(opt.preconditioner(g, st, 1000), P, rtol=1e-12)
    thr = stability_threshold(name, opt.hparams, hp["lr"])
    assert _simulate(opt, 0.98 * thr * P, 2000, t0=1000, frozen_v=frozen) < 1e-3
    assert _simulate(opt, 1.02 * thr * P, 2000, t0=1000, frozen_v=frozen) == np.inf


def test_threshold_formulas_and_flags():
    assert stability_threshold("large_lr", {}, 6.0) == pytest.approx(1 / 3)
    assert stability_threshold("sgd", {"lr": 0.07}) == pytest.approx(2 / 0.07)
    assert stability_threshold("momentum", {"momentum": 0.9}, 0.07) == pytest.approx(3.8 / 0.07)
    assert stability_threshold("nesterov", {"momentum": 0.9}, 0.1) == pytest.approx(3.8 / (2.8 * 0.1))
    assert stability_threshold("adam", {"beta1": 0.9}, 0.01) == pytest.approx(3.8 / (0.1 * 0.01))
    assert stability_threshold("rmsprop", {}, 0.5) == pytest.approx(4.0)
    assert stability_threshold("sgd", {}, 0.0) == np.inf
    assert [core.model.optimizers.is_preconditioned(n) for n in core.model.optimizers.OPTIMIZERS] == \
        [n in ("adam", "rmsprop") for n in core.model.optimizers.OPTIMIZERS]
    assert make("adam").preconditioned and not make("momentum").preconditioned
    assert make("nesterov").preconditioner(np.ones(3), make("nesterov").init(np.ones(3)), 0) is None


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_preconditioner_is_the_updates_divisor(name):
    opt = make(name, lr=0.05)
    rng = np.random.default_rng(0)
    state = opt.init(np.zeros(5))
    for t in range(4):
        g = rng.standard_normal(5)
        pc = opt.preconditioner(g, state, t)
        delta, new = opt.update(g, state, t)
        m = new[0] / (1 - opt.hparams["beta1"] ** (t + 1)) if name == "adam" else g
        np.testing.assert_array_equal(delta, -0.05 * m / pc)
        state = new


# ------------------------------------------------------------------ bad input
def test_bad_input_named_errors(wis, trained):
    net, p = trained
    X, y = wis.X_train, wis.y_train
    P = net.n_params
    cases = [
        (lambda: cv.hessian_eigs(net, p, X, y, k=0), "k=0"),
        (lambda: cv.hessian_eigs(net, p, X, y, k=P + 1), f"k={P + 1}"),
        (lambda: cv.hessian_eigs(net, p, X, y, which="top"), "which='top'"),
        (lambda: cv.hessian_eigs(net, p, X, y, method="svd"), "method='svd'"),
        (lambda: cv.hessian_eigs(net, p, X, y, tol=0.0), "tol=0.0"),
        (lambda: cv.hessian_eigs(net, p, X, y, k=3, max_iter=2), "max_iter=2"),
        (lambda: cv.hessian_eigs(net, p, X, y, seed=-1), "seed=-1"),
        (lambda: cv.hvp(net, p, X, y, np.ones(P + 1)), "V shape"),
        (lambda: cv.hvp(net, p[:-1], X, y, np.ones(P)), "params shape"),
        (lambda: cv.hessian(net, p, X[:, :3], y), "X shape"),
        (lambda: cv.hessian(net, p, X, y[:-1]), "y shape"),
        (lambda: cv.lanczos(lambda v: v, 5, k=6), "k=6"),
        (lambda: cv.lanczos(lambda v: v, 5, v0=np.zeros(5)), "v0"),
        (lambda: cv.lanczos(lambda v: v, 10 ** 6, max_iter=300), "max_iter=300"),
        (lambda: cv.frames_curvature(net, X, y, p[None], [0.1], "sgd", stride=0), "stride=0"),
        (lambda: cv.frames_curvature(net, X, y, p[None], [0.1], "adam"), "precond=None"),
        (lambda: cv.frames_curvature(net, X, y, p[None], [0.1], "sgd", precond=np.ones((1, P))), "precond"),
        (lambda: cv.frames_curvature(net, X, y, p[None], [0.1, 0.2], "sgd"), "lr shape"),
        (lambda: cv.frames_curvature(net, X, y, p[None], [0.1], "lbfgs"), "optimizer='lbfgs'"),
        (lambda: stability_threshold("lbfgs", {}, 0.1), "name='lbfgs'"),
        (lambda: stability_threshold("sgd", {}, -1.0), "lr=-1.0"),
        (lambda: stability_threshold("adam", {"beta1": 1.0}, 0.1), "hparams.beta1=1.0"),
    ]
    for call, words in cases:
        with pytest.raises(ValueError) as e:
            call()
        assert words in str(e.value), (words, str(e.value))
    with pytest.raises(TypeError, match="net="):
        cv.hessian("net", p, X, y)
    with pytest.raises(TypeError, match="matvec="):
        cv.lanczos(np.eye(3), 3)


# --------------------------------------------------------------- trajectories
def test_train_records_preconditioner(wis):
    net = core.MLP([9, 6, 1]); p0 = net.init(0)
    tr = core.train(net, p0, wis, make("adam", lr=0.01), steps=30, record_every=10)
    assert tr.precond.shape == tr.params.shape and np.all(tr.precond > 0)
    # frame 0: the divisor of the first update, sqrt(g0^2) + eps with the bias-corrected second moment
    g0 = net.loss_and_grad(p0, wis.X_train, wis.y_train)[1]
    np.testing.assert_allclose(tr.precond[0], np.abs(g0) + 1e-8, rtol=1e-12)
    assert core.train(net, p0, wis, make("sgd"), steps=5).precond is None
    # a diverging run keeps a preconditioner for its special last frame
    bad = core.train(net, p0, wis, make("rmsprop", lr=100.0), steps=200, record_every=50)
    assert bad.diverged_at is not None
    assert bad.precond.shape == bad.params.shape and np.all(np.isfinite(bad.precond))


def test_preconditioned_sharpness_equals_dense(wis):
    net = core.MLP([9, 8, 1]); p0 = net.init(2)
    X, y = wis.X_train, wis.y_train
    tr = core.train(net, p0, wis, make("adam", lr=0.01), steps=40, record_every=20)
    c = cv.frames_curvature(net, X, y, tr.params, tr.lr, tr.optimizer, hparams=tr.hparams, precond=tr.precond)
    assert c.preconditioned and c.label == "preconditioned sharpness"
    for f in range(len(tr.steps)):
        d = 1 / np.sqrt(tr.precond[f])
        w = np.linalg.eigvalsh(d[:, None] * cv.hessian(net, tr.params[f], X, y) * d[None, :])
        assert c.sharpness[f] == pytest.approx(w[-1], rel=1e-8)
        assert c.min_eig[f] == pytest.approx(w[0], rel=1e-8)
    np.testing.assert_allclose(c.threshold, 3.8 / (0.1 * 0.01))


@pytest.mark.parametrize("name,hp", [("large_lr", dict(lr=6.0)), ("momentum", dict(lr=0.07, momentum=0.9))])
def test_trajectory_curvature_equals_per_frame_dense(wis, name, hp):
    net = core.MLP([9, 15, 1]); p0 = net.init(0)
    X, y = wis.X_train, wis.y_train
    tr = core.train(net, p0, wis, make(name, **hp), steps=95, record_every=5)
    c = cv.frames_curvature(net, X, y, tr.params, tr.lr, tr.optimizer, hparams=tr.hparams)
    c1 = cv.frames_curvature(net, X, y, tr.params, tr.lr, tr.optimizer, hparams=tr.hparams, threads=1)
    np.testing.assert_array_equal(c.sharpness, c1.sharpness)
    assert not c.preconditioned and c.label == "sharpness" and c.computed.all()
    np.testing.assert_allclose(c.threshold, stability_threshold(name, tr.hparams, hp["lr"]))
    for f in range(len(tr.steps)):
        top = cv.hessian_eigs(net, tr.params[f], X, y, k=1, which="largest")[0][0]
        bot = cv.hessian_eigs(net, tr.params[f], X, y, k=1, which="smallest")[0][0]
        assert c.sharpness[f] == pytest.approx(top, rel=1e-8)
        # relative to the spectral scale (dead units give exact-zero eigenvalues next to tiny ones)
        assert abs(c.min_eig[f] - bot) <= 1e-8 * max(abs(bot), 1e-4 * top)
    # Lanczos over the frames, warm-started, gives the same numbers
    cl = cv.frames_curvature(net, X, y, tr.params[:6], tr.lr[:6], tr.optimizer, hparams=tr.hparams, method="lanczos")
    np.testing.assert_allclose(cl.sharpness, c.sharpness[:6], rtol=1e-8)
    np.testing.assert_allclose(cl.min_eig, c.min_eig[:6], rtol=1e-8, atol=1e-12 * c.sharpness.max())


def test_trajectory_stride_skips_frames_but_keeps_the_last(wis):
    net = core.MLP([9, 5, 1]); p0 = net.init(0)
    tr = core.train(net, p0, wis, make("sgd", lr=0.5), steps=100, record_every=10)    # 11 frames
    full = cv.frames_curvature(net, wis.X_train, wis.y_train, tr.params, tr.lr, "sgd", hparams=tr.hparams)
    c = cv.frames_curvature(net, wis.X_train, wis.y_train, tr.params, tr.lr, "sgd", hparams=tr.hparams, stride=4)
    want = np.zeros(11, bool); want[[0, 4, 8, 10]] = True
    np.testing.assert_array_equal(c.computed, want)
    assert np.all(np.isnan(c.sharpness[~want])) and np.all(np.isnan(c.min_eig[~want]))
    np.testing.assert_array_equal(c.sharpness[want], full.sharpness[want])
    np.testing.assert_allclose(c.threshold, 2 / 0.5)            # the threshold at every frame
    assert 0.0 <= c.above_threshold() <= 1.0


def test_dead_units_shortcut_is_exact(wis):
    """Frames with dead units (off on every sample: zero rows and columns of H) go through a smaller block;
    the eigenvalues must still be those of the whole (preconditioned) Hessian, zeros included."""
    net = core.MLP([9, 6, 1])
    X, y = wis.X_train, wis.y_train
    rng = np.random.default_rng(3)
    p = net.init(1) + 0.2 * rng.standard_normal(net.n_params)
    frames = np.stack([p, p.copy(), p.copy(), p.copy()])
    b1 = slice(54, 60)                                          # the biases of the 6 hidden units
    frames[1, 54] = frames[1, 57] = -50.0                       # two dead units
    frames[2, b1] = -50.0                                       # every unit dead: H has only the b2 entry
    frames[3, 54] = 50.0; frames[3, 55:60] = -50.0              # one live unit left
    pc = rng.uniform(0.5, 2.0, frames.shape)
    c = cv.frames_curvature(net, X, y, frames, np.full(4, 0.01), "adam", precond=pc)
    s = cv.frames_curvature(net, X, y, frames, np.full(4, 0.1), "sgd")
    for f in range(4):
        H = cv.hessian(net, frames[f], X, y)
        w = np.linalg.eigvalsh(H)
        d = 1 / np.sqrt(pc[f])
        wp = np.linalg.eigvalsh(d[:, None] * H * d[None, :])
        scale = abs(w).max()
        assert abs(s.sharpness[f] - w[-1]) <= 1e-12 * scale and abs(s.min_eig[f] - w[0]) <= 1e-12 * scale
        scale = abs(wp).max()
        assert abs(c.sharpness[f] - wp[-1]) <= 1e-12 * scale and abs(c.min_eig[f] - wp[0]) <= 1e-12 * scale
    assert s.min_eig[2] == 0.0 and s.sharpness[2] > 0              # all dead: {mean s(1-s), 0, ...}
