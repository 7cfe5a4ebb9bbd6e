import numpy as np
import pytest

from core.model.network import MLP, bce_from_logits, sigmoid, softplus


def fd_grad(net, p, X, y, h=1e-6):
    g = np.empty_like(p)
    for i in range(len(p)):
        e = np.zeros_like(p); e[i] = h
        g[i] = (net.loss(p + e, X, y) - net.loss(p - e, X, y)) / (2 * h)
    return g


@pytest.mark.parametrize("sizes", [[3, 1], [4, 6, 1], [3, 5, 4, 1], [2, 4, 3, 5, 1], [3, 3, 3, 3, 3, 1]])
def test_backprop_matches_central_differences(sizes):
    rng = np.random.default_rng(0)
    net = MLP(sizes)
    # a point off the ReLU kinks: random weights AND random non-zero biases
    p = rng.standard_normal(net.n_params) * 0.7
    X = rng.standard_normal((25, sizes[0]))
    y = (rng.random(25) > 0.5).astype(float)
    loss, g = net.loss_and_grad(p, X, y)
    fd = fd_grad(net, p, X, y)
    assert loss == pytest.approx(net.loss(p, X, y), rel=1e-14)
    rel = np.linalg.norm(g - fd) / np.linalg.norm(fd)
    assert rel < 1e-6


def test_backprop_on_wisconsin_point_off_kinks():
    import core
    ds = core.load_dataset("wisconsin")
    net = MLP([9, 15, 1])
    p = net.init(0)
    p[net.layout[0][2]] = 0.05      # non-zero biases: the all-ones rows scale to 0 and sit on the kink otherwise
    X, y = ds.X_train[:80], ds.y_train[:80]
    _, g = net.loss_and_grad(p, X, y)
    fd = fd_grad(net, p, X, y)
    assert np.linalg.norm(g - fd) / np.linalg.norm(fd) < 1e-6


def test_unflatten_layout_and_views():
    net = MLP([9, 15, 1])
    assert net.n_params == 9 * 15 + 15 + 15 + 1
    p = np.arange(net.n_params, dtype=float)
    (W1, b1), (W2, b2) = net.unflatten(p)
    assert W1.shape == (15, 9) and b1.shape == (15,) and W2.shape == (1, 15) and b2.shape == (1,)
    assert W1[0, 1] == 1 and b1[0] == 135 and W2[0, 0] == 150 and b2[0] == 165
    np.testing.assert_array_equal(net.flatten(net.unflatten(p)), p)
    W1[0, 0] = -5                        # views, not copies
    assert p[0] == -5
    assert net.weight_mask().sum() == 135 + 15


def test_forward_is_article_orientation():
    """Z1 = W1 X + b1 for a column x, i.e. X @ W1.T + b1 for rows."""
    net = MLP([2, 2, 1])
    p = net.flatten([(np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([0.5, 0.0])),
                     (np.array([[2.0, -1.0]]), np.array([0.1]))])
    x = np.array([[1.0, 1.0]])
    h = np.maximum(np.array([1 + 2 + 0.5, -1 + 0.5]), 0)   # [3.5, 0]
    z = 2 * h[0] - 1 * h[1] + 0.1
    assert net.logits(p, x)[0] == pytest.approx(z)
    assert net.predict_proba(p, x)[0] == pytest.approx(1 / (1 + np.exp(-z)))


def test_bce_stable_never_log0():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    y = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    ref = -(y * np.log(1 / (1 + np.exp(-z.clip(-700, 700)))) + 0)  # only finite where no overflow
    val = softplus(z) - y * z
    assert np.all(np.isfinite(val))
    assert val[0] == pytest.approx(1000.0) and val[4] == pytest.approx(1000.0)
    assert val[2] == pytest.approx(np.log(2))
    assert val[1] == pytest.approx(ref[1])
    assert bce_from_logits(z, y) == pytest.approx(np.mean(val))
    s = sigmoid(np.array([-800.0, 800.0]))
    assert s[0] >= 0 and s[1] == 1.0 and np.all(np.isfinite(s))


def test_init_schemes():
    net = MLP([9, 15, 1])
    a, b = net.init(0), net.init(0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, net.init(1))
    assert np.all(a[net.layout[0][2]] == 0)
    # the article: np.random.seed(1); W1 = randn(15, 9) / sqrt(9); W2 = randn(1, 15) / sqrt(15)
    rs = np.random.RandomState(1)
    W1 = rs.randn(15, 9) / np.sqrt(9); W2 = rs.randn(1, 15) / np.sqrt(15)
    (V1, c1), (V2, c2) = net.unflatten(net.init(1, scheme="article"))
    np.testing.assert_array_equal(V1, W1); np.testing.assert_array_equal(V2, W2)
    assert np.all(c1 == 0) and np.all(c2 == 0)
    # default scheme: std ~ 1/sqrt(fan_in)
    big = MLP([400, 300, 1]).init(0)
    assert np.std(big[:120000]) == pytest.approx(1 / 20, rel=0.02)


@pytest.mark.parametrize("sizes,match", [
    ([9], "layer_sizes"), (5, "layer_sizes"), ([9, 0, 1], r"layer_sizes\[1\]=0"),
    ([9, 15, 2], "output layer must have 1"),
    ([9, 600, 1], "at most 512"), ([2, 3, 3, 3, 3, 3, 1], "at most 4 hidden"), ([9, 2.5, 1], "positive integer"),
])
def test_bad_layer_sizes(sizes, match):
    with pytest.raises(ValueError, match=match):
        MLP(sizes)


def test_bad_init_and_params():
    net = MLP([2, 3, 1])
    with pytest.raises(ValueError, match="init scheme='xavier'"):
        net.init(0, scheme="xavier")
    with pytest.raises(ValueError, match=r"expected \(13,\)"):
        net.unflatten(np.zeros(5))
