"""Exports as good as the app (issue 16): the app's defaults (log height, the palette, labelled ends), a legend and
colour bar that never overlap the 3D scene, and an HTML page whose width follows the window."""
import os
import shutil

import numpy as np
import pytest

import core
from visualizer import export as E
from visualizer.export import cli as export_cli
from visualizer.export.html import write_html
from visualizer.export.scene import Renderer, build_scene
from visualizer.plotdata import style
from visualizer.plotdata import view as V

from tests.helpers import browser_missing, chrome_options


@pytest.fixture(scope="module")
def result():
    spec = core.ExperimentSpec.preset("four_optimizers").to_dict()
    spec["training"]["steps"] = 300
    spec["grid"].update(resolution=21)
    return core.run_experiment(core.ExperimentSpec.from_dict(spec))


def test_export_defaults_are_the_apps(result, tmp_path):
    assert E.ExportOptions().scale == V.DEFAULT_SCALE == "log"
    assert export_cli.build_parser().parse_args(["run.npz", "--out", "x.gif"]).scale == V.DEFAULT_SCALE
    sc = build_scene(result, E.ExportOptions(out=str(tmp_path / "x.gif"), frames=4).validate())
    assert sc.frames.zlabel == "log10(train loss)"                       # the app's height scale
    assert sc.colors == list(style.PALETTE[:4])                          # the app's colours, in spec order


def _hex(c):
    return np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)])


@pytest.mark.parametrize("size,panels", [((640, 480), ("landscape",)), ((400, 300), ("landscape",)),
                                         ((1600, 480), ("landscape", "sharpness", "curves"))])
def test_legend_and_colour_bar_never_overlap_the_scene(result, tmp_path, size, panels):
    opts = E.ExportOptions(out=str(tmp_path / "x.png"), size=size, panels=panels).validate()
    r = Renderer(build_scene(result, opts), opts)
    img = r.render(0)
    rend = r.canvas.get_renderer()
    scene = r.landscape.ax.get_window_extent(rend)
    legend = r.landscape.legend.get_window_extent(rend)
    bar = r.landscape.cax.get_tightbbox(rend)                           # the bar with its ticks and label
    assert legend.y0 >= scene.y1 or legend.x0 >= scene.x1                # the legend is outside the scene's box
    assert not scene.overlaps(bar) and bar.x0 >= scene.x1               # the colour bar is right of it
    x0, x1 = r.landscape.region
    assert bar.x1 <= x1 * size[0] + 1                                   # ... inside the landscape's region
    # every run's colour is drawn (its trail, ball and legend key): within 12 levels per channel somewhere
    px = img.reshape(-1, 3).astype(int)
    for c in style.PALETTE[:4]:
        assert (np.abs(px - _hex(c)).max(axis=1) <= 12).sum() >= 20, c
    r.close()


def test_end_labels_name_each_run_beside_its_ball(result, tmp_path):
    opts = E.ExportOptions(out=str(tmp_path / "x.png")).validate()
    r = Renderer(build_scene(result, opts), opts)
    r.render(0)
    assert [t.get_text().strip() for t in r.landscape.labels] == list(result.trajectories)
    r.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # selenium 4.2 on urllib3
@pytest.mark.parametrize("panels", [("landscape",), ("landscape", "sharpness", "curves")])
def test_html_page_width_follows_the_window(result, tmp_path, panels):
    reason = browser_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the browser check cannot run: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.wait import WebDriverWait
    out = tmp_path / "page.html"
    opts = E.ExportOptions(out=str(out), frames=4, panels=panels, size=None).validate()
    write_html(result, opts, str(out))
    widths = {}
    for window in (1400, 900):
        o = chrome_options(headless=True, window_size=f"{window},900")
        d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=o)
        try:
            d.get(out.as_uri())
            widths[window] = WebDriverWait(d, 30, poll_frequency=0.2).until(lambda drv: drv.execute_script(
                "var g = document.getElementById('loss-landscape');"
                "return g && g._fullLayout && g._fullData && g._fullData.length ? "
                "[g._fullLayout.width, document.documentElement.clientWidth, "
                "document.documentElement.scrollWidth] : null;"))
        finally:
            d.quit()
    for window, (plot, page, scroll) in widths.items():
        assert page - 40 <= plot <= page and scroll <= page             # fills the window, no sideways scroll
    assert widths[1400][0] - widths[900][0] >= 400                      # ... and follows it


