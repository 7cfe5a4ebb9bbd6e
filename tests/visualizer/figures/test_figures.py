"""visualizer.figures.landscape: pure figure builders, called directly."""
import copy
import json

import numpy as np
import plotly.graph_objects as go
import pytest

import core
from visualizer import figures
from visualizer.figures import landscape as figures_landscape
from visualizer.plotdata import frames
from visualizer.plotdata import view
from visualizer.plotdata.style import legend_name
from visualizer.plotdata.view import ViewOptions
from tests.helpers import trace, traces
from visualizer.errors import PanelUnavailable


def _validated(fig):
    """Round-trip through plotly's validators (the builders skip validation for speed)."""
    return go.Figure(fig.to_dict())


def test_landscape_has_one_surface_and_a_trail_and_ball_per_optimizer(small_result):
    fig = figures.animated_landscape(small_result, ViewOptions())
    _validated(fig)
    n = len(small_result.trajectories)
    assert [t.type for t in fig.data] == ["surface"] + ["scatter3d"] * (2 * n)
    assert [t.legendgroup for t in traces(fig, mode="lines")] == list(small_result.trajectories)
    rows = {r["label"]: r["in_plane"] for r in small_result.summary()}
    # one legend text per run, from style.legend_name: the label, "failed at N" when failed, the in-plane share
    want = [legend_name(lab, [view.failed_note(small_result, lab), f"in plane {frames.share_text(x)}"])
            for lab, x in rows.items()]
    assert [t.name for t in traces(fig, mode="lines")] == want
    assert all(n.endswith(f"in plane {frames.share_text(x)})") for n, x in zip(want, rows.values()))
    assert trace(fig, "surface").z.shape == small_result.surface.shape
    assert fig.layout.uirevision and fig.layout.scene.uirevision


def test_frames_update_only_path_traces_and_trails_grow(small_result):
    v = ViewOptions(n_frames=12)
    fig = figures.animated_landscape(small_result, v)
    n = len(small_result.trajectories)
    steps = view.animation_steps(small_result, 12)
    assert 2 <= len(fig.frames) <= 12
    assert [f.name for f in fig.frames] == [str(int(s)) for s in steps]
    for f in fig.frames:
        assert list(f.traces) == list(range(1, 1 + 2 * n))
        assert all(t.type == "scatter3d" for t in f.data)
    first, last = fig.frames[0], fig.frames[-1]
    lab = list(small_result.trajectories)[0]
    trail_of = {i: t for i, t in zip(last.traces, last.data)}
    i_trail, i_ball = _path_index(fig, lab)
    assert len(dict(zip(first.traces, first.data))[i_trail].x) < len(trail_of[i_trail].x)
    # the ball of the last frame is at the projection of the last recorded weights
    pr = small_result.paths[lab]
    assert trail_of[i_ball].x[0] == pytest.approx(pr.alpha[-1], rel=1e-5, abs=1e-6)
    assert trail_of[i_ball].y[0] == pytest.approx(pr.beta[-1], rel=1e-5, abs=1e-6)
    # play / pause and a slider over the same frames are built into the figure
    assert [b.label for b in fig.layout.updatemenus[0].buttons][0].endswith("Play")
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)


def _path_index(fig, lab):
    """Trace indices of run ``lab``'s trail and ball in the 3D figure (frames address traces by index)."""
    data = list(fig.data)
    trail = next(i for i, t in enumerate(data) if t.legendgroup == lab and t.mode == "lines")
    ball = next(i for i, t in enumerate(data) if t.legendgroup == lab and t.mode != "lines")
    return trail, ball


