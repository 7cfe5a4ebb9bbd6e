import io

import numpy as np
import pytest

import core
from core.experiment.spec import ExperimentSpec


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
        for k in ("params", "steps", "loss", "train_acc", "test_acc", "lr", "loss_history", "sharpness",
                  "min_eig", "threshold"):
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
    np.testing.assert_array_equal(back.X_train, result.X_train)
    np.testing.assert_array_equal(back.y_train, result.y_train)
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
    from core.experiment.budget import check_budget
    d = small_spec().to_dict()
    d["training"].update(steps=200000, record_every=201)
    d["optimizers"] = [{"name": "sgd", "label": f"s{i}"} for i in range(8)]
    check_budget(core.ExperimentSpec.from_dict(d), 166, 500)     # 8 x 200k steps of the article's net: allowed


def test_one_step_runs_lie_on_a_line_and_still_get_a_plane():
    d = small_spec().to_dict(); d["training"]["steps"] = 1
    r = core.run_experiment(d)
    assert r.plane.method == "pca+random" and list(r.plane.explained_variance) == [1.0, 0.0]
    assert all(row["capture"] == pytest.approx(1.0) for row in r.summary())   # a single step lies in the plane


# ------------------------------------------------------------------ curvature
def test_curvature_along_every_run_is_exact(result):
    from core.curvature import hessian_eigs
    net = core.MLP(result.layer_sizes)
    X, y = result.X_train, result.y_train
    for lab, tr in result.trajectories.items():
        assert tr.sharpness.shape == tr.min_eig.shape == tr.threshold.shape == tr.steps.shape
        for i in (0, len(tr.steps) // 2, len(tr.steps) - 1):
            vals, _ = hessian_eigs(net, tr.params[i], X, y, k=1)
            low, _ = hessian_eigs(net, tr.params[i], X, y, k=1, which="smallest")
            assert tr.sharpness[i] == pytest.approx(vals[0], rel=1e-8)
            assert tr.min_eig[i] == pytest.approx(low[0], rel=1e-6, abs=1e-10)
        mu = tr.hparams.get("momentum", 0.0)
        np.testing.assert_allclose(tr.threshold, (2 + 2 * mu) / tr.lr, rtol=1e-12)   # sgd family and momentum
    ann = result.trajectories["LR annealing"]
    assert ann.threshold[-1] > 10 * ann.threshold[0]                 # the threshold rises as the rate decays
    row = {r["label"]: r for r in result.summary()}["SGD"]
    sgd = result.trajectories["SGD"]
    assert row["peak_sharpness"] == pytest.approx(np.max(sgd.sharpness))
    assert row["sharpness_ratio"] == pytest.approx(sgd.sharpness[-1] / sgd.threshold[-1])


def test_curvature_stride_and_off():
    d = small_spec().to_dict()
    d["curvature"] = {"enabled": True, "stride": 4}
    r = core.run_experiment(ExperimentSpec.from_dict(d))
    s = r.trajectories["SGD"].sharpness
    assert (np.all(np.isfinite(s[::4])) and np.isfinite(s[-1])
            and np.all(np.isnan(s[1:-1][np.arange(1, len(s) - 1) % 4 != 0])))
    d["curvature"] = {"enabled": False}
    r = core.run_experiment(ExperimentSpec.from_dict(d))
    assert r.trajectories["SGD"].sharpness is None and r.summary()[0]["peak_sharpness"] is None


def test_four_optimizers_tells_the_stability_story():
    """The large rate's sharpness reaches above its threshold 2/lr; plain SGD stays far below its own."""
    r = core.run_experiment(ExperimentSpec.preset("four_optimizers"))
    rows = {row["label"]: row for row in r.summary()}
    big = r.trajectories["large LR"]
    assert big.threshold[0] == pytest.approx(2 / 6.0)
    assert rows["large LR"]["peak_sharpness"] > 2 / 6.0 and rows["large LR"]["above_threshold"] > 0.05
    assert rows["SGD"]["peak_sharpness"] < 0.05 * (2 / 0.07) and rows["SGD"]["above_threshold"] == 0.0


@pytest.mark.parametrize("change,match", [
    ({"curvature": {"enabled": True, "stride": 0}}, r"curvature.stride=0: must be an integer in \[1, 1000\]"),
    ({"curvature": {"enabled": True, "method": "power"}},
     r"curvature.method='power': allowed are auto, dense, lanczos"),
    ({"curvature": {"enabled": True, "method": "dense"}, "model": {"hidden": [300, 12]}},
     r"curvature.method='dense': the network has 6,625 weights, over the dense Hessian's cap of 4,000; use "
     r"curvature.method \"lanczos\" or \"auto\""),
    ({"curvature": {"enabled": True, "stride": 1}, "model": {"hidden": [300, 12]},
      "training": {"steps": 3000, "record_every": 4}},
     r"curvature.stride=1: about 3,008 frames x .* over the cap of 2e\+11 for curvature; use curvature.stride >= "),
])
def test_bad_curvature_settings_are_named(change, match):
    d = small_spec().to_dict()
    d.update(change)
    with pytest.raises(ValueError, match=match):
        core.run_experiment(ExperimentSpec.from_dict(d))


def test_version_1_files_still_load_without_curvature(result, tmp_path):
    import json
    a = result.to_arrays()
    meta = json.loads(str(a["meta"]))
    meta["version"] = 1
    del meta["spec"]["curvature"]
    a["meta"] = np.array(json.dumps(meta))
    for k in [k for k in a if k.endswith(("_sharpness", "_min_eig", "_threshold", "_surface_loss")) or
              k.startswith("data_")]:
        if not k.startswith("m"):
            del a[k]
    del a["moving_surfaces"]                          # version 1 moving paths lack the exact surface loss
    path = tmp_path / "v1.npz"
    np.savez_compressed(path, **a)
    back = core.load_result(str(path))
    assert back.trajectories["SGD"].sharpness is None and back.X_train is None and back.moving is None
    assert back.summary()[0]["peak_sharpness"] is None


def test_hessian_plane_spans_a_visible_quadratic_change():
    d = small_spec().to_dict()
    d["plane"] = {"method": "hessian", "center": "final"}
    r = core.run_experiment(ExperimentSpec.from_dict(d))
    from core.curvature import hessian_eigs
    net = core.MLP(r.layer_sizes)
    vals, vecs = hessian_eigs(net, r.plane.center, r.X_train, r.y_train, k=2)
    np.testing.assert_allclose(r.plane.eigenvalues, vals, rtol=1e-10)
    assert abs(r.plane.d1 @ vecs[:, 0]) == pytest.approx(1.0, abs=1e-8) and r.plane.method == "hessian"
    loss0 = net.loss(r.plane.center, r.X_train, r.y_train)
    assert 0.5 * vals[0] * r.alphas[-1] ** 2 == pytest.approx(0.5 * loss0, rel=1e-9)


def test_an_auto_stride_keeps_curvature_affordable():
    from core.experiment.budget import AUTO_CURVATURE_WORK, _curvature_work, curvature_stride
    d = small_spec().to_dict()
    assert d["curvature"]["stride"] is None                                   # the presets' default: auto
    small = ExperimentSpec.from_dict(d)
    assert curvature_stride(small, 166, 500) == 1                             # every frame when it is cheap
    d["model"]["hidden"] = [40]
    d["training"].update(steps=9990, record_every=10)
    mid = ExperimentSpec.from_dict(d)
    s = curvature_stride(mid, 441, 500)
    computed, per = _curvature_work(mid, 441, 500, s)
    assert s > 1 and computed * per <= AUTO_CURVATURE_WORK * 1.1
    assert _curvature_work(mid, 441, 500, s - 1)[0] * per > AUTO_CURVATURE_WORK      # about the smallest that fits
    d["model"]["hidden"] = [100]                  # too big for even two frames a run: the first and the last
    assert curvature_stride(ExperimentSpec.from_dict(d), 1101, 500) == 1000


# ------------------------------------------------------------ training reused for another plane or grid
def _curved_spec(**plane):
    d = ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"].update(steps=120, record_every=10)
    d["grid"]["resolution"] = 9
    d["curvature"]["enabled"] = True
    d["plane"].update(plane)
    return ExperimentSpec.from_dict(d)


def test_training_part_ignores_plane_grid_name_and_target():
    a = _curved_spec()
    d = a.to_dict()
    d["plane"]["method"], d["grid"]["resolution"], d["name"] = "random", 21, "other"
    d["training"]["target_loss"] = 0.5
    b = ExperimentSpec.from_dict(d)
    assert a.training_part() == b.training_part()
    for section, key, value in (("training", "steps", 121), ("curvature", "enabled", False), ("model", "hidden", [7])):
        d2 = a.to_dict()
        d2[section][key] = value
        assert ExperimentSpec.from_dict(d2).training_part() != a.training_part(), (section, key)
    d3 = a.to_dict()
    d3["optimizers"][0]["lr"] = 0.5
    assert ExperimentSpec.from_dict(d3).training_part() != a.training_part()


def test_trained_skips_training_and_gives_the_same_result():
    first = core.run_experiment(_curved_spec())
    other = _curved_spec(method="random")
    stages = []
    reused = core.run_experiment(other, progress=lambda s, d, t: stages.append(s), trained=first.trajectories)
    fresh = core.run_experiment(other)
    assert "train" not in stages and "curvature" not in stages and "surface" in stages
    assert reused.info["reused_training"] is True and "reused_training" not in fresh.info
    np.testing.assert_array_equal(reused.surface, fresh.surface)
    for lab, tr in fresh.trajectories.items():
        np.testing.assert_array_equal(reused.trajectories[lab].params, tr.params)
        np.testing.assert_array_equal(reused.trajectories[lab].sharpness, tr.sharpness)
        np.testing.assert_array_equal(reused.paths[lab].alpha, fresh.paths[lab].alpha)
    assert reused.trajectories["SGD"] is not first.trajectories["SGD"]     # copies: the first result is untouched


def test_train_runs_then_landscape_and_mismatched_runs_refused():
    spec = _curved_spec()
    trajs = core.experiment.train_runs(spec)
    assert list(trajs) == spec.labels() and trajs["SGD"].sharpness is not None
    r = core.run_experiment(spec, trained=trajs)
    assert r.surface.shape == (9, 9)
    with pytest.raises(ValueError, match="do not match the spec's optimizers"):
        core.run_experiment(spec, trained={"SGD": trajs["SGD"]})
