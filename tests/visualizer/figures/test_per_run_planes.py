"""Per-run planes ("pca_per_run"): each optimizer on its own PCA plane, side by side, one step control."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from core.landscape.projection import in_plane
from visualizer import figures
from visualizer.export import ExportOptions
from visualizer.export.html import html_figure
from visualizer.export.scene import LandscapePanel, Renderer, build_scene
from visualizer.plotdata import frames
from visualizer.plotdata.view import ViewOptions, animation_steps


def test_each_run_has_its_own_pca_plane_that_holds_most_of_its_path(four_per_run, four_pca):
    r = four_per_run
    assert r.plane.method == "pca" and set(r.per_run) == set(r.labels)
    np.testing.assert_array_equal(r.plane.d1, four_pca.plane.d1)      # the shared plane stays beside them
    shared = {row["label"]: row["in_plane"] for row in four_pca.summary()}
    for lab, pr in r.per_run.items():
        tr = r.trajectories[lab]
        own = in_plane(tr.params, pr.plane)
        assert own >= shared[lab] - 1e-12 and own > 0.95
        D = tr.params - pr.plane.center
        top2 = np.linalg.svd(D, compute_uv=False)[:2]
        assert own == pytest.approx(np.sum(top2 ** 2) / np.sum(D ** 2), abs=1e-9)   # the best plane for it
        assert pr.surface.shape == (len(pr.betas), len(pr.alphas))
        assert pr.path.surface_loss.shape == tr.steps.shape


def test_small_multiples_one_scene_per_run_one_step_control(four_per_run):
    r = four_per_run
    fig = figures.animated_landscape(r, ViewOptions(n_frames=6))
    go.Figure(fig.to_dict())                                          # validates
    n = len(r.labels)
    scenes = [t.scene for t in fig.data]
    assert scenes == [s for i in range(n) for s in ["scene" if i == 0 else f"scene{i + 1}"] * 3]
    assert [t.type for t in fig.data] == ["surface", "scatter3d", "scatter3d"] * n
    assert len(fig.layout.sliders) == 1 and len(fig.layout.updatemenus) == 1
    steps = animation_steps(r, 6)
    assert [f.name for f in fig.frames] == [str(int(s)) for s in steps]
    assert list(fig.frames[0].traces) == [j for i in range(n) for j in (3 * i + 1, 3 * i + 2)]
    for i, lab in enumerate(r.labels):
        pr = r.per_run[lab]
        share = frames.share_text(in_plane(r.trajectories[lab].params, pr.plane))
        assert f"<b>{lab}</b> on its own plane<br>in plane {share}" in fig.layout.annotations[i].text
        ball = fig.frames[-1].data[2 * i + 1]
        assert ball.x[0] == pytest.approx(pr.path.alpha[-1], rel=1e-5, abs=1e-6)
        scene = fig.layout["scene" if i == 0 else f"scene{i + 1}"]
        assert scene.xaxis.range[0] == pytest.approx(pr.alphas[0], rel=1e-6)
    assert "each run on its own PCA plane" in fig.layout.title.text


def test_the_small_multiples_frames_alone_are_the_figures_frames(four_per_run):
    v = ViewOptions(n_frames=6)
    full = json.loads(figures.animated_landscape(four_per_run, v).to_json())
    assert json.loads(json.dumps(figures.landscape_frames(four_per_run, v))) == full.pop("frames")
    assert json.loads(figures.animated_landscape(four_per_run, v, frames=False).to_json()) == full
    # with a curvature colour the app draws the shared plane (visualizer.figures.per_run.landscape)
    shared = figures.landscape_frames(four_per_run, v, coloured=True)
    assert len(shared[0]["traces"]) == 2 * len(four_per_run.labels)


def test_the_html_export_draws_the_small_multiples(four_per_run, tmp_path):
    fig = html_figure(four_per_run, ExportOptions(out=str(tmp_path / "p.html"), frames=4, size=(1600, 500)))
    assert len([k for k in fig.layout.to_plotly_json() if k.startswith("scene")]) == len(four_per_run.labels)


def test_the_matplotlib_export_draws_one_landscape_a_run_on_its_own_plane(four_per_run):
    r = four_per_run
    opts = ExportOptions(out="x.gif", frames=3, size=(1200, 360), progress=False, panels=("landscape", "curves"))
    rend = Renderer(build_scene(r, opts), opts)
    try:
        img = rend.render(len(rend.fm.steps) - 1)
        assert img.shape == (360, 1200, 3)
        lands = [p for p in rend.parts if isinstance(p, LandscapePanel)]
        assert [list(p.fm.paths) for p in lands] == [[lab] for lab in r.labels]
        for p, lab in zip(lands, r.labels):
            pr = r.per_run[lab]
            assert p.plane is pr.plane
            share = frames.share_text(in_plane(r.trajectories[lab].params, pr.plane))
            assert p.legend_texts[0].get_text().startswith(f"{lab} (in plane {share})")
            z = p.balls[0].get_data_3d()[2][0]
            assert z == pytest.approx(p.fm.paths[lab].balls("height")[-1])
        assert "each run on its own PCA plane" in rend.sc.title
    finally:
        rend.close()
