"""Sweeps (core.sweeps.run, core.experiment.sweep_section, core.parallel.engine), curvature maps
(core.landscape.curvature_grid), `python -m core sweep` and the sweep's PNG export. One LocalCluster of 2 workers is
shared by the module (closed at the end)."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import core
from core.errors import SchedulerUnreachable
from core.parallel.engine import Engine
from core.sweeps.run import METRICS, load_sweep, run_one
from core.experiment.sweep_section import MAX_RUNS
from tests.helpers import children, foreground, free_port
from tests.helpers import LRS, small_sweep_dict as small_dict

from tests.helpers import ROOT


def assert_same(a, b):
    assert a.labels == b.labels
    for k in a.blocks:
        ba, bb = a.blocks[k], b.blocks[k]
        assert np.array_equal(ba.done, bb.done), k
        for m in METRICS:
            assert ba.metrics[m].dtype == bb.metrics[m].dtype
            assert np.array_equal(ba.metrics[m], bb.metrics[m], equal_nan=True), (k, m)


@pytest.fixture(scope="module")
def reference():
    return core.sweep(small_dict(), scheduler="inline")


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster (2 worker processes of one thread) for the module; yields the Engine holding it."""
    with Engine(workers=2) as eng:
        yield eng


# ------------------------------------------------------------------ the spec
def test_preset_and_round_trip():
    s = core.ExperimentSpec.preset("lr_sweep")
    assert s.sweep.n_runs() == 3 * (40 + 40 * 10) and s.sweep.labels() == ["SGD", "momentum"]
    d = s.to_dict()
    assert core.ExperimentSpec.from_dict(json.loads(json.dumps(d))).to_dict() == d
    assert "sweep" not in core.ExperimentSpec.preset("four_optimizers").to_dict()   # other specs unchanged
    v = s.sweep.optimizers[1].values()
    assert list(v) == ["lr", "momentum"] and v["lr"][0] == 0.001 and v["lr"][-1] == 20 and len(v["lr"]) == 40
    assert np.allclose(v["momentum"], np.linspace(0, 0.99, 10))
    r = subprocess.run([sys.executable, "-c", "import core, sys; core.sweep; print('dask' in sys.modules)"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "False"                 # core imports Dask only when a cluster is used


def _with(**changes):
    d = small_dict()
    for path, value in changes.items():
        obj = d
        keys = path.split("__")
        for k in keys[:-1]:
            obj = obj[int(k)] if isinstance(obj, list) else obj[k]
        last = keys[-1]
        if isinstance(obj, list):
            obj[int(last)] = value
        else:
            obj[last] = value
    return d


BAD = [
    (dict(sweep__optimizers__0__axes={"momentum": [0.5]}),
     "sweep.optimizers[0].axes.momentum: not a numeric hyper-parameter of 'sgd'; allowed axes are"),
    (dict(sweep__optimizers__0__axes={"lr": []}), "sweep.optimizers[0].axes.lr=[]: must be a list of increasing"),
    (dict(sweep__optimizers__0__axes={}), "sweep.optimizers[0].axes={}: must be an object of 1 to 4 axes"),
    (dict(sweep__optimizers__0__axes={"lr": [0.1, float("nan")]}), "sweep.optimizers[0].axes.lr[1]=nan: must be"),
    (dict(sweep__optimizers__0__axes={"lr": [0.1, float("inf")]}), "sweep.optimizers[0].axes.lr[1]=inf: must be"),
    (dict(sweep__optimizers__0__axes={"lr": {"log": [0.1, float("inf"), 5]}}), "hi must be a finite number"),
    (dict(sweep__optimizers__0__axes={"lr": [0.1, 0.01]}), "values must increase"),
    (dict(sweep__optimizers__1__axes={"lr": LRS, "momentum": {"log": [0, 0.9, 5]}}), "a log range needs lo > 0"),
    (dict(sweep__optimizers__0__axes={"lr": {"log": [0, 1, 5]}}),
     "axes.lr.log[0] (lo)=0: must be a number in (0, 100]"),
    (dict(sweep__optimizers__0__axes={"lr": {"log": [0.1, 1, 0]}}), "sweep.optimizers[0].axes.lr.log[2] (n)=0"),
    (dict(sweep__optimizers__0__axes={"lr": {"cubic": [0.1, 1, 3]}}), "a range is one of"),
    (dict(sweep__optimizers__0__axes={"lr": {"linear": [0.1, 200, 3]}}),
     "sweep.optimizers[0].axes.lr.linear[1] (hi)=200: must be a number in (0, 100]"),
    (dict(sweep__optimizers__1__axes={"lr": LRS, "momentum": [0.5, 1.0]}),
     "axes.momentum[1]=1.0: must be a number in [0, 1)"),
    (dict(sweep__optimizers__0__axes={"lr": LRS, "batch_size": [32.5]}), "axes.batch_size[0]=32.5: must be an integer"),
    (dict(sweep__optimizers__0__lr=0.5), "sweep.optimizers[0].axes.lr: also given as a fixed value"),
    (dict(sweep__optimizers__1__label="SGD"), "sweep.optimizers[1].label='SGD': labels must be unique"),
    (dict(sweep__seeds=[]), "sweep.seeds=[]: must be a list of 1 to 100 seeds"),
    (dict(sweep__seeds=[1, 1]), "sweep.seeds=[1, 1]: seeds must be distinct"),
    (dict(sweep__seeds=[-1]), "sweep.seeds[0]=-1: must be an integer"),
    (dict(sweep__optimizers=[]), "sweep.optimizers: 0 given"),
    (dict(sweep__optimizers__0__name="lion"), "sweep.optimizers[0].name='lion': allowed are"),
    (dict(sweep__colour="red"), "sweep.colour: unknown key"),
    (dict(sweep__optimizers__1__axes={"lr": {"log": [0.001, 10, 1000]}, "momentum": {"linear": [0, 0.9, 11]}}),
     f"sweep: 22,012 runs (SGD: 6, momentum: 1000x11 cells, x 2 seeds); at most {MAX_RUNS:,} are allowed"),
]


@pytest.mark.parametrize("changes,match", BAD)
def test_bad_sweep_specs_are_named_errors(changes, match):
    with pytest.raises(ValueError) as e:
        core.ExperimentSpec.from_dict(_with(**changes))
    assert match in str(e.value)


def test_work_budget_and_missing_section():
    d = small_dict()
    d["training"]["steps"] = 200_000
    d["training"]["record_every"] = 1000
    d["sweep"]["optimizers"][1]["axes"]["lr"] = {"log": [0.001, 10, 400]}
    with pytest.raises(ValueError, match=r"sweep: 1,612 runs x 200,000 steps x rows a step x 166 weights = .* over "
                                         r"the cap of 1e\+13"):
        core.sweep(d, scheduler="inline")
    with pytest.raises(ValueError, match="sweep: missing; a sweep spec needs a \"sweep\" section"):
        core.sweep(core.ExperimentSpec.preset("four_optimizers"), scheduler="inline")
    for kw, match in [(dict(scheduler=3), "scheduler=3: must be None"), (dict(workers=0), "workers=0: must be"),
                      (dict(scheduler="inline", workers=2), "workers=2: sets the size of the local cluster only"),
                      (dict(scheduler="inline", chunk_size=0), "chunk_size=0"),
                      (dict(scheduler="tcp://a b"), "an address has no spaces")]:
        with pytest.raises(ValueError, match=match):
            core.sweep(small_dict(), **kw)


# ------------------------------------------------------------------ the runs
def test_runs_equal_individual_train_runs(reference):
    """Each cell and seed is core.train from net.init(seed) with the cell's hyper-parameters, nothing else."""
    spec = reference.spec
    ds = core.load_dataset("wisconsin", seed=spec.seed)
    net = core.MLP([9, 15, 1])
    target = spec.training.target_loss
    checked = 0
    for label, name, cells in [("SGD", "sgd", [(0,), (3,), (5,)]), ("momentum", "momentum", [(1, 1), (4, 1), (5, 0)])]:
        b = reference.blocks[label]
        for cell in cells:
            hp = b.cell(cell)
            for s, seed in enumerate(spec.sweep.seeds):
                tr = core.train(net, net.init(seed), ds, core.model.optimizers.make(name, **hp),
                                steps=spec.training.steps, record_every=spec.training.steps, seed=seed)
                idx = (s,) + cell
                assert b.final_loss[idx] == tr.loss[-1] and b.test_acc[idx] == tr.test_acc[-1]
                assert b.train_acc[idx] == tr.train_acc[-1]
                assert b.steps_to_target[idx] == (tr.steps_to(target) if tr.steps_to(target) is not None else -1)
                assert b.diverged_at[idx] == (tr.diverged_at if tr.diverged_at is not None else -1)
                assert b.threshold[idx] == core.stability_threshold(name, hp, hp["lr"])
                top0 = core.hessian_eigs(net, net.init(seed), ds.X_train, ds.y_train, k=1)[0][0]
                top = core.hessian_eigs(net, tr.params[-1], ds.X_train, ds.y_train, k=1)[0][0]
                assert b.sharpness0[idx] == pytest.approx(top0, rel=1e-9)
                assert b.sharpness[idx] == pytest.approx(top, rel=1e-9, abs=1e-12)
                checked += 1
    assert checked == 12 and reference.complete
    assert (reference.blocks["momentum"].diverged_at >= 0).any()     # the grid reaches instability
    assert np.all(reference.blocks["SGD"].sharpness0 == reference.blocks["momentum"].sharpness0[..., 0])


def test_preconditioned_sharpness_and_batch_axis():
    d = small_dict(steps=30, seeds=(3,))
    d["sweep"]["optimizers"] = [{"name": "adam", "axes": {"lr": [0.01, 0.1]}},
                                {"name": "sgd", "lr": 0.5, "axes": {"batch_size": {"log": [50, 400, 2]}}}]
    r = core.sweep(d, scheduler="inline")
    a = r.blocks["adam"]
    assert np.all(np.isfinite(a.sharpness0)) and np.all(np.isfinite(a.sharpness))
    ds = core.load_dataset("wisconsin", seed=0)
    net = core.MLP([9, 15, 1])
    tr = core.train(net, net.init(3), ds, core.model.optimizers.make("adam", lr=0.1), steps=30, record_every=30, seed=3)
    cv = core.frames_curvature(net, ds.X_train, ds.y_train, tr.params, tr.lr, "adam", hparams=tr.hparams,
                               precond=tr.precond)
    assert a.sharpness0[0, 1] == pytest.approx(cv.sharpness[0], rel=1e-9)       # of P^-1/2 H P^-1/2
    assert a.sharpness[0, 1] == pytest.approx(cv.sharpness[-1], rel=1e-9)
    b = r.blocks["sgd"]
    assert b.axes["batch_size"].tolist() == [50, 400]
    tr = core.train(net, net.init(3), ds, core.model.optimizers.make("sgd", lr=0.5), steps=30, batch_size=50,
                    record_every=30, seed=3)
    assert b.final_loss[0, 0] == tr.loss[-1]


def test_progress_sees_live_partial_results():
    seen = []

    def progress(result, done, total):
        blk = result.blocks["momentum"]
        seen.append((done, total, int(blk.done.sum()) + int(result.blocks["SGD"].done.sum()), result.complete))
    r = core.sweep(small_dict(), scheduler="inline", progress=progress, chunk_size=5)
    assert seen[0][0] == 0 and seen[-1][:2] == (36, 36) and seen[-1][3]
    assert [s[0] for s in seen] == sorted(s[0] for s in seen) and all(s[0] == s[2] for s in seen)
    assert len(seen) == 1 + -(-36 // 5) and r.info["chunk_size"] == 5


def test_same_bits_inline_one_and_two_workers_any_chunk(reference, cluster):
    addr = cluster.client.scheduler.address
    assert_same(reference, core.sweep(small_dict(), workers=1))                          # its own LocalCluster
    assert_same(reference, core.sweep(small_dict(), scheduler=cluster.client, chunk_size=1))
    r = core.sweep(small_dict(), scheduler=addr, chunk_size=7)
    assert_same(reference, r)
    assert r.info["engine"] == addr and r.info["workers"] == 2 and r.info["chunk_size"] == 7
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ                                   # the nanny's env is undone


def test_killed_worker_does_not_lose_the_sweep(reference, cluster):
    client = cluster.client
    pids = client.run(os.getpid)
    killed = []

    def progress(result, done, total):
        if done and not killed:                    # a worker dies with tasks in flight
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
    r = core.sweep(small_dict(), scheduler=client, progress=progress, chunk_size=2)
    assert killed and r.complete
    assert_same(reference, r)
    client.wait_for_workers(2, timeout=30)         # the nanny restarted it, for the next tests


def test_unreachable_scheduler_is_a_named_error_within_the_timeout(monkeypatch):
    addr = f"tcp://127.0.0.1:{free_port()}"
    t = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match=r"no Dask scheduler answered within 1\.5 s"):
        core.sweep(small_dict(), scheduler=addr, timeout=1.5)
    assert time.monotonic() - t < 8
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", addr)      # scheduler=None uses the environment's
    with pytest.raises(SchedulerUnreachable, match=addr.replace(".", r"\.")):
        core.sweep(small_dict(), timeout=1)
    with pytest.raises(ValueError, match="workers=2: sets the size of the local cluster only"):
        core.sweep(small_dict(), workers=2)


def test_scheduler_without_workers_is_a_named_error():
    from distributed import LocalCluster
    with LocalCluster(n_workers=0, dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as c:
        with pytest.raises(SchedulerUnreachable, match=r"answered but has no workers after 1 s"):
            core.sweep(small_dict(), scheduler=c.scheduler_address, timeout=1)


def test_interrupted_sweep_keeps_a_checkpoint_and_resumes(reference, tmp_path):
    ck = tmp_path / "partial.npz"

    class Stop(Exception):
        pass

    def stop_after_two(result, done, total):
        if done >= 10:
            raise Stop
    with pytest.raises(Stop):
        core.sweep(small_dict(), scheduler="inline", chunk_size=5, progress=stop_after_two, checkpoint=ck,
                   checkpoint_every=3600)
    assert os.listdir(tmp_path) == ["partial.npz"]               # saved on the way out, no .part left
    part = load_sweep(ck)
    assert not part.complete and part.n_done == 10 and part.n_runs == 36
    starts = []
    r = core.sweep(small_dict(), scheduler="inline", resume=str(ck), checkpoint=ck,
                   progress=lambda res, done, total: starts.append(done))
    assert starts[0] == 10 and r.complete                        # only the 26 missing runs were computed
    assert_same(reference, r)
    assert_same(reference, load_sweep(ck))
    other = small_dict(steps=61)
    with pytest.raises(ValueError, match="resume: the partial sweep was made from another spec"):
        core.sweep(other, scheduler="inline", resume=part)


def test_save_load_round_trip_and_refusals(reference, tmp_path, small_result):
    f = tmp_path / "s.npz"
    old = os.umask(0o027)
    try:
        reference.save(f)
    finally:
        os.umask(old)
    assert (f.stat().st_mode & 0o777) == 0o640                    # as open(path, "w") would give
    back = load_sweep(f)
    assert_same(reference, back)
    assert back.spec.to_dict() == reference.spec.to_dict() and back.layer_sizes == [9, 15, 1]
    assert back.summary() == reference.summary()
    run = tmp_path / "run.npz"
    small_result.save(run)
    with pytest.raises(ValueError, match="not a valid sweep .*format 'loss-landscape-navigator/result'"):
        load_sweep(run)
    a = reference.to_arrays()
    a["b1_final_loss"] = a["b1_final_loss"][:1]
    np.savez(tmp_path / "bad.npz", **a)
    with pytest.raises(ValueError, match=r"momentum final_loss: expected float64 of shape \(2, 6, 2\)"):
        load_sweep(tmp_path / "bad.npz")
    np.savez(tmp_path / "pickle.npz", meta=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds Python objects"):
        load_sweep(tmp_path / "pickle.npz")
    assert core.sweeps.result.is_sweep_file(f) and not core.sweeps.result.is_sweep_file(run)


def test_summary_reads_the_map(reference):
    rows = {r["label"]: r for r in reference.summary()}
    m = rows["momentum"]
    assert m["axis"] == "lr" and set(m["at"]) == {"momentum"} and m["runs"] == 24 and m["done"] == 24
    lo, hi = m["converges"]
    assert lo <= m["best"] <= hi
    b = reference.blocks["momentum"]
    j = list(b.axes["momentum"]).index(m["at"]["momentum"])
    s0 = b.sharpness0[:, 0, 0].max()
    assert m["edge0"] == pytest.approx((2 + 2 * m["at"]["momentum"]) / s0)
    assert rows["SGD"]["edge0"] == pytest.approx(2 / s0)
    assert rows["SGD"]["lambda0"] == pytest.approx(list(b.sharpness0[:, 0, 0]))
    if m["diverges_from"] is not None:
        assert np.any(b.diverged_at[:, list(b.axes["lr"]).index(m["diverges_from"]), j] >= 0)
    if m["fails_from"] is not None:
        assert m["fails_ratio"] == pytest.approx(m["fails_from"] / m["edge0"])
        assert np.any(b.failed[:, list(b.axes["lr"]).index(m["fails_from"]), j])
    table = core.sweeps.summary.format_summary(reference.summary())
    assert table.splitlines()[0].split()[:4] == ["optimizer", "axis", "at", "best"]


# ------------------------------------------------------------------ curvature maps
def test_curvature_map_exact_and_same_on_any_engine(cluster):
    ds = core.load_dataset("wisconsin", seed=0)
    net = core.MLP([9, 15, 1])
    p0 = net.init(0)
    plane = core.make_plane("random", net, center=p0, seed=0)
    al, be = np.linspace(-1, 1, 7), np.linspace(-0.5, 0.5, 5)
    cm = core.curvature_map(net, ds.X_train, ds.y_train, plane, al, be)
    assert cm.top.shape == (5, 7) and np.all(cm.top >= cm.bottom)
    for j, i in [(0, 0), (2, 3), (4, 6)]:
        H = core.hessian(net, plane.center + al[i] * plane.d1 + be[j] * plane.d2, ds.X_train, ds.y_train)
        w = np.linalg.eigvalsh(H)
        assert cm.top[j, i] == pytest.approx(w[-1], rel=1e-9) and cm.bottom[j, i] == pytest.approx(w[0], abs=1e-9)
    assert np.allclose(cm.ratio, np.abs(cm.bottom / cm.top))
    for kw in (dict(scheduler=cluster.client, tile=4), dict(scheduler="inline", tile=1)):
        other = core.curvature_map(net, ds.X_train, ds.y_train, plane, al, be, **kw)
        assert np.array_equal(other.top, cm.top) and np.array_equal(other.bottom, cm.bottom)


# ------------------------------------------------------------------ command line
def cli(*args, timeout=120, env=None):
    return subprocess.run([sys.executable, "-m", "core", "sweep", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def spec_file(tmp_path, **kw):
    f = tmp_path / "sweep.json"
    f.write_text(json.dumps(small_dict(**kw)))
    return str(f)


def _all_gone(pids, wait=10):
    import psutil
    t = time.monotonic()
    while time.monotonic() - t < wait:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_cli_inline_table_json_and_png_export(tmp_path, reference):
    out = tmp_path / "s.npz"
    r = cli(spec_file(tmp_path), "--scheduler", "inline", "--out", str(out), "--json")
    # our CLI says nothing on stderr; Dask itself may log a heartbeat warning when the machine is overloaded
    assert r.returncode == 0 and not [x for x in r.stderr.splitlines() if x.startswith("error")], r.stderr
    for words in ("36 runs (SGD 6, momentum 6 x 2 cells x 2 seeds)", "inline", "converges in", "diverges from",
                  "fails from", "non-monotone from", "initial stability edge", f"saved {out}"):
        assert words in r.stdout
    assert "predicted" not in r.stdout
    rows = json.loads([line for line in r.stdout.splitlines() if line.startswith("[")][0])
    assert rows == json.loads(json.dumps(reference.summary()))
    assert_same(reference, load_sweep(out))
    png = tmp_path / "s.png"
    e = subprocess.run([sys.executable, "-m", "visualizer", "export", str(out), "--format", "png", "--out", str(png),
                        "--size", "800x400"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert e.returncode == 0 and e.stderr == "" and png.stat().st_size > 10_000 and f"wrote {png}" in e.stdout
    from PIL import Image
    assert Image.open(png).size == (800, 400)
    e = subprocess.run([sys.executable, "-m", "visualizer", "export", str(out), "--format", "gif", "--out",
                        str(tmp_path / "s.gif")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert e.returncode == 2 and e.stderr.strip() == "error: --format gif: a sweep file exports as png only"


def test_cli_local_cluster_in_a_pipe_exits_clean(tmp_path):
    """A LocalCluster of 2 workers from the command line: no log noise, no traceback, no process left."""
    p = subprocess.Popen([sys.executable, "-m", "core", "sweep", spec_file(tmp_path), "--workers", "2"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = set()
    while p.poll() is None:
        seen |= children(p.pid)
        time.sleep(0.05)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0 and err == "", err
    assert "local cluster (2 workers)" in out and "momentum" in out
    assert len(seen) >= 2 and _all_gone(seen)


@pytest.mark.parametrize("args,match", [
    (["--scheduler", "tcp://127.0.0.1:{port}", "--timeout", "1"], "error: scheduler='tcp://127.0.0.1:{port}': no "
                                                                  "Dask scheduler answered within 1 s"),
    (["--scheduler", "inline", "--workers", "2"], "error: --workers 2: sets the size of the local cluster only"),
    (["--workers", "two"], "error: --workers two: must be an integer"),
    (["--scheduler", "inline", "--out", "x.txt"], "must end in .npz"),
    (["--scheduler", "inline", "--resume", "missing.npz"], "error: sweep file 'missing.npz': no such file"),
    (["--scheduler", "inline", "--chunk-size", "0"], "error: chunk_size=0: must be an integer"),
])
def test_cli_errors_one_line_exit_2(tmp_path, args, match):
    port = free_port()
    r = cli(spec_file(tmp_path), *[a.format(port=port) for a in args])
    assert r.returncode == 2, r.stderr
    assert match.format(port=port) in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cli_spec_errors(tmp_path):
    r = cli("four_optimizers", "--scheduler", "inline")
    assert r.returncode == 2 and "has no \"sweep\" section" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_with(sweep__optimizers__0__axes={"beta1": [0.9]})))
    r = cli(str(bad), "--scheduler", "inline")
    assert r.returncode == 2 and "sweep.optimizers[0].axes.beta1: not a numeric hyper-parameter of 'sgd'" in r.stderr
    r = cli("--scheduler", "inline")
    assert r.returncode == 2 and "error: SPEC: give a preset name" in r.stderr


def test_cli_ctrl_c_keeps_done_runs_and_resume_finishes(tmp_path, cluster):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "s.npz"
    spec = spec_file(tmp_path, steps=100, lrs={"log": [0.01, 20, 40]}, momenta=(0.0, 0.5, 0.9), sharpness=False)
    p = subprocess.Popen(foreground([sys.executable, "-m", "core", "sweep", spec, "--workers", "2", "--out",
                                     str(out), "--chunk-size", "4"]), cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    seen, t = set(), time.monotonic()
    while not out.exists() and p.poll() is None and time.monotonic() - t < 60:
        seen |= children(p.pid)
        time.sleep(0.02)
    assert out.exists(), p.communicate()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Traceback" not in err and err.startswith("interrupted; ") and "--resume" in err
    assert os.listdir(out_dir) == ["s.npz"] and _all_gone(seen)
    part = load_sweep(out)
    assert 0 < part.n_done < part.n_runs == 2 * (40 + 120)
    r = cli("--resume", str(out), "--scheduler", cluster.client.scheduler.address)
    # our CLI says nothing on stderr; Dask itself may log a heartbeat warning when the machine is overloaded
    assert r.returncode == 0 and not [x for x in r.stderr.splitlines() if x.startswith("error")], r.stderr
    assert f"({part.n_runs - part.n_done:,} runs computed" in r.stdout
    done = load_sweep(out)
    assert done.complete
    # spot-check resumed and earlier runs against the same runs computed here
    from core.sweeps.run import _Shared
    ds = core.load_dataset("wisconsin", seed=0)
    net = core.MLP([9, 15, 1])
    b = done.blocks["momentum"]
    sh = _Shared(net.layer_sizes, ds, np.stack([net.init(s) for s in (0, 1)]), [0, 1], 100, None, 0.1,
                 [(x.optimizer, dict(x.hparams), list(x.axes.items())) for x in done.blocks.values()], None, False)
    for c in (0, 59, 119):
        idx = (1,) + np.unravel_index(c, b.shape)
        with np.errstate(all="ignore"):
            assert run_one(sh, 1, c, 1)[0] == b.final_loss[idx]


def test_task_errors_come_back_as_themselves(cluster):
    from core.sweeps.run import _Shared, run_chunk
    sh = _Shared([9, 15, 1], None, None, [0], 1, None, 0.1, [], None, False)
    for eng in (cluster, Engine("inline")):
        with pytest.raises(IndexError):
            list(eng.run(run_chunk, [[(9, 0, 0)]], sh))


def test_map_data_and_a_partial_map(reference):
    from visualizer.export.sweep_png import map_data, sweep_figure
    d = map_data(reference, "momentum")
    b = reference.blocks["momentum"]
    assert d["xname"] == "lr" and d["yname"] == "momentum" and d["xlog"] and not d["ylog"] and d["fixed"] == {}
    assert d["z"].shape == (2, 6) and np.array_equal(d["z"], np.median(b.final_loss, axis=0).T)
    assert np.array_equal(d["diverged"], (b.diverged_at >= 0).any(axis=0).T)
    assert np.array_equal(d["failed"], b.failed.any(axis=0).T) and d["failed"][d["diverged"]].all()
    s0 = b.sharpness0.max()
    assert d["edge0"] == pytest.approx([2 / s0, (2 + 2 * 0.9) / s0])
    one = map_data(reference, "SGD")
    assert one["y"] is None and one["z"].shape == (1, 6) and one["edge0"][0] == pytest.approx(2 / s0)
    part = reference.copy()
    part.blocks["momentum"].done[:, 3:, :] = False
    p = map_data(part, "momentum")
    assert np.isnan(p["z"][:, 3:]).all() and np.isfinite(p["z"][:, :3]).all()
    fig = sweep_figure(part, size=(600, 300))
    assert "partial: 12 of 24 runs" in fig.axes[1].get_title()
