"""The app's Sweep tab and the landscape's curvature colour: the figure functions inspected directly
(visualizer.figures.sweep, visualizer.plotdata.sweep_map, visualizer.plotdata.surface_colour) and the plain callback
functions
called directly (visualizer.app.sweep_callbacks, visualizer.app.render_callbacks.render), sweeps inline (one test
starts a
1-worker LocalCluster)."""
import base64
import dataclasses
import io
import json
import logging
import time

import numpy as np
import pytest
from dash import no_update

import core
from tests.helpers import _until, trace, traces
from tests.helpers import small_sweep_dict as small_dict
from visualizer.app import spec_callbacks as cb
from visualizer.app import download_callbacks as dcb
from visualizer import figures
from visualizer.app import render_callbacks as rcb
from visualizer.errors import ColourUnavailable
from visualizer.plotdata import surface_colour as SCOL
from visualizer.app import sweep_callbacks as SC
from visualizer.plotdata import sweep_map as D
from visualizer.serving.cache import ResultCache
from visualizer.app.curvature_callbacks import SliceCache
from visualizer.serving.sweep_service import SweepService
from visualizer.figures.sweep import sweep_heatmap, trace_cells


@pytest.fixture(scope="module")
def swept():
    """A small complete sweep (SGD: 6 lrs; momentum: 6 lrs x 2 momenta; 3 seeds; 60 steps), inline."""
    return core.sweep(small_dict(seeds=(0, 1, 2)), scheduler="inline")


@pytest.fixture
def cache():
    return ResultCache(maxsize=4)


@pytest.fixture
def service(cache):
    s = SweepService(scheduler="inline", files=cache.uploads.files, heartbeat=None)
    yield s
    s.close()


def _upload(raw, mime="application/octet-stream"):
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def _up(d, name="s.json"):
    return {"spec": d, "name": name}


def _wait(service, session, timeout=30):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        job = service.poll(session)
        if job is not None and not job.running and (job.thread is None or not job.thread.is_alive()):
            return job
        time.sleep(0.02)
    raise AssertionError(f"sweep of {session} still running after {timeout} s")


# ----------------------------------------------------------------- the figure (pure)
def test_heatmap_colour_is_the_median_over_seeds_with_spread_in_the_hover(swept):
    fig = sweep_heatmap(swept)
    labels = trace_cells(swept)
    assert labels == ["SGD", "momentum"] * 3 + [None, None]      # heat maps, failed marks, rings, edges
    heat = {t.name: t for t in fig.data if t.type == "heatmap"}
    b = swept.blocks["momentum"]                                           # (3 seeds, 6 lr, 2 momentum)
    med = np.median(b.final_loss, axis=0).T                               # (momentum, lr)
    assert np.allclose(heat["momentum"].z, np.log10(med), rtol=0, atol=1e-12)
    sgd = swept.blocks["SGD"]
    assert np.allclose(heat["SGD"].z, np.log10(np.median(sgd.final_loss, axis=0))[None], rtol=0, atol=1e-12)
    # the cell (lr index 2, momentum index 1): median, min, max over the seeds and how many diverged
    v = b.final_loss[:, 2, 1]
    text = heat["momentum"].text[1][2]
    assert f"median {np.median(v):.4g} over 3 seeds (min {v.min():.4g}, max {v.max():.4g})" in text
    assert f"diverged: {int((b.diverged_at[:, 2, 1] >= 0).sum())} of 3" in text and "momentum 0.9" in text
    # customdata: each cell's flat index in the optimizer's grid (the click handler's key)
    assert np.array_equal(np.asarray(heat["momentum"].customdata), np.arange(12).reshape(6, 2).T)
    # log axes and a log colour bar whose ticks name losses
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log" and fig.layout.yaxis2.type == "linear"
    cbar = fig.layout.coloraxis.colorbar
    assert "median of 3 seeds" in cbar.title.text and all(float(t) > 0 for t in cbar.ticktext)
    assert "complete" in fig.layout.title.text


