"""Honest planes in the exports: the HTML page and the matplotlib frames say each run's in-plane share, warn on
a plane that misses the paths, and show the true loss beside a ball far from it (issue 15)."""
import json

import numpy as np
import pytest

from visualizer import export as E
from visualizer.export.html import write_html
from visualizer.export.html_panels import panels_figure
from visualizer.figures.per_run import per_run_landscape
from visualizer.export.scene import Renderer, build_scene
from visualizer.plotdata import frames
from visualizer.plotdata import view as V
from tests.conftest import four_short


def _on(text, page):
    """``text`` is on the page, as written or as the figure's JSON escapes it (non-ASCII as \\uXXXX)."""
    return text in page or json.dumps(text)[1:-1] in page


def _shares(result):
    return {r["label"]: r["in_plane"] for r in result.summary()}


@pytest.mark.parametrize("panels", [("landscape",), ("landscape", "curves")])
def test_the_html_page_says_each_runs_in_plane_share_and_warns_on_a_random_plane(four_random, tmp_path, panels):
    out = tmp_path / "page.html"
    write_html(four_random, E.ExportOptions(out=str(out), frames=4, panels=panels, size=(1100, 500)), out)
    page = out.read_text(encoding="utf-8")
    for lab, x in _shares(four_random).items():
        assert _on(f"{lab} (in plane {frames.share_text(x)})", page)
        assert _on(f"{frames.share_text(x)} of {lab}'s", page)
    assert _on("balls sit on the plane's loss, not the runs'", page)
    assert _on("× filter norm", page)


def test_the_html_page_of_a_pca_plane_has_no_warning(four_pca, tmp_path):
    out = tmp_path / "page.html"
    write_html(four_pca, E.ExportOptions(out=str(out), frames=3), out)
    page = out.read_text(encoding="utf-8")
    assert _on("in plane", page) and not _on("not the run", page) and _on("uncentred PCA", page)


def _renderer(result, **kw):
    opts = E.ExportOptions(out="x.gif", frames=5, size=(480, 360), progress=False, **kw)
    return Renderer(build_scene(result, opts), opts), opts


@pytest.mark.parametrize("scale", ["linear", "sqrt"])
def test_matplotlib_draws_the_true_loss_marker_at_the_true_loss(four_random, scale):
    r, opts = _renderer(four_random, scale=scale)
    v = opts.view()
    clip = V.clip_value(four_random.surface, v)
    fm = r.fm
    seen = 0
    try:
        for k in range(len(fm.steps)):
            r.render(k)
            for p, truth, ball in zip(fm.paths.values(), r.landscape.truths, r.balls):
                e = int(p.ends[k])
                xs, ys, zs = truth.get_data_3d()
                if not p.apart[e] or p.offgrid[e]:
                    assert len(zs) == 0
                    continue
                seen += 1
                assert zs[0] == pytest.approx(p.height[e]) == pytest.approx(ball.get_data_3d()[2][0])
                assert zs[1] == pytest.approx(float(V.point_height(four_random.paths[p.label].loss[e], v, clip)))
                assert truth.get_markerfacecolor() == "none"
    finally:
        r.close()
    assert seen > 0


def test_matplotlib_legend_and_warning_on_a_random_plane(four_random):
    r, _ = _renderer(four_random)
    try:
        r.render(0)
        rows = [t.get_text() for t in r.landscape.legend_texts]
        for lab, x in _shares(four_random).items():
            assert any(row.startswith(f"{lab} (in plane {frames.share_text(x)})") for row in rows)
        assert r.landscape.warning is not None
        assert r.landscape.warning.get_text() == "⚠ " + frames.plane_warning(r.fm)
        assert r.landscape.ax.get_xlabel() == "alpha (× filter norm)"
    finally:
        r.close()


def test_matplotlib_pca_plane_has_no_warning_and_says_its_units(four_pca):
    r, _ = _renderer(four_pca)
    try:
        assert r.landscape.warning is None
        assert r.landscape.ax.get_xlabel() == "alpha (unit vector)"
        sa = np.ptp(four_pca.alphas)
        sb = np.ptp(four_pca.betas)
        box = r.landscape.ax.get_box_aspect()
        assert box[1] / box[0] == pytest.approx(sb / sa)
    finally:
        r.close()


def test_the_html_panels_page_draws_per_run_planes_as_the_app_does(tmp_path):
    # pca_per_run with --panels: small multiples in the landscape's cell (each run on its own plane), not the
    # shared plane; each cell's trail equals the app's small multiple of that run at the same step
    r = four_short("pca_per_run")
    opts = E.ExportOptions(out=str(tmp_path / "p.html"), frames=5, panels=("landscape", "curves"), size=(1100, 500))
    fig = panels_figure(r, opts)
    labels = list(r.trajectories)
    scenes = [k for k in fig.layout.to_plotly_json() if k.startswith("scene")]
    assert sorted(scenes) == sorted(["scene"] + [f"scene{i}" for i in range(2, len(labels) + 1)])
    app = per_run_landscape(r, opts.view())
    for i, lab in enumerate(labels):
        scene = "scene" if i == 0 else f"scene{i + 1}"
        mine = [t for t in fig.data if getattr(t, "scene", None) == scene]
        theirs = [t for t in app.data if t.scene == scene]
        assert [t.type for t in mine] == ["surface", "scatter3d", "scatter3d"] and mine[1].name.startswith(lab)
        assert np.array_equal(mine[0].z, theirs[0].z)                       # the run's own surface
        assert np.array_equal(mine[1].x, theirs[1].x) and np.array_equal(mine[1].y, theirs[1].y)
        sc = fig.layout[scene]                                              # a small cell: few ticks, short titles
        assert [sc[a].nticks for a in ("xaxis", "yaxis", "zaxis")] == [4, 4, 4]
        assert (sc.xaxis.title.text, sc.yaxis.title.text) == ("α", "β")
    notes = [a.text for a in fig.layout.annotations]
    for lab, x in _shares(r).items():
        assert any(n.startswith(f"<b>{lab}</b>, in plane") and "own uncentred PCA" in n for n in notes)
    assert "each run on its own PCA plane" in fig.layout.title.text and "80%" not in fig.layout.title.text
    # a frame moves every run's trail and ball (2 traces a run) and the curves' step line
    assert len(fig.frames[1].traces) >= 2 * len(labels)
    write_html(r, opts, tmp_path / "p.html")
    assert _on("own uncentred PCA", (tmp_path / "p.html").read_text(encoding="utf-8"))
