"""The app's computations on a Dask cluster (visualizer.serving.dask_runner, `serve --scheduler`): the same numbers as
core.run_experiment, progress while it runs, cancellation that stops the task's CPU work, admission before
anything is sent, CSV uploads shipped with the task, and the server against an unreachable, a real and a lost
scheduler. One local cluster (2 worker processes of one thread) is shared by the in-process tests."""
import dataclasses
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import core
from core.parallel.cluster import own_arrays
from core.parallel.engine import CONNECT_TIMEOUT
from tests.helpers import small_spec_dict
from tests.helpers import children, free_port, stop, wait_http
from tests.helpers import Stop, Tracker, _in_thread, _until, long_spec, spec_of
from visualizer.serving.dask_runner import DaskRunner
from visualizer.serving.dask_task import worker_stats
from visualizer.serving.runner import DEFAULT_MAX_WORK
from visualizer.serving.tasks import prerender
from visualizer.serving.uploads import UploadStore
from visualizer.plotdata import slices as S

pytest.importorskip("distributed")
from tests.helpers import ROOT
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def uploads():
    return UploadStore()


@pytest.fixture(scope="module")
def runner(uploads):
    """A DaskRunner over a local cluster it started itself (2 workers), no work cap."""
    r = DaskRunner("local", workers=2, max_work=None, files=uploads.files, timeout=30)
    yield r
    r.close()


def stats(runner):
    """Summed task counts of the cluster's workers (visualizer.serving.dask_task.worker_stats)."""
    out = {}
    for s in runner.client.run(worker_stats).values():
        for k, v in s.items():
            out[k] = out.get(k, 0) + v
    return out


def big_model_spec():
    """One optimizer, [512, 512]: its first 1,000 steps take many seconds, so no progress call comes for long."""
    d = small_spec_dict()
    d["model"]["hidden"] = [512, 512]
    d["optimizers"] = d["optimizers"][:1]
    d["training"].update(steps=900, record_every=100)
    d["curvature"]["enabled"] = False
    return core.ExperimentSpec.from_dict(d)


