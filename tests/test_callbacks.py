"""visualizer.callbacks: the plain functions behind the Dash callbacks, called directly."""
import base64
import io
import json
import logging
import threading
import time

import numpy as np
import pytest
from dash import Patch, no_update

import core
from tests.conftest import small_spec_dict
from visualizer import callbacks as cb
from visualizer.cache import ResultCache, spec_key


@pytest.fixture
def cache():
    return ResultCache(maxsize=4)


@pytest.fixture
def small():
    d = core.ExperimentSpec.from_dict(small_spec_dict()).to_dict()
    values, extras = cb.controls_from_spec(d)
    return d, values, {"spec": d, "extras": extras}


def _upload(raw, mime="application/octet-stream"):
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def test_controls_round_trip_every_preset():
    for name in core.ExperimentSpec.presets():
        d = core.ExperimentSpec.preset(name).to_dict()
        values, extras = cb.controls_from_spec(d)
        assert cb.spec_from_controls(values, d, extras) == d


def test_main_computes_and_caches(small, cache):
    d, values, base = small
    out = cb.main("controls", None, None, None, values, base, cache)
    assert out["alert"] == "" and out["store"]["key"] == spec_key(d)
    assert out["store"]["spec"] == d and "computed" in out["status"]
    again = cb.main("controls", None, None, None, values, base, cache)
    assert again["store"] == out["store"] and "cache" in again["status"] and cache.misses == 1


def test_changing_a_learning_rate_changes_the_table(small, cache):
    d, values, base = small
    out1 = cb.main("controls", None, None, None, values, base, cache)
    values["opt_lr"][0] = 0.5
    out2 = cb.main("controls", None, None, None, values, base, cache)
    assert out2["store"]["key"] != out1["store"]["key"]
    t1 = cb.render(out1["store"], "linear", 100, 1, cache)["table"]
    t2 = cb.render(out2["store"], "linear", 100, 1, cache)["table"]
    assert t1[0]["final_loss"] != t2[0]["final_loss"]
    # the other runs train the same way (their plane, centred on the first run, may move)
    assert [r["final_loss"] for r in t1[1:]] == [r["final_loss"] for r in t2[1:]]


@pytest.mark.parametrize("field,index,value,message", [
    ("opt_lr", 0, -1, "optimizers[0].lr=-1"),
    ("opt_lr", 1, 1000, "optimizers[1].lr=1000"),
    ("hidden", None, "0", "model.hidden[0]=0"),
    ("hidden", None, "ten", "model.hidden='ten'"),
    ("grid_resolution", None, 500, "grid.resolution=500"),
    ("steps", None, 0, "training.steps=0"),
    ("opt_momentum", 3, 1.5, "optimizers[3].momentum=1.5"),
    ("hidden", None, "512, 512, 512", "training.record_every=5: 41 frames x 530,945 weights"),   # a budget
])
def test_invalid_values_name_the_field_and_keep_the_old_store(small, cache, caplog, field, index, value, message):
    d, values, base = small
    if index is None:
        values[field] = value
    else:
        values[field][index] = value
    with caplog.at_level(logging.WARNING, logger="visualizer"):
        out = cb.main("controls", None, None, None, values, base, cache)
    assert message in out["alert"]
    assert out["store"] is no_update and len(cache) == 0
    assert all(r.exc_info is None for r in caplog.records)          # one line, no traceback


def test_no_optimizer_enabled(small, cache):
    d, values, base = small
    values["opt_enabled"] = [[]] * cb.N_ROWS
    out = cb.main("controls", None, None, None, values, base, cache)
    assert "optimizers" in out["alert"] and out["store"] is no_update


def test_changing_an_optimizer_name_loads_its_defaults(small, cache):
    d, values, base = small
    values["opt_name"][0] = "adam"
    out = cb.main({"type": "opt_name", "index": 0}, None, None, None, values, base, cache)
    assert out["alert"] == ""
    assert out["values"]["opt_lr"][0] == core.optimizers.DEFAULTS["adam"]["lr"]
    assert out["store"]["spec"]["optimizers"][0]["name"] == "adam"


def test_preset_fills_the_controls(cache, monkeypatch):
    monkeypatch.setattr(cache, "_runner", lambda spec: core.run_experiment(small_spec_dict()))
    out = cb.main("preset", "moons_adam", None, None, None, None, cache)
    assert out["values"]["dataset"] == "moons" and out["values"]["opt_name"][3] == "adam"
    assert out["base"]["spec"]["name"].startswith("Two moons")


def test_upload_spec_json(small, cache):
    d, values, base = small
    out = cb.main("upload", None, _upload(json.dumps(d).encode(), "application/json"), "spec.json", values, base, cache)
    assert out["alert"] == "" and out["store"]["spec"] == d and out["values"]["steps"] == 200


