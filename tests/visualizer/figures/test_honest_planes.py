"""Honest planes in the app's figures: each run's in-plane share, the low-share warning, balls at the truth,
units on the axes (issue 15: what the pictures promise, DESIGN.md)."""
import numpy as np
import plotly.graph_objects as go
import pytest

from visualizer import figures
from visualizer.app.render_callbacks import explain_numbers
from visualizer.figures import landscape as L
from visualizer.plotdata import frames
from visualizer.plotdata import view as V
from visualizer.plotdata.view import ViewOptions


def _shares(result):
    return {r["label"]: r["in_plane"] for r in result.summary()}


def test_the_legend_and_table_say_how_much_of_each_path_the_plane_holds(four_pca):
    fig = figures.animated_landscape(four_pca, ViewOptions(n_frames=5))
    go.Figure(fig.to_dict())                                       # validates
    shares = _shares(four_pca)
    names = [t["name"] for t in fig.to_dict()["data"][1::2]]
    assert names == [f"{lab} (in plane {frames.share_text(x)})" for lab, x in shares.items()]
    rows = figures.summary_records(four_pca)
    assert [r["in_plane"] for r in rows] == [round(x, 4) for x in shares.values()]
    assert "in_plane" in dict(figures.SUMMARY_COLUMNS)
    # the PCA plane holds most of every path on this preset: no warning
    assert min(shares.values()) > frames.LOW_IN_PLANE
    assert not fig.layout.annotations


def test_the_random_plane_warns_next_to_the_surface(four_random):
    shares = _shares(four_random)
    assert max(shares.values()) < 0.05
    fig = figures.animated_landscape(four_random, ViewOptions(n_frames=5))
    texts = [a.text for a in fig.layout.annotations]
    assert len(texts) == 1
    for lab, x in shares.items():
        assert f"{frames.share_text(x)} of {lab}'s" in texts[0]
    assert "balls sit on the plane's loss, not the runs'" in texts[0]
    warning = frames.plane_warning(frames.build_frames(four_random, ViewOptions()))
    assert texts[0] == "⚠ " + warning.replace(": ", ":<br>")
    assert fig.layout.scene.xaxis.title.text == "α (× filter norm)"


def test_one_low_run_is_named_alone():
    fm = frames.FrameModel(steps=np.zeros(1), surface_of_frame=np.zeros(1, int), alphas=np.zeros(2),
                           betas=np.zeros(2), surfaces=np.zeros((1, 2, 2)), heights=np.zeros((1, 2, 2)),
                           zrange=(0, 1), zlabel="", lift=0.0, trails=True, follow=None, last_step=0, paths={})
    fm.paths = {"SGD": frames.PathFrames(*(["SGD", "#000"] + [None] * 9), in_plane=0.002),
                "Adam": frames.PathFrames(*(["Adam", "#000"] + [None] * 9), in_plane=0.9)}
    assert frames.plane_warning(fm) == ("this plane shows 0.2% of SGD's path: its ball sits on the plane's loss, "
                                        "not the run's")


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_a_ball_far_from_the_truth_shows_a_hollow_marker_at_the_true_loss(four_random, scale):
    v = ViewOptions(n_frames=6, scale=scale)
    fig = figures.animated_landscape(four_random, v)
    fm = frames.build_frames(four_random, v)
    clip = V.clip_value(four_random.surface, v)
    n_apart = 0
    for i, (lab, p) in enumerate(fm.paths.items()):
        for k, f in enumerate(fig.frames):
            ball = f.data[2 * i + 1]
            e = int(p.ends[k])
            ratio = max(p.loss[e], p.surface_loss[e]) / min(p.loss[e], p.surface_loss[e])
            assert p.apart[e] == (ratio > frames.TRUTH_RATIO)
            assert ball.z[0] == np.float32(p.height[e])               # the ball: on the plane's loss
            if p.apart[e]:
                n_apart += 1
                assert len(ball.z) == 2 and ball.x[1] == ball.x[0] and ball.y[1] == ball.y[0]
                # the second marker: the true loss on the view's height scale
                assert ball.z[1] == np.float32(V.point_height(four_random.paths[lab].loss[e], v, clip))
                assert ball.z[1] == np.float32(p.true_height[e])
            else:
                assert len(ball.z) == 1
    assert n_apart > 0
    ball = fig.data[2]
    assert list(ball.marker.symbol) == ["circle", "circle-open"] and ball.mode == "lines+markers"


def test_axes_say_their_units_and_follow_the_grid_spans(four_pca):
    fig = figures.animated_landscape(four_pca, ViewOptions(n_frames=3))
    sc = fig.layout.scene
    assert sc.xaxis.title.text == "α (unit vector)"
    assert sc.yaxis.title.text == "β (unit vector)"
    sa = four_pca.alphas[-1] - four_pca.alphas[0]
    sb = four_pca.betas[-1] - four_pca.betas[0]
    assert sc.aspectratio.y / sc.aspectratio.x == pytest.approx(sb / sa)
    assert max(sc.aspectratio.x, sc.aspectratio.y) == 1


def test_the_title_says_the_pca_is_uncentred(four_pca):
    fig = figures.animated_landscape(four_pca, ViewOptions(n_frames=3))
    ev = four_pca.plane.explained_variance * 100
    sub = fig.layout.title.subtitle.text                # the plane, under the title
    assert f"uncentred PCA: {ev[0]:.0f}% + {ev[1]:.0f}% of the stacked squared displacement" in sub
    assert "path variance" not in sub
    assert L.variance_text(type(four_pca.plane)(four_pca.plane.center, four_pca.plane.d1, four_pca.plane.d2,
                                                "pca-centered", explained_variance=[0.5, 0.25])).startswith(
        "centred PCA: 50% + 25% of the path variance")


def test_a_moving_landscape_on_a_pca_plane_says_its_directions_were_filter_normalised(small_moving_result):
    r = small_moving_result
    assert r.plane.method == "pca"
    still = figures.animated_landscape(r, ViewOptions(n_frames=3))
    moving = figures.animated_landscape(r, ViewOptions(n_frames=3, moving=True))
    assert "uncentred PCA" in still.layout.title.subtitle.text
    assert "pca directions filter-normalised to each frame's weights" in moving.layout.title.subtitle.text
    assert "PCA:" not in moving.layout.title.subtitle.text and "%" not in moving.layout.title.subtitle.text
    assert moving.layout.scene.xaxis.title.text == "α (× filter norm)"
    # each moving frame has its own plane: no single in-plane share, so no share in the legend
    assert all("in plane" not in (t.name or "") for t in moving.data[1:])


def test_the_table_and_explain_give_the_curvature_beside_the_plane(four_pca):
    rows = four_pca.summary()
    recs = figures.summary_records(four_pca)
    text = explain_numbers(four_pca)
    assert "What the surface cannot show" in text
    for r, rec in zip(rows, recs):
        assert rec["plane_curvature"] == f"{r['curv_d1']:.2g}, {r['curv_d2']:.2g} vs {r['lambda_max']:.3g}"
        assert rec["top_in_plane"] == round(r["top_in_plane"], 4)
        assert f"λmax = {r['lambda_max']:.3g}, {frames.share_text(r['top_in_plane'])} of the top eigenvector" in text
        assert f"{r['label']} {frames.share_text(r['in_plane'])}" in text
