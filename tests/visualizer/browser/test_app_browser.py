"""The real app in headless Chromium (dash_duo). Run with --headless; see tests/conftest.py for options.

Each test starts its own app; the session's ResultCache is shared so the default preset is computed once.
"""
import glob
import os
import re

from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

import core
from tests.helpers import landscape_frames
from visualizer.app.factory import create_app
from visualizer.serving.cache import spec_key

GD = "document.querySelector('#graph-landscape-3d .js-plotly-plot')"
N_OPT = 4


def _start(dash_duo, shared_cache):
    dash_duo.start_server(create_app(cache=shared_cache))
    dash_duo.wait_for_element("#graph-landscape-3d .js-plotly-plot", timeout=60)
    dash_duo.wait_for_element("#summary-table td", timeout=30)
    until(lambda: dash_duo.driver.execute_script(f"return {GD}._fullData.length") == 1 + 2 * N_OPT,
                      timeout=30)


def _table_text(dash_duo):
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#summary-table tr')).map(r => r.innerText).join('\\n')")


def _set_input(dash_duo, dom_id, value):
    el = dash_duo.driver.execute_script("return document.getElementById(arguments[0])", dom_id)
    if el.tag_name != "input":
        el = el.find_element("css selector", "input")
    el.clear()
    el.send_keys(str(value), Keys.ENTER)


def _slider_value(dash_duo):
    v = dash_duo.driver.execute_script(
        "var t = document.querySelector('#step-slider [role=slider]'); return t && t.getAttribute('aria-valuenow')")
    return int(v) if v is not None else None


def _opt_id(field, i):
    return '{"index":%d,"type":"%s"}' % (i, field)


