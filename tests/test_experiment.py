import io

import numpy as np
import pytest

import core
from core.spec import ExperimentSpec


def small_spec(**grid):
    d = ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"]["steps"] = 300
    d["grid"].update({"resolution": 15, **grid})
    return ExperimentSpec.from_dict(d)


@pytest.fixture(scope="module")
def result():
    return core.run_experiment(small_spec(accuracy=True, moving=True, moving_frames=5, moving_resolution=7))


def test_shapes_and_shared_start(result):
    spec = result.spec
    assert result.labels == ["SGD", "LR annealing", "large LR", "momentum"]
    p0s = [t.params[0] for t in result.trajectories.values()]
    for p in p0s[1:]:
        np.testing.assert_array_equal(p, p0s[0])        # every optimizer from the same initial weights
    np.testing.assert_array_equal(p0s[0], core.MLP([9, 15, 1]).init(spec.seed))
    assert result.surface.shape == (15, 15) and result.acc_surface.shape == (15, 15)
    assert np.all((result.acc_surface >= 0) & (result.acc_surface <= 1))
    for lab, pr in result.paths.items():
        assert pr.alpha.shape == result.trajectories[lab].steps.shape
        np.testing.assert_array_equal(pr.loss, result.trajectories[lab].loss)
    # the center (the shared initial weights) sits at (0, 0): every path starts there
    for pr in result.paths.values():
        assert abs(pr.alpha[0]) < 1e-9 and abs(pr.beta[0]) < 1e-9
    assert result.alphas.min() <= 0 <= result.alphas.max()
    # every path fits inside the grid
    for pr in result.paths.values():
        assert result.alphas.min() <= pr.alpha.min() and pr.alpha.max() <= result.alphas.max()
        assert result.betas.min() <= pr.beta.min() and pr.beta.max() <= result.betas.max()
    mv = result.moving
    assert mv.surfaces.shape == (5, 7, 7) and mv.follow == "SGD"
    assert mv.paths["SGD"]["alpha"].shape == (5,)
    np.testing.assert_allclose(mv.paths["SGD"]["alpha"], 0, atol=1e-9)   # the followed run sits at the center


def test_surface_matches_true_loss_at_center(result):
    net = core.MLP(result.layer_sizes)
    ds = core.load_dataset("wisconsin")
    plane = result.plane
    i = int(np.argmin(np.abs(result.alphas - 0))); j = int(np.argmin(np.abs(result.betas - 0)))
    theta = plane.center + result.alphas[i] * plane.d1 + result.betas[j] * plane.d2
    assert result.surface[j, i] == pytest.approx(net.loss(theta, ds.X_train, ds.y_train), rel=1e-10)


def test_summary_rows(result):
    rows = result.summary()
    assert [r["label"] for r in rows] == result.labels
    for r in rows:
        tr = result.trajectories[r["label"]]
        assert r["final_loss"] == tr.loss[-1] and r["test_acc"] == tr.test_acc[-1]
        assert 0 <= r["residual"] <= 1 and r["capture"] == pytest.approx(1 - r["residual"])
        assert r["path_length"] > 0


def test_bit_identical_runs():
    a = core.run_experiment(small_spec())
    b = core.run_experiment(small_spec())
    for lab in a.labels:
        np.testing.assert_array_equal(a.trajectories[lab].params, b.trajectories[lab].params)
    np.testing.assert_array_equal(a.surface, b.surface)
    np.testing.assert_array_equal(a.plane.d1, b.plane.d1)


def test_save_load_equal(result, tmp_path):
    path = tmp_path / "run.npz"
    result.save(str(path))
    back = core.load_result(str(path))
    assert back.spec == result.spec and back.labels == result.labels and back.layer_sizes == result.layer_sizes
    for lab in result.labels:
        for k in ("params", "steps", "loss", "train_acc", "test_acc", "lr", "loss_history"):
            np.testing.assert_array_equal(getattr(back.trajectories[lab], k), getattr(result.trajectories[lab], k))
        assert back.trajectories[lab].diverged_at == result.trajectories[lab].diverged_at
        for k in ("alpha", "beta", "residual", "loss", "surface_loss"):
            np.testing.assert_array_equal(getattr(back.paths[lab], k), getattr(result.paths[lab], k))
    np.testing.assert_array_equal(back.surface, result.surface)
    np.testing.assert_array_equal(back.acc_surface, result.acc_surface)
    np.testing.assert_array_equal(back.moving.surfaces, result.moving.surfaces)
    for lab in result.labels:
        for k in ("alpha", "beta", "loss", "surface_loss"):
            np.testing.assert_array_equal(back.moving.paths[lab][k], result.moving.paths[lab][k])
    np.testing.assert_array_equal(back.plane.d2, result.plane.d2)
    assert back.summary() == result.summary()
    # file-like objects too (uploads)
    back2 = core.load_result(io.BytesIO(path.read_bytes()))
    np.testing.assert_array_equal(back2.surface, result.surface)
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]     # no temporary file left


