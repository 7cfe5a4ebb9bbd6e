"""One step, one control (issue 16): Play, the slider, the step box and the keys move one step that every panel
(3D, contour, curves, sharpness, slices) shows in its title, in headless Chromium. Run with --headless."""
import re

from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.helpers import landscape_frames
from visualizer.app.factory import create_app

N_OPT = 4
PANELS = ("graph-landscape-3d", "graph-contour", "graph-curves", "graph-sharpness", "graph-slices")
TITLES = "return arguments[0].map(function (id) { var g = document.querySelector('#' + id + ' .js-plotly-plot');" \
         " return g && g._fullLayout && g._fullLayout.title ? g._fullLayout.title.text : null; })"
GD = "document.querySelector('#graph-landscape-3d .js-plotly-plot')"
CONTOUR = "document.querySelector('#graph-contour .js-plotly-plot')"


def _start(dash_duo, shared_cache):
    dash_duo.start_server(create_app(cache=shared_cache))
    dash_duo.wait_for_element("#graph-landscape-3d .js-plotly-plot", timeout=60)
    until(lambda: dash_duo.driver.execute_script(f"return ({GD}._fullData || []).length") == 1 + 2 * N_OPT,
          timeout=30)
    frames = [int(f) for f in landscape_frames(dash_duo.driver)]
    until(lambda: _steps(dash_duo) == [frames[-1]] * len(PANELS), timeout=30)    # every panel at the last frame
    return frames


def _steps(dash_duo):
    """The step each panel's title names (None where it names none): "· step N", slices "at step N of"."""
    out = []
    for t in dash_duo.driver.execute_script(TITLES, list(PANELS)):
        m = re.findall(r"step (\d+)", t or "")
        out.append(int(m[-1]) if m else None)
    return out


def _nearest(frames, v):
    return min(frames, key=lambda s: (abs(s - v), s))


