"""A failed run is named as failed in the app: its legend entry in every panel and its table row (red)."""
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from visualizer.app.factory import create_app

PANELS = ("graph-landscape-3d", "graph-contour", "graph-curves")


def _names(drv, graph):
    return drv.execute_script(
        "var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
        "return gd && gd._fullData ? gd._fullData.filter(t => t.showlegend !== false).map(t => t.name) : [];", graph)


def test_large_lr_at_50_is_marked_failed_in_the_legends_and_the_table(dash_duo, shared_cache):
    # large LR at lr 50 kills every hidden unit by step 33 (core.model.failure): the run is failed, not diverged
    dash_duo.start_server(create_app(cache=shared_cache))
    dash_duo.wait_for_element("#graph-landscape-3d .js-plotly-plot", timeout=60)
    dash_duo.wait_for_element("#summary-table td", timeout=30)
    drv = dash_duo.driver
    assert not any("failed" in n for g in PANELS for n in _names(drv, g))      # the preset: nothing failed
    box = drv.execute_script("return document.getElementById(arguments[0])", '{"index":2,"type":"opt_lr"}')
    if box.tag_name != "input":
        box = box.find_element("css selector", "input")
    box.clear()
    box.send_keys("50", Keys.ENTER)

    def marked():
        return all(any(n.startswith("large LR (failed at 33") for n in _names(drv, g)) for g in PANELS)
    try:
        until(marked, timeout=120)
    except Exception:
        raise AssertionError({g: _names(drv, g) for g in PANELS}) from None
    for g in PANELS:                                                     # and only that run
        assert [n for n in _names(drv, g) if "failed" in n and not n.startswith("large LR")] == []
    row = drv.execute_script(
        "var rows = Array.from(document.querySelectorAll('#summary-table tr'));"
        "var r = rows.find(r => r.innerText.indexOf('large LR') >= 0);"
        "var td = r && r.querySelector('td');"
        "return r ? [r.innerText, td ? getComputedStyle(td).color : ''] : null;")
    assert row is not None and "33" in row[0], row
    assert row[1] == "rgb(185, 28, 28)", row                             # #b91c1c: the failed rows' red
    assert dash_duo.find_element("#alert-error").text == ""
    assert dash_duo.get_logs() == []
