"""visualizer.plotdata.frames: the one frame model both renderers draw (steps, surfaces, ball heights, losses)."""
import numpy as np
import pytest

import core
from core.landscape import loss_at, moving_plane
from tests.helpers import frame_trace
from visualizer import figures
from visualizer.plotdata import frames
from visualizer.plotdata import view as V
from visualizer.export import ExportOptions
from visualizer.export.scene import Renderer, build_scene
from visualizer.plotdata.view import ViewOptions


def _corners_max(fm, p):
    """Highest corner of the drawn cell under every point, by plain indexing (points off the grid: edge cell)."""
    out = np.empty(len(p.alpha))
    surf = np.zeros(len(p.alpha), int) if not fm.moving else np.arange(len(p.alpha))
    for n, (a, b, s) in enumerate(zip(p.alpha, p.beta, surf)):
        i = min(max(int(np.sum(fm.alphas <= a)) - 1, 0), len(fm.alphas) - 2)
        j = min(max(int(np.sum(fm.betas <= b)) - 1, 0), len(fm.betas) - 2)
        out[n] = fm.heights[s, j:j + 2, i:i + 2].max()
    return out


@pytest.mark.parametrize("moving", [False, True])
@pytest.mark.parametrize("scale", ["linear", "log", "sqrt"])
def test_heights_follow_the_one_rule_and_are_never_below_the_drawn_cell(small_moving_result, moving, scale):
    v = ViewOptions(scale=scale, clip_percentile=97, exaggerate=2.0, moving=moving)
    fm = frames.build_frames(small_moving_result, v)
    raw = small_moving_result.moving.surfaces if moving else small_moving_result.surface
    clip = V.clip_value(raw, v)
    assert fm.lift > 0
    for p in fm.paths.values():
        top = _corners_max(fm, p)
        assert np.all(p.height >= top + fm.lift * 0.999)                  # never hidden by the faces
        np.testing.assert_allclose(p.height, np.maximum(V.point_height(p.surface_loss, v, clip), top) + fm.lift)


def test_a_point_above_its_cell_sits_at_its_exact_loss():
    H = np.array([[0.0, 1.0], [1.0, 2.0]])
    top = frames.cell_top([0, 1], [0, 1], H, np.array([0.5, 5.0, -3.0]), np.array([0.5, 0.5, -1.0]))
    np.testing.assert_array_equal(top, [2.0, 2.0, 2.0])                  # off the grid: the edge cell
    v = ViewOptions()
    h = frames.ball_height(np.array([3.0, 1.0, np.nan]), top, v, clip=10.0, lift=0.1)
    np.testing.assert_allclose(h, [3.1, 2.1, 10.1])                        # non-finite losses: the clip value


def test_cell_top_picks_each_points_own_surface():
    Hs = np.stack([np.zeros((3, 3)), np.full((3, 3), 5.0)])
    top = frames.cell_top([0, 1, 2], [0, 1, 2], Hs, np.array([0.5, 0.5]), np.array([1.5, 1.5]), np.array([1, 0]))
    np.testing.assert_array_equal(top, [5.0, 0.0])


def test_moving_frames_use_the_cores_exact_surface_loss(small_moving_result):
    r = small_moving_result
    mv = r.moving
    ds = core.load_dataset(r.spec.data.name, seed=r.spec.seed)
    net = core.MLP(r.layer_sizes)
    ft = r.trajectories[mv.follow]
    fm = frames.build_frames(r, ViewOptions(moving=True))
    fig = figures.animated_landscape(r, ViewOptions(moving=True))
    for k, s in enumerate(mv.steps):
        fp = moving_plane(net, ft.params[core.model.training.frame_index(ft.steps, s)], r.plane, "filter",
                          r.spec.plane.ignore_bias)
        for i, lab in enumerate(r.trajectories):
            p = mv.paths[lab]
            exact = loss_at(net, ds.X_train, ds.y_train, fp, p["alpha"][k:k + 1], p["beta"][k:k + 1])[0]
            assert p["surface_loss"][k] == pytest.approx(exact, rel=1e-12)
            assert fm.paths[lab].balls("surface_loss")[k] == p["surface_loss"][k]
            ball = frame_trace(fig, fig.frames[k], legendgroup=lab, mode="lines+markers")
            assert ball.customdata[0][1] == pytest.approx(exact, rel=1e-6)   # the hover
    # the followed run sits at the center of its own surface: its surface loss is its true loss
    np.testing.assert_allclose(mv.paths[mv.follow]["surface_loss"], mv.paths[mv.follow]["loss"], rtol=1e-9)


