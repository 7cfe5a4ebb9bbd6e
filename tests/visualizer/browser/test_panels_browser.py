"""Every panel together (issue 16), in headless Chromium: focus on one run (the others fade everywhere), a legend
double-click isolating a run everywhere, each panel's "What am I looking at?" line, the moons_adam preset's
runs told apart in every panel, a plane change that reuses the training. Run with --headless."""
import os

from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.helpers import COLOURS_JS, CUT_JS
from visualizer.app.factory import create_app
from visualizer.app.layout import HELP
from visualizer.plotdata import style

GRAPHS = ("graph-landscape-3d", "graph-contour", "graph-curves", "graph-sharpness", "graph-slices")
FOUR = ["SGD", "LR annealing", "large LR", "momentum"]
MOONS = ["SGD", "momentum", "Nesterov", "Adam"]
SHOTS = os.environ.get("LLN_SHOTS")          # a folder: save screenshots there (to look at them)

# per graph, per run (legendgroup): the opacity of each of its traces as drawn
OPACITY_JS = """
var out = {};
arguments[0].forEach(function (id) {
    var gd = document.querySelector('#' + id + ' .js-plotly-plot');
    if (!gd || !gd._fullData) { return; }
    var m = out[id] = {};
    gd._fullData.forEach(function (t) {
        if (!t.legendgroup || t.visible === false) { return; }
        (m[t.legendgroup] = m[t.legendgroup] || []).push(t.opacity);
    });
});
return out;
"""

# per graph, per run: the visibility of each of its traces (true / "legendonly")
VISIBLE_JS = OPACITY_JS.replace("push(t.opacity)", "push(t.visible)")

# per graph, per run: the dash of each of its line traces
DASH_JS = OPACITY_JS.replace("push(t.opacity)", "push(t.mode && t.mode.indexOf('lines') >= 0 && t.line ? t.line.dash "
                                                ": null)")


def _start(dash_duo, shared_cache, runs=FOUR, preset=None):
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(create_app(cache=shared_cache))
    dash_duo.wait_for_element("#summary-table td", timeout=60)
    if preset is not None:
        dash_duo.select_dcc_dropdown("#preset", value=preset)
        until(lambda: _first_cell(dash_duo) == runs[0] and _legend3d(dash_duo) == runs, timeout=90)
    for g in GRAPHS:
        dash_duo.wait_for_element(f"#{g} .js-plotly-plot", timeout=90)
    until(lambda: all(set(runs) <= set(_colours(dash_duo).get(g, {})) for g in GRAPHS), timeout=60)


def _first_cell(dash_duo):
    return dash_duo.driver.execute_script(
        "var td = document.querySelector('#summary-table td'); return td && td.innerText")


def _legend3d(dash_duo):
    return dash_duo.driver.execute_script(
        "var gd = document.querySelector('#graph-landscape-3d .js-plotly-plot');"
        "return gd && gd._fullData ? gd._fullData.filter(t => t.mode === 'lines').map(t => t.legendgroup) : []")


def _colours(dash_duo):
    return dash_duo.driver.execute_script(COLOURS_JS, list(GRAPHS))


def _shot(dash_duo, name):
    if SHOTS:
        dash_duo.driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def _idle(dash_duo):
    return not dash_duo.driver.execute_script("return !!document.querySelector('[data-dash-is-loading=true]')") \
        and dash_duo.redux_state_rqs == []


def _faded(ops, focus, runs):
    """Every graph: the focused run at full opacity, every other run's traces faded."""
    for g in GRAPHS:
        for lab in runs:
            got = ops.get(g, {}).get(lab)
            if not got:
                return False
            if lab == focus and not all(o >= 0.9 for o in got):
                return False
            if lab != focus and not all(o <= 0.3 for o in got):
                return False
    return True


