import math

import numpy as np
import pytest

from core.model import optimizers
from core.model import schedules

G1, G2 = np.array([1.0, -2.0]), np.array([0.5, 4.0])


def hand_sgd(lr):
    return [-lr * G1, -lr * G2]


def hand_momentum(lr, mu):
    v1 = G1; v2 = mu * v1 + G2
    return [-lr * v1, -lr * v2]


def hand_nesterov(lr, mu):
    v1 = G1; v2 = mu * v1 + G2
    return [-lr * (G1 + mu * v1), -lr * (G2 + mu * v2)]


def hand_adam(lr, b1, b2, eps):
    m1 = (1 - b1) * G1; s1 = (1 - b2) * G1 ** 2
    m2 = b1 * m1 + (1 - b1) * G2; s2 = b2 * s1 + (1 - b2) * G2 ** 2
    d1 = -lr * (m1 / (1 - b1)) / (np.sqrt(s1 / (1 - b2)) + eps)
    d2 = -lr * (m2 / (1 - b1 ** 2)) / (np.sqrt(s2 / (1 - b2 ** 2)) + eps)
    return [d1, d2]


def hand_rmsprop(lr, a, eps):
    s1 = (1 - a) * G1 ** 2; s2 = a * s1 + (1 - a) * G2 ** 2
    return [-lr * G1 / (np.sqrt(s1) + eps), -lr * G2 / (np.sqrt(s2) + eps)]


# one table: name, hyper-parameters, the first two deltas computed by hand
TABLE = [
    ("sgd", dict(lr=0.1), hand_sgd(0.1)),
    ("large_lr", dict(), hand_sgd(2.0)),
    ("annealing", dict(lr=0.5, schedule="exponential", decay_rate=0.01, decay_steps=10),
     [-0.5 * G1, -0.5 * 0.01 ** 0.1 * G2]),
    ("annealing", dict(lr=1.0, schedule="step", drop=0.5, every=1), [-1.0 * G1, -0.5 * G2]),
    ("momentum", dict(lr=0.1, momentum=0.9), hand_momentum(0.1, 0.9)),
    ("nesterov", dict(lr=0.1, momentum=0.9), hand_nesterov(0.1, 0.9)),
    ("adam", dict(lr=0.01), hand_adam(0.01, 0.9, 0.999, 1e-8)),
    ("adam", dict(lr=0.1, beta1=0.5, beta2=0.9, eps=1e-3), hand_adam(0.1, 0.5, 0.9, 1e-3)),
    ("rmsprop", dict(lr=0.01), hand_rmsprop(0.01, 0.99, 1e-8)),
]


@pytest.mark.parametrize("name,hp,expected", TABLE, ids=[f"{t[0]}-{i}" for i, t in enumerate(TABLE)])
def test_first_steps_match_hand_computation(name, hp, expected):
    opt = optimizers.make(name, **hp)
    p = np.zeros(2)
    state = opt.init(p)
    state_before = [s.copy() for s in state]
    d1, state1 = opt.update(G1, state, 0)
    for a, b in zip(state, state_before):       # pure: the old state is not mutated
        np.testing.assert_array_equal(a, b)
    d2, _ = opt.update(G2, state1, 1)
    np.testing.assert_allclose(d1, expected[0], rtol=1e-12)
    np.testing.assert_allclose(d2, expected[1], rtol=1e-12)


QUAD = np.diag([1.0, 10.0])          # f(x) = x^T A x / 2, minimum at 0


@pytest.mark.parametrize("name,hp", [
    ("sgd", dict(lr=0.05)), ("annealing", dict(lr=0.15, schedule="cosine", total_steps=500)),
    ("momentum", dict(lr=0.02, momentum=0.9)), ("nesterov", dict(lr=0.02, momentum=0.9)),
    ("adam", dict(lr=0.05)), ("rmsprop", dict(lr=0.01)),
])
def test_converges_on_quadratic(name, hp):
    opt = optimizers.make(name, **hp)
    x = np.array([3.0, -2.0]); s = opt.init(x)
    for t in range(500):
        d, s = opt.update(QUAD @ x, s, t)
        x = x + d
    assert np.linalg.norm(x) < 0.05


