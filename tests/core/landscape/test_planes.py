"""Planes: filter normalization, PCA, interpolation, errors, save/load arrays."""
from types import SimpleNamespace

import numpy as np
import pytest

from core.model.network import MLP
from core.rng import rng_for
from core.landscape.planes import Plane, make_plane, random_direction, renormalize


def _net_and_center(seed=0):
    net = MLP([4, 6, 3, 1])
    rng = np.random.default_rng(seed)
    center = rng.standard_normal(net.n_params)
    return net, center


def _traj(params):
    params = np.asarray(params, float)
    return SimpleNamespace(params=params, loss=np.zeros(len(params)), steps=np.arange(len(params)))


def test_filter_normalization_rows_match_center_and_bias_zero():
    net, center = _net_and_center()
    d = random_direction(net, center, np.random.default_rng(1))
    for (W, b), (D, db) in zip(net.unflatten(center), net.unflatten(d)):
        np.testing.assert_allclose(np.linalg.norm(D, axis=1), np.linalg.norm(W, axis=1), rtol=1e-9)
        assert np.all(db == 0)


def test_filter_normalization_biases_when_not_ignored():
    net, center = _net_and_center()
    for normalize in ("filter", "layer"):
        d = random_direction(net, center, 3, normalize=normalize, ignore_bias=False)
        for (W, b), (D, db) in zip(net.unflatten(center), net.unflatten(d)):
            np.testing.assert_array_equal(db, b)                  # Li et al. 2018 copy the bias, sign and all


def test_layer_and_none_normalization():
    net, center = _net_and_center()
    d = random_direction(net, center, 5, normalize="layer")
    for (W, _), (D, _) in zip(net.unflatten(center), net.unflatten(d)):
        assert np.linalg.norm(D) == pytest.approx(np.linalg.norm(W), rel=1e-9)
    raw = random_direction(net, center, 5, normalize="none", ignore_bias=False)
    np.testing.assert_array_equal(raw, rng_for(5, "directions").standard_normal(net.n_params))


def test_zero_row_gets_zero_direction():
    net, center = _net_and_center()
    W1 = net.unflatten(center)[0][0]
    W1[2] = 0.0                                   # a dead neuron in the center
    d = random_direction(net, center, 0)
    assert np.all(net.unflatten(d)[0][0][2] == 0)


def test_renormalize_to_new_center():
    net, center = _net_and_center()
    d = random_direction(net, center, 0)
    other = 3.0 * center
    e = renormalize(net, d, other)
    for (W, _), (D, _), (E, _) in zip(net.unflatten(other), net.unflatten(d), net.unflatten(e)):
        np.testing.assert_allclose(np.linalg.norm(E, axis=1), np.linalg.norm(W, axis=1), rtol=1e-9)
        # same direction per row, only rescaled
        np.testing.assert_allclose(E / np.linalg.norm(E, axis=1, keepdims=True),
                                   D / np.linalg.norm(D, axis=1, keepdims=True), atol=1e-12)


def test_random_plane_seeded_and_independent():
    net, center = _net_and_center()
    a = make_plane("random", net, center=center, seed=7)
    b = make_plane("random", net, center=center, seed=7)
    c = make_plane("random", net, center=center, seed=8)
    np.testing.assert_array_equal(a.d1, b.d1)
    np.testing.assert_array_equal(a.d2, b.d2)
    assert not np.array_equal(a.d1, a.d2)
    assert not np.array_equal(a.d1, c.d1)
    assert a.method == "random" and a.explained_variance is None