def test_balls_and_trails_are_drawn_from_the_frame_model_and_hover_has_both_losses(small_result):
    v = ViewOptions(n_frames=9)
    fig = figures.animated_landscape(small_result, v)
    fm = frames.build_frames(small_result, v)
    assert [f.name for f in fig.frames] == [str(int(s)) for s in fm.steps]
    for lab, p in fm.paths.items():
        i_trail, i_ball = _path_index(fig, lab)
        for k, f in enumerate(fig.frames):
            by_index = dict(zip(f.traces, f.data))
            trail, ball = by_index[i_trail], by_index[i_ball]
            e = p.ends[k]
            np.testing.assert_array_equal(ball.z, np.float32(p.height[e:e + 1]))
            np.testing.assert_array_equal(trail.z, np.float32(p.height[:e + 1]))
    lab = list(small_result.trajectories)[1]
    pr = small_result.paths[lab]
    ball = fig.data[_path_index(fig, lab)[1]]
    step, surf_loss, true_loss = ball.customdata[0]
    assert step == pr.steps[-1]
    assert true_loss == pytest.approx(pr.loss[-1], rel=1e-5)
    assert surf_loss == pytest.approx(pr.surface_loss[-1], rel=1e-5)
    assert "true loss" in ball.hovertemplate[0] and "surface loss" in ball.hovertemplate[0]


@pytest.mark.parametrize("scale,word", [("linear", "train loss"), ("log", "log10"), ("sqrt", "sqrt")])
def test_height_scale_is_labelled_on_axis_and_colorbar(small_result, scale, word):
    v = ViewOptions(scale=scale, clip_percentile=95, exaggerate=2.0)
    fig = figures.animated_landscape(small_result, v)
    title = fig.layout.scene.zaxis.title.text
    assert word in title and "p95" in title and "x2" in title
    assert trace(fig, "surface").colorbar.title.text == title


def test_subset_of_optimizers(small_result):
    labs = list(small_result.trajectories)[:2]
    fig = figures.animated_landscape(small_result, ViewOptions(optimizers=labs))
    assert len(fig.data) == 1 + 2 * 2
    with pytest.raises(ValueError, match="optimizers"):
        figures.animated_landscape(small_result, ViewOptions(optimizers=["nope"]))


def test_moving_mode_frames_replace_the_surface(small_moving_result):
    r = small_moving_result
    fig = figures.animated_landscape(r, ViewOptions(moving=True))
    _validated(fig)
    assert len(fig.frames) == len(r.moving.steps)
    assert list(fig.frames[0].traces)[0] == 0 and fig.frames[0].data[0].type == "surface"
    assert trace(fig, "surface").z.shape == r.moving.surfaces[0].shape
    assert not np.allclose(trace(fig.frames[0], type="surface").z, trace(fig.frames[-1], type="surface").z)
    # without view.moving the same result draws the static plane
    static = figures.animated_landscape(r, ViewOptions())
    assert trace(static, "surface").z.shape == r.surface.shape


@pytest.mark.parametrize("moving", [False, True])
def test_the_frames_alone_are_the_figures_frames_and_the_figure_without_them_is_the_rest(small_result,
                                                                                          small_moving_result, moving):
    r, v = (small_moving_result, ViewOptions(moving=True)) if moving else (small_result, ViewOptions(scale="sqrt"))
    full = json.loads(figures.animated_landscape(r, v).to_json())
    alone = figures.landscape_frames(r, v)            # the app sends these after the figure without them
    got = json.loads(json.dumps(alone))
    for f in got:                                     # plotly's validator spells a named colour scale out
        for t in f["data"]:
            if isinstance(t.get("colorscale"), str):
                t["colorscale"] = [list(c) for c in go.Surface(colorscale=t["colorscale"]).colorscale]
    assert got == full.pop("frames")
    assert json.loads(figures.animated_landscape(r, v, frames=False).to_json()) == full
    z = alone[0]["data"][0]["z"] if moving else None  # a moving frame's surface: a 2-D typed array with its shape
    assert z is None or (z["dtype"] == "f4" and z["shape"] == ", ".join(map(str, r.moving.surfaces[0].shape)))


def test_json_ready_writes_arrays_as_plotly_does():
    arrays = {"a": np.arange(3, dtype=np.float32), "b": [np.ones((2, 2)), np.array([True, False])],
              "c": np.zeros(0, dtype=np.float32), "d": "text"}
    want = go.Figure(go.Scatter(x=arrays["a"], y=arrays["b"][0][0])).to_plotly_json()["data"][0]
    got = figures_landscape.json_ready(copy.deepcopy(arrays))
    assert got["a"] == want["x"] and got["b"][0]["shape"] == "2, 2" and got["b"][0]["dtype"] == "f8"
    assert got["b"][1] == [True, False] and got["c"] == [] and got["d"] == "text"


