"""Surfaces (sweep and batched) against the per-point reference; projections; moving surfaces."""
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from core.model.network import MLP
from core.landscape.planes import Plane, make_plane
from core.landscape import (Projection, moving_plane, moving_surfaces, per_point_surface, project,
                            project_points, surface)

ALPHAS = np.linspace(-1.0, 1.0, 7)          # includes 0
BETAS = np.linspace(-1.0, 1.0, 5)           # -1, -0.5, 0, 0.5, 1


def _data(n=40, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    X[0] = 0.0                               # an all-zero row, as in the scaled Wisconsin data
    y = (rng.random(n) > 0.5).astype(float)
    return X, y


def _plane(net, seed=0, ignore_bias=False):
    """A random plane; with ``ignore_bias=False`` its two directions also move the biases, each its own way (Li et
    al.'s bias directions copy the center's biases, the same in d1 and d2: exact ties on an all-zero row, where the
    fast and the per-point path may round a zero logit differently)."""
    rng = np.random.default_rng(seed)
    center = net.init(seed=seed) + 0.1 * rng.standard_normal(net.n_params)
    plane = make_plane("random", net, center=center, seed=seed, ignore_bias=True)
    if not ignore_bias:
        for _, _, bsl in net.layout:
            plane.d1[bsl] = 0.3 * rng.standard_normal(bsl.stop - bsl.start)
            plane.d2[bsl] = 0.3 * rng.standard_normal(bsl.stop - bsl.start)
    return plane


@pytest.mark.parametrize("sizes", [[4, 6, 1], [4, 5, 3, 1], [4, 3, 4, 2, 1]])
@pytest.mark.parametrize("metric", ["loss", "accuracy"])
@pytest.mark.parametrize("ignore_bias", [True, False])
def test_surface_matches_per_point(sizes, metric, ignore_bias):
    net = MLP(sizes)
    X, y = _data()
    plane = _plane(net, ignore_bias=ignore_bias)
    Z = surface(net, X, y, plane, ALPHAS, BETAS, metric=metric)
    R = per_point_surface(net, X, y, plane, ALPHAS, BETAS, metric=metric)
    assert Z.shape == R.shape == (len(BETAS), len(ALPHAS))
    np.testing.assert_allclose(Z, R, rtol=0, atol=1e-10)


@pytest.mark.parametrize("sizes", [[4, 6, 1], [4, 5, 3, 1]])
def test_non_square_grid_is_not_transposed(sizes):
    net = MLP(sizes)
    X, y = _data()
    plane = _plane(net)
    alphas, betas = np.array([-0.7, 0.1, 0.4]), np.array([-0.3, 0.9])
    Z = surface(net, X, y, plane, alphas, betas)
    assert Z.shape == (2, 3)
    for j, b in enumerate(betas):
        for i, a in enumerate(alphas):
            assert Z[j, i] == pytest.approx(net.loss(plane.center + a * plane.d1 + b * plane.d2, X, y), abs=1e-10)


def _crafted():
    """One hidden layer whose ReLU breakpoints fall exactly on grid values, with zero-direction units."""
    net = MLP([2, 5, 1])
    X = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [2, 1], [1, 2]], float)
    y = np.array([1, 0, 1, 0, 1, 0], float)
    W1c = np.array([[0.5, 0], [0, -0.5], [0.25, 0.25], [1, -1], [0.5, 0.5]])
    E1 = np.array([[-1, 0], [0, 1], [0.5, 0.5], [0, 0], [0, 0]])      # d2: units 3, 4 never switch in beta
    D1 = np.array([[0, 0], [0, 0], [0.25, -0.25], [0.5, 0.5], [0, 0]])  # d1: some rows zero
    center = net.flatten([(W1c, np.zeros(5)), (np.array([[1.0, -2.0, 0.5, 1.5, -1.0]]), np.array([0.1]))])
    d1 = net.flatten([(D1, np.zeros(5)), (np.array([[0.5, 0, -1, 0, 0.25]]), np.array([0.0]))])
    d2 = net.flatten([(E1, np.zeros(5)), (np.array([[0, 1, 0.5, -0.5, 0]]), np.array([0.2]))])
    return net, X, y, Plane(center, d1, d2, "crafted")


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_breakpoints_on_grid_and_zero_directions(metric):
    net, X, y, plane = _crafted()
    # at alpha = 0 the breakpoints -a/c are exactly 0.5, 0.5 and -0.5 (grid values)
    (W1c, _), _ = net.unflatten(plane.center)
    (E1, _), _ = net.unflatten(plane.d2)
    a, c = X @ W1c.T, X @ E1.T
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -a / c
    assert {0.5, -0.5} <= set(t[np.isfinite(t)].tolist())
    for betas in (BETAS, BETAS[::-1], np.array([0.5, -0.5, 0.0, 0.25, 1.0, -1.0])):   # uniform, reversed, irregular
        Z = surface(net, X, y, plane, ALPHAS, betas, metric=metric)
        R = per_point_surface(net, X, y, plane, ALPHAS, betas, metric=metric)
        np.testing.assert_allclose(Z, R, rtol=0, atol=1e-10)


