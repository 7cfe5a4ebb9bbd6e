"""What a researcher sees (issue 16): runs told apart in every panel, legends that act on every panel,
no text cut at 1,400 and 1,024 px, the 3D figure visible on a phone. Run with --headless."""
import os

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.helpers import COLOURS_JS, CUT_JS
from visualizer.app.factory import create_app
from visualizer.plotdata import style

GRAPHS = ("graph-landscape-3d", "graph-contour", "graph-curves", "graph-sharpness", "graph-slices")
RUNS = ["SGD", "LR annealing", "large LR", "momentum"]
SHOTS = os.environ.get("LLN_SHOTS")          # a folder: save screenshots there (to look at them)

def _start(dash_duo, shared_cache, width=1400, height=1000):
    dash_duo.driver.set_window_size(width, height)
    dash_duo.start_server(create_app(cache=shared_cache))
    for g in GRAPHS:
        dash_duo.wait_for_element(f"#{g} .js-plotly-plot", timeout=90)
    dash_duo.wait_for_element("#summary-table td", timeout=60)
    until(lambda: all(len(_colours(dash_duo).get(g, {})) >= 4 for g in GRAPHS[:4]), timeout=60)


def _colours(dash_duo):
    return dash_duo.driver.execute_script(COLOURS_JS, list(GRAPHS))


def _shot(dash_duo, name):
    if SHOTS:
        dash_duo.driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def test_four_runs_have_four_distinct_colours_the_same_in_every_panel(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    _shot(dash_duo, "top-1400")
    got = _colours(dash_duo)
    want = {lab: style.PALETTE[i] for i, lab in enumerate(RUNS)}
    for g in GRAPHS[:4]:
        runs = {lab: set(cs) for lab, cs in got[g].items() if lab in RUNS}
        assert runs == {lab: {c} for lab, c in want.items()}, g       # one colour per run, the same everywhere
    assert len(set(want.values())) == 4 and len({style.HUES[i] for i in range(4)}) == 4
    slices = {lab: set(cs) for lab, cs in got["graph-slices"].items() if lab in RUNS}
    assert slices == {lab: {c} for lab, c in want.items()}              # (c): every run's line
    assert dash_duo.get_logs() == []


def test_a_legend_click_hides_the_run_in_every_panel(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    item = drv.execute_script(
        "return Array.from(document.querySelectorAll('#graph-contour .legend .traces'))"
        ".find(e => e.textContent === 'momentum').querySelector('.legendtoggle')")
    drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", item)
    ActionChains(drv).move_to_element(item).click().perform()
    own = """return document.querySelector('#graph-contour .js-plotly-plot')._fullData
        .filter(t => t.legendgroup === 'momentum').map(t => t.visible)"""
    until(lambda: "legendonly" in drv.execute_script(own), timeout=15)     # the click hid it in its own panel
    vis_js = """return Object.fromEntries(arguments[0].map(id => [id,
        document.querySelector('#' + id + ' .js-plotly-plot')._fullData
            .filter(t => t.legendgroup === 'momentum' && t.visible !== false).map(t => t.visible)]));"""
    until(lambda: all(v and all(x == "legendonly" for x in v)
                      for v in drv.execute_script(vis_js, list(GRAPHS[:4])).values()), timeout=15)
    others = drv.execute_script("""return document.querySelector('#graph-curves .js-plotly-plot')._fullData
        .filter(t => t.legendgroup === 'SGD').map(t => t.visible)""")
    assert others and all(v is True for v in others)                    # only that run
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("width", [1400, 1024])
def test_no_title_menu_input_or_table_is_cut(dash_duo, shared_cache, width):
    _start(dash_duo, shared_cache, width=width)
    _shot(dash_duo, f"top-{width}")
    cut = dash_duo.driver.execute_script(CUT_JS)
    dash_duo.driver.execute_script("document.querySelector('#summary-table').scrollIntoView()")
    _shot(dash_duo, f"table-{width}")
    assert cut == []
    assert dash_duo.get_logs() == []


def test_on_a_phone_the_3d_figure_is_visible_and_fits(dash_duo, shared_cache):
    _start(dash_duo, shared_cache, width=390, height=844)
    drv = dash_duo.driver
    drv.execute_script("document.querySelector('#graph-landscape-3d').scrollIntoView()")
    _shot(dash_duo, "phone-3d")
    box = drv.execute_script("""var r = document.querySelector('#graph-landscape-3d .gl-container canvas, '
        + '#graph-landscape-3d canvas').getBoundingClientRect();
        return [r.left, r.right, r.width, document.documentElement.clientWidth]""")
    left, right, w, page = box
    assert left >= 0 and right <= page + 1 and w >= 0.8 * page          # inside the page, most of its width
    assert drv.execute_script("return document.documentElement.scrollWidth") <= page + 1   # no sideways scroll
    assert dash_duo.get_logs() == []


def test_a_bad_value_is_named_in_the_forms_words_and_its_field_outlined(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    # the Sweep tab's custom fields are read-only while a preset is its source
    assert drv.execute_script("return document.getElementById('sweep-lr-min').readOnly") is True
    el = drv.execute_script("return document.getElementById(arguments[0])", '{"index":0,"type":"opt_lr"}')
    el.clear()
    el.send_keys("-1", Keys.ENTER)
    until(lambda: "SGD: learning rate -1" in dash_duo.find_element("#alert-error").text, timeout=30)
    until(lambda: "invalid" in el.get_attribute("class"), timeout=10)
    _shot(dash_duo, "invalid")
    el.clear()
    el.send_keys("0.07", Keys.ENTER)                                     # fixed: the outline goes
    until(lambda: dash_duo.find_element("#alert-error").text == "", timeout=60)
    until(lambda: "invalid" not in el.get_attribute("class"), timeout=10)
    assert dash_duo.get_logs() == []