def test_more_than_two_panels_lie_in_a_grid_of_non_overlapping_cells(result, tmp_path):
    from visualizer.export.html import html_figure
    from visualizer.export.html_panels import grid_cells, grid_rows
    panels = ("landscape", "sharpness", "curves", "slices")
    assert grid_rows(panels) == [["landscape", "sharpness"], ["curves", "slices"]]
    assert grid_rows(panels[:2]) == [list(panels[:2])]                  # two panels: side by side
    cells = grid_cells(panels)
    for i, ((ax0, ax1), (ay0, ay1)) in enumerate(cells):
        for (bx0, bx1), (by0, by1) in cells[i + 1:]:
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0     # no two cells overlap
    opts = E.ExportOptions(out=str(tmp_path / "g.html"), frames=3, panels=panels, size=None).validate()
    fig = html_figure(result, opts)
    assert fig.layout.height == 2 * opts.size[1] and fig.layout.width is None
    assert list(fig.layout.scene.domain.y) == list(cells[0][1])         # the 3D scene in the first row
    assert list(fig.layout.yaxis2.domain) == list(cells[2][1])          # the curves in the second


# ---------------------------------------------------------------- no text on another (issue 16)
@pytest.fixture(scope="module")
def preset_result():
    """The four_optimizers preset itself (the exported assets): its runs end close together."""
    return core.run_experiment(core.ExperimentSpec.preset("four_optimizers"))


def _apart(boxes, gap=1.0):
    """Pairs of (name, Bbox) that come closer than ``gap`` px."""
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
            if min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > -gap and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > -gap]


@pytest.mark.parametrize("fmt,extra", [("gif", dict(frames=12, size=(640, 480))),
                                       ("png", dict(step=1180, panels=("landscape", "sharpness")))])
def test_end_labels_and_threshold_values_are_apart_and_inside_the_frame(preset_result, tmp_path, fmt, extra):
    """As the assets are made (docs/exports.md): the runs' end labels beside their balls never touch, in any frame,
    and stay in the frame; the sharpness panel's threshold values lie right of its axes (no line crosses them),
    apart from each other."""
    opts = E.ExportOptions(out=str(tmp_path / f"x.{fmt}"), scale="log", elev=35, azim=-120, **extra).validate()
    r = Renderer(build_scene(preset_result, opts), opts)
    w, h = opts.size
    try:
        for k in range(r.n):
            r.render(k)
            rend = r.canvas.get_renderer()
            boxes = [(t.get_text(), t.get_window_extent(rend)) for t in r.landscape.labels if t.get_visible()]
            assert len(boxes) == 4
            assert _apart(boxes) == [], (k, [(n, b.bounds) for n, b in boxes])
            for name, b in boxes:
                assert b.x0 >= 0 and b.x1 <= w and b.y0 >= 0 and b.y1 <= h, (k, name, b.bounds)
        sharp = next((p for p in r.parts if hasattr(p, "thresholds")), None)
        if "sharpness" in opts.panels:
            rend = r.canvas.get_renderer()
            ax = sharp.ax.get_window_extent(rend)
            notes = [(t.get_text(), t.get_window_extent(rend)) for t in sharp.thresholds]
            assert len(notes) == 4 and _apart(notes) == []
            for name, b in notes:
                assert b.x0 >= ax.x1 and b.x1 <= w, (name, b.bounds, ax.bounds)
    finally:
        r.close()


def test_the_panel_pages_landscape_keeps_its_units_and_the_apps_camera(result, tmp_path):
    # the 3D cell of an HTML --panels page is short: long axis titles and a nearer camera were cut by the scene's
    # canvas ("β (unit vect", the surface's front edge). Symbols as titles, the units a line above the scene.
    from visualizer.export.html import html_figure
    from visualizer.figures.landscape import CAMERA_EYE
    opts = E.ExportOptions(out=str(tmp_path / "p.html"), frames=3, panels=("landscape", "sharpness", "curves"),
                           size=None).validate()
    fig = html_figure(result, opts)
    scene = fig.layout.scene
    assert (scene.xaxis.title.text, scene.yaxis.title.text) == ("α", "β")
    assert scene.camera.eye.to_plotly_json() == CAMERA_EYE
    a, b = V.axis_units(result.plane)
    (line,) = [a_ for a_ in fig.layout.annotations if a_.name == "plane units"]
    assert line.text == (f"α, β: {a}" if a == b else f"α: {a}; β: {b}")
    x0, x1 = scene.domain.x
    assert x0 <= line.x <= x1 and line.y >= scene.domain.y[1] - 1e-9   # above its own scene, centred on it