def test_single_beta_and_single_alpha():
    net, X, y, plane = _crafted()
    for a, b in ((ALPHAS, [0.5]), ([0.0], BETAS), ([0.3], [-0.2])):
        np.testing.assert_allclose(surface(net, X, y, plane, a, b),
                                   per_point_surface(net, X, y, plane, a, b), rtol=0, atol=1e-10)


@pytest.mark.parametrize("sizes", [[4, 6, 1], [4, 5, 3, 1]])
def test_chunking_threads_and_determinism(sizes):
    net = MLP(sizes)
    X, y = _data(n=30)
    plane = _plane(net, seed=2)
    alphas, betas = np.linspace(-2, 2, 9), np.linspace(-1.5, 1, 6)
    ref = surface(net, X, y, plane, alphas, betas, chunk_size=1, threads=1)
    for chunk in (2, 5, None):
        for threads in (1, 2, None):
            Z = surface(net, X, y, plane, alphas, betas, chunk_size=chunk, threads=threads)
            np.testing.assert_allclose(Z, ref, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(surface(net, X, y, plane, alphas, betas),
                                  surface(net, X, y, plane, alphas, betas))


def test_nonfinite_weights_do_not_crash():
    net = MLP([4, 6, 1])
    X, y = _data()
    plane = _plane(net)
    huge = Plane(plane.center * 1e170, plane.d1 * 1e170, plane.d2, "huge")
    bad_center = plane.center.copy()
    bad_center[3] = np.inf
    bad = Plane(bad_center, plane.d1, plane.d2, "bad")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pl in (huge, bad):
            for net_ in (net,):
                Z = surface(net_, X, y, pl, ALPHAS, BETAS)
                R = per_point_surface(net_, X, y, pl, ALPHAS, BETAS)
                assert Z.shape == (5, 7)
                assert not np.any(np.isinf(Z)) and not np.any(np.isinf(R))
                both = np.isfinite(Z) & np.isfinite(R)
                np.testing.assert_allclose(Z[both], R[both], rtol=1e-9)
        Zbad = surface(net, X, y, bad, ALPHAS, BETAS)
        assert np.all(np.isnan(Zbad))


def test_surface_errors():
    net = MLP([4, 6, 1])
    X, y = _data()
    plane = _plane(net)
    with pytest.raises(ValueError, match=r"metric='mse'.*allowed"):
        surface(net, X, y, plane, ALPHAS, BETAS, metric="mse")
    with pytest.raises(ValueError, match=r"alphas has shape \(2, 2\)"):
        surface(net, X, y, plane, np.zeros((2, 2)), BETAS)
    with pytest.raises(ValueError, match="betas contains non-finite"):
        surface(net, X, y, plane, ALPHAS, [0.0, np.nan])
    with pytest.raises(ValueError, match=r"y has shape \(3,\)"):
        surface(net, X, y[:3], plane, ALPHAS, BETAS)
    with pytest.raises(ValueError, match=r"X has shape \(40, 3\)"):
        surface(net, X[:, :3], y, plane, ALPHAS, BETAS)
    with pytest.raises(ValueError, match="threads=0"):
        surface(net, X, y, plane, ALPHAS, BETAS, threads=0)
    with pytest.raises(ValueError, match="chunk_size=0"):
        surface(net, X, y, plane, ALPHAS, BETAS, chunk_size=0)
    with pytest.raises(ValueError, match=r"plane.center has shape"):
        surface(MLP([4, 7, 1]), X, y, plane, ALPHAS, BETAS)


# ------------------------------------------------------------------ projection
def test_projection_exact_for_paths_in_plane_with_non_orthogonal_directions():
    net = MLP([4, 5, 1])
    X, y = _data()
    rng = np.random.default_rng(4)
    center = rng.standard_normal(net.n_params)
    d1 = rng.standard_normal(net.n_params)
    d2 = 0.6 * d1 + rng.standard_normal(net.n_params)            # not orthogonal
    plane = Plane(center, d1, d2, "test")
    a_true = np.array([0.0, 0.3, -1.2, 2.0])
    b_true = np.array([0.0, -0.7, 0.4, 1.1])
    params = center + a_true[:, None] * d1 + b_true[:, None] * d2
    traj = SimpleNamespace(params=params, loss=np.array([4.0, 3.0, 2.0, 1.0]), steps=np.array([0, 10, 20, 25]))
    pr = project(traj, plane)
    assert isinstance(pr, Projection)
    np.testing.assert_allclose(pr.alpha, a_true, atol=1e-12)
    np.testing.assert_allclose(pr.beta, b_true, atol=1e-12)
    np.testing.assert_allclose(pr.residual, 0.0, atol=1e-12)
    assert pr.residual[0] == 0.0                                  # zero displacement
    np.testing.assert_array_equal(pr.loss, traj.loss)
    np.testing.assert_array_equal(pr.steps, traj.steps)
    assert pr.surface_loss is None
    pr2 = project(traj, plane, net, X, y)
    expected = [net.loss(p, X, y) for p in params]
    np.testing.assert_allclose(pr2.surface_loss, expected, atol=1e-10)


def test_projection_residual_of_off_plane_component():
    net = MLP([4, 5, 1])
    rng = np.random.default_rng(5)
    center = rng.standard_normal(net.n_params)
    Q, _ = np.linalg.qr(rng.standard_normal((net.n_params, 3)))
    plane = Plane(center, 2 * Q[:, 0], Q[:, 1], "test")
    p = center + 3 * Q[:, 0] + 4 * Q[:, 1] + 12 * Q[:, 2]         # displacement norm 13
    a, b, res = project_points(p[None, :], plane)
    np.testing.assert_allclose([a[0], b[0], res[0]], [1.5, 4.0, 12 / 13], atol=1e-12)


def test_projection_computes_loss_when_trajectory_has_none():
    net = MLP([4, 5, 1])
    X, y = _data()
    plane = _plane(net)
    params = plane.center + np.random.default_rng(0).standard_normal((3, net.n_params)) * 0.1
    pr = project(SimpleNamespace(params=params), plane, net, X, y)
    np.testing.assert_allclose(pr.loss, [net.loss(p, X, y) for p in params], atol=1e-12)
    np.testing.assert_array_equal(pr.steps, [0, 1, 2])
    assert np.all(pr.residual > 0)
    with pytest.raises(ValueError, match=r"traj.params has shape"):
        project(SimpleNamespace(params=params[:, :4]), plane)


# --------------------------------------------------------------- moving surfaces
def _moving_setup(seed):
    """A small net, its data, a base plane and 3 frames of weights near the plane's center."""
    net = MLP([4, 6, 1])
    X, y = _data()
    base = _plane(net, ignore_bias=True)
    rng = np.random.default_rng(seed)
    frames = base.center + 0.2 * rng.standard_normal((3, net.n_params))
    return net, X, y, base, rng, frames


def test_moving_surfaces():
    net, X, y, base, rng, frames = _moving_setup(1)
    frames[0] = base.center
    alphas, betas = np.linspace(-1, 1, 4), np.linspace(-0.5, 0.5, 3)
    Zs = moving_surfaces(net, X, y, frames, base, alphas, betas)
    assert Zs.shape == (3, 3, 4)
    # the base directions are already filter-normalized to frame 0, so frame 0 is the base surface
    np.testing.assert_allclose(Zs[0], surface(net, X, y, base, alphas, betas), atol=1e-10)
    pl = moving_plane(net, frames[2], (base.d1, base.d2))
    np.testing.assert_allclose(Zs[2], per_point_surface(net, X, y, pl, alphas, betas), atol=1e-10)
    a, b, res = project_points(frames[2], pl)
    np.testing.assert_allclose([a[0], b[0], res[0]], [0, 0, 0], atol=1e-12)



def test_moving_surfaces_place_points_on_each_frames_plane():
    net, X, y, base, rng, frames = _moving_setup(2)
    points = frames[:, None, :] + 0.1 * rng.standard_normal((3, 2, net.n_params))     # 2 points a frame
    alphas, betas = np.linspace(-1, 1, 4), np.linspace(-0.5, 0.5, 3)
    Zs, on = moving_surfaces(net, X, y, frames, base, alphas, betas, points=points)
    np.testing.assert_array_equal(Zs, moving_surfaces(net, X, y, frames, base, alphas, betas))
    assert on.alpha.shape == on.beta.shape == on.surface_loss.shape == (3, 2)
    for f in range(3):
        pl = moving_plane(net, frames[f], base)
        a, b, _ = project_points(points[f], pl)
        np.testing.assert_array_equal([on.alpha[f], on.beta[f]], [a, b])
        for k in range(2):
            assert on.surface_loss[f, k] == pytest.approx(net.loss(pl.point(a[k], b[k]), X, y), abs=1e-12)
    with pytest.raises(ValueError, match=r"points have shape \(3, 2\): expected \(3, points a frame, "):
        moving_surfaces(net, X, y, frames, base, alphas, betas, points=points[:, 0, :2])


def test_moving_plane_keeps_the_base_directions_where_renormalizing_leaves_zero():
    net = MLP([4, 6, 1])
    base = _plane(net)
    pl = moving_plane(net, np.zeros(net.n_params), base)          # filter norm of all-zero weights: zero
    assert pl.method == "moving" and not np.any(pl.center)
    np.testing.assert_array_equal(pl.d1, base.d1)
    np.testing.assert_array_equal(pl.d2, base.d2)

class _Stop(Exception):
    pass


@pytest.mark.parametrize("sizes", [[4, 6, 1], [4, 5, 3, 1]])      # the sweep and the batched path
@pytest.mark.parametrize("metric", ["loss", "accuracy"])
@pytest.mark.parametrize("threads", [1, 2])
def test_progress_hook_is_called_per_chunk_and_changes_nothing(sizes, metric, threads):
    net = MLP(sizes)
    X, y = _data(n=30)
    plane = _plane(net, seed=3)
    alphas, betas = np.linspace(-2, 2, 9), np.linspace(-1.5, 1, 6)
    calls = []
    Z = surface(net, X, y, plane, alphas, betas, metric=metric, chunk_size=2, threads=threads,
                progress=lambda done, total: calls.append((done, total)))
    np.testing.assert_array_equal(Z, surface(net, X, y, plane, alphas, betas, metric=metric, chunk_size=2,
                                             threads=threads))
    n = calls[-1][1]
    assert n > 1 and calls == [(k, n) for k in range(1, n + 1)]


@pytest.mark.parametrize("sizes", [[4, 6, 1], [4, 5, 3, 1]])
@pytest.mark.parametrize("threads", [1, 2])
def test_raising_in_the_progress_hook_stops_the_surface(sizes, threads):
    net = MLP(sizes)
    X, y = _data(n=30)
    plane = _plane(net, seed=4)
    alphas = np.linspace(-2, 2, 40)
    calls = []

    def stop(done, total):
        calls.append(done)
        if done == 2:
            raise _Stop
    with pytest.raises(_Stop):
        surface(net, X, y, plane, alphas, alphas, chunk_size=1, threads=threads, progress=stop)
    assert calls == [1, 2]                          # no chunk reported after the one that stopped it


def test_moving_surfaces_pass_the_hook_on():
    net = MLP([4, 6, 1])
    X, y = _data(n=20)
    frames = np.stack([net.init(seed=s) for s in range(3)])
    calls = []
    out = moving_surfaces(net, X, y, frames, _plane(net), ALPHAS, BETAS, chunk_size=2,
                          progress=lambda d, t: calls.append((d, t)))
    np.testing.assert_array_equal(out, moving_surfaces(net, X, y, frames, _plane(net), ALPHAS, BETAS, chunk_size=2))
    assert len(calls) == 3 * 4                      # 7 alphas in chunks of 2, for each of 3 frames
