"""Panels that read (issue 16): layout facts of the figures that the browser test (tests/visualizer/browser/
test_text_overlap_browser.py) cannot measure, and the label placement the figures rely on.

The 3D scene's axis titles and tick labels are drawn in WebGL (not in the DOM): their titles must be short, a
unit in parentheses at most, or the β title runs into the height axis' title at the app's camera. Titles keep
their subtitle apart (the app appends " · step N" to the title's text). The contour's end labels stay inside the
plot and apart at every step, from the app's narrowest contour panel to its widest; the sharpness panel's
threshold values sit right of the plot, a line apart.
"""
import numpy as np
import pytest

import core
from visualizer import figures
from visualizer.figures import labels
from visualizer.figures import landscape as L
from visualizer.figures.curvature import LABEL_FONT, SHARP_MARGIN
from visualizer.plotdata import panels as P
from visualizer.plotdata import view as V
from visualizer.plotdata.view import ViewOptions

AXIS_TITLE_MAX = 17          # characters: "log10(train loss)"; "β (unit direction, Euclidean)" (29) ran into it
PLOTS = [(240, 300), (820, 300)]     # the contour's plot area in the app, narrowest and widest (px)


@pytest.fixture(scope="module")
def four():
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"].update(steps=400, record_every=10)
    d["grid"].update(resolution=15)
    return core.run_experiment(d)


@pytest.mark.parametrize("method", ["pca", "random", "interpolation"])
def test_3d_axis_titles_are_short_and_say_their_unit(four_pca, four_random, method):
    plane = type(four_pca.plane)(four_pca.plane.center, four_pca.plane.d1, four_pca.plane.d2, method)
    for moving in (False, True):
        ua, ub = V.axis_units(plane, moving=moving)
        for sym, unit in (("α", ua), ("β", ub)):
            title = f"{sym} ({unit})"
            assert len(title) <= AXIS_TITLE_MAX, title
    fig = figures.animated_landscape(four_random if method == "random" else four_pca, ViewOptions(n_frames=3))
    sc = fig.layout.scene
    for ax in (sc.xaxis, sc.yaxis, sc.zaxis):
        assert 0 < len(ax.title.text) <= AXIS_TITLE_MAX and "<br>" not in ax.title.text
    assert sc.xaxis.title.text.startswith("α (") and sc.yaxis.title.text.startswith("β (")
    for scale in ("linear", "sqrt", "log"):                  # every height scale's z title
        f = figures.animated_landscape(four_pca, ViewOptions(n_frames=3, scale=scale))
        assert len(f.layout.scene.zaxis.title.text) <= AXIS_TITLE_MAX
    assert dict(sc.camera.eye.to_plotly_json()) == L.CAMERA_EYE          # the camera these were checked at


def test_titles_keep_their_subtitle_on_a_line_of_its_own(four):
    land = figures.animated_landscape(four, ViewOptions(n_frames=3))
    contour = figures.contour_figure(four, ViewOptions())
    curves = figures.curves_figure(four, ViewOptions())
    sharp = figures.sharpness_figure(four, ViewOptions())
    for fig in (land, contour, curves, sharp):
        t = fig.layout.title
        assert t.text and "<br>" not in t.text and "<sup>" not in t.text      # " · step N" goes on this line
        assert t.yref == "container" and t.yanchor == "top" and t.pad.t >= 30      # under the modebar's row
    assert "uncentred PCA" in land.layout.title.subtitle.text
    assert contour.layout.title.subtitle.text == f"colour: {V.height(four.surface, ViewOptions())[1]}"
    # the top margin holds the title's row (pad + a line) and the subplot titles' two lines (13 px font)
    assert curves.layout.margin.t >= curves.layout.title.pad.t + 1.3 * 14 + 2 * 1.3 * 13
    assert contour.layout.margin.t >= contour.layout.title.pad.t + 1.3 * 14 + 1.3 * 11


def _boxes(fig, result, n):
    """Estimated px boxes (x0, y0, x1, y1) of the contour's n end labels in each of PLOTS."""
    a0, a1, b0, b1 = result.alphas[0], result.alphas[-1], result.betas[0], result.betas[-1]
    out = {}
    for w, h in PLOTS:
        out[(w, h)] = []
        for k in range(n):
            t = fig.data[L._contour_marker(n, k)]
            if not t.text[0]:                       # its run's name is on a nearby run's label
                continue
            x = (t.x[0] - a0) / (a1 - a0) * w
            y = (t.y[0] - b0) / (b1 - b0) * h
            gap = t.marker.size / 2 + 3
            out[(w, h)].append(labels.label_box(x, y, t.textposition, labels.text_size(t.text[0], L.LABEL_FONT), gap))
    return out


