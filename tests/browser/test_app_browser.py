"""The real app in headless Chromium (dash_duo). Run with --headless; see tests/conftest.py for options.

Each test starts its own app; the session's ResultCache is shared so the default preset is computed once.
"""
import glob
import os
import time

from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from visualizer.app import create_app

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


def _opt_id(field, i):
    return '{"index":%d,"type":"%s"}' % (i, field)


def test_page_loads_and_play_advances_the_step(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    types = dash_duo.driver.execute_script(f"return {GD}._fullData.map(t => t.type)")
    assert types.count("surface") == 1 and types.count("scatter3d") == 2 * N_OPT
    names = dash_duo.driver.execute_script(f"return {GD}._fullData.filter(t => t.mode === 'lines').map(t => t.name)")
    assert names == ["SGD", "LR annealing", "large LR", "momentum"]
    zt = dash_duo.driver.execute_script(f"return {GD}._fullLayout.scene.zaxis.title.text")
    assert zt == "train loss"
    assert dash_duo.driver.execute_script(f"return {GD}._transitionData._frames.length") == 100
    assert dash_duo.find_element("#alert-error").text == ""
    assert dash_duo.get_logs() == []

    # play advances the step (jumping frames is what counts; software WebGL plays at ~2 frames/s)
    drv = dash_duo.driver
    before = drv.execute_script(f"return [{GD}._fullData[2].x[0], {GD}._fullLayout.sliders[0].active]")
    buttons = drv.find_elements("css selector", "#graph-landscape-3d .updatemenu-button")
    buttons[0].click()                                                   # Play
    until(lambda: drv.execute_script(f"return {GD}._fullData[2].x[0]") != before[0], timeout=20)
    # pause as the Pause button does (a selenium click waits for the busy software-WebGL page to go idle)
    drv.execute_script(f"Plotly.animate({GD}, [null], {{mode: 'immediate', frame: {{duration: 0, redraw: false}}, "
                       "transition: {duration: 0}});")
    until(lambda: drv.execute_script(f"return {GD}._fullLayout.sliders[0].active") != before[1], timeout=20)
    assert drv.find_elements("css selector", "#graph-landscape-3d .updatemenu-button")[1].text.endswith("Pause")
    assert dash_duo.get_logs() == []


def test_invalid_values_show_their_message_then_a_new_lr_recomputes(dash_duo, shared_cache):
    _start(dash_duo, shared_cache)
    drv = dash_duo.driver
    title = drv.execute_script(f"return {GD}._fullLayout.title.text")
    table = _table_text(dash_duo)
    _set_input(dash_duo, _opt_id("opt_lr", 0), -1)
    dash_duo.wait_for_contains_text("#alert-error", "optimizers[0].lr=-1", timeout=20)
    assert "must be in (0.0, 100.0]" in dash_duo.find_element("#alert-error").text
    _set_input(dash_duo, _opt_id("opt_lr", 0), 0.07)                  # back to the preset: the message goes
    dash_duo.wait_for_text_to_equal("#alert-error", "", timeout=20)
    _set_input(dash_duo, "hidden", 0)
    dash_duo.wait_for_contains_text("#alert-error", "model.hidden[0]=0", timeout=20)
    _set_input(dash_duo, "hidden", 15)
    dash_duo.wait_for_text_to_equal("#alert-error", "", timeout=20)
    _set_input(dash_duo, "grid-resolution", 999)
    dash_duo.wait_for_contains_text("#alert-error", "grid.resolution=999: must be an integer in [3, 201]", timeout=20)
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
        files = [f for f in glob.glob(os.path.join(folder, "*.html"))]
        return files[0] if files and os.path.getsize(files[0]) > 1_000_000 else None
    until(done, timeout=40)
    path = done()
    time.sleep(0.5)                                                      # let the write finish
    assert dash_duo.get_logs() == []
    dash_duo.driver.get("file://" + path)
    dash_duo.wait_for_element(".js-plotly-plot", timeout=30)
    gd = "document.querySelector('.js-plotly-plot')"
    until(lambda: dash_duo.driver.execute_script(f"return ({gd}._fullData || []).length") == 1 + 2 * N_OPT,
                      timeout=30)
    assert dash_duo.driver.execute_script(f"return {gd}._transitionData._frames.length") == 100
    assert dash_duo.get_logs() == []
