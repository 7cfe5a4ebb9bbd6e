"""The one cost model: the estimate counts everything that costs, the cap's advice names what to reduce."""
import pytest

import core
from core.curvature.second_order import MAX_DENSE_PARAMS
from core.experiment import budget
from core.experiment.admission import admit
from core.experiment.budget import WORK_UNITS_PER_SECOND, estimate_work, run_work, seconds, slices_work
from core.sweeps import run as sweep_run
from tests.helpers import spec_of


def hessian_plane_spec(hidden):
    return spec_of(model__hidden=hidden, plane__method="hessian", curvature__enabled=False)


def test_the_hessian_plane_is_counted_and_refused_over_a_small_cap():
    spec = hessian_plane_spec([360])                      # 3,961 weights: a dense (P, P) Hessian and a full eigh
    est = estimate_work(spec)
    assert est["n_params"] == 3961 and est["n_params"] <= MAX_DENSE_PARAMS
    assert est["plane"] > est["n_params"] ** 3            # the eigh with eigenvectors, at least
    assert max(("train", "surface", "curvature", "plane", "other"), key=est.get) == "plane"
    pca = estimate_work(spec_of(model__hidden=[360], curvature__enabled=False))
    assert est["total"] > 10 * pca["total"]
    with pytest.raises(ValueError) as e:
        admit(spec, 3e10)
    msg = str(e.value)
    assert "over this server's limit of 3e+10 (serve --max-work)" in msg
    assert 'plane.method "pca"' in msg and "a smaller model.hidden (now [360])" in msg
    assert admit(spec_of(model__hidden=[360], curvature__enabled=False), 3e10) <= 3e10


def test_a_deep_hessian_plane_costs_more_than_a_one_hidden_layer_one():
    one = estimate_work(hessian_plane_spec([80]))         # closed form
    deep = estimate_work(hessian_plane_spec([30, 30]))    # Hessian-vector products over the identity
    assert deep["plane"] > one["plane"]


def test_above_the_dense_cap_the_plane_is_lanczos():
    big = estimate_work(hessian_plane_spec([512, 16]))     # more weights than MAX_DENSE_PARAMS
    assert big["n_params"] > MAX_DENSE_PARAMS
    assert big["plane"] == pytest.approx(2.0 * 150 * big["n_train"] * big["n_params"])


def test_work_grows_with_the_rows():
    small, large = (estimate_work(spec_of(data__name="moons", data__n_samples=n, model__hidden=[64],
                                          curvature__enabled=False)) for n in (2000, 20000))
    assert large["n_train"] == 10 * small["n_train"]
    for part in ("train", "surface"):
        assert large[part] > 5 * small[part]


def test_slices_and_sweep_runs_in_the_same_units():
    assert slices_work([64], 705, 500) > budget._SLICE_POINTS * 500 * 705
    assert run_work(100, 500, 151, hidden=[15]) == pytest.approx(100 * (500 * 151 + budget._ROW_UNIT_UNITS * 500 * 15
                                                                     + budget._STEP_UNITS))
    big = budget.step_work(15_000, 257, [64]) - 15_000 * 257 - budget._STEP_UNITS     # 7.7 MB of activations
    assert big == pytest.approx(budget._SPILL_FACTOR * budget._ROW_UNIT_UNITS * 15_000 * 64)
    assert run_work(100, 500, 151, sharpness=True) > run_work(100, 500, 151)
    assert seconds(WORK_UNITS_PER_SECOND) == 1.0


def test_sweep_chunks_are_sized_with_the_cost_model():
    per_run = seconds(run_work(500, 500, 151, True, [15]))
    size = sweep_run._auto_chunk(10_000, 1, 500, 500, 151, True, [15])
    assert size == max(1, int(sweep_run.CHUNK_SECONDS / per_run))
    assert sweep_run._auto_chunk(8, 2, 500, 500, 151, True, [15]) == 1       # at least 4 chunks a worker
    assert not hasattr(sweep_run, "_SECONDS_PER_UNIT")


def test_every_preset_is_estimated_with_every_part():
    for name in core.ExperimentSpec.presets():
        est = estimate_work(core.ExperimentSpec.preset(name))
        parts = sum(est[k] for k in ("train", "surface", "curvature", "plane", "other"))
        assert est["total"] == pytest.approx(parts) and est["train"] > 0