# ----------------------------------------------------------------- the runner
def pinned_run(spec, **kw):
    """core.run_experiment with BLAS on one thread, as every worker runs it (more BLAS threads change the last
    bits of four_optimizers' numbers here)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        return core.run_experiment(spec, **kw)


def test_the_cluster_computes_what_run_experiment_computes_and_draws_the_first_view(runner):
    spec = spec_of()
    r, figs = runner(spec)                                                # tasks.Computed(result, figures)
    ref = pinned_run(spec)
    assert np.array_equal(r.surface, ref.surface) and r.summary() == ref.summary()
    for lab in ref.labels:
        assert np.array_equal(r.trajectories[lab].params, ref.trajectories[lab].params)
        assert np.array_equal(r.trajectories[lab].loss, ref.trajectories[lab].loss)
        assert np.array_equal(r.paths[lab].surface_loss, ref.paths[lab].surface_loss)
    assert np.array_equal(r.plane.d1, ref.plane.d1) and np.array_equal(r.X_train, ref.X_train)
    assert r.surface.flags.aligned and r.surface.flags.writeable               # copied out of Dask's buffers
    assert figs["view"] == ("log", 100.0, 1.0) and not hasattr(r, "prerendered")
    assert json.loads(figs["fig3d"]) == json.loads(prerender(ref)["fig3d"])


def test_slices_are_a_dask_task_with_the_same_admission(runner, small_result):
    label = small_result.labels[0]
    seen = []
    steps, lines = runner.task("slices", (small_result, label, 100, True), lambda *a: seen.append(a))
    ref = S.step_slices(small_result, label, 100)
    assert steps.frame == ref.frame and (np.allclose(steps.eigen.loss, ref.eigen.loss)
                                         or np.allclose(steps.eigen.loss[::-1], ref.eigen.loss))   # v or -v
    assert len(lines) == len(small_result.labels) and seen and seen[0][0] == "slices"
    capped = DaskRunner(runner.client, max_work=1.0, timeout=30)                 # the same cluster, a tiny cap
    with pytest.raises(ValueError, match="over this server's limit"):
        capped.task("slices", (small_result, label, 100, True))
    assert capped.stats()["submitted"] == 0
    capped.close()                                                                  # not its client: left open
    assert runner.client.status == "running"


def test_own_arrays_copies_read_only_arrays_also_attributes_set_later():
    a = np.arange(6.0)
    a.flags.writeable = False
    box = {"x": [a, (a,)]}
    out = own_arrays(box)
    assert out["x"][0].flags.writeable and out["x"][1][0].flags.writeable and out["x"][0] is not a
    assert box["x"][0] is a and box["x"][1][0] is a                      # the caller's object is left as it is

    @dataclasses.dataclass
    class Result:
        surface: np.ndarray
    r = Result(a)
    r.extra = {"z": a}                                                   # not a field
    out = own_arrays(r)
    assert out.surface.flags.writeable and out.extra["z"].flags.writeable and out.extra["z"] is not a
    assert r.surface is a and r.extra["z"] is a


def test_trained_runs_travel_with_the_task_and_skip_training(runner):
    first = pinned_run(spec_of())
    other = spec_of(plane__method="random")
    seen = []
    r = runner(other, lambda stage, done, total: seen.append(stage), trained=first.trajectories).result
    ref = pinned_run(other)
    assert "train" not in seen and r.info["reused_training"] is True
    assert np.array_equal(r.surface, ref.surface) and r.summary() == ref.summary()


def test_progress_arrives_while_it_runs(runner):
    seen = []
    spec = spec_of(core.ExperimentSpec.preset("four_optimizers").to_dict(), training__steps=16_000,
                   training__record_every=80)
    r = runner(spec, lambda stage, done, total: seen.append((stage, done, total))).result
    total = 4 * 16_000
    assert seen[0] == ("queued", 0, 1)
    middle = {done for stage, done, t in seen if stage == "train" and 0 < done < total}
    assert len(middle) >= 2, seen                    # the line moved during training, not only at the end
    assert seen.index(("queued", 0, 1)) < min(i for i, s in enumerate(seen) if s[0] == "train")
    assert r.spec.training.steps == 16_000


def test_cancelling_stops_running_and_queued_tasks_within_a_second(runner):
    base = stats(runner)
    longs = []
    for seed in (1, 2):
        tr = Tracker()
        longs.append((tr, *_in_thread(runner, long_spec(seed), tr)))
    _until(lambda: stats(runner)["running"] == 2, timeout=60)
    queued = Tracker()
    tq, boxq = _in_thread(runner, spec_of(), queued)              # both workers are busy: it waits
    _until(lambda: queued.saw("queued") and len(queued.stages) >= 3)
    queued.stop.set()
    tq.join(timeout=5)
    assert isinstance(boxq.get("error"), Stop) and set(queued.stages) == {"queued"}
    _until(lambda: all(tr.saw("train") for tr, _, _ in longs))
    for tr, _, _ in longs:
        tr.stop.set()
    for _, t, box in longs:
        t.join(timeout=5)
        assert not t.is_alive() and isinstance(box.get("error"), Stop)
    _until(lambda: stats(runner)["running"] == 0, timeout=5)     # the workers are idle again (a generous bound)
    after = stats(runner)
    assert after["stopped"] == base["stopped"] + 2
    assert after["finished"] == base["finished"]                 # the queued one never ran
    assert runner.stats()["running"] == 0 and runner(spec_of()).result.spec.training.steps == 200


def test_cancelling_interrupts_a_task_between_its_progress_calls(runner):
    base = stats(runner)
    tr = Tracker()
    t, box = _in_thread(runner, big_model_spec(), tr)
    _until(lambda: stats(runner)["running"] == 1 and tr.saw("train"), timeout=60)   # inside its first 1,000 steps
    tr.stop.set()
    t.join(timeout=5)
    assert isinstance(box.get("error"), Stop)
    _until(lambda: stats(runner)["running"] == 0, timeout=5)     # without the interrupt: its 1,000 steps take longer
    after = stats(runner)
    assert after["interrupted"] == base["interrupted"] + 1 and after["stopped"] == base["stopped"] + 1


def test_cancelling_a_running_curvature_map_task_stops_it_on_the_worker(runner):
    # a map of many small NumPy calls (121 points of a 661-weight Hessian, seconds of work) with no progress call
    # until its one tile ends: only the interrupt can stop it early. Before, a running task went on to the end.
    d = small_spec_dict()
    d["model"]["hidden"] = [60]
    d["optimizers"] = d["optimizers"][:1]
    d["training"]["steps"] = 20
    result = runner(spec_of(d)).result
    base = stats(runner)
    tr = Tracker()
    t, box = _in_thread(runner.task, "curvature-map", result, tr)
    _until(lambda: stats(runner)["running"] == 1, timeout=60)
    tr.stop.set()
    t.join(timeout=5)
    assert not t.is_alive() and isinstance(box.get("error"), Stop)
    _until(lambda: stats(runner)["running"] == 0, timeout=60)
    after = stats(runner)
    assert after["stopped"] == base["stopped"] + 1 and after["finished"] == base["finished"]
    assert after["interrupted"] == base["interrupted"] + 1
    assert runner.stats()["running"] == 0
    cm = runner.task("curvature-map", result)                    # the worker is free and computes the next one
    assert cm.top.shape == (11, 11) and np.isfinite(cm.top).all()


def test_over_the_cap_is_refused_before_anything_is_sent(runner, uploads):
    capped = DaskRunner(runner.client, max_work=DEFAULT_MAX_WORK, files=uploads.files)   # the server's cap
    try:
        with pytest.raises(ValueError, match=r"over this server's limit of 3e\+10 \(serve --max-work\)"):
            capped(long_spec())
        d = small_spec_dict()
        d["data"] = {"name": "csv", "path": "upload:" + "0" * 32, "target": "y"}
        with pytest.raises(ValueError, match="no longer on the server"):
            capped(core.ExperimentSpec.from_dict(d))
        assert capped.stats()["submitted"] == 0
    finally:
        capped.close()
    assert runner.client.status == "running"                       # a Client it was given stays open


def test_an_uploaded_csv_travels_with_the_task(runner, uploads, tmp_path):
    ds = core.load_dataset("moons", seed=3, n_samples=300)
    X = np.vstack([ds.X_train, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    text = "a,b,label\n" + "".join(f"{p:.17g},{q:.17g},{int(c)}\n" for (p, q), c in zip(X, y))
    key = uploads.put(text.encode())
    d = small_spec_dict()
    d["data"] = {"name": "csv", "path": UploadStore.spec_path(key), "target": "label"}
    d["model"]["hidden"] = [8]
    spec = core.ExperimentSpec.from_dict(d)
    r = runner(spec).result
    ref = pinned_run(spec, files=uploads.files)
    assert np.array_equal(r.surface, ref.surface) and r.summary() == ref.summary()
    assert r.spec.data.path == "upload:" + key                   # the cache key still names the upload


# ----------------------------------------------------------------- the server
def _env():
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    return env


def serve(*args):
    return subprocess.Popen([sys.executable, "-m", "visualizer", "serve", *args], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _alive(pids):
    return {p for p in pids if os.path.exists(f"/proc/{p}")}


def test_serve_with_an_unreachable_scheduler_exits_2_within_the_timeout():
    r = subprocess.run([sys.executable, "-m", "visualizer", "serve", "--scheduler", "tcp://127.0.0.1:1", "--port",
                        str(free_port())], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    err = r.stderr.strip()                                          # subprocess.run's timeout: the bound
    assert err.count("\n") == 0 and err.startswith(
        f"error: --scheduler tcp://127.0.0.1:1: no Dask scheduler answered within {CONNECT_TIMEOUT:g} s (--timeout")
    assert err.endswith("start one with `dask scheduler` and workers with `dask worker ADDRESS`")


@pytest.mark.parametrize("args,match", [
    (["--scheduler", "env"], "error: --scheduler env: DASK_SCHEDULER_ADDRESS is not set"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "error: --workers 2: sets the size of the server's own"),
    (["--scheduler", "local", "--workers", "0"], "error: --workers 0: a local Dask cluster needs at least 1"),
    (["--timeout", "3"], "error: --timeout 3: applies to --scheduler only"),
    (["--scheduler", "tcp://127.0.0.1:1", "--timeout", "0"],
     "error: --timeout 0: must be a number in (0, 3600] (seconds)"),
    (["--scheduler", "tcp://127.0.0.1:x"], "error: --scheduler 'tcp://127.0.0.1:x': not a Dask address"),
])
def test_bad_scheduler_options_one_line_exit_2(args, match):
    r = subprocess.run([sys.executable, "-m", "visualizer", "serve", *args], cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and match in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.fixture
def dask_cluster():
    """A real cluster from the command line: `dask scheduler` and one `dask worker` (one thread)."""
    port = free_port()
    addr = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([f"{BIN}/dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    procs.append(subprocess.Popen([f"{BIN}/dask", "worker", addr, "--nthreads", "1", "--no-dashboard"], cwd=ROOT,
                                  env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True))
    try:
        yield addr, procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


def test_serve_computes_on_a_running_scheduler_survives_losing_it_and_stops_cleanly(dask_cluster):
    from benchmarks.bench_load import Page, dependencies
    addr, (scheduler, worker) = dask_cluster
    port = free_port()
    proc = serve("--scheduler", addr, "--timeout", "30", "--port", str(port))
    try:
        assert wait_http(port, proc) == 200
        base = f"http://127.0.0.1:{port}"
        page = Page(base, dependencies(base))
        secs, ok, msg = page.experiment(1234)                       # main callback, progress polls, render
        assert ok, msg
        os.killpg(scheduler.pid, signal.SIGKILL)                    # the scheduler goes away while serving
        scheduler.wait(timeout=10)
        secs, ok, msg = page.experiment(1235)
        assert not ok and "EngineError: the Dask scheduler " + addr + " is not answering" in msg, msg
        assert secs < 30
        assert wait_http(port, proc) == 200                          # still serving
    finally:
        code, out = stop(proc)
    assert code == 0 and "stopped" in out and "Traceback" not in out, out
    assert f"computations on the Dask scheduler {addr}" in out


def test_serve_with_its_own_local_cluster_closes_it_on_sigterm():
    port = free_port()
    proc = serve("--scheduler", "local", "--workers", "1", "--port", str(port))
    seen = set()
    try:
        assert wait_http(port, proc) == 200
        seen |= children(proc.pid)
    finally:
        code, out = stop(proc)
    assert code == 0 and "Traceback" not in out, out
    assert "computations on a local Dask cluster (1 worker)" in out and "stopped" in out
    assert len(seen) >= 2                                             # the nanny and its worker (at least)
    _until(lambda: not _alive(seen), timeout=10)


def test_the_app_over_a_dask_runner_computes_through_the_cache_and_jobs(runner):
    from visualizer.app.factory import create_app
    app = create_app(runner=runner, warm=False)
    cache, jobs = app.services.cache, app.services.jobs
    assert cache.max_running is None                                  # the cluster queues, not the cache
    with jobs.request("s1") as req:
        key, r, hit = jobs.compute(core.ExperimentSpec.from_dict(dict(small_spec_dict(), seed=7)), "s1")
        req["status"] = "done"
    assert not hit and cache.get(key) is r
    assert jobs.compute(r.spec, "s2")[2] is True                       # a second page: from the cache
