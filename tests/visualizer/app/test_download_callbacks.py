"""visualizer.app.download_callbacks: the download buttons' plain functions, called directly."""
import base64
import io

import core
from visualizer.app import spec_callbacks as cb
from visualizer.app import download_callbacks as dcb


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