def test_failed_cells_are_marked(swept):
    fig = sweep_heatmap(swept)
    marks = [t for t in fig.data if t.type == "scatter" and t.name == "some seed failed"]
    assert len(marks) == 2
    b = swept.blocks["momentum"]
    div = b.failed.any(axis=0)                                              # (lr, momentum)
    assert div.any() and div[(b.diverged_at >= 0).any(axis=0)].all()       # the small sweep has some
    ii, jj = np.nonzero(div)
    got = sorted(zip(np.round(marks[1].x, 12), np.round(marks[1].y, 12)))
    want = sorted(zip(np.round(b.axes["lr"][ii], 12), np.round(b.axes["momentum"][jj], 12)))
    assert got == want and marks[1].marker.symbol == "x-thin"
    assert sorted(marks[1].customdata) == sorted(int(i * 2 + j) for i, j in zip(ii, jj))


def test_rings_mark_the_cells_at_the_edge_of_stability():
    # the claim, on the lr_sweep preset's SGD row (two seeds, 12 of its learning rates, its 500 steps): no seed
    # of a ringed cell failed and its median final sharpness is >= 0.9 x the threshold; every other cell fails
    # one of the two (checked from the block's own arrays); the summary's "edge of stability" is their span
    d = core.ExperimentSpec.preset("lr_sweep").to_dict()
    d["sweep"].update(seeds=[0, 1], optimizers=[dict(d["sweep"]["optimizers"][0], axes={"lr": {"log": [0.3, 20, 12]}})])
    r = core.sweep(d, scheduler="inline")
    fig = sweep_heatmap(r)
    rings = [t for t in fig.data if t.name and t.name.startswith("at the edge of stability")]
    assert len(rings) == 1 and rings[0].marker.symbol == "circle-open" and rings[0].showlegend
    b = r.blocks["SGD"]                                                     # (seeds, lr)
    ratio = np.median(b.sharpness / b.threshold, axis=0)
    want = ~b.failed.any(axis=0) & (ratio >= 0.9)
    lr = b.axes["lr"]
    # between the initial stability edge and failure: some cells, all below the first failed lr
    assert 3 <= want.sum() < len(lr) and lr[want].max() < lr[b.failed.any(axis=0)].min()
    assert np.allclose(np.sort(rings[0].x), lr[want]) and sorted(rings[0].customdata) == list(np.flatnonzero(want))
    row = r.summary()[0]
    assert row["eos"] == (lr[want].min(), lr[want].max())
    assert row["edge0"] < row["eos"][1]             # the initial edge (2/λ₀) lies inside or below the region


def test_dashed_curve_is_the_initial_stability_edge(swept):
    fig = sweep_heatmap(swept)
    lines = [t for t in fig.data if t.name == "initial stability edge (from λ₀)"]
    s0 = swept.blocks["momentum"].sharpness0.max()
    assert s0 == swept.blocks["SGD"].sharpness0.max()
    sgd, mom = lines
    assert np.allclose(sgd.x, [2 / s0, 2 / s0]) and sgd.line.dash == "dash"
    assert np.allclose(mom.x, [(2 + 2 * m) / s0 for m in (0.0, 0.9)]) and np.allclose(mom.y, [0.0, 0.9])
    assert "(2 + 2μ) / λ₀" in mom.text[1]


def test_a_partial_sweep_leaves_blanks_and_says_so(swept):
    part = swept.copy()
    b = part.blocks["momentum"]
    b.done[:, 3:, :] = False
    b.done[0, 1, 0] = False                                                 # one seed missing: still blank
    fig = sweep_heatmap(part)
    z = np.asarray([t for t in fig.data if t.name == "momentum" and t.type == "heatmap"][0].z)
    assert np.isnan(z[:, 3:]).all() and np.isnan(z[0, 1]) and np.isfinite(z[:, 0]).all() and np.isfinite(z[1, 1])
    text = [t for t in fig.data if t.name == "momentum" and t.type == "heatmap"][0].text
    assert text[0][4].endswith("not computed yet") and "2 of 3 seeds done so far" in text[0][1]
    assert f"partial: {part.n_done:,} of {part.n_runs:,} runs" in fig.layout.title.text
    empty = core.SweepResult.empty(part.spec, part.layer_sizes)
    e = sweep_heatmap(empty)                                                # nothing done yet: all blank
    assert all(np.isnan(np.asarray(t.z, float)).all() for t in e.data if t.type == "heatmap")