def test_contour_and_marker_positions(small_result):
    v = ViewOptions()
    fig = figures.contour_figure(small_result, v, step=50)
    _validated(fig)
    n = len(small_result.trajectories)
    assert len(traces(fig, type="contour")) == 1 and len(fig.data) == 1 + 2 * n
    pos = figures_landscape.marker_positions(small_result, v, 50)
    named = []
    for lab in small_result.trajectories:
        marker = trace(fig, lab, mode="markers+text")
        assert marker.x[0] == pytest.approx(pos[lab][0]) and len(marker.text) == 1
        named += [n.split(">")[1].split("<")[0] if ">" in n else n for n in marker.text[0].split("<br>") if n]
        assert pos[lab][2] <= 50
    assert sorted(named) == sorted(small_result.trajectories)     # each end labelled once (close ones share one)


def _apply(fig_dict, updates):
    """What the app does with a patch (the same function builds the Dash Patch)."""
    from visualizer.app.render_callbacks import apply_updates
    apply_updates(fig_dict, updates)


def test_marker_patch_moves_the_contour_markers_and_step_lines(small_result):
    """Applied to the figures at one step, the patch gives the figures drawn at another."""
    v = ViewOptions()
    patch = figures.marker_patch(small_result, v, 120)
    contour = figures.contour_figure(small_result, v, step=40).to_plotly_json()
    curves = figures.curves_figure(small_result, v, step=40).to_plotly_json()
    _apply(contour, patch["contour"])
    _apply(curves, patch["curves"])
    want_c = figures.contour_figure(small_result, v, step=120).to_plotly_json()
    want_k = figures.curves_figure(small_result, v, step=120).to_plotly_json()
    n = len(small_result.trajectories)
    for i in range(1 + n, 1 + 2 * n):
        assert list(contour["data"][i]["x"]) == list(want_c["data"][i]["x"])
        assert list(contour["data"][i]["y"]) == list(want_c["data"][i]["y"])
    assert curves["layout"]["shapes"] == want_k["layout"]["shapes"]
    assert {p[0] for p in patch["contour"]} == {"data"} and {p[0] for p in patch["curves"]} == {"layout"}


def test_curves_have_a_step_marker(small_result):
    fig = figures.curves_figure(small_result, ViewOptions(), step=120)
    _validated(fig)
    assert fig.layout.shapes[0].x0 == 120 and fig.layout.shapes[1].x0 == 120
    assert len(fig.data) == 4 * len(small_result.trajectories) + 1          # and the target loss's line
    target = fig.data[-1]
    assert target.name == f"target {small_result.spec.training.target_loss:g}" and target.line.dash == "dot"
    assert list(target.y) == [small_result.spec.training.target_loss] * 2
    assert fig.layout.yaxis.type == "log"


def test_loss_curves_are_drawn_from_every_step_with_the_recorded_frames_marked(small_result):
    fig = figures.curves_figure(small_result, ViewOptions())
    steps = small_result.spec.training.steps
    for i, (lab, tr) in enumerate(small_result.trajectories.items()):
        line, marks = fig.data[4 * i], fig.data[4 * i + 1]
        assert line.mode == "lines" and line.name == lab
        assert len(line.x) == len(line.y) == steps + 1                       # every step 0..steps
        np.testing.assert_array_equal(line.y, np.float32(tr.loss_history))
        assert marks.mode == "markers" and marks.legendgroup == lab
        np.testing.assert_array_equal(marks.x, np.float32(tr.steps))       # the recorded frames
        np.testing.assert_array_equal(marks.y, np.float32(tr.loss))
    assert "per step" in fig.layout.annotations[0].text