def test_load_errors(tmp_path, result):
    with pytest.raises(ValueError, match="no such file"):
        core.load_result(str(tmp_path / "none.npz"))
    junk = tmp_path / "junk.npz"; junk.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz result"):
        core.load_result(str(junk))
    foreign = tmp_path / "foreign.npz"; np.savez(foreign, x=np.arange(3))
    with pytest.raises(ValueError, match="no 'meta' entry"):
        core.load_result(str(foreign))
    good = tmp_path / "good.npz"; result.save(str(good))
    data = good.read_bytes()
    trunc = tmp_path / "trunc.npz"; trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="run file"):
        core.load_result(str(trunc))
    arrays = result.to_arrays(); del arrays["surface"]
    partial = tmp_path / "partial.npz"; np.savez(partial, **arrays)
    with pytest.raises(ValueError, match="not a valid result"):
        core.load_result(str(partial))
    obj = tmp_path / "obj.npz"; np.savez(obj, meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="run file"):
        core.load_result(str(obj))
    with pytest.raises(ValueError, match="does not exist"):
        result.save(str(tmp_path / "nope" / "r.npz"))


def test_moving_paths_carry_the_exact_surface_loss_and_files_must_too(result, tmp_path):
    mv = result.moving
    for lab in result.labels:
        sl = mv.paths[lab]["surface_loss"]
        assert sl.shape == mv.steps.shape and np.all(np.isfinite(sl))
    # the followed run is the center of every frame: the surface's loss there is its own loss
    np.testing.assert_allclose(mv.paths[mv.follow]["surface_loss"], mv.paths[mv.follow]["loss"], rtol=1e-9)
    arrays = result.to_arrays()
    del arrays["m2_surface_loss"]
    old = tmp_path / "old.npz"
    np.savez(old, **arrays)
    with pytest.raises(ValueError, match=r"moving landscape without the surface loss of its paths \(m2_surface_loss\)"
                                         r".*re-run its spec"):
        core.load_result(str(old))


@pytest.mark.parametrize("method,center", [("random", "final"), ("interpolation", "final"),
                                           ("interpolation", "initial"), ("pca", "final")])
def test_other_planes(method, center):
    d = small_spec().to_dict(); d["plane"].update(method=method, center=center); d["training"]["steps"] = 100
    r = core.run_experiment(d)
    assert r.plane.method == method and np.all(np.isfinite(r.surface))
    pr = r.paths["SGD"]
    if method == "random":
        assert r.alphas[0] == -1 and r.alphas[-1] == 1
    elif method == "interpolation":   # the other end of the center run sits at alpha = 1
        end = 0 if center == "final" else -1
        assert pr.alpha[end] == pytest.approx(1.0) and abs(pr.beta[end]) < 1e-9
        assert abs(pr.alpha[-1 - end]) < 1e-9 and pr.residual[end] < 1e-9
    else:                             # the center run's final weights sit at (0, 0)
        assert abs(pr.alpha[-1]) < 1e-9 and abs(pr.beta[-1]) < 1e-9


def test_diverging_run_still_gives_a_picture():
    d = small_spec().to_dict()
    d["optimizers"] = [{"name": "sgd", "label": "ok", "lr": 0.5}, {"name": "large_lr", "label": "boom", "lr": 100.0}]
    d["plane"]["center_on"] = None
    r = core.run_experiment(d)
    assert r.trajectories["boom"].diverged_at is not None
    assert np.all(np.isfinite(r.surface))
    assert r.summary()[1]["diverged_at"] == r.trajectories["boom"].diverged_at


def test_synthetic_and_deeper():
    d = small_spec().to_dict()
    d["data"] = {"name": "spirals", "n_samples": 100}; d["model"]["hidden"] = [8, 8]
    r = core.run_experiment(d)
    assert r.layer_sizes == [2, 8, 8, 1] and r.surface.shape == (15, 15)


def test_progress_counts_up_over_all_runs():
    calls = []
    d = small_spec().to_dict(); d["training"]["steps"] = 2500
    core.run_experiment(d, progress=lambda *a: calls.append(a))
    train = [done for stage, done, total in calls if stage == "train"]
    assert train == sorted(train) and train[-1] == 4 * 2500
    assert all(total == 10000 for stage, _, total in calls if stage == "train")
    assert calls[-1] == ("surface", 1, 1)


@pytest.mark.parametrize("change,match", [
    (dict(model={"hidden": [512, 512, 512]}, training={"steps": 2000, "record_every": 4}),
     r"training.record_every=4: 501 frames x .* recorded values, over the cap .* use record_every >= "),
    (dict(model={"hidden": [512, 512]}, training={"steps": 200000, "record_every": 5000}),
     r"training.steps=200000: .* over the cap of 2e\+11 \(hours of training\)"),
    (dict(model={"hidden": [256, 256]}, training={"steps": 10}, grid={"resolution": 201}),
     r"grid.resolution=201: 40,401 grid points x 500 rows x 68,609 weights .* use a smaller grid.resolution"),
])
def test_budget_caps_refuse_runs_that_would_exhaust_memory_or_hang(change, match):
    d = small_spec().to_dict()
    for k, v in change.items():
        d[k].update(v)
    with pytest.raises(ValueError, match=match):
        core.run_experiment(d)


def test_largest_article_sized_runs_fit_the_budget():
    from core.experiment import check_budget
    d = small_spec().to_dict()
    d["training"].update(steps=200000, record_every=201)
    d["optimizers"] = [{"name": "sgd", "label": f"s{i}"} for i in range(8)]
    check_budget(core.ExperimentSpec.from_dict(d), 166, 500)     # 8 x 200k steps of the article's net: allowed


def test_one_step_runs_lie_on_a_line_and_still_get_a_plane():
    d = small_spec().to_dict(); d["training"]["steps"] = 1
    r = core.run_experiment(d)
    assert r.plane.method == "pca+random" and list(r.plane.explained_variance) == [1.0, 0.0]
    assert all(row["capture"] == pytest.approx(1.0) for row in r.summary())   # a single step lies in the plane
