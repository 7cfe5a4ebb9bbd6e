"""core.rng: one seed, an independent stream per purpose, bit-identical runs."""
import numpy as np
import pytest

import core
from core.rng import PURPOSES, rng_for


def test_each_purpose_is_its_spawned_child():
    children = np.random.SeedSequence(7).spawn(len(PURPOSES))
    for child, purpose in zip(children, PURPOSES):
        assert np.array_equal(np.random.default_rng(child).random(5), rng_for(7, purpose).random(5))


def test_purposes_draw_different_numbers():
    draws = [rng_for(0, p).standard_normal(20) for p in PURPOSES]
    for i in range(len(draws)):
        for j in range(i):
            assert abs(np.corrcoef(draws[i], draws[j])[0, 1]) < 0.9


def test_a_generator_is_used_as_given():
    g = np.random.default_rng(3)
    assert rng_for(g, "init") is g


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_bad_seeds_are_named(seed):
    with pytest.raises(ValueError, match="seed="):
        rng_for(seed, "init")


def test_random_directions_are_not_the_initial_weights():
    """The bug this module fixes: with one default_rng(seed) for both, d1 equalled the initial weights in the
    first layer (cosine 1.000) and had cosine 0.92 with them over all weights."""
    net = core.MLP([9, 15, 1])
    overall, first = [], []
    for seed in range(10):
        p0 = net.init(seed)
        plane = core.make_plane("random", net, center=p0, seed=seed)
        for d in (plane.d1, plane.d2):
            overall.append(d @ p0 / (np.linalg.norm(d) * np.linalg.norm(p0)))
            w, dw = p0[net.layout[0][0]], d[net.layout[0][0]]
            first.append(dw @ w / (np.linalg.norm(dw) * np.linalg.norm(w)))
    assert np.max(np.abs(overall)) < 0.35 and np.mean(np.abs(overall)) < 0.15, overall
    assert np.max(np.abs(first)) < 0.35, first


def test_synthetic_points_and_split_use_one_stream_not_two_copies():
    from core.data.datasets import _minmax, _moons, _split
    ds = core.load_dataset("moons", seed=4, n_samples=200)
    g = rng_for(4, "data")
    X, y = _moons(200, 0.15, g)                                          # the points ...
    tr, te = _split(X, y, "stratified", 0.25, g)                         # ... then the split, same stream
    Xtr, Xte, _, _ = _minmax(X[tr], X[te])
    assert np.array_equal(ds.X_train, Xtr) and np.array_equal(ds.y_test, y[te])
    tr2, _ = _split(X, y, "stratified", 0.25, rng_for(4, "data"))        # a fresh copy would split otherwise
    assert not np.array_equal(tr, tr2)


def test_runs_are_bit_identical_for_a_seed():
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"].update(steps=150, batch_size=64)
    d["plane"]["method"] = "random"
    d["grid"]["resolution"] = 9
    a = core.run_experiment(core.ExperimentSpec.from_dict(d))
    b = core.run_experiment(core.ExperimentSpec.from_dict(d))
    for lab in a.trajectories:
        assert np.array_equal(a.trajectories[lab].params, b.trajectories[lab].params)
    assert np.array_equal(a.plane.d1, b.plane.d1) and np.array_equal(a.surface, b.surface, equal_nan=True)
    d["seed"] = 1
    c = core.run_experiment(core.ExperimentSpec.from_dict(d))
    assert not np.array_equal(a.plane.d1, c.plane.d1)
