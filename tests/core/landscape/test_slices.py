"""core.landscape.slices: exact 1-D slices and their quadratic model."""
import numpy as np
import pytest

import core
from core.curvature import hessian_eigs
from core.landscape.slices import (gradient_step_slice, interpolation_slice, line_slice, top_eigen_slice, visible_span)


@pytest.fixture(scope="module")
def setup():
    ds = core.load_dataset("wisconsin")
    net = core.MLP([9, 6, 1])
    p = net.init(2) + 0.01 * np.random.default_rng(0).standard_normal(net.n_params)   # biases off the kinks
    return net, ds.X_train, ds.y_train, p


def test_line_slice_is_exact_and_its_model_is_the_taylor_expansion(setup):
    net, X, y, p = setup
    d = np.random.default_rng(1).standard_normal(net.n_params)
    d /= np.linalg.norm(d)
    ts = np.linspace(-1e-5, 1e-5, 5)
    s = line_slice(net, X, y, p, d, ts)
    for t, v in zip(ts, s.loss):
        assert v == pytest.approx(net.loss(p + t * d, X, y), rel=1e-12)
    assert s.loss0 == pytest.approx(net.loss(p, X, y), rel=1e-14)
    h = 1e-5                                                          # slope and curvature by differences
    lp, lm = net.loss(p + h * d, X, y), net.loss(p - h * d, X, y)
    assert s.slope == pytest.approx((lp - lm) / (2 * h), rel=1e-6)
    assert np.max(np.abs(s.loss - s.quadratic)) < 1e-12               # O(t^3) near 0 (no kink this close)


def test_top_eigen_slice_uses_the_top_eigenvector_and_a_visible_span(setup):
    net, X, y, p = setup
    s = top_eigen_slice(net, X, y, p)
    lam = hessian_eigs(net, p, X, y, k=1)[0][0]
    assert s.curvature == pytest.approx(lam, rel=1e-9) and s.kind == "top eigenvector"
    r = s.ts[-1]
    assert 0.5 * lam * r ** 2 == pytest.approx(0.5 * net.loss(p, X, y), rel=1e-9)   # VISIBLE share of the loss
    assert visible_span(1.0, -1.0) == 1.0 and visible_span(1.0, 0.0) == 1.0


def test_gradient_step_and_interpolation_slices(setup):
    net, X, y, p = setup
    s = gradient_step_slice(net, X, y, p, lr=0.5)
    _, g = net.loss_and_grad(p, X, y)
    i1 = int(np.argmin(np.abs(s.ts - 1.0)))
    assert s.ts[i1] == pytest.approx(1.0) and s.loss[i1] == pytest.approx(net.loss(p - 0.5 * g, X, y), rel=1e-12)
    assert s.slope == pytest.approx(-0.5 * g @ g, rel=1e-12)            # descending
    q = p + 0.3
    s = interpolation_slice(net, X, y, p, q)
    i0, i1 = int(np.argmin(np.abs(s.ts))), int(np.argmin(np.abs(s.ts - 1)))
    assert s.loss[i0] == pytest.approx(net.loss(p, X, y), rel=1e-12)
    assert s.loss[i1] == pytest.approx(net.loss(q, X, y), rel=1e-12)


def test_bad_input_is_named(setup):
    net, X, y, p = setup
    with pytest.raises(ValueError, match="point .* and direction"):
        line_slice(net, X, y, p, p[:-1], [0, 1])
    with pytest.raises(ValueError, match="ts has shape"):
        line_slice(net, X, y, p, p, [0.0])