def test_a_spike_between_recorded_frames_shows_on_the_curve(small_result):
    """A run whose loss jumps at an unrecorded step: the curve has the jump, the recorded frames do not."""
    r = copy.copy(small_result)
    lab = r.labels[0]
    tr = copy.copy(r.trajectories[lab])
    hist = np.array(tr.loss_history, dtype=np.float64)
    unrecorded = int(np.setdiff1d(np.arange(len(hist)), tr.steps)[3])
    hist[unrecorded] = 10 * float(np.max(tr.loss))
    tr.loss_history = hist
    r.trajectories = dict(r.trajectories, **{lab: tr})
    fig = figures.curves_figure(r, ViewOptions())
    assert float(np.max(fig.data[0].y)) == pytest.approx(hist[unrecorded], rel=1e-6)
    assert float(np.max(fig.data[1].y)) < hist[unrecorded] / 5


def test_summary_records(small_result):
    rows = figures.summary_records(small_result)
    assert [r["label"] for r in rows] == list(small_result.trajectories)
    for r in rows:
        assert {k for k, _ in figures.SUMMARY_COLUMNS} <= set(r)
        assert 0 <= r["in_plane"] <= 1
        json.dumps(r)                                   # JSON-able for the DataTable


def test_html_is_self_contained_and_animates(small_result):
    fig = figures.animated_landscape(small_result, ViewOptions(n_frames=5))
    html = fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False)
    assert "<script src=\"http" not in html and "Plotly.newPlot" in html and "addFrames" in html


def test_default_preset_figure_is_small_enough(shared_cache):
    _, result, _ = shared_cache.get_or_compute(core.ExperimentSpec.preset("four_optimizers"))
    fig = figures.animated_landscape(result, ViewOptions())
    assert len(fig.frames) <= 100
    assert figures.figure_json_size(fig) < 3 * 2**20


# ------------------------------------------------------------------ curvature panels
from visualizer.figures import curvature as CF  # noqa: E402
from visualizer.plotdata import panels as panel_data  # noqa: E402


def _no_curvature(result):
    import dataclasses
    trs = {l: dataclasses.replace(t, sharpness=None, min_eig=None, threshold=None)
           for l, t in result.trajectories.items()}
    return dataclasses.replace(result, trajectories=trs)


def test_sharpness_figure_one_solid_and_one_dashed_trace_per_optimizer_on_a_log_axis(small_result):
    fig = figures.sharpness_figure(small_result, ViewOptions(), step=100)
    _validated(fig)
    labels = list(small_result.trajectories)
    assert len(fig.data) == CF.SHARP_TRACES * len(labels)
    visible = [t for t in fig.data if t.visible is not False]
    assert [t.name for t in visible if t.line.dash is None] == labels                 # solid: the sharpness
    dashed = [t for t in visible if t.line.dash == "dash"]
    assert [t.legendgroup for t in dashed] == labels                                  # dashed: the threshold ...
    assert [t.line.color for t in dashed] == [view.color_of(small_result, l) for l in labels]   # ... same colour
    mins = [t for t in fig.data if t.name.endswith("|λmin|")]
    assert len(mins) == len(labels) and all(t.line.dash == "dot" and t.visible is False for t in mins)   # hidden
    assert fig.layout.yaxis.type == "log" and fig.layout.shapes[0].x0 == 100
    tr = small_result.trajectories["large LR"]
    np.testing.assert_allclose(trace(fig, "large LR").y, np.float32(tr.sharpness), rtol=1e-6)
    np.testing.assert_allclose(trace(fig, "large LR threshold").y, np.float32(tr.threshold), rtol=1e-6)
    shown = figures.sharpness_figure(small_result, ViewOptions(), min_eig=True)
    assert all(t.visible is True for t in shown.data if t.name.endswith("|λmin|"))


