"""The first 3D figure comes without its animation frames, which follow once it is drawn (issue 16: a sooner first
figure; visualizer/app/assets/app.js, render_callbacks.landscape_frames). The animation still plays across
them, every panel at one step. Run with --headless."""
import re
import threading

from dash.testing.wait import until

import core
from tests.helpers import FRAMES_3D, landscape_frames
from visualizer import figures
from visualizer.app import render_callbacks as rcb
from visualizer.app import wiring
from visualizer.app.factory import create_app

N_OPT = 4
PANELS = ("graph-landscape-3d", "graph-contour", "graph-curves", "graph-sharpness", "graph-slices")
TITLES = "return arguments[0].map(function (id) { var g = document.querySelector('#' + id + ' .js-plotly-plot');" \
         " return g && g._fullLayout && g._fullLayout.title ? g._fullLayout.title.text : null; })"
GD = "document.querySelector('#graph-landscape-3d .js-plotly-plot')"
CONTOUR = "document.querySelector('#graph-contour .js-plotly-plot')"
# in the page from its first script on: how many frames the 3D figure held at the first animation frame (before a
# paint) where it was drawn with all its traces
WATCH = """window.__firstDraw = null;
(function tick() {
    var g = document.querySelector('#graph-landscape-3d .js-plotly-plot');
    if (g && g._fullData && g._fullData.length === %d) {
        window.__firstDraw = (g._transitionData && g._transitionData._frames || []).length; return;
    }
    requestAnimationFrame(tick);
})();""" % (1 + 2 * N_OPT)


def _steps(drv):
    """The step each panel's title names (None where it names none): "· step N", slices "at step N of"."""
    out = []
    for t in drv.execute_script(TITLES, list(PANELS)):
        m = re.findall(r"step (\d+)", t or "")
        out.append(int(m[-1]) if m else None)
    return out


def _ball(drv):
    return drv.execute_script(f"var d = {GD}._fullData; return [d[2].x[0], d[2].y[0], d[4].x[0], d[4].y[0]]")


def _ball_on_marker(drv):
    """The 3D figure's first ball sits where the contour's first marker is (same α, β)."""
    return drv.execute_script(
        f"var g = {GD}, c = {CONTOUR}, m = c.data[1 + {N_OPT}];"
        f" return Math.abs(g._fullData[2].x[0] - m.x[0]) < 1e-5 && Math.abs(g._fullData[2].y[0] - m.y[0]) < 1e-5")


def _open(dash_duo, shared_cache):
    drv = dash_duo.driver
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    dash_duo.start_server(create_app(cache=shared_cache))
    dash_duo.wait_for_element("#graph-landscape-3d .js-plotly-plot", timeout=60)
    until(lambda: drv.execute_script("return window.__firstDraw") is not None, timeout=60)
    return drv


def test_the_frames_come_after_the_first_draw_and_play_runs_across_them(dash_duo, shared_cache):
    drv = _open(dash_duo, shared_cache)
    assert drv.execute_script("return window.__firstDraw") == 0          # drawn before its frames came
    frames = [int(f) for f in landscape_frames(drv)]
    assert len(frames) == 100
    index = {s: k for k, s in enumerate(frames)}
    until(lambda: _steps(drv) == [frames[-1]] * len(PANELS), timeout=30)  # every panel at the last frame
    start = _ball(drv)
    drv.execute_script("document.getElementById('step-play').click()")    # at the end: Play starts over
    dash_duo.wait_for_text_to_equal("#step-play", "❚❚ Pause", timeout=5)
    seen = []
    until(lambda: seen.append(_steps(drv)) or len({s[0] for s in seen if None not in s}) >= 4, timeout=40)
    for s in seen:
        if None not in s:                         # every panel's title within one frame of the others
            ks = [index[v] for v in s]
            assert max(ks) - min(ks) <= 1, s
    assert len({s[0] for s in seen if s[0] is not None}) >= 4            # the 3D title moved across frames
    drv.execute_script("document.getElementById('step-play').click()")    # Pause
    dash_duo.wait_for_text_to_equal("#step-play", "▶ Play", timeout=5)
    until(lambda: len(set(_steps(drv))) == 1, timeout=20)
    assert _steps(drv)[0] < frames[-1]
    assert _ball(drv) != start                                            # the balls moved with it
    until(lambda: _ball_on_marker(drv), timeout=20)
    assert drv.execute_script(f"return {GD}._transitionData._frames.length") == 100    # attached once
    assert dash_duo.get_logs() == []


def test_a_step_chosen_before_the_frames_come_is_shown_when_they_do(dash_duo, shared_cache, monkeypatch):
    release = threading.Event()
    real = wiring.landscape_frames

    def held(*args, **kw):                        # the frames' answer waits until the test lets it go
        release.wait(60)
        return real(*args, **kw)

    monkeypatch.setattr(wiring, "landscape_frames", held)
    _, result, _ = shared_cache.get_or_compute(core.ExperimentSpec.preset("four_optimizers"))
    try:
        drv = _open(dash_duo, shared_cache)
        last = _steps(drv)[0]
        until(lambda: _steps(drv)[1] == last, timeout=30)                # the contour at the figures' step
        assert drv.execute_script(FRAMES_3D) == []
        steps = figures.step_grid(result, rcb.view_from("log", 100, 1, result))     # the frames' steps
        want = min(steps, key=lambda s: abs(s - 500))
        drv.execute_script("window.dash_clientside.set_props('step-slider', {value: arguments[0]})", want)
        until(lambda: _steps(drv)[1:4] == [want] * 3, timeout=20)         # the 2D panels move at once,
        assert _steps(drv)[0] == last                                     # the 3D cannot yet
        drv.execute_script("document.getElementById('step-play').click()")
        dash_duo.wait_for_text_to_equal("#step-play", "❚❚ Pause", timeout=5)
        assert _steps(drv)[1] == want                                     # Play waits for the frames
    finally:
        release.set()
    frames = [int(f) for f in landscape_frames(drv)]
    assert want in frames
    until(lambda: _steps(drv)[0] is not None and _steps(drv)[0] != last, timeout=20)   # then the 3D follows
    drv.execute_script("document.getElementById('step-play').click()")    # Pause
    dash_duo.wait_for_text_to_equal("#step-play", "▶ Play", timeout=5)
    until(lambda: len(set(_steps(drv))) == 1, timeout=20)
    until(lambda: _ball_on_marker(drv), timeout=20)
    assert dash_duo.get_logs() == []