@pytest.mark.parametrize("moving", [False, True])
def test_the_same_step_gives_the_same_ball_in_the_app_and_the_export(small_moving_result, moving):
    r = small_moving_result
    opts = ExportOptions(out="x.gif", frames=7, size=(200, 160), scale="log", moving=moving, progress=False)
    fig = figures.animated_landscape(r, opts.view())
    scene = build_scene(r, opts)
    assert [f.name for f in fig.frames] == [str(int(s)) for s in scene.steps]       # one step grid
    renderer = Renderer(scene, opts)
    try:
        for k in (0, len(scene.steps) // 2, len(scene.steps) - 1):
            renderer.render(k)
            for i, (lab, p) in enumerate(scene.frames.paths.items()):
                plotly_ball = frame_trace(fig, fig.frames[k], legendgroup=lab, mode="lines+markers")
                x, y, z = renderer.balls[i].get_data_3d()
                if p.balls("offgrid")[k]:
                    assert np.isnan(z[0])                                  # the GIF hides balls off the grid
                    continue
                assert (x[0], y[0]) == pytest.approx((plotly_ball.x[0], plotly_ball.y[0]), rel=1e-6, abs=1e-6)
                assert z[0] == pytest.approx(plotly_ball.z[0], rel=1e-6, abs=1e-6)
                assert z[0] == p.balls("height")[k]
    finally:
        renderer.close()


def test_step_grid_comes_from_one_place(small_moving_result):
    r = small_moving_result
    steps, idx = frames.frame_steps(r, ViewOptions(n_frames=12))
    np.testing.assert_array_equal(steps, V.animation_steps(r, 12))
    assert idx is None
    steps, idx = frames.frame_steps(r, ViewOptions(moving=True, n_frames=4))
    assert len(steps) == 4 and idx[0] == 0 and idx[-1] == len(r.moving.steps) - 1
    np.testing.assert_array_equal(steps, r.moving.steps[idx])
    steps, idx = frames.frame_steps(r, ViewOptions(moving=True), steps=[r.moving.steps[2] + 1])
    assert list(idx) == [2]                                                # a still: the surface at or before
    assert figures.step_grid(r, ViewOptions(moving=True)) == [int(s) for s in r.moving.steps]


def test_frames_know_trails_ends_and_flags(small_result):
    fm = frames.build_frames(small_result, ViewOptions(n_frames=10))
    assert fm.trails and not fm.moving and fm.heights.shape == (1,) + small_result.surface.shape
    assert fm.labels == list(small_result.trajectories)
    assert fm.colors == [V.color_of(small_result, lab) for lab in fm.labels]
    for lab, p in fm.paths.items():
        tr = small_result.trajectories[lab]
        np.testing.assert_array_equal(p.ends, [core.model.training.frame_index(tr.steps, s) for s in fm.steps])
        np.testing.assert_array_equal(p.balls("loss"), tr.loss[p.ends])
        assert not p.diverged.any() and not p.offgrid.any()
    still = frames.build_frames(small_result, ViewOptions(), steps=[57])
    assert list(still.steps) == [57] and list(still.paths["SGD"].balls("steps")) == [55]


def test_a_path_without_surface_loss_is_a_named_error(small_result):
    import dataclasses
    pr = dataclasses.replace(small_result.paths["SGD"], surface_loss=None)
    r = dataclasses.replace(small_result, paths={**small_result.paths, "SGD": pr})
    with pytest.raises(ValueError, match="run 'SGD': its path has no surface loss"):
        frames.build_frames(r, ViewOptions())
