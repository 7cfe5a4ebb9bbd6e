"""visualizer.app.spec_callbacks: the main callback's plain functions (-> the spec store), called directly."""
import base64
import dataclasses
import io
import json
import logging
import threading
import time

import numpy as np
import pytest
from dash import no_update

import core
from tests.helpers import small_spec_dict
from visualizer.app import spec_callbacks as cb
from visualizer.app import download_callbacks as dcb
from visualizer.app import render_callbacks as rcb
from visualizer.app import wiring
from visualizer.app.controls import controls_from_spec
from visualizer.serving.cache import ResultCache, spec_key


def _upload(raw, mime="application/octet-stream"):
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def test_controls_round_trip_every_preset():
    for name in core.ExperimentSpec.presets():
        d = core.ExperimentSpec.preset(name).to_dict()
        values, extras = cb.controls_from_spec(d)
        assert cb.spec_from_controls(values, d, extras) == d


def test_main_computes_and_caches(small, cache):
    d, values, base = small
    out = cb.main("controls", values, base, cache)
    assert out["alert"] == "" and out["store"]["key"] == spec_key(d)
    assert out["store"]["spec"] == d and "computed" in out["status"]
    again = cb.main("controls", values, base, cache)
    assert again["store"] == out["store"] and "cache" in again["status"] and cache.misses == 1


def test_changing_a_learning_rate_changes_the_table(small, cache):
    d, values, base = small
    out1 = cb.main("controls", values, base, cache)
    values["opt_lr"][0] = 0.5
    out2 = cb.main("controls", values, base, cache)
    assert out2["store"]["key"] != out1["store"]["key"]
    t1 = rcb.render(out1["store"], "linear", 100, 1, cache)["table"]
    t2 = rcb.render(out2["store"], "linear", 100, 1, cache)["table"]
    assert t1[0]["final_loss"] != t2[0]["final_loss"]
    # the other runs train the same way (their plane, centred on the first run, may move)
    assert [r["final_loss"] for r in t1[1:]] == [r["final_loss"] for r in t2[1:]]


@pytest.mark.parametrize("field,index,value,message,outlined", [
    ("opt_lr", 0, -1, "SGD: learning rate -1 must be a number in (0, 100]", '{"index":0,"type":"opt_lr"}'),
    ("opt_lr", 1, 1000, "LR annealing: learning rate 1000 must be", '{"index":1,"type":"opt_lr"}'),
    ("hidden", None, "0", "hidden units (layer 1) 0: must be", "hidden"),
    ("hidden", None, "ten", "hidden units 'ten': must be", "hidden"),
    ("grid_resolution", None, 500, "grid points 500: must be an integer in [3, 201]", "grid-resolution"),
    ("steps", None, 0, "steps 0: must be an integer", "steps"),
    ("opt_momentum", 3, 1.5, "momentum: momentum 1.5 must be a number in [0, 1)", '{"index":3,"type":"opt_momentum"}'),
    # a budget: the message says which change of the user's made the run too large, and outlines that field
    ("hidden", None, "512, 512, 512", "Your change of hidden units (15 → 512, 512, 512) makes this run too large: "
                                      "record every 5: 41 frames x 530,945 weights", "hidden"),
])
def test_invalid_values_name_the_field_and_keep_the_old_store(small, cache, caplog, field, index, value, message,
                                                              outlined):
    d, values, base = small
    if index is None:
        values[field] = value
    else:
        values[field][index] = value
    with caplog.at_level(logging.WARNING, logger="visualizer"):
        out = cb.main("controls", values, base, cache)
    assert message in out["alert"] and out["invalid"] == outlined
    assert "optimizers[" not in out["alert"] and "training." not in out["alert"]      # the form's words only
    assert out["store"] is no_update and len(cache) == 0
    assert all(r.exc_info is None for r in caplog.records)          # one line, no traceback


def test_no_optimizer_enabled(small, cache):
    d, values, base = small
    values["opt_enabled"] = [[]] * cb.N_ROWS
    out = cb.main("controls", values, base, cache)
    assert "optimizers" in out["alert"] and out["store"] is no_update