def test_pca_hand_example():
    net = MLP([1, 1, 1])                           # P = 4
    center = np.zeros(4)
    pts = np.array([[3, 0, 0, 0], [-3, 0, 0, 0], [0, 1, 0, 0], [0, -1, 0, 0], [0, 0, 0, 0]], float)
    plane = make_plane("pca", net, center=center, trajectories=[_traj(pts)])
    np.testing.assert_allclose(plane.d1, [1, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(plane.d2, [0, 1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(plane.explained_variance, [18 / 20, 2 / 20], atol=1e-12)
    assert plane.method == "pca"


def test_pca_orthonormal_variance_and_sign():
    net, center = _net_and_center()
    rng = np.random.default_rng(0)
    trajs = [_traj(center + np.cumsum(rng.standard_normal((12, net.n_params)), axis=0)) for _ in range(3)]
    plane = make_plane("pca", net, trajectories=trajs)
    np.testing.assert_array_equal(plane.center, trajs[0].params[-1])
    B = np.stack([plane.d1, plane.d2])
    np.testing.assert_allclose(B @ B.T, np.eye(2), atol=1e-12)
    ev = plane.explained_variance
    assert ev.shape == (2,) and np.all(ev > 0) and ev.sum() <= 1 + 1e-12 and ev[0] >= ev[1]
    for d in (plane.d1, plane.d2):
        assert d[np.argmax(np.abs(d))] > 0
    again = make_plane("pca", net, trajectories=trajs)
    np.testing.assert_array_equal(again.d1, plane.d1)
    centered = make_plane("pca", net, trajectories=trajs, center_mean=True)
    assert centered.method == "pca-centered"


def test_pca_needs_movement_and_completes_a_line_with_a_random_direction():
    net, center = _net_and_center()
    with pytest.raises(ValueError, match="never leave the center"):
        make_plane("pca", net, trajectories=[_traj(center[None, :])])
    line = center + np.outer(np.arange(5.0), np.ones(net.n_params))
    plane = make_plane("pca", net, center=center, trajectories=[_traj(line)], seed=3)
    assert plane.method == "pca+random"
    np.testing.assert_allclose(plane.explained_variance, [1.0, 0.0])
    np.testing.assert_allclose(np.abs(plane.d1), 1 / np.sqrt(net.n_params))      # the line's direction
    assert abs(plane.d1 @ plane.d2) < 1e-12 and np.linalg.norm(plane.d2) == pytest.approx(1.0)
    again = make_plane("pca", net, center=center, trajectories=[_traj(line)], seed=3)
    np.testing.assert_array_equal(again.d2, plane.d2)


def test_interpolation_plane():
    net, center = _net_and_center()
    rng = np.random.default_rng(1)
    params = center + rng.standard_normal((6, net.n_params))
    plane = make_plane("interpolation", net, trajectories=[_traj(params)], seed=3)
    np.testing.assert_array_equal(plane.center, params[-1])
    np.testing.assert_allclose(plane.center + plane.d1, params[0], atol=1e-12)   # alpha = 1: initial weights
    assert abs(plane.d1 @ plane.d2) < 1e-9 * np.linalg.norm(plane.d1) ** 2
    assert np.linalg.norm(plane.d2) == pytest.approx(np.linalg.norm(plane.d1), rel=1e-12)


def test_errors_name_argument_and_value():
    net, center = _net_and_center()
    with pytest.raises(ValueError, match=r"method='bogus'.*allowed"):
        make_plane("bogus", net, center=center)
    with pytest.raises(ValueError, match=r"normalize='weird'"):
        make_plane("random", net, center=center, normalize="weird")
    with pytest.raises(ValueError, match=r"center=None"):
        make_plane("random", net)
    with pytest.raises(ValueError, match=r"trajectories=None"):
        make_plane("pca", net, center=center)
    with pytest.raises(ValueError, match=r"center has shape \(3,\)"):
        make_plane("random", net, center=np.zeros(3))
    with pytest.raises(ValueError, match=r"trajectories\[0\].params has shape"):
        make_plane("pca", net, center=center, trajectories=[_traj(np.zeros((4, 2)))])
    with pytest.raises(ValueError, match=r"both ends of trajectories\[0\] equal the center"):
        make_plane("interpolation", net, center=center, trajectories=[_traj(center[None, :])])


def test_plane_arrays_roundtrip(tmp_path):
    net, center = _net_and_center()
    rng = np.random.default_rng(0)
    trajs = [_traj(center + rng.standard_normal((5, net.n_params)))]
    for plane in (make_plane("random", net, center=center), make_plane("pca", net, trajectories=trajs)):
        f = tmp_path / "p.npz"
        np.savez(f, **plane.to_arrays())
        with np.load(f, allow_pickle=False) as d:
            back = Plane.from_arrays(d)
        assert back.method == plane.method
        np.testing.assert_array_equal(back.center, plane.center)
        np.testing.assert_array_equal(back.d1, plane.d1)
        np.testing.assert_array_equal(back.d2, plane.d2)
        if plane.explained_variance is None:
            assert back.explained_variance is None
        else:
            np.testing.assert_array_equal(back.explained_variance, plane.explained_variance)