def test_contour_end_labels_stay_inside_the_plot_and_apart_at_every_step(four):
    n = len(four.trajectories)
    steps = figures.step_grid(four, ViewOptions())
    for step in steps[:: max(1, len(steps) // 12)] + [steps[-1]]:
        fig = figures.contour_figure(four, ViewOptions(), step=step)
        shown = " ".join(fig.data[L._contour_marker(n, k)].text[0] for k in range(n))
        assert all(lab in shown for lab in four.trajectories), (step, shown)     # every run named once
        for (w, h), boxes in _boxes(fig, four, n).items():
            for i, b in enumerate(boxes):
                assert b[0] >= -1 and b[2] <= w + 1 and b[1] >= -1 and b[3] <= h + 1, (step, w, i, b)
                for c in boxes[i + 1:]:
                    ow = min(b[2], c[2]) - max(b[0], c[0])
                    oh = min(b[3], c[3]) - max(b[1], c[1])
                    assert ow <= -2 or oh <= -2, (step, w, b, c)                 # 2 px apart at least
        # the app moves the labels with the markers: the patch carries each one's position at that step
        patch = figures.marker_patch(four, ViewOptions(), step)["contour"]
        for k in range(n):
            i = L._contour_marker(n, k)
            assert patch[("data", i, "textposition")] == fig.data[i].textposition
            assert patch[("data", i, "text")] == list(fig.data[i].text)


def test_place_labels_keeps_four_labels_at_one_point_apart():
    pos = labels.place_labels([(0.5, 0.5)] * 4, ["SGD", "LR annealing", "large LR", "momentum"], PLOTS)
    assert len(set(pos)) == 4
    near_edge = labels.place_labels([(0.97, 0.5), (0.02, 0.97)], ["LR annealing", "large LR"], PLOTS)
    assert near_edge[0].endswith("left") and near_edge[1].startswith("bottom") and near_edge[1].endswith("right")


def test_runs_at_one_point_share_one_label_with_every_name(four):
    start = figures.contour_figure(four, ViewOptions(), step=0)            # every run at its initial weights
    n = len(four.trajectories)
    texts = [start.data[L._contour_marker(n, k)].text[0] for k in range(n)]
    assert texts[1:] == [""] * (n - 1)
    assert [t.split(">")[1].split("<")[0] for t in texts[0].split("<br>")] == list(four.trajectories)
    assert labels.clusters([(0.5, 0.5), (0.51, 0.5), (0.9, 0.1)], (240, 300), near=14) == [[0, 1], [2]]


def test_stack_apart_moves_close_labels_a_gap_apart_and_keeps_them_under_the_top():
    ys = np.array([100.0, 103.0, 20.0, 198.0])
    sh = labels.stack_apart(ys, gap=15, top=200)
    new = np.sort(ys + sh)
    assert np.all(np.diff(new) >= 15 - 1e-9) and new[-1] <= 200
    assert sh[2] == 0                                          # a label with room stays where it is


def test_threshold_values_sit_right_of_the_plot_a_line_apart(four):
    fig = figures.sharpness_figure(four, ViewOptions())
    notes = [a for a in fig.layout.annotations if ": " in a.text]
    assert len(notes) == len(four.trajectories)
    for a in notes:
        assert a.xref == "x domain" and a.x == 1 and a.xanchor == "left"       # outside the plot: nothing crosses
    right = max(labels.text_size(a.text, LABEL_FONT)[0] for a in notes)
    assert fig.layout.margin.r >= right + 4                                     # ... and inside the figure
    # their heights in px on the plot's height inside its margins, the axis spanning the values drawn: at least
    # a line apart (the browser test measures the drawn ones)
    lo, hi = np.log10(P.sharpness_range(P.sharpness_data(four)))
    plot_h = fig.layout.height - SHARP_MARGIN["t"] - SHARP_MARGIN["b"]
    px = sorted((a.y - lo) / (hi - lo) * plot_h + a.yshift for a in notes)
    assert np.min(np.diff(px)) >= labels.LINE * LABEL_FONT