def test_focus_on_one_run_fades_the_others_in_every_panel(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    own = drv.execute_script(OPACITY_JS, list(GRAPHS))
    dash_duo.select_dcc_dropdown("#focus-run", value="momentum")
    until(lambda: _faded(drv.execute_script(OPACITY_JS, list(GRAPHS)), "momentum", FOUR), timeout=20)
    # the slices show the focused run; their (a) and (b) panels (its own lines) are not faded
    slices = "document.querySelector('#graph-slices .js-plotly-plot')"
    until(lambda: "of momentum" in drv.execute_script(f"return {slices}._fullLayout.title.text"), timeout=30)
    until(lambda: _faded(drv.execute_script(OPACITY_JS, list(GRAPHS)), "momentum", FOUR), timeout=20)
    ab = drv.execute_script(OPACITY_JS, ["graph-slices"])["graph-slices"]
    assert ab["a"] and ab["b"] and all(o == 1 for o in ab["a"] + ab["b"])
    _shot(dash_duo, "focus-momentum")
    # the step moves (the contour, curves and sharpness are patched, the 3D jumps): the focus stays
    drv.execute_script("document.activeElement && document.activeElement.blur()")
    ActionChains(drv).send_keys(Keys.HOME).perform()
    title = "document.querySelector('#graph-contour .js-plotly-plot')._fullLayout.title.text"
    until(lambda: drv.execute_script(f"return {title}").endswith("· step 0"), timeout=20)
    until(lambda: _idle(dash_duo), timeout=20)
    assert _faded(drv.execute_script(OPACITY_JS, list(GRAPHS)), "momentum", FOUR)
    # all runs again: every trace back to its own opacity
    dash_duo.select_dcc_dropdown("#focus-run", value="all runs")
    until(lambda: drv.execute_script(OPACITY_JS, list(GRAPHS)) == own, timeout=20)
    assert dash_duo.get_logs() == []


def test_a_legend_double_click_isolates_the_run_in_every_panel(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    item = drv.execute_script(
        "return Array.from(document.querySelectorAll('#graph-curves .legend .traces'))"
        ".find(e => e.textContent.startsWith('LR annealing')).querySelector('.legendtoggle')")
    drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", item)
    ActionChains(drv).move_to_element(item).double_click().perform()

    def isolated():
        vis = drv.execute_script(VISIBLE_JS, list(GRAPHS[:4]))
        return all(set(v["LR annealing"]) == {True} and all(set(v[lab]) == {"legendonly"} for lab in FOUR
                                                            if lab != "LR annealing") for v in vis.values())
    until(isolated, timeout=20)
    slices = drv.execute_script(VISIBLE_JS, ["graph-slices"])["graph-slices"]       # (c): every run's line
    assert set(slices["LR annealing"]) == {True} and set(slices["SGD"]) == {"legendonly"}
    _shot(dash_duo, "isolated")
    item = drv.execute_script(
        "return Array.from(document.querySelectorAll('#graph-curves .legend .traces'))"
        ".find(e => e.textContent.startsWith('LR annealing')).querySelector('.legendtoggle')")
    ActionChains(drv).move_to_element(item).double_click().perform()       # again: every run back
    until(lambda: all(set(x) == {True} for v in drv.execute_script(VISIBLE_JS, list(GRAPHS[:4])).values()
                      for lab, x in v.items() if lab in FOUR), timeout=20)
    assert dash_duo.get_logs() == []


def test_each_panel_has_a_what_am_i_looking_at_line(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    for g in GRAPHS:
        box = dash_duo.find_element(f"#help-{g}")
        text = box.find_element("css selector", ".help-text")
        assert not text.is_displayed()                                  # closed until asked
        summary = box.find_element("css selector", "summary")
        drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
        summary.click()
        until(lambda: text.is_displayed(), timeout=5)
        assert text.text == HELP[g]
        assert drv.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", text)
    _shot(dash_duo, "help-open")
    assert drv.execute_script(CUT_JS) == []
    assert dash_duo.get_logs() == []


def test_moons_adam_draws_each_run_in_its_own_colour_and_dash_in_every_panel(dash_duo, shared_cache):
    _start(dash_duo, shared_cache, runs=MOONS, preset="moons_adam")
    drv = dash_duo.driver
    until(lambda: _idle(dash_duo), timeout=60)
    _shot(dash_duo, "moons-top")
    assert dash_duo.find_element("#preset").text.startswith("moons_adam")
    got = _colours(dash_duo)
    want = {lab: style.PALETTE[i] for i, lab in enumerate(MOONS)}
    assert len(set(want.values())) == len(MOONS)
    for g in GRAPHS:
        runs = {lab: set(cs) for lab, cs in got[g].items() if lab in MOONS}
        assert runs == {lab: {c} for lab, c in want.items()}, g          # one colour per run, the same everywhere
    # momentum and Nesterov (close paths): also a dash of their own in the 3D, the contour and the curves
    dashes = drv.execute_script(DASH_JS, list(GRAPHS[:3]))
    for g in GRAPHS[:3]:
        mom = {d for d in dashes[g]["momentum"] if d}
        nes = {d for d in dashes[g]["Nesterov"] if d}
        assert mom and nes and style.run_style(1).dash in mom and style.run_style(2).dash in nes, (g, mom, nes)
        assert style.run_style(1).dash != style.run_style(2).dash
    assert drv.execute_script(CUT_JS) == []
    drv.execute_script("document.querySelector('#graph-sharpness').scrollIntoView()")
    _shot(dash_duo, "moons-sharpness")
    assert dash_duo.find_element("#alert-error").text == "" and dash_duo.find_element("#alert-view").text == ""
    assert dash_duo.get_logs() == []


# every text the run-status line shows from now on (window._llnStatuses)
RECORD_STATUS_JS = """
window._llnStatuses = [];
var el = document.getElementById('run-status');
new MutationObserver(function () { window._llnStatuses.push(el.innerText); })
    .observe(el, {childList: true, subtree: true, characterData: true});
"""


def test_a_plane_change_reuses_the_training(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    until(lambda: _idle(dash_duo), timeout=30)
    drv.execute_script(RECORD_STATUS_JS)
    reused = shared_cache.reused
    dash_duo.select_dcc_dropdown("#plane-method", value="interpolation")
    dash_duo.wait_for_contains_text("#run-status", "computed in", timeout=90)
    until(lambda: "from the interpolation method" in dash_duo.find_element("#explain-numbers").text, timeout=30)
    seen = drv.execute_script("return window._llnStatuses")
    assert seen and not any("training" in s for s in seen), seen            # no training stage in the progress
    assert shared_cache.reused == reused + 1                                 # the trajectories came from the cache
    assert dash_duo.find_element("#preset").text.startswith("custom")        # the spec is no preset's any more
    until(lambda: _idle(dash_duo), timeout=30)
    assert dash_duo.get_logs() == []