def test_changing_an_optimizer_name_loads_its_defaults(small, cache):
    d, values, base = small
    values["opt_name"][0] = "adam"
    out = cb.main({"type": "opt_name", "index": 0}, values, base, cache)
    assert out["alert"] == ""
    assert out["values"]["opt_lr"][0] == core.model.optimizers.DEFAULTS["adam"]["lr"]
    assert out["store"]["spec"]["optimizers"][0]["name"] == "adam"


def test_preset_fills_the_controls(cache, monkeypatch):
    monkeypatch.setattr(cache, "_runner", lambda spec: core.run_experiment(small_spec_dict()))
    out = cb.main("preset", None, None, cache, preset="moons_adam")
    assert out["values"]["dataset"] == "moons" and out["values"]["opt_name"][3] == "adam"
    assert out["base"]["spec"]["name"].startswith("Two moons")


def test_the_preset_menu_names_the_preset_the_spec_is_or_none(cache, monkeypatch):
    monkeypatch.setattr(cache, "_runner", lambda spec: core.run_experiment(small_spec_dict()))
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    values, extras = controls_from_spec(d)
    base = {"spec": d, "extras": extras}
    assert cb.main("preset", None, None, cache, preset="four_optimizers")["preset"] is no_update   # the menu's choice
    assert cb.main("controls", values, base, cache)["preset"] == "four_optimizers"       # the controls, unchanged
    edited = cb.main("controls", dict(values, seed=5), base, cache)
    assert edited["alert"] == "" and edited["preset"] is None                            # no preset's any more
    lr = dict(values, opt_lr=[1.5] + values["opt_lr"][1:])
    assert cb.main({"type": "opt_lr", "index": 0}, lr, base, cache)["preset"] is None
    moons = core.ExperimentSpec.preset("moons_adam").to_dict()
    up = cb.main("upload", values, base, cache, upload_contents=_upload(json.dumps(moons).encode(), "application/json"),
                 upload_filename="m.json")
    assert up["alert"] == "" and up["preset"] == "moons_adam"                             # an upload of a preset's spec
    bad = cb.main("controls", dict(values, seed=-1), base, cache)
    assert bad["alert"] and bad["preset"] is no_update                                   # nothing new shown
    assert all(v is no_update for v in cb.main("preset", None, None, cache, preset=None).values())
    assert cb.preset_of(d) == "four_optimizers" and cb.preset_of(dict(d, seed=1)) is None


def test_upload_spec_json(small, cache):
    d, values, base = small
    out = cb.main("upload", values, base, cache, upload_contents=_upload(json.dumps(d).encode(), "application/json"),
                  upload_filename="spec.json")
    assert out["alert"] == "" and out["store"]["spec"] == d and out["values"]["steps"] == 200


def test_upload_run_npz_round_trip(small, cache, small_result):
    d, values, base = small
    buf = io.BytesIO()
    np.savez_compressed(buf, **small_result.to_arrays())
    out = cb.main("upload", values, base, cache, upload_contents=_upload(buf.getvalue()), upload_filename="run.npz")
    assert out["alert"] == "" and out["store"]["key"].startswith("npz:") and out["store"]["source"] == "upload"
    assert cache.misses == 0                                          # shown as uploaded, not recomputed
    r = rcb.render(out["store"], "log", 100, 1, cache)
    assert r["alert"] == "" and len(r["table"]) == len(small_result.trajectories)


@pytest.mark.parametrize("raw,name,message", [
    (b"PK\x03\x04 this is no zip", "run.npz", "not a readable .npz"),
    (b"hello", "notes.txt", "not a run (.npz), a spec (.json) or data (.csv)"),
    (b'{"seed": -3}', "spec.json", "seed=-3"),
    (b'{"seed": ', "spec.json", "not valid JSON"),
])
def test_bad_uploads_show_a_message(small, cache, raw, name, message):
    d, values, base = small
    out = cb.main("upload", values, base, cache, upload_contents=_upload(raw), upload_filename=name)
    assert message in out["alert"] and out["store"] is no_update