def test_the_png_draws_the_same_numbers(swept):
    from visualizer.export import sweep_png as sweep_figures
    d = D.map_data(swept, "momentum")
    assert np.array_equal(d["z"], d["median"])
    fig = sweep_figures.sweep_figure(swept, size=(600, 300))
    assert "median of 3 seeds" in fig.axes[-1].get_ylabel() or any(
        "median of 3 seeds" in a.get_ylabel() for a in fig.axes)


def test_cell_spec_opens_the_median_run_exactly(swept):
    b = swept.blocks["momentum"]
    flat = 2 * 2 + 1                                                        # lr index 2, momentum index 1
    d, note = D.cell_spec(swept, "momentum", flat)
    v = b.final_loss[:, 2, 1]
    k = int(np.argsort(v)[1])                                               # the median of 3 seeds
    assert d["seed"] == int(swept.seeds[k]) and "sweep" not in d and len(d["optimizers"]) == 1
    o = d["optimizers"][0]
    assert o["name"] == "momentum" and o["lr"] == b.axes["lr"][2] and o["momentum"] == 0.9
    assert f"seed {d['seed']} (the median run of 3 seeds)" in note and "drawn from the seed" not in note
    r = core.run_experiment(d)
    assert r.trajectories[o["label"]].loss[-1] == v[k]                      # bit-identical to the sweep's run
    with pytest.raises(ValueError, match="outside momentum's grid of 12 cells"):
        D.cell_spec(swept, "momentum", 12)
    moons = swept.copy()
    moons.spec = core.ExperimentSpec.from_dict({**swept.spec.to_dict(), "data": {"name": "moons"}})
    assert "trains on seed" in D.cell_spec(moons, "SGD", 0)[1]


# ----------------------------------------------------------------- callbacks: running, progress, cancelling
def test_run_fills_in_progressively_and_polls_stop_when_complete(service, cache):
    o = SC.sweep_run(SC.UPLOAD, {}, None, _up(small_dict()), "page1", service, cache)
    assert o["alert"] == "" and o["disabled"] is False and o["figure"] is not no_update
    versions, done = [], []
    shown = o["shown"]
    while True:
        p = SC.sweep_poll("page1", shown, service)
        if p["shown"] is not no_update:
            shown = p["shown"]
            versions.append(shown)
            fig = p["figure"]
            done.append(sum(int(np.isfinite(np.asarray(t.z, float)).sum()) for t in fig.data if t.type == "heatmap"))
        if p["disabled"] is True:
            break
        time.sleep(0.01)
    assert p["status"].startswith("complete: 36 runs") and "web process (inline)" in p["status"]
    assert done[-1] == 6 + 12 and done == sorted(done), (done, versions)      # every cell, filled in order
    again = SC.sweep_poll("page1", shown, service)                          # nothing new: the map is not resent
    assert again["figure"] is no_update and again["disabled"] is True
    assert "optimizer  axis" in p["summary"]


def test_partial_results_are_shown_while_it_runs(service, cache):
    seen = []
    d = small_dict(steps=400)
    job = service.start("page2", core.ExperimentSpec.from_dict(d))
    while job.running:
        r = job.result
        if r is not None and 0 < r.n_done < r.n_runs:
            seen.append(r.n_done)
        time.sleep(0.005)
    _wait(service, "page2")
    assert seen and job.state == "complete" and job.result.complete


def test_a_newer_sweep_of_the_page_cancels_the_older(service, cache):
    slow = small_dict(steps=3000)
    first = service.start("page3", core.ExperimentSpec.from_dict(slow))
    while first.done == 0 and first.running:
        time.sleep(0.01)
    o = SC.sweep_run(SC.UPLOAD, {}, None, _up(small_dict()), "page3", service, cache)
    assert o["alert"] == ""
    first.thread.join(10)
    assert first.state == "stopped" and "a newer sweep" in first.why and first.done < first.total
    job = _wait(service, "page3")
    assert job is not first and job.state == "complete"


def test_stop_then_run_again_computes_only_the_missing_runs(service, cache):
    d = small_dict(steps=600)
    SC.sweep_run(SC.UPLOAD, {}, None, _up(d), "page4", service, cache)
    job = service.job("page4")
    while job.done < 4:
        time.sleep(0.01)
    assert SC.sweep_stop("page4", service)["status"] == "stopping ..."
    job.thread.join(10)
    assert job.state == "stopped" and "Stop button" in job.text()
    stopped = job.done
    SC.sweep_run(SC.UPLOAD, {}, None, _up(d), "page4", service, cache)
    again = _wait(service, "page4")
    assert again.state == "complete" and again.new_runs == again.total - stopped
    assert "the rest resumed" in again.text()


