"""visualizer.app.render_callbacks: the render callback's plain functions (spec store -> figures), called directly."""
import json

import pytest
from dash import no_update

from tests.helpers import trace
from visualizer.app import spec_callbacks as cb
from visualizer.app import curvature_callbacks as ccb
from visualizer.app import render_callbacks as rcb
from visualizer.app import step_state
from visualizer import figures
from visualizer.serving.cache import ResultCache
from visualizer.serving.tasks import prerender


def test_render_outputs(small, cache):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    out = rcb.render(store, "sqrt", 99, 1.5, cache)
    assert out["alert"] == ""
    assert "sqrt" in out["fig3d"]["layout"]["scene"]["zaxis"]["title"]["text"]
    assert out["slider"]["max"] == 200 and out["slider"]["value"] == 200
    assert "166 weights" in out["explain"]


@pytest.mark.parametrize("clip,ex,message", [(20, 1, "clip_percentile=20"), (100, 0, "exaggerate=0"),
                                             (None, 1, "clip percentile: missing")])
def test_render_rejects_bad_view_options(small, cache, clip, ex, message):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    out = rcb.render(store, "linear", clip, ex, cache)
    assert message in out["alert"] and out["fig3d"] is no_update and out["table"] is no_update


def test_render_recomputes_an_evicted_result(small):
    d, values, base = small
    c = ResultCache(maxsize=1)
    store = cb.main("controls", values, base, c)["store"]
    c.put("other", object())                                           # evicts the run
    out = rcb.render(store, "linear", 100, 1, c)
    assert out["alert"] == "" and len(out["table"]) == 4


# ----------------------------------------------------------------- the curvature panels
def test_render_draws_the_sharpness_panel_and_offers_the_runs_for_slices(small, cache):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    out = rcb.render(store, "log", 100, 1, cache)
    assert out["alert"] == "" and out["sharpness_note"] == ""
    fig = out["sharpness"]
    assert fig["layout"]["yaxis"]["type"] == "log" and len(fig["data"]) == 3 * 4
    labels = ["SGD", "LR annealing", "large LR", "momentum"]
    assert all(trace(fig, f"{lab} |λmin|")["visible"] is False for lab in labels)
    assert all(trace(fig, f"{lab} threshold").get("visible", True) is True for lab in labels)
    assert out["slice_options"] == labels and out["slice_label"] == "SGD"
    again = rcb.render(store, "log", 100, 1, cache, min_eig=True, slice_label="large LR")
    assert all(trace(again["sharpness"], f"{lab} |λmin|")["visible"] is True for lab in labels)
    assert again["slice_label"] == "large LR"
    assert "Curvature of each run" in out["explain"] and "large LR: peak sharpness" in out["explain"]
    keys = {c for row in out["table"] for c in row}
    assert {"peak_sharpness", "sharpness_ratio", "above_threshold"} <= keys


def test_render_without_curvature_says_so_instead_of_the_panel(small, cache):
    d, values, base = small
    store = cb.main("controls", dict(values, curvature=[]), base, cache)["store"]
    out = rcb.render(store, "log", 100, 1, cache)
    assert out["alert"] == "" and out["sharpness"] == {}
    assert "No sharpness for this run" in out["sharpness_note"] and "curvature" in out["sharpness_note"]
    assert out["table"][0]["peak_sharpness"] is None
    patches = out["step_table"]["patches"]
    assert patches["sharpness"] == [] and patches["curves"]       # no sharpness marker to move; the curves' step line
    assert ccb.min_eig_visibility(True, store, cache) is no_update


def test_render_uses_the_prerendered_sharpness(small, cache, monkeypatch):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    r = cache.get(store["key"])
    cache.put(store["key"], r, prerender(r, "log", 100.0, 1.0))        # what a worker sends back beside it
    assert cache.figures(store["key"])["view"] == ("log", 100.0, 1.0) and not hasattr(r, "prerendered")
    monkeypatch.setattr(rcb.figures, "sharpness_figure", lambda *a, **k: pytest.fail("drawn again"))
    out = rcb.render(store, "log", 100, 1, cache)
    assert out["sharpness"]["layout"]["yaxis"]["type"] == "log"


# ------------------------------------------------------------ one step for every panel (visualizer.app.step_state)
def test_the_step_table_holds_every_frames_markers_and_the_titles_name_the_step(small, cache):
    d, values, base = small
    d["curvature"]["enabled"] = True
    store = cb.main("controls", dict(values, curvature=["on"]), {"spec": d, "extras": base["extras"]}, cache)["store"]
    out = rcb.render(store, "log", 100, 1, cache)
    result = rcb.result_for(store, cache)
    view = rcb.view_from("log", 100, 1, result)
    table = out["step_table"]
    steps = figures.step_grid(result, view)
    assert table["steps"] == steps and table["start"] == len(steps) - 1 and table["key"] == store["key"]
    for k in (0, 7, len(steps) - 1):
        want = figures.marker_patch(result, view, steps[k])
        for panel in step_state.PANELS:
            got = {tuple(path): values_[k] for path, values_ in table["patches"][panel]}
            assert got == want[panel] and got, (panel, k)
    last = steps[-1]
    lay = out["fig3d"]["layout"]
    assert lay["title"]["text"] == f"{table['titles']['fig3d']} · step {last}"
    assert "sliders" not in lay and "updatemenus" not in lay                  # the page's player drives it
    assert out["fig3d"]["frames"] == []                                     # sent after the first draw:
    fr = rcb.landscape_frames(table, store, "log", 100, 1, cache)
    assert fr["id"] == table["landscape"]["id"] and [f["name"] for f in fr["frames"]] == [str(s) for s in steps]
    for panel in step_state.PANELS:
        assert step_state.title_of(out[panel]) == f"{table['titles'][panel]} · step {last}"
    assert table["titles"]["contour"].startswith("Contour of the same plane")
    assert table["titles"]["sharpness"].startswith("Sharpness")
    json.dumps(table)                                                      # what the step-table store holds


def test_the_3d_figure_comes_without_frames_and_landscape_frames_gives_the_same_figures_frames(small, cache):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    out = rcb.render(store, "sqrt", 100, 1.5, cache)
    table = out["step_table"]
    assert out["fig3d"]["frames"] == [] and table["landscape"]["coloured"] is False
    got = rcb.landscape_frames(table, store, "sqrt", 100, 1.5, cache)
    result = rcb.result_for(store, cache)
    full = figures.animated_landscape(result, rcb.view_from("sqrt", 100, 1.5, result))
    want = json.loads(full.to_json())["frames"]
    assert got["id"] == table["landscape"]["id"] and json.loads(json.dumps(got["frames"])) == want
    assert len(want) == len(table["steps"]) and want[0]["data"][0]["x"]["dtype"] == "f4"    # float32, base64
    # frames for another view than the figure's (a newer render will ask for its own), or without a table: none
    assert rcb.landscape_frames(table, store, "log", 100, 1.5, cache) is no_update
    assert rcb.landscape_frames(None, store, "sqrt", 100, 1.5, cache) is no_update
    assert rcb.landscape_frames(table, store, "sqrt", 20, 1.5, cache) is no_update         # a bad view option