def test_sharpness_hover_says_when_a_frame_is_above_its_threshold(small_result):
    fig = figures.sharpness_figure(small_result, ViewOptions())
    big = trace(fig, "large LR")                                      # large LR: lr 6, threshold 2 / 6
    tr = small_result.trajectories["large LR"]
    above = tr.sharpness >= tr.threshold
    assert above[0] and not above.all()                             # starts above it (0.56 > 0.333), then not
    for t, a in zip(big.text, above):
        assert (panel_data.ABOVE in t) == bool(a)
    assert "the step overshoots along the sharpest direction" in panel_data.ABOVE
    assert all(t == "" for t in trace(fig, "SGD").text)              # SGD at lr 0.07 (threshold 28.6): never
    assert "%{text}" in big.hovertemplate and "2 / lr" in big.hovertemplate


def test_adam_is_labelled_preconditioned(small_adam_result):
    fig = figures.sharpness_figure(small_adam_result, ViewOptions())
    sgd, adam = trace(fig, "SGD"), trace(fig, "Adam (preconditioned)")       # the legend says which is
    assert "preconditioned sharpness" in adam.hovertemplate and "preconditioned" not in sgd.hovertemplate
    assert "(2 + 2β₁) / ((1 − β₁) lr)" in adam.hovertemplate
    assert len(fig.layout.yaxis.title.text) <= 30                     # a short y title: never cut at 360 px
    assert "preconditioned" in trace(fig, "Adam |λmin|").hovertemplate     # its bottom eigenvalue too


def test_marker_patch_moves_the_sharpness_step_line(small_result):
    v = ViewOptions()
    patch = figures.marker_patch(small_result, v, 150)
    fig = figures.sharpness_figure(small_result, v, step=20).to_plotly_json()
    _apply(fig, patch["sharpness"])
    want = figures.sharpness_figure(small_result, v, step=150).to_plotly_json()
    assert fig["layout"]["shapes"] == want["layout"]["shapes"]
    assert figures.marker_patch(_no_curvature(small_result), v, 150)["sharpness"] == {}


def test_min_eig_patch_shows_the_dotted_traces(small_result):
    fig = figures.sharpness_figure(small_result, ViewOptions()).to_plotly_json()
    _apply(fig, figures.min_eig_patch(small_result, ViewOptions(), True))
    want = figures.sharpness_figure(small_result, ViewOptions(), min_eig=True).to_plotly_json()
    assert [t.get("visible") for t in fig["data"]] == [t.get("visible") for t in want["data"]]


def test_sharpness_of_a_run_without_curvature_is_a_named_error(small_result):
    with pytest.raises(PanelUnavailable, match="no curvature.*curvature.enabled true"):
        figures.sharpness_figure(_no_curvature(small_result), ViewOptions())


def test_slices_figure_three_slices_each_beside_its_dashed_quadratic(small_result):
    labels = list(small_result.trajectories)
    fig = figures.slices_figure(small_result, ViewOptions(), step=100, label="large LR")
    _validated(fig)
    axes = {(t.xaxis or "x") for t in fig.data}
    assert axes == {"x", "x2", "x3"}
    for ax in ("x", "x2"):                                             # (a), (b): loss, quadratic, marker(s)
        ts = [t for t in fig.data if (t.xaxis or "x") == ax]
        assert [t.mode for t in ts] == ["lines", "lines", "markers"]
        assert ts[0].line.dash is None and ts[1].line.dash == "dash"
        assert ts[0].line.color == ts[1].line.color == view.color_of(small_result, "large LR")
        i0 = int(np.argmin(np.abs(ts[0].x)))                          # t = 0: the model equals the loss
        assert ts[0].x[i0] == 0 and ts[0].y[i0] == pytest.approx(ts[1].y[i0], rel=1e-5)
    c = [t for t in fig.data if t.xaxis == "x3"]
    assert [t.name for t in c if t.mode == "lines" and t.line.dash is None] == labels          # one line per run
    assert len([t for t in c if t.mode == "lines" and t.line.dash == "dash"]) == len(labels)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0].startswith("(a) top Hessian eigenvector: λ₁ =") and "lr 6" in titles[1]
    assert "step 100 of large LR" in fig.layout.title.text
    other = figures.slices_figure(small_result, ViewOptions(), step=10, label="large LR")
    first = dict(mode="lines", xaxis="x", name="large LR")                    # (a)'s loss line
    assert not np.array_equal(trace(other, **first).y, trace(fig, **first).y)   # (a) moves with the step


