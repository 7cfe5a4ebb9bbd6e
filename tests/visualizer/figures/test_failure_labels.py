"""A failed run is named so in the app's legend and table and in the exporter's legend; no text says "predicted"."""
import json

import pytest

import core
from core.cli.sweep import EDGE_NOTE
from core.sweeps.summary import format_summary
from visualizer import figures
from visualizer.app import layout
from visualizer.export.options import ExportOptions
from visualizer.export.scene import Renderer, build_scene
from visualizer.export.sweep_png import sweep_figure
from visualizer.plotdata import frames
from visualizer.plotdata.view import ViewOptions
from tests.helpers import small_sweep_dict


@pytest.fixture(scope="module")
def large_lr_50():
    """four_optimizers with its large-LR run at lr 50 (the issue's case), without curvature, on a coarse grid."""
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    next(o for o in d["optimizers"] if o["label"] == "large LR")["lr"] = 50.0
    d["curvature"] = {"enabled": False}
    d["grid"]["resolution"] = 11
    return core.run_experiment(d)


def test_large_lr_at_50_fails_without_diverging(large_lr_50):
    t = large_lr_50.trajectories["large LR"]
    assert t.diverged_at is None and t.failed_at is not None and t.live_units[-1] == 0
    assert t.final_loss > t.loss[0] and t.train_acc[-1] < 0.5
    assert all(large_lr_50.trajectories[lab].failed_at is None for lab in ("SGD", "LR annealing", "momentum"))


def test_the_app_legend_and_table_say_failed(large_lr_50):
    fa = large_lr_50.trajectories["large LR"].failed_at
    fig = figures.animated_landscape(large_lr_50, ViewOptions(n_frames=5))
    names = {t.legendgroup: t.name for t in fig.data if t.type == "scatter3d" and t.name}
    share = {r["label"]: frames.share_text(r["in_plane"]) for r in large_lr_50.summary()}
    # both notes in one parenthesis (style.legend_name): the failure first, then the plane's share
    assert names["large LR"] == f"large LR (failed at {fa}; in plane {share['large LR']})"
    assert names["SGD"] == f"SGD (in plane {share['SGD']})" and "failed" not in names["momentum"]
    top = figures.contour_figure(large_lr_50, ViewOptions())
    assert f"large LR (failed at {fa})" in [t.name for t in top.data if t.showlegend is not False]
    curves = figures.curves_figure(large_lr_50, ViewOptions())
    assert f"large LR (failed at {fa})" in [t.name for t in curves.data if t.showlegend is not False]
    assert "SGD" in [t.name for t in curves.data if t.showlegend is not False]
    rows = {r["label"]: r for r in figures.summary_records(large_lr_50)}
    assert rows["large LR"]["failed_at"] == fa and rows["large LR"]["live_units"] == 0
    assert rows["large LR"]["peak_loss"] > large_lr_50.trajectories["large LR"].loss[0]
    assert rows["SGD"]["failed_at"] is None and rows["SGD"]["live_units"] > 0
    heads = dict(figures.SUMMARY_COLUMNS)
    assert heads["failed_at"] == "failed at" and heads["live_units"] == "live units"
    assert heads["peak_loss"] == "peak loss"
    table = layout._comparison_and_explain()[1]
    assert {c["id"] for c in table.columns} >= {"failed_at", "live_units", "peak_loss"}
    assert any("{failed_at}" in s["if"].get("filter_query", "") for s in table.style_data_conditional)
    assert "Failed at" in layout.TABLE_NOTE


def test_the_exporter_legend_says_failed(large_lr_50):
    fa = large_lr_50.trajectories["large LR"].failed_at
    opts = ExportOptions(out="x.png", size=(320, 240), progress=False)
    scene = build_scene(large_lr_50, opts)
    r = Renderer(scene, opts)
    try:
        r.render(0)
        rows = r.landscape.rows
        share = {s["label"]: frames.share_text(s["in_plane"]) for s in large_lr_50.summary()}
        want = f"large LR (failed at {fa}; in plane {share['large LR']})"     # the same text as the app's legend
        assert rows["large LR"][-1].startswith(want)
        assert rows["SGD"][-1].startswith(f"SGD (in plane {share['SGD']})")
        assert any(want in t.get_text() for t in r.landscape.legend_texts)
    finally:
        r.close()


def test_no_text_says_predicted(large_lr_50):
    """The dashed line is the initial stability edge (a reference); nothing in a figure, table or note calls it
    "predicted" (it does not predict where runs fail)."""
    sweep = core.sweep(small_sweep_dict(steps=60), scheduler="inline")
    texts = [figures.sweep_heatmap(sweep).to_json(), format_summary(sweep.summary()), json.dumps(sweep.summary()),
             EDGE_NOTE, layout.SWEEP_NOTE, layout.TABLE_NOTE,
             figures.animated_landscape(large_lr_50, ViewOptions(n_frames=3)).to_json(),
             json.dumps(figures.summary_records(large_lr_50)), json.dumps(large_lr_50.summary())]
    png = sweep_figure(sweep, size=(640, 360))
    texts += [t.get_text() for t in png.findobj(lambda a: hasattr(a, "get_text"))]
    assert "initial stability edge" in texts[0] and "initial stability edge" in texts[1]
    for t in texts:
        assert "predicted" not in t.lower()