def _type_step(dash_duo, value, key=Keys.ENTER):
    box = dash_duo.find_element("#step-input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), key)


def _ball_on_marker(dash_duo):
    """The 3D figure's ball of the first run (SGD) sits where the contour's marker of SGD is (same α, β)."""
    return dash_duo.driver.execute_script(
        f"var g = {GD}, c = {CONTOUR};"
        " var m = c.data.find(t => t.legendgroup === 'SGD' && t.mode === 'markers+text');"   # a plain [α], [β]
        " var b = g._fullData.find(t => t.legendgroup === 'SGD' && t.mode === 'lines+markers');"
        " return Math.abs(b.x[0] - m.x[0]) < 1e-5 && Math.abs(b.y[0] - m.y[0]) < 1e-5")


def test_the_3d_figure_has_no_player_of_its_own(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    assert drv.execute_script(f"return ({GD}._fullLayout.sliders || []).length") == 0
    assert drv.execute_script(f"return ({GD}._fullLayout.updatemenus || []).length") == 0
    assert drv.execute_script(f"return {GD}._transitionData._frames.length") == 100    # frames stay: it animates
    assert dash_duo.find_element("#step-play").text.endswith("Play")
    # one number box for the step: the slider's own direct-input box is off
    boxes = drv.execute_script("return Array.from(document.querySelectorAll('#step-row input[type=number]'))"
                               ".filter(e => e.offsetParent !== null).map(e => e.id)")
    assert boxes == ["step-input"], boxes
    assert dash_duo.get_logs() == []


def test_typing_a_step_moves_every_panel_on_enter_and_on_leaving_the_box(dash_duo, shared_cache):
    frames = _start(dash_duo, shared_cache)
    _type_step(dash_duo, 500)                                          # Enter
    want = _nearest(frames, 500)
    until(lambda: _steps(dash_duo) == [want] * len(PANELS), timeout=20)
    until(lambda: dash_duo.find_element("#step-input").get_attribute("value") == str(want), timeout=5)
    assert dash_duo.driver.execute_script(
        "return document.querySelector('#step-slider [role=slider]').getAttribute('aria-valuenow')") == str(want)
    until(lambda: _ball_on_marker(dash_duo), timeout=20)
    curves = "document.querySelector('#graph-curves .js-plotly-plot')"
    assert dash_duo.driver.execute_script(f"return {curves}._fullLayout.shapes[0].x0") == want

    _type_step(dash_duo, 1234, Keys.TAB)                               # leaving the box applies it too
    want = _nearest(frames, 1234)
    until(lambda: _steps(dash_duo) == [want] * len(PANELS), timeout=20)
    until(lambda: _ball_on_marker(dash_duo), timeout=20)
    assert dash_duo.get_logs() == []


def test_play_advances_every_panel_together_and_pause_stops_it(dash_duo, shared_cache):
    frames = _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    index = {s: k for k, s in enumerate(frames)}
    drv.execute_script("document.getElementById('step-play').click()")    # at the end: Play starts over
    dash_duo.wait_for_text_to_equal("#step-play", "❚❚ Pause", timeout=5)
    seen = []
    until(lambda: seen.append(_steps(dash_duo)) or len({s[0] for s in seen if None not in s}) >= 4, timeout=30)
    for s in seen:
        if None not in s:                 # every panel's title within one frame of the others
            ks = [index[v] for v in s]
            assert max(ks) - min(ks) <= 1, s
    drv.execute_script("document.getElementById('step-play').click()")    # Pause
    dash_duo.wait_for_text_to_equal("#step-play", "▶ Play", timeout=5)
    until(lambda: len(set(_steps(dash_duo))) == 1, timeout=20)
    paused = _steps(dash_duo)
    assert paused[0] < frames[-1]                                      # it started over and stopped on the way
    until(lambda: _ball_on_marker(dash_duo), timeout=20)
    # a Pause click that comes with a Play tick (both in one call, the tick first) still pauses: it was lost
    # when only the first changed input was read (CI saw "❚❚ Pause" 5 s after the click)
    tick_disabled, label, k = drv.execute_script(_BOTH_FIRED_JS)
    assert (tick_disabled, label, k) == (True, "▶ Play", 1)
    assert dash_duo.get_logs() == []


_BOTH_FIRED_JS = """
var dc = window.dash_clientside, saved = dc.callback_context;
dc.callback_context = {triggered: [{prop_id: "step-tick.n_intervals"}, {prop_id: "step-play.n_clicks"}]};
try {
    var table = {steps: [0, 10, 20, 30], start: 3, key: "k", landscape: {id: "f"}};
    var out = dc.lln.stepper(table, 10, 10, 3, 7, null, {key: "k", id: "f", k: 1, n: 4}, false, null);
    return [out[3], out[4], out[0] && out[0].k];
} finally { dc.callback_context = saved; }
"""


def test_keys_move_the_one_step(dash_duo, shared_cache):
    frames = _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    drv.execute_script("document.activeElement && document.activeElement.blur()")

    def press(key, want):
        ActionChains(drv).send_keys(key).perform()
        until(lambda: _steps(dash_duo) == [want] * len(PANELS), timeout=20)

    press(Keys.HOME, frames[0])
    press(Keys.ARROW_RIGHT, frames[1])
    press(Keys.ARROW_RIGHT, frames[2])
    press(Keys.ARROW_LEFT, frames[1])
    press(Keys.END, frames[-1])
    press(Keys.ARROW_LEFT, frames[-2])
    until(lambda: _ball_on_marker(dash_duo), timeout=20)
    press(Keys.HOME, frames[0])                                         # (from near the end Play would stop at once)
    ActionChains(drv).send_keys(Keys.SPACE).perform()                 # space: play
    dash_duo.wait_for_text_to_equal("#step-play", "❚❚ Pause", timeout=5)
    until(lambda: _steps(dash_duo)[0] > frames[0], timeout=20)
    ActionChains(drv).send_keys(Keys.SPACE).perform()                 # and pause
    dash_duo.wait_for_text_to_equal("#step-play", "▶ Play", timeout=5)
    until(lambda: len(set(_steps(dash_duo))) == 1, timeout=20)
    assert dash_duo.get_logs() == []
