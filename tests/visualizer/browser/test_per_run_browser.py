"""Choosing per-run planes in the app shows small multiples: one 3D scene per optimizer, one step control."""
from dash.testing.wait import until

from tests.helpers import FRAMES_3D
from visualizer.app.factory import create_app

GD = "document.querySelector('#graph-landscape-3d .js-plotly-plot')"
N_OPT = 4


def test_choosing_per_run_planes_shows_small_multiples(dash_duo, shared_cache):
    dash_duo.start_server(create_app(cache=shared_cache))
    dash_duo.wait_for_element("#graph-landscape-3d .js-plotly-plot", timeout=60)
    drv = dash_duo.driver
    until(lambda: drv.execute_script(f"return {GD}._fullData.length") == 1 + 2 * N_OPT, timeout=60)
    dash_duo.select_dcc_dropdown("#plane-method", value="pca per run (small multiples)")
    until(lambda: drv.execute_script(f"return {GD}._fullData.length") == 3 * N_OPT, timeout=180)
    scenes = drv.execute_script(f"return {GD}._fullData.map(t => t.scene)")
    assert scenes == [s for i in range(N_OPT) for s in ["scene" if i == 0 else f"scene{i + 1}"] * 3]
    titles = drv.execute_script(f"return {GD}._fullLayout.annotations.map(a => a.text)")
    assert len(titles) == N_OPT and all("on its own plane" in t and "in plane" in t for t in titles)
    # one step control: the page's (the figure's own slider is removed in the app: visualizer/app/step_state.py)
    assert not drv.execute_script(f"return {GD}._fullLayout.sliders")
    assert dash_duo.find_element("#step-slider") is not None
    until(lambda: len(drv.execute_script(FRAMES_3D)) == 100, timeout=30)     # sent after the first draw
    assert dash_duo.find_element("#alert-error").text == ""
    assert dash_duo.get_logs() == []
