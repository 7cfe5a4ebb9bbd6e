"""visualizer.app.download_callbacks: the download buttons' plain functions, called directly."""
import base64
import io

import core
from visualizer.app import spec_callbacks as cb
from visualizer.app import download_callbacks as dcb
from visualizer.plotdata.panels import has_curvature, loss_curve_title
from visualizer.plotdata.view import ViewOptions


def test_downloads(small, cache):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    npz = dcb.download_npz(store, cache)
    r = core.load_result(io.BytesIO(base64.b64decode(npz["content"])))
    assert list(r.trajectories) == list(cache.get(store["key"]).trajectories)
    assert npz["filename"] == "small-test-run.npz"
    spec = dcb.download_spec(store, cache)
    assert core.ExperimentSpec.from_json(spec["content"]).to_dict() == d
    html = dcb.download_html(store, "log", 100, 1, cache)
    assert html["filename"].endswith(".html") and "Plotly.newPlot" in html["content"]


def test_the_html_download_holds_the_panels_the_page_shows(small, cache):
    d, values, base = small
    store = cb.main("controls", values, base, cache)["store"]
    result = cache.get(store["key"])
    want = ("landscape",) + (("sharpness",) if has_curvature(result) else ()) + ("curves",)
    assert dcb.page_panels(result) == want
    fig = dcb.page_figure(result, ViewOptions(scale="log"))
    notes = [a.text for a in fig.layout.annotations]
    assert loss_curve_title(result) in notes                                # the curves panel
    assert ("sharpness" in want) == any(n.startswith("sharpness (solid)") for n in notes)
    assert fig.layout.width is None and fig.layout.autosize                 # fills the window's width
    html = dcb.download_html(store, "log", 100, 1, cache)
    assert '"responsive": true' in html["content"] and "loss per step (log axis" in html["content"]
