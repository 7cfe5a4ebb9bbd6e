"""Where computations run (visualizer.serving.runner): the work estimate and its cap, worker processes, the
two-lane queue, and cancellation (queued, training, surface) by killing the worker."""
import json

import numpy as np
import pytest
from dash import no_update

import core
from core.experiment.budget import WORK_UNITS_PER_SECOND, estimate_work
from tests.helpers import Stop, Tracker, _in_thread, _until, long_spec, small_spec_dict, spec_of
from visualizer import figures
from core.experiment.admission import admit
from visualizer.serving.runner import DEFAULT_MAX_WORK, SMALL_WORK, LocalRunner, ProcessRunner
from visualizer.serving.tasks import prerender
from visualizer.plotdata.view import ViewOptions
from visualizer.plotdata import slices as S
from visualizer.app.curvature_callbacks import SliceCache, slices
from visualizer.serving.cache import ResultCache, spec_key
from visualizer.serving.jobs import JobRegistry


def surface_heavy_spec():
    """Quick training, then a batched surface of many chunks (two hidden layers, 101 x 101, accuracy too)."""
    d = small_spec_dict()
    d["model"]["hidden"] = [64, 64]
    d["optimizers"] = d["optimizers"][:1]
    d["grid"].update(resolution=101, accuracy=True)
    d["curvature"]["enabled"] = False
    return core.ExperimentSpec.from_dict(d)


@pytest.fixture(scope="module")
def pool():
    p = ProcessRunner(workers=2, small_workers=1, max_work=None)
    yield p
    p.close()


# ----------------------------------------------------------------- the estimate and the cap
def test_estimate_work_adds_up_and_grows_with_the_request():
    base = estimate_work(spec_of())
    assert base["total"] == pytest.approx(base["train"] + base["surface"] + base["curvature"] + base["plane"]
                                          + base["other"])
    assert base["curvature"] > 0 and estimate_work(spec_of(curvature__enabled=False))["curvature"] == 0
    assert (base["n_params"], base["n_train"], base["n_test"]) == (166, 500, 183)
    assert estimate_work(spec_of(training__steps=400))["train"] > 1.9 * base["train"] - 1e9
    assert estimate_work(spec_of(grid__resolution=31))["surface"] > base["surface"]
    assert estimate_work(spec_of(), 166, 500, 183) == base                 # sizes given: same numbers


def test_every_bundled_preset_is_accepted_by_default():
    for name in core.ExperimentSpec.presets():
        assert admit(core.ExperimentSpec.preset(name), DEFAULT_MAX_WORK) <= DEFAULT_MAX_WORK
    assert DEFAULT_MAX_WORK == pytest.approx(10 * WORK_UNITS_PER_SECOND)
    assert admit(core.ExperimentSpec.preset("four_optimizers"), DEFAULT_MAX_WORK) <= SMALL_WORK


def test_over_the_cap_the_message_names_what_to_reduce_and_to_what():
    spec = long_spec()
    with pytest.raises(ValueError) as e:
        admit(spec, DEFAULT_MAX_WORK)
    msg = str(e.value)
    assert "over this server's limit of 3e+10 (serve --max-work)" in msg
    assert "training.steps <= " in msg and "(now 200,000)" in msg and "fewer optimizers" in msg
    steps = int(msg.split("training.steps <= ")[1].split(" ")[0].replace(",", ""))
    assert admit(spec_of(spec.to_dict(), training__steps=steps), DEFAULT_MAX_WORK) <= DEFAULT_MAX_WORK
    assert 1000 < steps < 200_000

    d = small_spec_dict()
    d["model"]["hidden"] = [64, 64]
    d["grid"]["resolution"] = 201
    d["curvature"]["enabled"] = False
    with pytest.raises(ValueError, match=r"grid.resolution <= \d+ \(now 201\)"):
        admit(core.ExperimentSpec.from_dict(d), DEFAULT_MAX_WORK)


def test_when_the_pca_of_many_frames_dominates_the_message_names_record_every():
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["model"]["hidden"] = [128, 32]
    d["training"].update(steps=400, record_every=1)
    d["optimizers"] = [dict(o, label=f"o{i}") for i, o in enumerate(d["optimizers"] * 2)]
    d["curvature"]["enabled"] = False
    spec = core.ExperimentSpec.from_dict(d)
    est = estimate_work(spec)
    assert est["plane"] > est["train"] + est["surface"]          # measured: 73 s for an estimated 83 s
    with pytest.raises(ValueError, match=r"training.record_every >= (\d+) \(now 1\)") as e:
        admit(spec, DEFAULT_MAX_WORK)
    every = int(str(e.value).split("record_every >= ")[1].split(" ")[0])
    assert admit(spec_of(spec.to_dict(), training__record_every=every), DEFAULT_MAX_WORK) <= DEFAULT_MAX_WORK


