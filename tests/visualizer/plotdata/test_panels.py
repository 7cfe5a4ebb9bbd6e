"""visualizer.plotdata.panels and visualizer.plotdata.slices: what the 2-D panels draw, in the app and the exports."""
import dataclasses

import numpy as np
import pytest

import core
from core.landscape import slices as core_slices
from visualizer.errors import PanelUnavailable
from visualizer.plotdata import panels as P
from visualizer.plotdata import slices as S


def test_sharpness_series_keep_the_computed_frames_and_say_above(small_result):
    series = P.sharpness_data(small_result)
    assert [s.label for s in series] == list(small_result.trajectories)
    for s in series:
        tr = small_result.trajectories[s.label]
        np.testing.assert_array_equal(s.steps, tr.steps)                     # stride 1: every frame
        np.testing.assert_array_equal(s.above, tr.sharpness >= tr.threshold)
        assert not s.preconditioned and s.name == s.label
    assert series[3].rule == "(2 + 2μ) / lr" and series[0].rule == "2 / lr"
    assert series[2].index_at(101) == P.frame_index(series[2].steps, 101)


def test_a_stride_leaves_out_the_skipped_frames(small_result):
    tr = small_result.trajectories["SGD"]
    sharp = tr.sharpness.copy()
    sharp[1::3] = np.nan
    r = dataclasses.replace(small_result, trajectories={"SGD": dataclasses.replace(tr, sharpness=sharp)},
                            paths={"SGD": small_result.paths["SGD"]})
    s, = P.sharpness_data(r)
    assert len(s.steps) == np.isfinite(sharp).sum() and np.isfinite(s.sharpness).all()


def test_preconditioned_runs(small_adam_result):
    sgd, adam = P.sharpness_data(small_adam_result)
    assert adam.preconditioned and adam.name == "Adam (preconditioned)" and not sgd.preconditioned
    assert "preconditioned (P^-1/2 H P^-1/2) for Adam" in P.sharpness_axis_title([sgd, adam])


def test_check_panels_names_why(small_result):
    P.check_panels(small_result, P.PANELS)
    no_data = dataclasses.replace(small_result, X_train=None, y_train=None)
    with pytest.raises(PanelUnavailable) as e:
        P.check_panels(no_data, ["landscape", "slices"])
    assert e.value.panel == "slices" and "no training data" in str(e.value)


def test_step_slices_are_core_slices_at_the_recorded_frame(small_result):
    tr = small_result.trajectories["SGD"]
    st = S.step_slices(small_result, "SGD", step=57)                       # recorded every 5: frame of step 55
    i = list(tr.steps).index(55)
    assert (st.frame, st.step, st.lr) == (i, 55, tr.lr[i])
    net = core.MLP(small_result.layer_sizes)
    want = core_slices.top_eigen_slice(net, small_result.X_train, small_result.y_train, tr.params[i])
    np.testing.assert_allclose(st.eigen.loss, want.loss, rtol=1e-12)
    assert st.eigen.curvature == pytest.approx(tr.sharpness[i], rel=1e-8)   # SGD: the sharpness itself
    assert st.gradient.ts[0] == -0.5 and st.gradient.kind == "gradient step"


def test_the_interpolation_marker_is_where_the_step_projects(small_result):
    lines = S.interpolation_slices(small_result)
    panel = S.slice_panel(small_result, "momentum", 0, lines=lines)
    assert [t for t, _ in panel.at] == pytest.approx([0.0] * 4, abs=1e-12)          # everyone starts at t = 0
    last = S.slice_panel(small_result, "momentum", 200, lines=lines)
    assert [t for t, _ in last.at] == pytest.approx([1.0] * 4, abs=1e-9)             # and ends at t = 1
    (_, y), line = last.at[0], lines[0]
    assert y == pytest.approx(line.slice.loss[np.argmin(np.abs(line.slice.ts - 1))], rel=1e-9)


def test_panels_at_computes_each_recorded_frame_once(small_result, monkeypatch):
    calls = []
    real = S.step_slices
    monkeypatch.setattr(S, "step_slices", lambda *a: calls.append(a[2]) or real(*a))
    panels = S.panels_at(small_result, "SGD", [0, 1, 2, 5, 6, 200])
    assert len(panels) == 6 and calls == [0, 5, 200]
    assert panels[1].steps is panels[0].steps
    assert len(S.titles(panels[0])) == 3 and len(S.ranges(panels[0])) == 3