def test_page_loads_and_play_advances_the_step(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    types = dash_duo.driver.execute_script(f"return {GD}._fullData.map(t => t.type)")
    assert types.count("surface") == 1 and types.count("scatter3d") == 2 * N_OPT
    names = dash_duo.driver.execute_script(f"return {GD}._fullData.filter(t => t.mode === 'lines').map(t => t.name)")
    # each legend entry says how much of that run's path the plane holds
    assert [n.split(" (")[0] for n in names] == ["SGD", "LR annealing", "large LR", "momentum"]
    assert all(re.search(r"[(; ]in plane [0-9.]+%\)$", n) for n in names), names
    zt = dash_duo.driver.execute_script(f"return {GD}._fullLayout.scene.zaxis.title.text")
    assert zt == "log10(train loss)"                                     # the app's default height scale
    assert len(landscape_frames(dash_duo.driver)) == 100               # sent after the first draw
    assert dash_duo.find_element("#alert-error").text == ""
    assert dash_duo.get_logs() == []

    # Play (the page's one step control: tests/visualizer/browser/test_step_browser.py) advances the 3D figure
    drv = dash_duo.driver
    ball = f"{GD}._fullData.find(t => t.legendgroup === 'SGD' && t.mode === 'lines+markers')"   # SGD's ball
    before = drv.execute_script(f"return {ball}.x[0]")
    drv.execute_script("document.getElementById('step-play').click()")      # from the end it starts over
    until(lambda: drv.execute_script(f"return {ball}.x[0]") != before, timeout=20)
    until(lambda: _slider_value(dash_duo) != 2000, timeout=20)           # the slider follows
    drv.execute_script("document.getElementById('step-play').click()")      # Pause
    dash_duo.wait_for_text_to_equal("#step-play", "▶ Play", timeout=10)
    assert dash_duo.get_logs() == []


def test_invalid_values_show_their_message_then_a_new_lr_recomputes(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    title = drv.execute_script(f"return {GD}._fullLayout.title.text")
    table = _table_text(dash_duo)
    _set_input(dash_duo, _opt_id("opt_lr", 0), -1)
    dash_duo.wait_for_contains_text("#alert-error", "SGD: learning rate -1", timeout=20)
    assert "must be a number in (0, 100]" in dash_duo.find_element("#alert-error").text
    _set_input(dash_duo, _opt_id("opt_lr", 0), 0.07)                  # back to the preset: the message goes
    dash_duo.wait_for_text_to_equal("#alert-error", "", timeout=20)
    _set_input(dash_duo, "hidden", 0)
    dash_duo.wait_for_contains_text("#alert-error", "hidden units (layer 1) 0:", timeout=20)
    _set_input(dash_duo, "hidden", 15)
    dash_duo.wait_for_text_to_equal("#alert-error", "", timeout=20)
    _set_input(dash_duo, "grid-resolution", 999)
    dash_duo.wait_for_contains_text("#alert-error", "grid points 999: must be an integer in [3, 201]", timeout=20)
    assert drv.execute_script(f"return {GD}._fullData.length") == 1 + 2 * N_OPT
    assert drv.execute_script(f"return {GD}._fullLayout.title.text") == title
    assert _table_text(dash_duo) == table
    assert dash_duo.get_logs() == []

    # a valid change recomputes and changes the table; the message goes
    _set_input(dash_duo, "grid-resolution", 51)
    dash_duo.wait_for_text_to_equal("#alert-error", "", timeout=20)
    _set_input(dash_duo, _opt_id("opt_lr", 0), 0.5)
    until(lambda: _table_text(dash_duo) != table, timeout=40)
    assert dash_duo.find_element("#alert-error").text == ""
    assert dash_duo.get_logs() == []


def test_html_download_is_a_file_that_loads(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    dash_duo.find_element("#download-html-btn").click()
    folder = dash_duo.download_path

    def done():
        """The downloaded page, once Chromium has finished it (no .crdownload left, the document closed)."""
        files = glob.glob(os.path.join(folder, "*.html"))
        if len(files) != 1 or glob.glob(os.path.join(folder, "*.crdownload")):
            return None
        with open(files[0], "rb") as f:
            f.seek(max(0, os.path.getsize(files[0]) - 64))
            return files[0] if f.read().rstrip().endswith(b"</html>") else None
    until(done, timeout=40)
    path = done()
    assert dash_duo.get_logs() == []
    dash_duo.driver.get("file://" + path)
    dash_duo.wait_for_element(".js-plotly-plot", timeout=30)
    gd = "document.querySelector('.js-plotly-plot')"
    # the page's panels: the landscape (1 + 2n), sharpness (3n and its step line), curves (per run the loss at
    # every step and its recorded frames, 2n, and the step line)
    until(lambda: dash_duo.driver.execute_script(f"return ({gd}._fullData || []).length")
          == (1 + 2 * N_OPT) + (3 * N_OPT + 1) + (2 * N_OPT + 1), timeout=30)
    assert dash_duo.driver.execute_script(f"return {gd}._transitionData._frames.length") == 100
    assert dash_duo.get_logs() == []


def test_the_step_slider_moves_the_3d_figure_and_the_markers(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    frames = landscape_frames(drv)
    other = frames[60]
    # the step slider (set as a drag would) moves the one step: the nearest frame, every panel
    drv.execute_script("window.dash_clientside.set_props('step-slider', {value: arguments[0]})", int(other) + 1)
    until(lambda: drv.execute_script(f"return {GD}._fullLayout.title.text").endswith(f"· step {other}"), timeout=20)
    until(lambda: _slider_value(dash_duo) == int(other), timeout=20)
    curves = "document.querySelector('#graph-curves .js-plotly-plot')"
    until(lambda: drv.execute_script(f"return {curves}._fullLayout.shapes[0].x0") == int(other), timeout=20)
    assert dash_duo.get_logs() == []


def test_a_long_computation_shows_progress_and_a_newer_request_cancels_it(dash_duo, shared_cache):
    app = create_app(cache=shared_cache)
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#summary-table td", timeout=60)
    table = _table_text(dash_duo)
    _set_input(dash_duo, "steps", 9990)                                # about 10 s of training (1000 frames)
    dash_duo.wait_for_contains_text("#run-status", "training:", timeout=20)
    assert "/ 39,960 steps" in dash_duo.find_element("#run-status").text
    _set_input(dash_duo, "steps", 2000)                                # back to the cached preset
    dash_duo.wait_for_contains_text("#run-status", "from the cache", timeout=20)
    until(lambda: app.services.jobs.running() == 0, timeout=10)                 # the long run stopped
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"]["steps"] = 9990
    assert spec_key(d) not in shared_cache
    assert _table_text(dash_duo) == table and dash_duo.find_element("#alert-error").text == ""
    # the redraw finished before the server stops: no callback pending, nothing loading
    until(lambda: dash_duo.redux_state_rqs == [] and not dash_duo.driver.execute_script(
        "return !!document.querySelector('[data-dash-is-loading=true]')"), timeout=20)
    assert dash_duo.get_logs() == []


def _status_text(dash_duo):
    return dash_duo.find_element("#run-status").text


def test_progress_follows_the_newest_long_request(dash_duo, shared_cache):
    app = create_app(cache=shared_cache)
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#summary-table td", timeout=60)
    # slower steps make runs worth watching; with curvature at every frame 1101 weights are over the
    # curvature budget (the page would ask for a stride), so untick it first
    dash_duo.find_element("#curvature input").click()
    dash_duo.wait_for_contains_text("#sharpness-message", "No sharpness for this run", timeout=40)
    _set_input(dash_duo, "hidden", 100)
    dash_duo.wait_for_contains_text("#run-status", "1101 weights", timeout=40)
    _set_input(dash_duo, "steps", 9990)                                # 10-20 s of training
    dash_duo.wait_for_contains_text("#run-status", "/ 39,960 steps", timeout=20)
    _set_input(dash_duo, "steps", 9980)                                # a newer long request replaces it
    dash_duo.wait_for_contains_text("#run-status", "/ 39,920 steps", timeout=20)
    first = _status_text(dash_duo)
    # the old request's end must not stop the polling: the newer run's progress keeps moving
    until(lambda: "/ 39,920 steps" in _status_text(dash_duo) and _status_text(dash_duo) != first, timeout=20)
    until(lambda: app.services.jobs.running() == 1, timeout=10)                 # the first run was cancelled
    _set_input(dash_duo, "steps", 2000)
    dash_duo.wait_for_contains_text("#run-status", "from the cache", timeout=20)
    until(lambda: app.services.jobs.running() == 0, timeout=10)
    for steps in (9990, 9980):
        d = core.ExperimentSpec.preset("four_optimizers").to_dict()
        d["training"]["steps"] = steps
        d["model"]["hidden"] = [100]
        d["curvature"]["enabled"] = False
        assert spec_key(d) not in shared_cache
    until(lambda: not dash_duo.driver.execute_script("return !!document.querySelector('[data-dash-is-loading=true]')"),
          timeout=20)
    assert dash_duo.get_logs() == []


def test_closing_the_tab_cancels_its_computation(dash_duo, shared_cache):
    app = create_app(cache=shared_cache, heartbeat=2)
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#summary-table td", timeout=60)
    _set_input(dash_duo, "steps", 9970)
    dash_duo.wait_for_contains_text("#run-status", "training:", timeout=20)
    assert app.services.jobs.running() == 1
    assert dash_duo.get_logs() == []
    dash_duo.driver.get("about:blank")                                 # the page goes away: no more polls
    until(lambda: app.services.jobs.running() == 0, timeout=15)
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"]["steps"] = 9970
    assert spec_key(d) not in shared_cache


SHARP = "document.querySelector('#graph-sharpness .js-plotly-plot')"
SLICES = "document.querySelector('#graph-slices .js-plotly-plot')"


def test_sharpness_panel_has_a_solid_and_a_dashed_trace_per_optimizer_and_follows_the_slider(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    dash_duo.wait_for_element("#graph-sharpness .js-plotly-plot", timeout=30)
    until(lambda: drv.execute_script(f"return ({SHARP}._fullData || []).length") == 3 * N_OPT, timeout=30)
    shown = drv.execute_script(f"return {SHARP}._fullData.filter(t => t.visible === true)"
                               ".map(t => [t.name, t.line.dash, t.line.color])")
    solid = [s for s in shown if s[1] == "solid"]
    dashed = [s for s in shown if s[1] == "dash"]
    assert [s[0] for s in solid] == ["SGD", "LR annealing", "large LR", "momentum"] and len(shown) == 2 * N_OPT
    assert [s[2] for s in dashed] == [s[2] for s in solid]                  # each threshold in its run's colour
    assert drv.execute_script(f"return {SHARP}._fullLayout.yaxis.type") == "log"
    assert dash_duo.find_element("#sharpness-message").text == ""
    # the step slider moves the sharpness panel's step line (and the slices follow the step)
    frames = landscape_frames(drv)
    step = int(frames[40])
    drv.execute_script("window.dash_clientside.set_props('step-slider', {value: arguments[0]})", step)
    until(lambda: drv.execute_script(f"return {SHARP}._fullLayout.shapes[0].x0") == step, timeout=20)
    until(lambda: f"at step {step} of SGD" in drv.execute_script(f"return {SLICES}._fullLayout.title.text"),
          timeout=20)
    # the bottom eigenvalue, on request
    dash_duo.find_element("#show-min-eig input").click()
    until(lambda: drv.execute_script(f"return {SHARP}._fullData.filter(t => t.visible === true "
                                     "&& t.line.dash === 'dot').length") == N_OPT, timeout=20)
    until(lambda: not drv.execute_script("return !!document.querySelector('[data-dash-is-loading=true]')"), timeout=20)
    assert dash_duo.get_logs() == []