def test_a_page_that_stops_polling_loses_its_sweep(cache):
    clock = FakeClock()
    s = SweepService(scheduler="inline", heartbeat=15, files=cache.uploads.files, clock=clock)
    try:
        job = s.start("page5", core.ExperimentSpec.from_dict(small_dict(steps=3000)))
        _until(lambda: job.done > 0 or not job.running, timeout=30)
        clock.advance(10)
        assert s.poll("page5") is job and job.running                     # the page polls: it goes on
        clock.advance(15.5)                                               # then no poll for 15.5 s
        job.thread.join(20)
        assert job.state == "stopped" and "stopped polling for 15 s" in job.why and job.done < job.total
    finally:
        s.close()


class FakeClock:
    """The sweep service's clock, moved by the test."""

    def __init__(self):
        self.now = 500.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def test_server_caps_name_what_to_reduce(cache):
    s = SweepService(scheduler="inline", max_work=1e9, files=cache.uploads.files, max_running=1)
    try:
        o = SC.sweep_run("preset:lr_sweep", {}, None, None, "page6", s, cache)
        msg = o["alert"]
        assert "1,320 runs (SGD 40, momentum 40x10 cells x 3 seeds) x 500 steps" in msg
        assert "over this server's sweep limit of 1e+09" in msg
        assert "use at most 24 runs (fewer axis values or sweep.seeds, now 3) or training.steps <= 9 (now 500)" in msg
        assert o["figure"] is no_update and s.job("page6") is None
        # one sweep at a time on this server: a second page is refused while the first runs
        s.max_work = None
        s.start("page7", core.ExperimentSpec.from_dict(small_dict(steps=3000)))
        o = SC.sweep_run(SC.UPLOAD, {}, None, _up(small_dict()), "page8", s, cache)
        assert "at most 1 sweep at once" in o["alert"]
    finally:
        s.close()


def test_core_caps_and_bad_custom_values_are_messages(service, cache):
    big = small_dict()
    big["sweep"]["optimizers"][1]["axes"] = {"lr": {"log": [0.001, 10, 1000]}, "momentum": {"linear": [0, 0.9, 25]}}
    o = SC.sweep_run(SC.UPLOAD, {}, None, _up(big), "page9", service, cache)
    assert "at most 20,000 are allowed" in o["alert"]
    store = {"spec": core.ExperimentSpec.preset("four_optimizers").to_dict()}
    o = SC.sweep_run(SC.CUSTOM, dict(lr_points=0), store, None, "page9", service, cache)
    assert o["alert"] == "sweep lr points=0: must be an integer in [1, 200]"
    o = SC.sweep_run(SC.CUSTOM, dict(lr_min=-1), store, None, "page9", service, cache)
    assert "sweep.optimizers[0].axes.lr.log[0] (lo)=-1" in o["alert"]
    o = SC.sweep_run(SC.UPLOAD, {}, None, None, "page9", service, cache)
    assert "nothing uploaded" in o["alert"]
    o = SC.sweep_run(SC.UPLOAD, {}, None, _up(small_dict()), "bad session!", service, cache)
    assert "session" in o["alert"]


def test_a_custom_sweep_of_the_landscape_experiment(service, cache):
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"]["steps"] = 50
    vals = dict(optimizer="momentum", lr_min=0.01, lr_max=1, lr_points=3, momentum_min=0, momentum_max=0.9,
                momentum_points=2, seeds=2)
    spec = SC.sweep_spec(SC.CUSTOM, vals, {"spec": d}, None, cache)
    assert spec.training.steps == 50 and spec.sweep.n_runs() == 12 and spec.data.name == "wisconsin"
    assert spec.sweep.optimizers[0].axes == {"lr": {"log": [0.01, 1, 3]}, "momentum": {"linear": [0, 0.9, 2]}}
    adam = SC.sweep_spec(SC.CUSTOM, dict(vals, optimizer="adam"), {"spec": d}, None, cache)
    assert list(adam.sweep.optimizers[0].axes) == ["lr"]                     # momentum axis: momentum, nesterov
    o = SC.sweep_run(SC.CUSTOM, vals, {"spec": d}, None, "page10", service, cache)
    assert o["alert"] == "" and _wait(service, "page10").state == "complete"