def test_upload_npz_without_meta(small, cache):
    d, values, base = small
    buf = io.BytesIO()
    np.savez(buf, x=np.arange(3))
    out = cb.main("upload", values, base, cache, upload_contents=_upload(buf.getvalue()), upload_filename="x.npz")
    assert "not a valid result" in out["alert"]


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


# ------------------------------------------------------------ data from the user, never from the server's disk
CSV = "f1,f2,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{int(i % 7 > 3)}\n" for i in range(120))


def test_an_uploaded_csv_trains(small, cache):
    d, values, base = small
    out = cb.main("upload", values, base, cache, upload_contents=_upload(CSV.encode(), "text/csv"),
                  upload_filename="mine.csv", session="pageA")
    assert out["alert"] == "", out["alert"]
    data = out["store"]["spec"]["data"]
    assert data["name"] == "csv" and data["path"].startswith("upload:") and data["target"] == "label"
    assert out["values"]["dataset"] == "csv:" + data["path"] and out["values"]["csv_target"] == "label"
    r = cache.get(out["store"]["key"])
    assert r.info["feature_names"] == ["f1", "f2"] and r.layer_sizes[0] == 2
    datasets, targets = cb.control_options(out["base"], cache, "pageA")
    assert {"label": "uploaded CSV: mine.csv", "value": "csv:" + data["path"]} in datasets
    assert [t["value"] for t in targets] == ["f1", "f2", "label"]
    # the same bytes again from the same page: the same key, so the cached result
    again = cb.main("upload", values, base, cache, upload_contents=_upload(CSV.encode(), "text/csv"),
                    upload_filename="copy.csv", session="pageA")
    assert again["store"]["key"] == out["store"]["key"] and "cache" in again["status"]


def test_an_upload_key_works_only_for_the_page_that_uploaded_it(small, cache):
    d, values, base = small
    out = cb.main("upload", values, base, cache, upload_contents=_upload(CSV.encode(), "text/csv"),
                  upload_filename="mine.csv", session="pageA")
    path = out["store"]["spec"]["data"]["path"]
    # another browser naming the key (in its spec, its controls, or a stored spec) is refused
    stolen = cb.main("controls", dict(values, dataset="csv:" + path), {"spec": out["base"]["spec"]}, cache,
                     session="pageB")
    assert "not an upload of this page" in stolen["alert"] and stolen["store"] is no_update
    with pytest.raises(ValueError, match="not an upload of this page"):
        cb.accept_spec(out["store"]["spec"], cache, "pageB")
    with pytest.raises(ValueError, match="not an upload of this page"):
        cb.accept_spec(out["store"]["spec"], cache, None)
    assert cb.accept_spec(out["store"]["spec"], cache, "pageA").data.path == path
    # the same bytes from page B: its own key (an HMAC of the server's secret, the page and the content)
    other = cb.main("upload", values, base, cache, upload_contents=_upload(CSV.encode(), "text/csv"),
                    upload_filename="mine.csv", session="pageB")
    assert other["store"]["spec"]["data"]["path"] != path
    key = path.split(":", 1)[1]
    assert cache.uploads.owns(key, "pageA") and not cache.uploads.owns(key, "pageB")


def test_an_oversize_csv_is_refused_before_it_is_parsed(small, cache, monkeypatch):
    d, values, base = small
    parsed = []
    monkeypatch.setattr(core.data.csvfile.csv, "reader", lambda *a, **k: parsed.append(1) or iter([["a", "y"]]))
    rows = "a,y\n" + "1,0\n" * 25000
    out = cb.main("upload", values, base, cache, upload_contents=_upload(rows.encode()), upload_filename="rows.csv")
    assert "about 25,000 data rows; at most 20,000" in out["alert"] and out["store"] is no_update
    big = _upload(b"a,y\n" + b"1,0\n" * (5 * 2**20))            # 20 MB > the 16 MB CSV cap
    out = cb.main("upload", values, base, cache, upload_contents=big, upload_filename="big.csv")
    assert "at most 16 MB" in out["alert"]
    assert parsed == [1]                    # only the header line of the first file was ever parsed
    assert len(cache) == 0 and not any(f.endswith(".csv") for f in __import__("os").listdir(cache.uploads.folder))


