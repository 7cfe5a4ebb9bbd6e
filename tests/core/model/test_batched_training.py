"""core.model.batched_training (through core.model.training.train_batch): many runs advanced together give, run by run,
the bits of core.train and of a plain reference loop (MLP.loss_and_grad + Optimizer.update: tests/helpers.py,
reference)."""
import numpy as np
import pytest

import core
import core.model.batched_training as bt
from core.model.training import train_batch
from core.model.optimizers import Optimizer, make
from tests.helpers import mixed_batch, assert_same_bits, reference


@pytest.fixture(scope="module")
def wis():
    return core.load_dataset("wisconsin")


def test_mixed_batch_equals_the_reference_loop_and_single_runs(wis):
    net = core.MLP([9, 15, 1])
    p0s, opts = mixed_batch(net)
    steps = 150
    trs = train_batch(net, p0s, wis, opts, steps=steps, record_every=17)
    assert [t.diverged_at for t in trs][5:12] == [None, 20, None, 40, None, None, 2]
    for p0, opt, tr in zip(p0s, opts, trs):
        hist, last = reference(net, p0, wis.X_train, wis.y_train, opt, steps)
        assert hist.tobytes() == tr.loss_history.tobytes()
        if last is not None:
            assert last.tobytes() == tr.params[-1].tobytes()
        assert_same_bits(tr, core.train(net, p0, wis, opt, steps=steps, record_every=17))
    for tr in trs:                                       # the frames are the true values at those weights
        assert tr.loss[-1] == pytest.approx(net.loss(tr.params[-1], wis.X_train, wis.y_train), rel=1e-12)
        if tr.diverged_at is not None:                   # the path ends on the last finite weights
            assert tr.steps[-1] == tr.diverged_at - 1 and len(tr.loss_history) == tr.diverged_at + 1


def test_minibatches_each_run_its_own_order(wis):
    net = core.MLP([9, 8, 1])
    p0s, opts = mixed_batch(net)
    seeds = list(range(10, 10 + len(opts)))
    trs = train_batch(net, p0s, wis, opts, steps=120, batch_size=40, record_every=30, seeds=seeds)
    for p0, opt, seed, tr in zip(p0s, opts, seeds, trs):
        assert_same_bits(tr, core.train(net, p0, wis, opt, steps=120, batch_size=40, record_every=30, seed=seed))
    assert trs[0].params[-1].tobytes() != train_batch(net, p0s[:1], wis, opts[:1], steps=120, batch_size=40,
                                                      record_every=30, seeds=[11])[0].params[-1].tobytes()


@pytest.mark.parametrize("sizes", [[9, 6, 5, 1], [9, 1, 1]])
def test_deeper_and_width_one_layers(wis, sizes):
    net = core.MLP(sizes)
    p0s, opts = mixed_batch(net)
    trs = train_batch(net, p0s, wis, opts, steps=60, record_every=20)
    for p0, opt, tr in zip(p0s, opts, trs):
        hist, _ = reference(net, p0, wis.X_train, wis.y_train, opt, 60)
        assert hist.tobytes() == tr.loss_history.tobytes()
        assert_same_bits(tr, core.train(net, p0, wis, opt, steps=60, record_every=20))


def test_turns_and_order_do_not_change_a_bit(wis, monkeypatch):
    net = core.MLP([9, 15, 1])
    p0s, opts = mixed_batch(net)
    whole = train_batch(net, p0s, wis, opts, steps=50, record_every=10)
    monkeypatch.setattr(bt, "MAX_BATCH_BYTES", 1)        # one run a turn
    alone = train_batch(net, p0s, wis, opts, steps=50, record_every=10)
    monkeypatch.setattr(bt, "MAX_BATCH_BYTES", 3 * bt._bytes_per_run(net, 500, False))    # turns of three
    order = np.random.default_rng(0).permutation(len(opts))
    shuffled = train_batch(net, p0s[order], wis, [opts[i] for i in order], steps=50, record_every=10)
    for i, j in enumerate(order):
        assert_same_bits(whole[j], alone[j])
        assert_same_bits(whole[j], shuffled[i])


def test_a_run_that_starts_non_finite_and_a_foreign_optimizer(wis):
    net = core.MLP([9, 4, 1])
    bad = net.init(0); bad[0] = np.nan
    sgd = make("sgd", lr=0.3)
    # not built by core.optimizers.make: it steps through its own update, one run at a time
    halved = Optimizer("sgd", {"lr": 0.3}, init=lambda p: (), update=lambda g, s, t: (-0.15 * g, s),
                       schedule=lambda t: 0.15)
    p0s = np.stack([bad, net.init(1), net.init(2)])
    with np.errstate(invalid="ignore"):
        trs = train_batch(net, p0s, wis, [sgd, sgd, halved], steps=30, record_every=10)
    assert trs[0].diverged_at == 0 and len(trs[0].params) == 0 and len(trs[0].loss_history) == 1
    hist, last = reference(net, p0s[2], wis.X_train, wis.y_train, halved, 30)
    assert hist.tobytes() == trs[2].loss_history.tobytes() and last.tobytes() == trs[2].params[-1].tobytes()
    assert_same_bits(trs[1], core.train(net, p0s[1], wis, sgd, steps=30, record_every=10))


def test_progress_and_labels(wis):
    net = core.MLP([9, 3, 1])
    seen = []
    trs = train_batch(net, [net.init(0), net.init(1)], wis, make("sgd"), steps=1500, record_every=500,
                      labels=["a", "b"], progress=seen.append)
    assert [t.label for t in trs] == ["a", "b"]
    assert seen == sorted(seen) and seen[-1] == 2 * 1500 and len(seen) >= 3


@pytest.mark.parametrize("kw,match", [
    (dict(p0s=np.zeros((2, 5))), r"^p0s shape \(2, 5\): expected \(runs, 45\)"),
    (dict(opts=[make("sgd")] * 3), r"^opts: 3 given for 2 runs"),
    (dict(opts=["sgd", "sgd"]), r"^opts\[0\]=str: expected a core.optimizers.Optimizer"),
    (dict(seeds=[0, -1]), r"^seed=-1"),
    (dict(labels=["a"]), r"^labels: 1 given for 2 runs"),
    (dict(steps=0), r"^steps=0"),
])
def test_bad_arguments_are_named(wis, kw, match):
    net = core.MLP([9, 4, 1])
    args = dict(p0s=np.stack([net.init(0), net.init(1)]), opts=make("sgd"))
    args.update(kw)
    with pytest.raises((ValueError, TypeError), match=match):
        train_batch(net, args.pop("p0s"), wis, args.pop("opts"), **args)
