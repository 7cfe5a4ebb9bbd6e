"""The panels' "What am I looking at?" lines (visualizer.app.layout.HELP): one per panel, one sentence each, and
what each sentence says is what its panel draws (checked on the figures of a small four-optimizer run)."""
import re

from visualizer import figures
from visualizer.app import curvature_callbacks as ccb
from visualizer.app import layout
from visualizer.app import render_callbacks as rcb
from visualizer.app import spec_callbacks as cb
from tests.helpers import trace, traces

GRAPHS = ("graph-landscape-3d", "graph-contour", "graph-curves", "graph-sharpness", "graph-slices")


def _ids(node):
    """Every component id in a Dash layout tree."""
    found = [getattr(node, "id", None)]
    kids = getattr(node, "children", None)
    for k in kids if isinstance(kids, (list, tuple)) else [kids]:
        if hasattr(k, "to_plotly_json"):
            found += _ids(k)
    return found


def test_every_panel_has_one_help_sentence_behind_a_button():
    ids = _ids(layout.make_layout())
    assert set(layout.HELP) == set(GRAPHS)
    for g, text in layout.HELP.items():
        assert g in ids and f"help-{g}" in ids
        assert text.endswith(".") and not re.search(r"[.!?] [A-Z]", text), text      # one sentence


def test_each_help_sentence_says_what_its_panel_draws(small, cache):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    out = rcb.render(store, "log", 100, 1, cache)
    runs = out["slice_options"]
    assert len(runs) == 4
    help_ = layout.HELP
    # 3D: the loss surface on the plane, each run's path and a ball
    fig3d = out["fig3d"]
    assert "plane" in help_["graph-landscape-3d"] and len(traces(fig3d, type="surface")) == 1
    for lab in runs:
        assert trace(fig3d, legendgroup=lab, mode="lines") and trace(fig3d, legendgroup=lab, mode="lines+markers")
    # contour: contour lines of the loss, each run's path and a marker at the step
    con = out["contour"]
    assert "contour lines" in help_["graph-contour"] and len(traces(con, type="contour")) == 1
    assert all(traces(con, legendgroup=lab) for lab in runs)
    # curves: loss on a log axis, dots at the recorded frames, accuracy on the right, a line at the step
    cur = out["curves"]
    assert "log axis" in help_["graph-curves"] and cur.layout.yaxis.type == "log"
    assert "dots" in help_["graph-curves"] and all(trace(cur, lab, mode="markers") for lab in runs)
    assert "accuracy" in help_["graph-curves"] and any("accuracy" in a.text for a in cur.layout.annotations)
    assert "vertical line" in help_["graph-curves"] and any(s.type == "line" and s.x0 == s.x1 == 200
                                                            for s in cur.layout.shapes)
    # sharpness: solid sharpness against a dashed threshold of the same colour
    sh = out["sharpness"]
    assert "(solid:" in help_["graph-sharpness"] and "(dashed, same colour)" in help_["graph-sharpness"]
    for lab in runs:
        solid = [t for t in traces(sh, legendgroup=lab) if t.get("name", "").startswith(lab)
                 and t.get("showlegend", True) is not False]
        dashed = trace(sh, f"{lab} threshold")
        assert len(solid) == 1 and solid[0]["line"].get("dash", "solid") == "solid"
        assert dashed["line"]["dash"] == "dash" and dashed["line"]["color"] == solid[0]["line"]["color"]
    # slices: (a) the top eigenvector, (b) the gradient step, (c) every run's initial -> final line
    sl = ccb.slices(200, runs[1], store, cache, ccb.SliceCache(maxsize=4))["figure"]
    notes = " ".join(a.text for a in sl.layout.annotations)
    assert "(a) top Hessian eigenvector" in notes and "(b) gradient step" in notes and "(c) initial → final" in notes
    assert "quadratic model" in sl.layout.title.text and "(dashed)" in help_["graph-slices"]
    assert {t.legendgroup for t in sl.data if t.legendgroup not in ("a", "b")} >= set(runs)


def test_the_sharpness_help_says_adams_is_preconditioned_as_its_panel_does(small_adam_result):
    assert "preconditioned for Adam" in layout.HELP["graph-sharpness"]
    fig = figures.sharpness_figure(small_adam_result)
    adam = [lab for lab in small_adam_result.trajectories if lab.lower().startswith("adam")]
    assert adam and all("preconditioned" in trace(fig, legendgroup=lab, showlegend=None).name for lab in adam)