def test_large_lr_diverges_on_quadratic():
    opt = optimizers.make("large_lr", lr=0.25)      # > 2/10 on the stiff axis
    x = np.array([1.0, 1.0]); s = opt.init(x)
    for t in range(50):
        d, s = opt.update(QUAD @ x, s, t)
        x = x + d
    assert abs(x[1]) > 1e3


@pytest.mark.parametrize("name,kw,closed", [
    ("constant", {}, lambda t: 0.3),
    ("step", dict(drop=0.5, every=100), lambda t: 0.3 * 0.5 ** (t // 100)),
    ("exponential", dict(decay_rate=0.1, decay_steps=1000), lambda t: 0.3 * 0.1 ** (t / 1000)),
    ("cosine", dict(total_steps=1000, min_lr=0.01),
     lambda t: 0.01 + 0.29 * 0.5 * (1 + math.cos(math.pi * min(t, 1000) / 1000))),
    ("inverse_time", dict(decay_rate=2.0, decay_steps=500), lambda t: 0.3 / (1 + 2.0 * t / 500)),
])
def test_schedules_closed_form(name, kw, closed):
    f = schedules.make_schedule(name, 0.3, **kw)
    for t in [0, 1, 99, 100, 250, 999, 1000, 1500]:
        assert f(t) == pytest.approx(closed(t), rel=1e-14)
    assert f(0) == pytest.approx(0.3)


def test_cosine_ends_at_min_and_stays():
    f = schedules.cosine(1.0, total_steps=100, min_lr=0.1)
    assert f(100) == pytest.approx(0.1) and f(500) == pytest.approx(0.1) and f(50) == pytest.approx(0.55)


def test_optimizer_schedule_is_used_and_hparams_kept():
    opt = optimizers.make("sgd", lr=1.0, schedule="inverse_time", decay_rate=1.0, decay_steps=1)
    d, _ = opt.update(np.ones(1), opt.init(np.zeros(1)), 3)
    assert d[0] == pytest.approx(-0.25)
    assert opt.hparams["schedule"] == "inverse_time" and opt.hparams["lr"] == 1.0
    assert "decay_rate" not in optimizers.make("sgd").hparams


@pytest.mark.parametrize("name,hp,match", [
    ("adagrad", {}, "optimizer.name='adagrad': allowed are sgd"),
    ("sgd", dict(lr=0.0), r"optimizer.lr=0.0: must be a number in \(0, 100\]"),
    ("sgd", dict(lr=-1), r"optimizer.lr=-1"),
    ("sgd", dict(lr=1e9), "optimizer.lr=1000000000.0"),
    ("sgd", dict(lr="fast"), r"optimizer.lr='fast': must be a number in \(0, 100\]"),
    ("sgd", dict(lr=10**400), r"optimizer.lr=1000000000.*\.\.\.: must be a number in \(0, 100\]"),
    ("momentum", dict(momentum=1.0), r"optimizer.momentum=1.0: must be a number in \[0, 1\)"),
    ("sgd", dict(momentum=0.9), "optimizer.momentum: unknown hyper-parameter for 'sgd'"),
    ("sgd", dict(schedule="warmup"), "optimizer.schedule='warmup': allowed are constant"),
    ("adam", dict(beta2=1.5), "optimizer.beta2=1.5"),
    ("sgd", dict(lr=float("nan")), r"optimizer.lr=nan: must be a number in \(0, 100\]"),
])
def test_bad_hparams(name, hp, match):
    with pytest.raises(ValueError, match=match):
        optimizers.make(name, **hp)


def test_bad_schedule_name():
    with pytest.raises(ValueError, match="schedule='linear'"):
        schedules.make_schedule("linear", 0.1)