SERVER_PATHS = ["/etc/passwd", "../../../../etc/passwd", "assets/data/breast-cancer-wisconsin.data"]


@pytest.mark.parametrize("path", SERVER_PATHS)
def test_every_route_refuses_a_server_path(small, cache, path, caplog):
    d, values, base = small
    bad = json.loads(json.dumps(d))
    bad["data"] = {"name": "csv", "path": path, "target": "x"}
    # 1. an uploaded JSON spec
    out = cb.main("upload", values, base, cache, upload_contents=_upload(json.dumps(bad).encode()),
                  upload_filename="s.json")
    assert "this server reads no files from its disk" in out["alert"] and out["store"] is no_update
    # 2. the page's stored state: the controls over a tampered base, and a tampered store for render / downloads
    v = dict(values, dataset="csv:" + path, csv_target="x")
    out = cb.main("controls", v, {"spec": bad, "extras": base["extras"]}, cache)
    assert "dataset " in out["alert"] and out["store"] is no_update and out["invalid"] == "dataset"
    store = {"key": "spec:0", "spec": bad, "source": "spec"}
    r = rcb.render(store, "log", 100, 1, cache)
    assert "this server reads no files" in r["alert"] and r["fig3d"] is no_update
    caplog.set_level(logging.WARNING, logger="visualizer")
    assert wiring._safe("npz", dcb.download_npz, store, cache) is no_update
    assert wiring._safe("spec", dcb.download_spec, store, cache) is no_update
    assert wiring._safe("html", dcb.download_html, store, "log", 100, 1, cache) is no_update
    assert cb.control_options({"spec": bad}, cache)[1] == []
    everything = out["alert"] + r["alert"] + caplog.text
    assert "root:x:0:0" not in everything and "clump" not in everything    # no file contents come back
    assert len(cache) == 0


def test_a_data_folder_offers_its_files_and_nothing_outside(small, tmp_path):
    from visualizer.serving.uploads import UploadStore
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "mine.csv").write_text(CSV)
    cache = ResultCache(maxsize=4, uploads=UploadStore(data_dir=str(folder)))
    d, values, base = small
    datasets, _ = cb.control_options(base, cache)
    assert {"label": "CSV: mine.csv", "value": "csv:mine.csv"} in datasets
    out = cb.main("controls", dict(values, dataset="csv:mine.csv"), base, cache)
    assert out["alert"] == "" and out["values"]["csv_target"] == "label"
    assert out["store"]["spec"]["data"] == {"name": "csv", "path": "mine.csv", "target": "label", "split": None,
                                            "test_fraction": None, "n_samples": 400, "noise": None}
    out = cb.main("controls", dict(values, dataset="csv:../data/../../x.csv"), base, cache)
    assert "outside the server's data folder" in out["alert"]


def test_long_values_are_cut_in_messages_and_logs(small, cache, caplog):
    d, values, base = small
    caplog.set_level(logging.WARNING, logger="visualizer")
    huge = "9" * (5 * 2**20)
    out = cb.main("controls", dict(values, hidden=huge), base, cache)
    assert out["alert"].startswith("hidden units '9999") and len(out["alert"]) < 700
    assert all(len(r.getMessage()) < 800 for r in caplog.records)
    bad = json.loads(json.dumps(d))
    bad["name"] = "n" * 10**6
    out = cb.main("upload", values, base, cache, upload_contents=_upload(json.dumps(bad).encode()),
                  upload_filename="s.json")
    assert out["alert"].startswith("name='nnnn") and len(out["alert"]) < 700
    out = cb.main("controls", values, base, cache, session="s" * 10**6)   # a hostile session id
    assert out["alert"] == ""


# ----------------------------------------------------------------- curvature controls and panels
from visualizer.app import curvature_callbacks as ccb  # noqa: E402


def test_curvature_controls_round_trip_and_reach_the_spec(small, cache):
    d, values, base = small
    assert values["curvature"] == ["on"] and values["curvature_stride"] is None        # auto
    assert cb.spec_from_controls(values, d, base["extras"]) == d
    off = cb.spec_from_controls(dict(values, curvature=[], curvature_stride=4), d, base["extras"])
    assert off["curvature"]["enabled"] is False and off["curvature"]["stride"] == 4
    out = cb.main("controls", dict(values, curvature_stride=3), base, cache)
    assert out["alert"] == "" and out["store"]["spec"]["curvature"]["stride"] == 3


