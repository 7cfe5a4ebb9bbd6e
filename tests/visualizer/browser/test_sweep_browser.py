"""The Sweep tab in headless Chromium (dash_duo): a tiny sweep spec uploaded and run (inline, a second or so),
its map and threshold curve, a click on a cell opening that run in the Landscape tab, no browser errors."""
import json

import numpy as np
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains

import core
from tests.helpers import small_sweep_dict as small_dict
from visualizer.app.factory import create_app

HEAT = "document.querySelector('#graph-sweep-heatmap .js-plotly-plot')"
GD = "document.querySelector('#graph-landscape-3d .js-plotly-plot')"


def _shown(dash_duo, tab):
    return dash_duo.driver.execute_script(f"return getComputedStyle(document.getElementById('tab-{tab}')).display") \
        != "none"


def _idle(dash_duo):
    return not dash_duo.driver.execute_script("return !!document.querySelector('[data-dash-is-loading=true]')")


def test_sweep_tab_map_threshold_and_a_click_opens_the_run(dash_duo, shared_cache, tmp_path):
    d = small_dict()                                           # 36 runs of 60 steps: SGD 6 lrs, momentum 6 x 2
    ref = core.sweep(d, scheduler="inline")
    spec_file = tmp_path / "tiny_sweep.json"
    spec_file.write_text(json.dumps(d))
    app = create_app(cache=shared_cache)
    app.services.scheduler = "inline"                          # in the server's own thread: no cluster to start
    dash_duo.start_server(app)
    drv = dash_duo.driver
    dash_duo.wait_for_element("#summary-table td", timeout=60)
    assert _shown(dash_duo, "landscape") and not _shown(dash_duo, "sweep")
    drv.find_elements("css selector", "#tabs .tab")[1].click()
    until(lambda: _shown(dash_duo, "sweep") and not _shown(dash_duo, "landscape"), timeout=10)

    drv.find_element("css selector", "#sweep-upload input[type=file]").send_keys(str(spec_file))
    dash_duo.wait_for_contains_text("#sweep-status", "36 runs; press Run", timeout=20)
    dash_duo.find_element("#sweep-run-btn").click()
    dash_duo.wait_for_contains_text("#sweep-status", "complete: 36 runs", timeout=40)
    until(lambda: drv.execute_script(f"return {HEAT}._fullLayout.title.text").find("complete") >= 0, timeout=20)

    # the map: median final loss over the seeds (log colour), the threshold curve (2 + 2 beta) / lambda_0
    types = drv.execute_script(f"return {HEAT}._fullData.map(t => t.type + ':' + t.name)")
    assert [t for t in types if t.startswith("heatmap:")] == ["heatmap:SGD", "heatmap:momentum"]
    assert types.count("scatter:initial stability edge (from λ₀)") == 2
    z = np.array(drv.execute_script(f"return Array.from({HEAT}._fullData.find(t => t.type === 'heatmap' && "
                                    "t.name === 'momentum').z, r => Array.from(r))"), float)
    b = ref.blocks["momentum"]
    assert np.allclose(z, np.log10(np.median(b.final_loss, axis=0).T), atol=1e-12)
    line = drv.execute_script(f"var t = {HEAT}._fullData.find(t => t.name === 'initial stability edge (from λ₀)'"
                              " && t.xaxis === 'x2');"                      # momentum's panel (the clicks' axes)
                              "return [Array.from(t.x), Array.from(t.y), t.line.dash]")
    s0 = b.sharpness0.max()
    assert np.allclose(line[0], [2 / s0, (2 + 2 * 0.9) / s0]) and line[1] == [0, 0.9] and line[2] == "dash"

    # click the cell lr = lrs[2], momentum 0.9 (a real mouse click at its centre)
    lr = float(b.axes["lr"][2])
    dx, dy, w, h = drv.execute_script(
        f"var gd = {HEAT}, xa = gd._fullLayout.xaxis2, ya = gd._fullLayout.yaxis2;"
        "return [xa._offset + xa.l2p(Math.log10(arguments[0])), ya._offset + ya.l2p(0.9), gd.offsetWidth,"
        " gd.offsetHeight];", lr)
    plot = drv.find_element("css selector", "#graph-sweep-heatmap .js-plotly-plot")
    ActionChains(drv).move_to_element(plot).move_by_offset(int(dx - w / 2), int(dy - h / 2)).pause(0.3) \
        .click().perform()
    until(lambda: _shown(dash_duo, "landscape") and not _shown(dash_duo, "sweep"), timeout=10)
    dash_duo.wait_for_contains_text("#run-status", f"Opened from the sweep: momentum at lr={lr:.3g}, momentum=0.9",
                                     timeout=40)
    v = b.final_loss[:, 2, 1]
    seed = int(ref.seeds[np.argsort(v)[(len(v) - 1) // 2]])
    assert f"seed {seed} (the lower of the two middle runs of 2 seeds" in dash_duo.find_element("#run-status").text
    until(lambda: drv.execute_script(f"return {GD}._fullData.length") == 3, timeout=30)     # surface, trail, ball
    name = drv.execute_script(f"return {GD}._fullData.find(t => t.mode === 'lines').name")     # the one run's path
    assert name.startswith(f"momentum lr={lr:.3g}, momentum=0.9 (in plane ")   # the legend's notes follow
    table = "return document.querySelector('#summary-table').innerText"
    until(lambda: f"{v.min():.4f}" in drv.execute_script(table), timeout=20)        # the opened run's final loss
    assert dash_duo.find_element("#alert-error").text == "" and dash_duo.find_element("#sweep-alert").text == ""
    assert dash_duo.find_element("#preset").text.startswith("custom")        # no longer four_optimizers
    until(lambda: _idle(dash_duo) and dash_duo.redux_state_rqs == [], timeout=20)
    assert app.services.sweeps.running() == 0
    assert dash_duo.get_logs() == []
