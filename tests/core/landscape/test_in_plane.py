"""core.landscape.projection.in_plane: the share of a path's displacement a plane holds, on four_optimizers."""
import numpy as np
import pytest

import core
from core.curvature.second_order import hessian
from core.landscape.planes import Plane, make_plane
from core.landscape.projection import in_plane


def _share_by_least_squares(params, plane):
    """Independent: least-squares coefficients on the raw (non-orthonormal) [d1 d2], then the projected vectors'
    squared norm over the displacements' (a different route from in_plane's orthonormal basis)."""
    D = params - plane.center                                   # (F, P)
    B = np.stack([plane.d1, plane.d2], axis=1)                  # (P, 2)
    coef = np.linalg.solve(B.T @ B, B.T @ D.T)                   # (2, F) normal equations
    proj = (B @ coef).T                                          # (F, P)
    return float(np.sum(proj ** 2) / np.sum(D ** 2))


def test_in_plane_of_every_run_matches_a_least_squares_projection(four_pca):
    rows = {r["label"]: r for r in four_pca.summary()}
    assert list(rows) == four_pca.labels
    for lab, tr in four_pca.trajectories.items():
        want = _share_by_least_squares(tr.params, four_pca.plane)
        assert 0.0 <= rows[lab]["in_plane"] <= 1.0
        assert rows[lab]["in_plane"] == pytest.approx(want, abs=1e-10)
        # the older capture column is 1 - sqrt(1 - in_plane), not the share itself
        assert rows[lab]["capture"] == pytest.approx(1 - np.sqrt(1 - want), abs=1e-8)


def test_in_plane_is_1_on_the_plane_and_0_orthogonal_to_it():
    rng = np.random.default_rng(0)
    c, d1, d2 = rng.standard_normal((3, 7))
    d2 = d2 + 3 * d1                                             # not orthogonal: the projector must not care
    pl = Plane(c, d1, d2, "test")
    on = c + rng.standard_normal((5, 1)) * d1 + rng.standard_normal((5, 1)) * d2
    assert in_plane(on, pl) == pytest.approx(1.0, abs=1e-12)
    Q = np.linalg.qr(np.stack([d1, d2, rng.standard_normal(7)], axis=1))[0]
    off = c + rng.standard_normal((4, 1)) * Q[:, 2]
    assert in_plane(off, pl) == pytest.approx(0.0, abs=1e-12)
    assert in_plane(np.vstack([on[:1], off[:1]]), pl) == pytest.approx(
        np.sum((on[0] - c) ** 2) / (np.sum((on[0] - c) ** 2) + np.sum((off[0] - c) ** 2)))
    assert in_plane(c[None], pl) == 1.0                         # never left the centre


def test_the_random_plane_holds_almost_none_of_any_path(four_random):
    r = four_random
    shares = [row["in_plane"] for row in r.summary()]
    for lab, tr in r.trajectories.items():
        assert in_plane(tr.params, r.plane) == pytest.approx(_share_by_least_squares(tr.params, r.plane), abs=1e-10)
    assert max(shares) < 0.05


def test_balanced_pca_weighs_every_run_equally(four_pca):
    """pca_balanced: the plane of the stack whose run blocks have unit Frobenius norm (checked by scaling one run's
    path: plain PCA follows it, the balanced plane does not move)."""
    order = [four_pca.trajectories[lab] for lab in four_pca.labels]
    c = four_pca.plane.center
    bal = make_plane("pca_balanced", core.MLP(four_pca.layer_sizes), center=c, trajectories=order)
    assert bal.method == "pca_balanced" and np.isclose(np.linalg.norm(bal.d1), 1.0)

    class Scaled:
        def __init__(self, tr, k):
            self.params = c + k * (tr.params - c)
    scaled = [Scaled(order[0], 5.0)] + order[1:]
    bal5 = make_plane("pca_balanced", core.MLP(four_pca.layer_sizes), center=c, trajectories=scaled)
    assert abs(bal5.d1 @ bal.d1) == pytest.approx(1.0, abs=1e-9)
    assert abs(bal5.d2 @ bal.d2) == pytest.approx(1.0, abs=1e-9)
    plain5 = make_plane("pca", core.MLP(four_pca.layer_sizes), center=c, trajectories=scaled)
    assert abs(plain5.d1 @ four_pca.plane.d1) < 0.999


def test_plane_curvature_matches_the_dense_hessian(four_pca):
    """curv_d1, curv_d2, lambda_max and top_in_plane of each run against the dense Hessian at its last weights."""
    net = core.MLP(four_pca.layer_sizes)
    pl = four_pca.plane
    rows = {r["label"]: r for r in four_pca.summary()}
    for lab, tr in four_pca.trajectories.items():
        H = hessian(net, tr.params[-1], four_pca.X_train, four_pca.y_train)      # (P, P)
        w, V = np.linalg.eigh(H)
        r = rows[lab]
        for key, d in (("curv_d1", pl.d1), ("curv_d2", pl.d2)):
            u = d / np.linalg.norm(d)
            assert r[key] == pytest.approx(u @ H @ u, rel=1e-8, abs=1e-12)
        assert r["lambda_max"] == pytest.approx(w[-1], rel=1e-10)
        v = V[:, -1]
        coef = np.linalg.lstsq(np.stack([pl.d1, pl.d2], axis=1), v, rcond=None)[0]
        proj = coef[0] * pl.d1 + coef[1] * pl.d2
        assert r["top_in_plane"] == pytest.approx(proj @ proj, abs=1e-10)
        # the plane's axes see much less curvature than the sharpest direction
        assert max(r["curv_d1"], r["curv_d2"]) < r["lambda_max"]