@pytest.mark.parametrize("stride,message", [(0, "curvature stride 0: must be an integer in [1, 1000]"),
                                            (2.5, "curvature stride 2.5: must be an integer in [1, 1000]")])
def test_a_bad_stride_is_a_message(small, cache, stride, message):
    d, values, base = small
    out = cb.main("controls", dict(values, curvature_stride=stride), base, cache)
    assert message in out["alert"] and out["store"] is no_update


def test_a_big_network_asks_to_raise_the_stride_or_turn_curvature_off(small, cache):
    d, values, base = small
    out = cb.main("controls", dict(values, hidden="120, 60", curvature_stride=1), base, cache)
    assert "curvature stride 1:" in out["alert"] and "curvature stride >=" in out["alert"]
    assert "curvature off" in out["alert"] and out["store"] is no_update
    # auto stride on a network too big for even the first and last frames: no stride can help
    out = cb.main("controls", dict(values, hidden="512, 512"), base, cache)
    assert "curvature stride (auto):" in out["alert"] and "curvature stride >=" not in out["alert"]
    assert "curvature off" in out["alert"]
    assert len(cache) == 0


def test_slices_callback_draws_and_caches_per_run_and_frame(small, cache):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    sc = ccb.SliceCache()
    out = ccb.slices(100, "large LR", store, cache, sc)
    assert out["hidden"] is False and out["message"] == ""
    assert "step 100 of large LR" in out["figure"].layout.title.text
    assert len(sc) == 2 and sc.misses == 2                      # the run's frame, and the lines of every run
    ccb.slices(102, "large LR", store, cache, sc)                # the same recorded frame (every 5 steps)
    assert sc.misses == 2 and sc.hits == 2
    other = ccb.slices(150, "nope", store, cache, sc)            # an unknown run: the first
    assert "of SGD" in other["figure"].layout.title.text and sc.misses == 3


def test_slices_of_a_run_without_data_say_so(small, cache, small_result):
    import dataclasses
    d, values, base = small
    old = dataclasses.replace(small_result, X_train=None, y_train=None)
    cache.put("npz:old", old)
    store = {"key": "npz:old", "spec": d, "source": "upload"}
    out = ccb.slices(100, "SGD", store, cache, ccb.SliceCache())
    assert out == {"figure": {}, "hidden": True, "message": ccb.NO_DATA}
    assert "without its training data" in ccb.NO_DATA


def test_min_eig_toggle_patches_visibility(small, cache):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    p = ccb.min_eig_visibility(True, store, cache)
    ops = p.to_plotly_json()["operations"]
    assert [op["location"] for op in ops] == [["data", i, "visible"] for i in (2, 5, 8, 11)]
    assert all(op["params"]["value"] is True for op in ops)


# ------------------------------------------------------------ only what changed is recomputed
class _Recording:
    """A runner recording the progress stages of each call and whether it was handed trained runs."""

    def __init__(self):
        self.calls = []

    def __call__(self, spec, progress=None, trained=None):
        stages = []
        self.calls.append({"stages": stages, "trained": trained is not None})
        return core.run_experiment(spec, progress=lambda s, d, t: stages.append(s), trained=trained)


@pytest.mark.parametrize("change", [dict(plane_method="random"), dict(grid_resolution=11), dict(grid_range=2.0)])
def test_a_plane_or_grid_change_reuses_the_training(small, change):
    d, values, base = small
    runner = _Recording()
    cache = ResultCache(maxsize=4, runner=runner)
    first = cb.main("controls", values, base, cache)
    second = cb.main("controls", dict(values, **change), base, cache)
    assert first["alert"] == "" and second["alert"] == "" and second["store"]["key"] != first["store"]["key"]
    assert "train" in runner.calls[0]["stages"] and not runner.calls[0]["trained"]
    assert "train" not in runner.calls[1]["stages"] and runner.calls[1]["trained"] and cache.reused == 1
    assert "surface" in runner.calls[1]["stages"]
    r1, r2 = (cache.get(o["store"]["key"]) for o in (first, second))
    np.testing.assert_array_equal(r2.trajectories["SGD"].params, r1.trajectories["SGD"].params)