def test_check_budget_comes_first_and_the_local_runner_refuses_too():
    d = small_spec_dict()
    d["model"]["hidden"] = [512, 512, 512]
    with pytest.raises(ValueError, match="recorded values, over the cap"):
        admit(core.ExperimentSpec.from_dict(d), DEFAULT_MAX_WORK)
    with pytest.raises(ValueError, match="serve --max-work"):
        LocalRunner(max_work=1e6)(spec_of())


def test_run_experiment_stops_inside_the_surface():
    tr = Tracker()

    def progress(stage, done, total):
        tr(stage, done, total)
        if tr.stages.count("surface") == 3:          # the 2nd chunk tick of the surface
            raise Stop
    with pytest.raises(Stop):
        core.run_experiment(surface_heavy_spec(), progress=progress)
    assert tr.stages.count("surface") == 3           # it did not go on to the other chunks


# ----------------------------------------------------------------- worker processes
def test_the_pool_computes_what_run_experiment_computes_and_draws_the_first_view(pool):
    spec = spec_of()
    r, pre = pool(spec)                                          # tasks.Computed(result, figures)
    ref = core.run_experiment(spec)
    np.testing.assert_array_equal(r.surface, ref.surface)
    assert r.summary() == ref.summary()
    assert pre["view"] == ("log", 100.0, 1.0)
    v = ViewOptions(scale="log").validate()
    assert json.loads(pre["fig3d"]) == json.loads(figures.animated_landscape(ref, v).to_json())
    assert json.loads(pre["curves"]) == json.loads(prerender(ref)["curves"])
    assert json.loads(pre["sharpness"]) == json.loads(figures.sharpness_figure(ref, v).to_json())   # curvature


def test_trained_runs_go_to_the_worker_which_then_skips_training(pool):
    first = core.run_experiment(spec_of())
    other = spec_of(plane__method="random")
    seen = []
    r = pool(other, progress=lambda stage, done, total: seen.append(stage), trained=first.trajectories).result
    assert "train" not in seen and r.info["reused_training"] is True
    ref = core.run_experiment(other, trained=first.trajectories)
    assert np.array_equal(r.surface, ref.surface) and r.summary() == ref.summary()


def test_an_error_in_the_worker_is_a_value_error_and_the_worker_stays(pool):
    d = small_spec_dict()
    d["model"]["hidden"] = [512, 512, 512]
    killed = pool.stats()["killed"]
    with pytest.raises(ValueError, match="recorded values"):      # past admission: raised inside the worker
        pool._run_on(pool._wait_for_worker(True, None), ("experiment", (d, pool.files, None)), None, ("train", 0, 1))
    assert pool.stats()["killed"] == killed and pool.stats()["workers"] == 3


def test_a_short_request_is_answered_while_two_long_ones_run(pool):
    longs = []
    for seed in (1, 2):
        tr = Tracker()
        longs.append((tr, *_in_thread(pool, long_spec(seed), tr)))
    _until(lambda: all(tr.saw("train") for tr, _, _ in longs))
    assert pool.stats()["running"] == 2
    r = pool(spec_of(), None).result                             # small: the reserved worker takes it
    assert r.spec.training.steps == 200
    assert all(t.is_alive() for _, t, _ in longs)                # the long ones still run
    killed = pool.stats()["killed"]
    for tr, _, _ in longs:
        tr.stop.set()
    for _, t, box in longs:
        t.join(timeout=10)
        assert not t.is_alive() and isinstance(box.get("error"), Stop)
    _until(lambda: pool.stats()["killed"] == killed + 2 and pool.stats()["free"] == 3, timeout=10)


def test_cancelling_during_the_surface_kills_the_worker(pool):
    tr = Tracker()
    t, box = _in_thread(pool, surface_heavy_spec(), tr)
    _until(lambda: tr.saw("surface"))
    killed = pool.stats()["killed"]
    tr.stop.set()
    t.join(timeout=10)
    assert not t.is_alive() and isinstance(box.get("error"), Stop)
    assert pool.stats()["killed"] == killed + 1
    assert pool(spec_of()).result.spec.training.steps == 200     # a fresh worker took its place