def test_slices_of_a_run_without_data_is_a_named_error(small_result):
    import dataclasses
    old = dataclasses.replace(small_result, X_train=None, y_train=None)
    with pytest.raises(PanelUnavailable, match="no training data"):
        figures.slices_figure(old, ViewOptions(), step=10)


def test_summary_has_the_curvature_columns(small_result):
    rows = figures.summary_records(small_result)
    keys = [k for k, _ in figures.SUMMARY_COLUMNS]
    assert {"peak_sharpness", "sharpness_ratio", "above_threshold"} <= set(keys)
    big = rows[2]
    peak, ratio, above = small_result.trajectories["large LR"].curvature_summary()
    assert big["peak_sharpness"] == round(peak, 4) and big["above_threshold"] == round(above, 4)
    assert rows[0]["above_threshold"] == 0
    no = figures.summary_records(_no_curvature(small_result))
    assert all(r["peak_sharpness"] is None for r in no)


def test_a_hessian_plane_says_its_eigenvalues(small_result):
    from tests.helpers import small_spec_dict
    d = small_spec_dict()
    d["plane"]["method"] = "hessian"
    d["curvature"]["enabled"] = False
    r = core.run_experiment(d)
    lam = r.plane.eigenvalues
    fig = figures.animated_landscape(r, ViewOptions(n_frames=3))
    assert f"λ₁ = {lam[0]:.3g}, λ₂ = {lam[1]:.3g}" in fig.layout.title.subtitle.text
    assert "hessian plane (top two Hessian eigenvectors" in fig.layout.title.subtitle.text
    from visualizer.app.render_callbacks import explain_numbers
    assert f"λ₁ = {lam[0]:.4g}" in explain_numbers(r) and "Curvature of each run" not in explain_numbers(r)


def test_threshold_values_are_written_on_their_lines_and_log_ticks_read(small_result):
    fig = figures.sharpness_figure(small_result, ViewOptions())
    notes = {a.text: a for a in fig.layout.annotations}
    assert "SGD: 28.6" in notes                                        # 2 / 0.07, the value of the dashed line
    tr = small_result.trajectories["large LR"]
    want = f"large LR: {tr.threshold[-1]:.3g}"
    assert want in notes and notes[want].y == pytest.approx(np.log10(tr.threshold[-1]))   # on the log axis
    texts = [t for t in fig.layout.yaxis.ticktext if t]
    assert texts and all("µ" not in t and "m" not in t for t in texts)   # plain numbers, no SI prefixes
    labelled = [float(t) for t in texts]
    assert len(labelled) <= 12 and labelled == sorted(labelled)


def test_each_run_has_its_own_colour_dash_and_end_symbol_in_every_figure(small_result):
    labels = list(small_result.trajectories)
    want = {lab: view.style_of(small_result, lab) for lab in labels}
    assert len({s.color for s in want.values()}) == len(labels)
    land = figures.animated_landscape(small_result, ViewOptions(n_frames=4))
    contour = figures.contour_figure(small_result, ViewOptions())
    curves = figures.curves_figure(small_result, ViewOptions())
    for lab, st in want.items():
        # the landscape's legend names carry notes ("SGD (in plane 43%)"): select by the run's legendgroup
        trail = trace(land, legendgroup=lab, mode="lines")
        assert trail.line.dash == st.dash and trail.line.color == st.color
        assert trace(land, legendgroup=lab, mode="lines+markers").marker.symbol[0] == st.symbol
        assert trace(contour, lab, mode="lines").line.dash == st.dash
        assert trace(contour, lab, mode="markers+text").marker.symbol == st.symbol
        loss = [t for t in traces(curves, lab) if t.showlegend is not False]
        assert len(loss) == 1 and loss[0].line.dash == st.dash and loss[0].line.color == st.color
        named = [t for f in (land, contour, curves) for t in f.data
                 if t.name == lab or (t.name or "").startswith(lab + " (")]          # the run's name, notes too
        assert len(named) > 3 and {t.legendgroup for t in named} == {lab}