def test_a_training_change_trains_again_and_an_upload_is_never_reused(small, small_result):
    d, values, base = small
    runner = _Recording()
    cache = ResultCache(maxsize=4, runner=runner)
    buf = io.BytesIO()
    np.savez_compressed(buf, **small_result.to_arrays())
    up = cb.main("upload", values, base, cache, upload_contents=_upload(buf.getvalue()), upload_filename="run.npz")
    assert up["alert"] == "" and runner.calls == []
    cb.main("controls", dict(values, plane_method="random"), base, cache)     # same training as the upload
    assert runner.calls[-1]["trained"] is False and "train" in runner.calls[-1]["stages"]
    cb.main("controls", dict(values, steps=values["steps"] + 10), base, cache)
    assert runner.calls[-1]["trained"] is False and cache.reused == 0


def _bloated_run(small_result, i, rows=20_000):
    """A valid-looking run file of a few KB whose training data unpack to megabytes of zeros (20,000 rows: the
    most a run may have), and whose info claims 5 weights (the run has 166)."""
    d = small_result.X_train.shape[1]
    r = dataclasses.replace(small_result, X_train=np.zeros((rows, d)), y_train=np.zeros(rows),
                            info=dict(small_result.info, n_params=5))
    r.X_train[0, 0] = i                                            # eight different files
    buf = io.BytesIO()
    r.write(buf)
    return buf.getvalue()


def test_the_cache_stays_under_its_byte_budget_after_eight_large_uploads(small, small_result):
    unpacked = 20_000 * (small_result.X_train.shape[1] + 1) * 8      # the zeros alone, as arrays
    budget = int(3.5 * unpacked)
    cache = ResultCache(maxsize=8, max_bytes=budget)
    d, values, base = small
    sizes = []
    for i in range(8):
        raw = _bloated_run(small_result, i)
        assert len(raw) < 2**19                                     # small on the wire
        out = cb.main("upload", values, base, cache, upload_contents=_upload(raw), upload_filename=f"run{i}.npz",
                      session="pageA")
        assert out["alert"] == "" and out["store"]["key"].startswith("npz:")
        assert "166 weights" in out["status"]                       # measured, not the file's claim of 5
        assert cache.nbytes <= budget and cache.peak_nbytes <= budget
        sizes.append(cache.nbytes)
    assert len(cache) == 3 and cache.nbytes / 3 > unpacked and min(sizes) > unpacked   # each counted unpacked
    assert cache.get(out["store"]["key"]) is not None               # the newest one is kept


def test_an_uploaded_csv_is_named_by_its_file_name_in_messages(small, cache):
    d, values, base = small
    rows = b"a,b,label\n" + b"".join(b"%d,%d,%d\n" % (i, i % 7, i % 2) for i in range(60))
    out = cb.main("upload", values, base, cache, upload_contents=_upload(rows), upload_filename="my data.csv",
                  session="pageA")
    assert out["alert"] == "", out["alert"]
    base2, v2 = out["base"], out["values"]
    assert list(base2["upload_names"].values()) == ["my data.csv"]
    menu, _ = cb.control_options(base2, cache, "pageA")
    assert any(o["label"] == "uploaded CSV: my data.csv" for o in menu)             # the menu names it too
    bad = cb.main("controls", dict(v2, csv_target="nope"), base2, cache, session="pageA")
    assert "my data.csv" in bad["alert"] and "upload:" not in bad["alert"], bad["alert"]
    assert bad["invalid"] == "csv-target"


def test_one_optimizer_is_singular_in_the_status(small, cache):
    d, values, base = small
    one = dict(values, opt_enabled=[True] + [False] * (len(values["opt_enabled"]) - 1))
    out = cb.main("controls", one, base, cache)
    assert out["status"].startswith("1 optimizer, "), out["status"]
