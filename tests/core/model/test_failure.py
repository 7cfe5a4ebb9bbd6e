"""Failure semantics (core.model.failure): failed_at, live units, peak loss, spiked, non-monotone."""
import numpy as np
import pytest

import core
from core.model import failure
from core.model.optimizers import make
from core.model.training import Trajectory, train


@pytest.fixture(scope="module")
def wisconsin():
    return core.load_dataset("wisconsin", seed=0)


def _sgd(ds, lr, scheme="default", steps=500):
    net = core.MLP([9, 15, 1])
    return train(net, net.init(0, scheme=scheme), ds, make("sgd", lr=lr), steps=steps, record_every=10)


@pytest.mark.parametrize("lr", [12.0, 20.0])
def test_large_sgd_steps_kill_every_hidden_unit_and_fail(wisconsin, lr):
    """The article's network with the presets' init (lr_sweep, four_optimizers): no divergence, yet dead."""
    tr = _sgd(wisconsin, lr)
    assert tr.diverged_at is None                       # the old flag says nothing ...
    assert tr.failed_at is not None and 0 <= tr.failed_at <= 500 and tr.failed
    assert tr.live_units.shape == tr.steps.shape and tr.live_units[-1] == 0 and tr.live_units[0] == 15
    assert tr.final_loss >= min(tr.loss[0], failure.constant_loss(wisconsin.y_train))
    assert tr.spiked and tr.nonmonotone and tr.peak_loss > tr.loss[0]


def test_the_article_init_fails_too(wisconsin):
    dead = _sgd(wisconsin, 12.0, scheme="article")
    assert dead.failed_at is not None and dead.live_units[-1] == 0 and dead.diverged_at is None
    exploded = _sgd(wisconsin, 20.0, scheme="article")  # with the article's own weights lr 20 explodes at step 2
    assert exploded.diverged_at is not None and exploded.failed_at == exploded.diverged_at


@pytest.mark.parametrize("scheme", ["default", "article"])
def test_a_small_learning_rate_does_not_fail(wisconsin, scheme):
    tr = _sgd(wisconsin, 1.0, scheme=scheme)
    assert tr.failed_at is None and not tr.failed and tr.diverged_at is None
    assert tr.live_units[-1] > 0 and not tr.spiked and not tr.nonmonotone
    assert tr.peak_loss == tr.loss_history[0]


def test_live_units_count_the_emptiest_hidden_layer():
    net = core.MLP([2, 3, 2, 1])
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    W1 = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])     # units 0 and 1 alive, unit 2 dead on X
    W2 = np.array([[1.0, 1.0, 0.0], [-1.0, -1.0, 0.0]])       # unit 0 alive, unit 1 dead
    p = net.flatten([(W1, np.zeros(3)), (W2, np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    assert failure.live_units(net, p, X) == 1
    q = p.copy()
    q[: 6] = -1.0                                              # every first-layer unit dead: 0 in that layer
    assert failure.live_units(net, np.stack([p, q]), X).tolist() == [1, 0]


def test_constant_loss_is_the_entropy_of_the_mean_label():
    assert failure.constant_loss([0, 1]) == pytest.approx(np.log(2))
    assert failure.constant_loss([1, 1, 1, 0]) == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    assert failure.constant_loss([1, 1]) == 0.0 and np.isnan(failure.constant_loss([]))


def _traj(history, live=None, every=1, diverged_at=None):
    h = np.asarray(history, dtype=float)
    steps = np.arange(0, len(h), every)
    if steps[-1] != len(h) - 1:
        steps = np.append(steps, len(h) - 1)
    z = np.zeros(len(steps))
    return Trajectory(params=np.zeros((len(steps), 1)), steps=steps, loss=h[steps], train_acc=z, test_acc=z,
                      lr=z, loss_history=h, diverged_at=diverged_at,
                      live_units=None if live is None else np.asarray(live, dtype=np.int64))


def test_failed_at_dates_each_rule():
    # the loss rule: the first step after which the loss never again goes below min(L0, H)
    tr = _traj([0.7, 0.5, 0.9, 0.4, 0.8, 0.75, 0.72])
    assert failure.failed_at(tr, h_const=0.69) == 4           # bound 0.69: last below at step 3
    assert failure.failed_at(tr, h_const=None) == 4           # bound L0 = 0.7
    assert failure.failed_at(_traj([0.7, 0.9, 1.0]), 0.69) == 0            # never below the bound
    assert failure.failed_at(_traj([0.7, 0.5, 0.3]), 0.69) is None         # converging: not failed
    # a dead layer dates the failure at the first frame of the last dead stretch (here earlier than the loss rule)
    dead = _traj([0.7, 0.6, 0.5, 0.6, 0.71, 0.72, 0.72], live=[5, 0, 3, 0, 0, 0, 0])
    assert failure.failed_at(dead, 0.69) == 3
    revived = _traj([0.7, 0.6, 0.5, 0.4, 0.3], live=[5, 0, 0, 2, 4])      # dead for a while, alive at the end
    assert failure.failed_at(revived, 0.69) is None
    # a diverged run fails where it diverged
    assert failure.failed_at(_traj([0.7, 0.5, 80.0], diverged_at=2), 0.69) == 2


def test_peak_spiked_and_nonmonotone():
    h = [0.7, 0.6, 0.65, 0.5]
    assert failure.peak_loss(h) == 0.7 and not failure.spiked(h) and failure.nonmonotone(h)
    assert failure.spiked([0.7, 1.7, 0.2]) and failure.peak_loss([0.7, 1.7, 0.2]) == 1.7
    assert failure.peak_loss([0.7, np.inf]) == np.inf and failure.spiked([0.7, np.nan])
    late_rise = [1.0 - 0.01 * t for t in range(40)] + [2.0]
    assert not failure.nonmonotone(late_rise) and failure.nonmonotone(late_rise, n=40)