def test_a_queued_request_leaves_the_queue_when_cancelled():
    p = ProcessRunner(workers=1, small_workers=0, max_work=None)
    try:
        first = Tracker()
        t1, _ = _in_thread(p, long_spec(3), first)
        _until(lambda: first.saw("train"))
        second = Tracker()
        t2, box2 = _in_thread(p, spec_of(), second)
        _until(lambda: second.saw("queued"))
        assert p.stats()["queued"] == 1
        second.stop.set()
        t2.join(timeout=5)
        assert isinstance(box2.get("error"), Stop) and p.stats()["queued"] == 0
        assert not second.saw("train")
        first.stop.set()
        t1.join(timeout=10)
        assert not t1.is_alive()
    finally:
        p.close()


def test_close_ends_waiting_callers():
    p = ProcessRunner(workers=1, small_workers=0, max_work=None)
    tr = Tracker()
    t, box = _in_thread(p, long_spec(4), tr)
    _until(lambda: tr.saw("train"))
    p.close()
    t.join(timeout=10)
    assert isinstance(box.get("error"), RuntimeError) and "shutting down" in str(box["error"])


def test_when_curvature_dominates_the_message_names_its_stride():
    d = small_spec_dict()
    d["model"]["hidden"] = [60]
    d["training"].update(steps=2000, record_every=10)
    d["curvature"]["stride"] = 1
    spec = core.ExperimentSpec.from_dict(d)
    est = estimate_work(spec)
    assert est["curvature"] > est["train"] + est["surface"] + est["other"]
    with pytest.raises(ValueError, match=r"curvature.stride >= (\d+) \(now 1\) or curvature.enabled false") as e:
        admit(spec, DEFAULT_MAX_WORK)
    stride = int(str(e.value).split("curvature.stride >= ")[1].split(" ")[0])
    assert admit(spec_of(spec.to_dict(), curvature__stride=stride), DEFAULT_MAX_WORK) <= DEFAULT_MAX_WORK


# ----------------------------------------------------------------- the app's other heavy tasks: slices
def slices_result(hidden=200):
    """A run whose slices need a dense Hessian of about 3,000 weights (seconds of one worker)."""
    d = small_spec_dict()
    d["model"]["hidden"] = [hidden]
    d["optimizers"] = d["optimizers"][:1]
    d["training"].update(steps=50, record_every=1)
    d["curvature"]["enabled"] = False
    return core.run_experiment(core.ExperimentSpec.from_dict(d))


def test_a_newer_slices_request_of_the_page_cancels_the_older_and_its_worker_is_killed(pool):
    result = slices_result()
    cache = ResultCache(runner=pool, max_running=None)
    key = spec_key(result.spec)
    cache.put(key, result)
    jobs, sc = JobRegistry(cache), SliceCache()
    store = {"key": key, "spec": result.spec.to_dict()}
    label = result.labels[0]
    killed, done = pool.stats()["killed"], pool.stats()
    t1, box1 = _in_thread(slices, 10, label, store, cache, sc, jobs, "page1")
    _until(lambda: jobs.running("slices") == 1 and pool.stats()["running"] == done["running"] + 1)
    t2, box2 = _in_thread(slices, 40, label, store, cache, sc, jobs, "page1")      # the page moved the slider
    t1.join(timeout=30)
    assert not t1.is_alive() and box1["value"] == dict(figure=no_update, hidden=no_update, message=no_update)
    _until(lambda: pool.stats()["killed"] == killed + 1, timeout=10)               # the old one's worker, killed
    t2.join(timeout=120)
    out = box2["value"]
    assert out["hidden"] is False and out["message"] == "" and out["figure"] is not no_update
    frames = {k[2] for k in sc._items if len(k) == 3}
    assert frames == {S.frame_of(result, label, 40)}                               # only the newest was kept
    assert jobs.running() == 0


def test_slices_over_the_work_cap_are_refused_before_a_worker_runs_them():
    result = slices_result(hidden=360)                                 # about 5,400 weights: Lanczos, many rows
    runner = LocalRunner(max_work=1e9)
    cache = ResultCache(runner=runner, max_running=None)
    key = spec_key(result.spec)
    cache.put(key, result)
    out = slices(10, result.labels[0], {"key": key, "spec": result.spec.to_dict()}, cache, SliceCache(),
                 JobRegistry(cache), "page2")
    assert "over this server's limit" in out["message"] and "serve --max-work" in out["message"]
    assert out["figure"] is no_update