def test_upload_run_npz_round_trip(small, cache, small_result):
    d, values, base = small
    buf = io.BytesIO()
    np.savez_compressed(buf, **small_result.to_arrays())
    out = cb.main("upload", None, _upload(buf.getvalue()), "run.npz", values, base, cache)
    assert out["alert"] == "" and out["store"]["key"].startswith("npz:") and out["store"]["source"] == "upload"
    assert cache.misses == 0                                          # shown as uploaded, not recomputed
    r = cb.render(out["store"], "log", 100, 1, cache)
    assert r["alert"] == "" and len(r["table"]) == len(small_result.trajectories)


@pytest.mark.parametrize("raw,name,message", [
    (b"PK\x03\x04 this is no zip", "run.npz", "not a readable .npz"),
    (b"hello", "notes.txt", "not a run (.npz) or a spec (.json)"),
    (b'{"seed": -3}', "spec.json", "seed=-3"),
    (b'{"seed": ', "spec.json", "not valid JSON"),
])
def test_bad_uploads_show_a_message(small, cache, raw, name, message):
    d, values, base = small
    out = cb.main("upload", None, _upload(raw), name, values, base, cache)
    assert message in out["alert"] and out["store"] is no_update


def test_upload_npz_without_meta(small, cache):
    d, values, base = small
    buf = io.BytesIO()
    np.savez(buf, x=np.arange(3))
    out = cb.main("upload", None, _upload(buf.getvalue()), "x.npz", values, base, cache)
    assert "not a valid result" in out["alert"]


def test_render_outputs(small, cache):
    d, values, base = small
    store = cb.main("controls", None, None, None, values, base, cache)["store"]
    out = cb.render(store, "sqrt", 99, 1.5, cache)
    assert out["alert"] == ""
    assert "sqrt" in out["fig3d"].layout.scene.zaxis.title.text
    assert out["slider"]["max"] == 200 and out["slider"]["value"] == 200
    assert "166 weights" in out["explain"]


@pytest.mark.parametrize("clip,ex,message", [(20, 1, "clip_percentile=20"), (100, 0, "exaggerate=0"),
                                             (None, 1, "clip percentile: missing")])
def test_render_rejects_bad_view_options(small, cache, clip, ex, message):
    d, values, base = small
    store = cb.main("controls", None, None, None, values, base, cache)["store"]
    out = cb.render(store, "linear", clip, ex, cache)
    assert message in out["alert"] and out["fig3d"] is no_update and out["table"] is no_update


def test_render_recomputes_an_evicted_result(small):
    d, values, base = small
    c = ResultCache(maxsize=1)
    store = cb.main("controls", None, None, None, values, base, c)["store"]
    c.put("other", object())                                           # evicts the run
    out = cb.render(store, "linear", 100, 1, c)
    assert out["alert"] == "" and len(out["table"]) == 4


def test_markers_patch(small, cache):
    d, values, base = small
    store = cb.main("controls", None, None, None, values, base, cache)["store"]
    cp, kp = cb.markers(100, store, "linear", 100, 1, cache)
    assert isinstance(cp, Patch) and isinstance(kp, Patch)
    ops = kp.to_plotly_json()["operations"]
    assert any(op["location"] == ["layout", "shapes", 0, "x0"] and op["params"]["value"] == 100 for op in ops)
    assert cb.markers(100, store, "linear", 5, 1, cache) == (no_update, no_update)


def test_downloads(small, cache):
    d, values, base = small
    store = cb.main("controls", None, None, None, values, base, cache)["store"]
    npz = cb.download_npz(store, cache)
    r = core.load_result(io.BytesIO(base64.b64decode(npz["content"])))
    assert list(r.trajectories) == list(cache.get(store["key"]).trajectories)
    assert npz["filename"] == "small-test-run.npz"
    spec = cb.download_spec(store)
    assert core.ExperimentSpec.from_json(spec["content"]).to_dict() == d
    html = cb.download_html(store, "log", 100, 1, cache)
    assert html["filename"].endswith(".html") and "Plotly.newPlot" in html["content"]


def test_cache_is_bounded_and_computes_once():
    calls = []

    def runner(spec):
        calls.append(spec.seed)
        time.sleep(0.2)
        return f"result {spec.seed}"

    c = ResultCache(maxsize=2, runner=runner)
    spec = core.ExperimentSpec.from_dict(small_spec_dict())
    results = []
    threads = [threading.Thread(target=lambda: results.append(c.get_or_compute(spec)[1])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [0] and results == ["result 0"] * 4
    for seed in (1, 2, 3):
        d = small_spec_dict(); d["seed"] = seed
        c.get_or_compute(core.ExperimentSpec.from_dict(d))
    assert len(c) == 2 and spec_key(spec) not in c