# ----------------------------------------------------------------- uploads
def test_uploads_spec_json_and_sweep_npz(service, cache, swept):
    o = SC.sweep_upload(_upload(json.dumps(small_dict()).encode()), "mine.json", "page11", service, cache)
    assert o["alert"] == "" and o["source"] == SC.UPLOAD and o["uploaded"]["spec"]["sweep"]["seeds"] == [0, 1]
    assert {"label": "uploaded: mine.json", "value": SC.UPLOAD} in o["options"]
    assert "36 runs; press Run" in o["status"]
    part = swept.copy()
    part.blocks["momentum"].done[:, 3:, :] = False
    buf = io.BytesIO()
    part.write(buf)
    o = SC.sweep_upload(_upload(buf.getvalue()), "part.npz", "page11", service, cache)
    assert o["alert"] == "" and "loaded part.npz: 36 of 54 runs (partial" in o["status"] and o["disabled"] is True
    assert o["figure"] is not no_update
    # Run on the uploaded partial sweep computes only its missing runs
    SC.sweep_run(SC.UPLOAD, {}, None, o["uploaded"], "page11", service, cache)
    job = _wait(service, "page11")
    assert job.state == "complete" and job.new_runs == 18
    b, ref = job.result.blocks["momentum"], swept.blocks["momentum"]
    assert np.array_equal(b.final_loss, ref.final_loss)                      # the same numbers as in one go


@pytest.mark.parametrize("raw,name,message", [
    (b'{"seed": 0}', "plain.json", "its spec has no \"sweep\" section"),
    (b'{"seed": ', "bad.json", "not valid JSON"),
    (b"PK\x03\x04 no zip at all", "s.npz", "not a readable .npz sweep"),
    (b"a,b\n1,0\n", "data.csv", "data (.csv) go in the Landscape tab"),
    (b"hello", "notes.txt", "not a run (.npz), a spec (.json) or data (.csv)"),
])
def test_bad_uploads_are_messages(service, cache, raw, name, message, caplog):
    with caplog.at_level(logging.WARNING, logger="visualizer"):
        o = SC.sweep_upload(_upload(raw), name, "page12", service, cache)
    assert message in o["alert"] and o["figure"] is no_update and service.job("page12") is None
    assert all(r.exc_info is None for r in caplog.records)


def test_an_experiment_file_or_a_tampered_sweep_is_refused(service, cache, small_result, swept):
    buf = io.BytesIO()
    small_result.write(buf)
    o = SC.sweep_upload(_upload(buf.getvalue()), "run.npz", "page13", service, cache)
    assert o["alert"] == ("upload 'run.npz': not a valid sweep (format 'loss-landscape-navigator/result'; expected "
                          "'loss-landscape-navigator/sweep'); this is a run of the Landscape tab: upload it there")
    arrays = swept.to_arrays()
    arrays["b1_final_loss"] = arrays["b1_final_loss"][:1]
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    o = SC.sweep_upload(_upload(buf.getvalue()), "tampered.npz", "page13", service, cache)
    assert "momentum final_loss: expected float64 of shape (3, 6, 2)" in o["alert"]
    huge = "data:application/octet-stream;base64," + "A" * (4 * (cb.MAX_UPLOAD_BYTES // 3 + 1) + 400)
    o = SC.sweep_upload(huge, "big.npz", "page13", service, cache)
    assert "at most 50 MB" in o["alert"]
    bad = small_dict()
    bad["data"] = {"name": "csv", "path": "/etc/passwd", "target": "x"}
    o = SC.sweep_upload(_upload(json.dumps(bad).encode()), "s.json", "page13", service, cache)
    assert "this server reads no files from its disk" in o["alert"]


# ----------------------------------------------------------------- click -> the landscape
def test_a_click_opens_the_cells_run_through_the_main_callback(service, cache, swept):
    service.load("page14", swept, "swept.npz")
    click = {"points": [{"curveNumber": 1, "pointNumber": [1, 2], "customdata": 5, "x": 0.1, "y": 0.9}]}
    o = SC.sweep_click(click, "page14", service, cache)
    assert o["tab"] == "landscape" and o["alert"] == ""
    spec = o["open"]["spec"]
    out = cb.main("sweep-open", None, None, cache, opened=o["open"])
    assert out["alert"] == "" and out["store"]["spec"] == core.ExperimentSpec.from_dict(spec).to_dict()
    assert out["status"].startswith("Opened from the sweep: momentum at lr=") and "computed in" in out["status"]
    assert out["values"]["opt_name"][0] == "momentum" and out["values"]["seed"] == spec["seed"]
    assert out["preset"] is None                  # the preset menu no longer names the preset (it says "custom")
    r = cache.get(out["store"]["key"])
    v = swept.blocks["momentum"].final_loss[:, 2, 1]
    assert r.trajectories[spec["optimizers"][0]["label"]].loss[-1] == np.median(v)      # 3 seeds: the median
    # clicking a diverged mark opens the same kind of run; lines and hostile clicks are messages
    mark = {"points": [{"curveNumber": 3, "customdata": 5}]}
    assert SC.sweep_click(mark, "page14", service, cache)["open"]["spec"] == spec
    assert SC.sweep_click({"points": [{"curveNumber": 5}]}, "page14", service, cache)["alert"] == SC.NOT_CELL
    for bad in ({"points": [{"curveNumber": 99, "customdata": 1}]}, {"points": [{"curveNumber": 1, "customdata": 1e9}]},
                {"points": [{"curveNumber": "1", "customdata": "x"}]}, {"points": "zz"}, {"points": [{}]}, None):
        o = SC.sweep_click(bad, "page14", service, cache)
        assert o["open"] is no_update
    assert "outside momentum's grid" in SC.sweep_click({"points": [{"curveNumber": 1, "customdata": 10**6}]},
                                                       "page14", service, cache)["alert"]
    assert "no longer on the server" in SC.sweep_click(click, "unknown-page", service, cache)["alert"]
    bad_open = cb.main("sweep-open", None, None, cache, opened={"spec": "x"})
    assert "sweep cell: no run to open" in bad_open["alert"] and bad_open["store"] is no_update


def test_download_the_pages_sweep(service, swept):
    assert SC.sweep_download("page15", service) is no_update
    service.load("page15", swept)
    out = SC.sweep_download("page15", service)
    assert out["filename"] == "sweep.npz"
    r = core.load_sweep(io.BytesIO(base64.b64decode(out["content"])))
    assert np.array_equal(r.blocks["SGD"].final_loss, swept.blocks["SGD"].final_loss)


def test_the_app_starts_a_local_cluster_on_the_first_sweep_and_closes_it(cache):
    import psutil
    from visualizer.app.factory import create_app
    app = create_app(cache=cache, warm=False)
    assert app.services.scheduler is None and app.services.sweeps.scheduler() is None
    app.services.sweeps.workers, app.services.sweeps.heartbeat = 1, None
    def children():                      # multiprocessing's resource tracker stays, as after any LocalCluster
        return {p.pid for p in psutil.Process().children(recursive=True)
                if "resource_tracker" not in " ".join(p.cmdline())}
    before = children()
    try:
        job = app.services.sweeps.start("page16", core.ExperimentSpec.from_dict(small_dict()))
        job.thread.join(60)
        assert job.state == "complete" and job.where == "local cluster (1 worker)"
        assert "on local cluster (1 worker)" in job.text()
        assert app.services.sweeps._engine is not None and app.services.sweeps._engine.client.status == "running"
        assert children() - before                                          # its worker process
        ref = core.sweep(small_dict(), scheduler="inline")
        assert np.array_equal(job.result.blocks["momentum"].final_loss, ref.blocks["momentum"].final_loss)
    finally:
        app.close()
    assert app.services.sweeps._engine is None
    t = time.monotonic()
    while time.monotonic() - t < 10 and children() - before:
        time.sleep(0.1)
    assert not children() - before                                          # the workers are gone
    app.services.scheduler = "inline"
    assert app.services.sweeps.scheduler() == "inline"                                # read when a sweep starts


# ----------------------------------------------------------------- the landscape's curvature colour
def test_curvature_colour_equals_core_curvature_map(small_result):
    r = small_result
    cm = SCOL.curvature_grid(r)
    assert cm.top.shape == (15, 15)                                         # the 15 x 15 surface: every point
    net = core.MLP(r.layer_sizes)
    ref = core.curvature_map(net, r.X_train, r.y_train, r.plane, r.alphas, r.betas)
    assert np.array_equal(cm.top, ref.top) and np.array_equal(cm.bottom, ref.bottom)
    c = SCOL.surface_colour(r, "sharpness", cm)
    assert np.array_equal(c.values, ref.top) and "top Hessian eigenvalue (15 × 15 points)" in c.title
    v = SCOL.surface_colour(r, "convexity", cm)
    assert np.allclose(v.values, np.abs(ref.bottom / ref.top), equal_nan=True) and "|λmin/λmax|" in v.title
    # a coarser map: exact at its points, interpolated between
    small = SCOL.curvature_grid(r, max_res=5)
    ia = SCOL.subgrid(15, 5)
    assert list(ia) == [0, 4, 7, 10, 14] and np.array_equal(small.top, ref.top[np.ix_(ia, ia)])
    ci = SCOL.surface_colour(r, "sharpness", small)
    assert np.allclose(ci.values[np.ix_(ia, ia)], ref.top[np.ix_(ia, ia)]) and "5 × 5 points, interpolated" in ci.title
    fig = figures.animated_landscape(r, figures.ViewOptions(), colour=c)
    surf = trace(fig, "surface", type="surface")
    assert np.allclose(np.asarray(surf.surfacecolor, float), ref.top.astype(np.float32))
    assert surf.colorbar.title.text == c.title and "sharpness λmax" in surf.hovertemplate
    plain = figures.animated_landscape(r, figures.ViewOptions())
    assert np.array_equal(np.asarray(surf.z), np.asarray(trace(plain, "surface").z))   # heights untouched
    paths = [(t.name, t.mode, np.asarray(t.z).tolist()) for t in traces(fig, type="scatter3d")]
    assert len(paths) == 2 * 4 and paths == [(t.name, t.mode, np.asarray(t.z).tolist())
                                             for t in traces(plain, type="scatter3d")]
    con = figures.contour_figure(r, figures.ViewOptions(), colour=c)
    assert np.allclose(np.asarray(trace(con, type="heatmap").z, float), ref.top.astype(np.float32))
    assert trace(con, type="contour").contours.coloring == "lines" and len(con.data) == 2 + 2 * 4


def test_render_colours_by_curvature_and_caches_the_map(cache, small_result):
    cache.put("npz:r", small_result)
    store = {"key": "npz:r", "spec": small_result.spec.to_dict(), "source": "upload"}
    maps = SliceCache(maxsize=4)
    out = rcb.render(store, "log", 100, 1, cache, colour="convexity", maps=maps)
    surf = trace(out["fig3d"], type="surface")                            # the 3D figure goes as a plain dict
    assert out["alert"] == "" and "convexity" in surf["colorbar"]["title"]["text"]
    assert len(traces(out["contour"], type="heatmap")) == 1 and maps.misses == 1
    again = rcb.render(store, "sqrt", 100, 1, cache, colour="sharpness", maps=maps)
    assert maps.misses == 1 and maps.hits == 1
    assert "sharpness" in trace(again["fig3d"], type="surface")["colorbar"]["title"]["text"]
    plain = rcb.render(store, "log", 100, 1, cache, colour="loss", maps=maps)
    assert trace(plain["fig3d"], type="surface").get("surfacecolor") is None
    assert not traces(plain["contour"], type="heatmap")
    assert again["step_table"]["landscape"]["coloured"] and not plain["step_table"]["landscape"]["coloured"]
    html = dcb.download_html(store, "log", 100, 1, cache, "sharpness", maps)
    assert "surfacecolor" in html["content"] and maps.misses == 1


def test_a_run_without_data_or_a_moving_landscape_gets_a_message(cache, small_result, small_moving_result):
    old = dataclasses.replace(small_result, X_train=None, y_train=None)
    cache.put("npz:old", old)
    out = rcb.render({"key": "npz:old", "spec": old.spec.to_dict()}, "log", 100, 1, cache, colour="sharpness",
                    maps=SliceCache())
    assert "saved without its training data" in out["alert"] and out["fig3d"] is not no_update
    assert out["table"] is not no_update                                     # the rest is drawn as usual
    cache.put("npz:moving", small_moving_result)
    out = rcb.render({"key": "npz:moving", "spec": small_moving_result.spec.to_dict()}, "log", 100, 1, cache,
                    colour="convexity", maps=SliceCache())
    assert "needs a static landscape" in out["alert"]
    out = rcb.render({"key": "npz:moving", "spec": small_moving_result.spec.to_dict()}, "log", 100, 1, cache,
                    colour="heat", maps=SliceCache())
    assert "surface colour='heat': allowed are loss, sharpness, convexity" in out["alert"]


def test_the_map_resolution_fits_the_budget():
    assert SCOL.map_resolution(166, 500) == 31
    n = SCOL.map_resolution(1101, 500)                                       # 100 hidden units: fewer points
    assert 5 <= n < 31 and n * n * SCOL.point_work(1101, 500) <= SCOL.MAX_MAP_WORK
    with pytest.raises(ColourUnavailable, match="use a smaller model.hidden"):
        SCOL.map_resolution(200_000, 500)


def test_lr_by_optimizer_rows_with_a_vertical_prediction_each():
    d = small_dict(steps=30)
    lrs = {"log": [0.01, 1, 3]}
    d["sweep"]["optimizers"] = [{"name": "sgd", "label": "SGD", "axes": {"lr": lrs}},
                                {"name": "nesterov", "axes": {"lr": lrs}},
                                {"name": "adam", "axes": {"lr": lrs}}]
    r = core.sweep(d, scheduler="inline")
    assert D.panels(r) == [{"kind": "rows", "xname": "lr", "labels": ["SGD", "nesterov", "adam"]}]
    fig = sweep_heatmap(r)
    assert list(fig.layout.yaxis.ticktext) == ["SGD", "nesterov", "adam"]
    assert list(fig.layout.yaxis.tickvals) == [0, 1, 2]
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert [list(t.y) for t in heat] == [[-0.5, 0.5], [0.5, 1.5], [1.5, 2.5]]
    lines = [t for t in fig.data if t.name == "initial stability edge (from λ₀)"]
    s0 = r.blocks["SGD"].sharpness0.max()
    assert np.allclose(lines[0].x, 2 / s0) and np.allclose(lines[0].y, [-0.45, 0.45])
    assert np.allclose(lines[1].x, (2 + 2 * 0.9) / (1 + 2 * 0.9) / s0)      # Nesterov's threshold, default mu 0.9
    assert "(2 + 2β₁) / ((1 − β₁) λ₀)" in lines[2].text[0]                   # Adam: on the preconditioned Hessian
    assert trace_cells(r) == ["SGD", "nesterov", "adam"] * 3 + [None] * 3


def test_a_finished_sweep_asked_again_comes_from_the_cache(service, cache):
    d = small_dict()
    SC.sweep_run(SC.UPLOAD, {}, None, _up(d), "page-a", service, cache)
    first = _wait(service, "page-a")
    assert first.state == "complete" and first.new_runs == first.total and not first.cached
    o = SC.sweep_run(SC.UPLOAD, {}, None, _up(d), "page-b", service, cache)     # another page, the same spec
    again = service.job("page-b")
    assert o["alert"] == "" and again.state == "complete" and again.cached and again.thread is None
    assert "from this server's cache" in o["status"] and again.result.n_done == first.result.n_done
    for lab, block in first.result.blocks.items():
        np.testing.assert_array_equal(again.result.blocks[lab].final_loss, block.final_loss)
    other = dict(d, seed=d["seed"] + 1)
    SC.sweep_run(SC.UPLOAD, {}, None, _up(other), "page-b", service, cache)
    assert not service.job("page-b").cached
    _wait(service, "page-b")


def test_the_custom_fields_are_read_only_while_a_preset_is_the_source():
    presets = [o["value"] for o in SC.source_options() if o["value"] != SC.CUSTOM]
    assert presets and all(SC.custom_locked(p) for p in presets)
    assert SC.custom_locked(SC.UPLOAD) and not SC.custom_locked(SC.CUSTOM)
