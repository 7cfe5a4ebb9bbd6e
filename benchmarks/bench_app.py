"""Measure the browser app for the default preset (four_optimizers).

    python benchmarks/bench_app.py [--screenshot assets/screenshot.png] [--no-browser] [--sweep-seeds N]

Prints:
  0. only what changed is recomputed: a plane change (pca -> random) of the computed preset, main + render
     callbacks, with the cached training reused (the app) and without (a cache whose runner cannot reuse it,
     as before); a finished sweep asked again by another page (the lr_sweep preset, inline; --sweep-seeds
     keeps only its first N seeds to make the first computation shorter), to its complete map;
  1. callback time from a spec change (the first optimizer's learning rate) to the new figures:
     the main callback (train + landscape, a cache miss), the render callback (figures + table) and the
     JSON encoding Dash does, and the same render for a cache hit;
  2. the size of the figure JSON sent to the browser (3D with frames, contour, curves; limit 3 MB);
  3. time to first render in headless Chromium: page open -> the 3D graph drawn with all its traces
     (server warm: the default preset already in the cache).
  --first-figure runs only section 3 (--repeat N page loads), with the time in the page itself (navigation start
  to the first animation frame drawn with the 3D figure, and to its animation frames attached) and the slowest
  callback requests.
Timings drift run to run on shared machines; compare within one run.
"""
from __future__ import annotations

import argparse
import copy
import logging
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import plotly.io as pio  # noqa: E402

import core  # noqa: E402
from visualizer.app import spec_callbacks as cb  # noqa: E402
from visualizer.app import render_callbacks as rcb  # noqa: E402
from visualizer.serving.cache import ResultCache  # noqa: E402
from dash import no_update  # noqa: E402

MB = 2**20


def dash_json_bytes(obj):
    from dash._utils import to_json
    return len(to_json(obj).encode())


def _plane_change(cache, values, base):
    """Seconds from a plane change (pca -> random) to the rendered figures: (main, render)."""
    t = time.perf_counter()
    out = cb.main("controls", dict(values, plane_method="random"), base, cache)
    t_main = time.perf_counter() - t
    assert out["alert"] == "", out["alert"]
    t = time.perf_counter()
    rcb.render(out["store"], "log", 100, 1.0, cache)
    return t_main, time.perf_counter() - t


def bench_recompute():
    spec = core.ExperimentSpec.preset("four_optimizers").to_dict()
    values, extras = cb.controls_from_spec(spec)
    base = {"spec": spec, "extras": extras}
    rows = {}
    for name, cache in (("reusing the training (app)", ResultCache(maxsize=8)),
                        ("training again (no reuse)", ResultCache(
                            maxsize=8, runner=lambda s, progress=None: core.run_experiment(s, progress=progress)))):
        cb.main("controls", values, base, cache)                       # the preset, computed
        rows[name] = _plane_change(cache, values, base)
    print("plane change (pca -> random) of the computed four_optimizers preset, to the rendered figures:")
    for name, (m, r) in rows.items():
        print(f"  {name:28s} main {m:6.2f} s + render {r:5.2f} s = {m + r:6.2f} s")
    a, b = (sum(v) for v in rows.values())
    print(f"  ratio: {b / a:5.1f}x faster (target: < 3 s)")


def bench_sweep(seeds=None):
    from visualizer.app import sweep_callbacks as SC
    from visualizer.serving.sweep_service import SweepService
    d = core.ExperimentSpec.preset("lr_sweep").to_dict()
    if seeds:
        d["sweep"]["seeds"] = d["sweep"]["seeds"][:seeds]
    up = {"spec": d, "name": "lr_sweep.json"}
    cache = ResultCache(maxsize=2)
    svc = SweepService(scheduler="inline", files=cache.uploads.files, heartbeat=None)
    try:
        times = []
        for session in ("bench-a", "bench-b"):
            t = time.perf_counter()
            o = SC.sweep_run(SC.UPLOAD, {}, None, up, session, svc, cache)
            assert o["alert"] == "", o["alert"]
            shown = o["shown"]
            while True:
                p = SC.sweep_poll(session, shown, svc)
                shown = p["shown"] if p["shown"] is not no_update else shown
                if p["disabled"] is True:
                    break
                time.sleep(0.05)
            times.append(time.perf_counter() - t)
            status = p["status"]
        runs = svc.job("bench-a").total
    finally:
        svc.close()
    print(f"sweep lr_sweep ({runs:,} runs, inline), request to the complete map:")
    print(f"  first request (computed):            {times[0]:6.2f} s")
    print(f"  the same sweep asked again (cache):  {times[1]:6.2f} s  (target: < 2 s)  [{status[:60]}]")


def bench_callbacks(cache):
    spec = core.ExperimentSpec.preset("four_optimizers").to_dict()
    values, extras = cb.controls_from_spec(spec)
    base = {"spec": spec, "extras": extras}
    t = time.perf_counter()
    out0 = cb.main("controls", values, base, cache)
    t_first = time.perf_counter() - t
    values2 = copy.deepcopy(values)
    values2["opt_lr"][0] = 0.08
    t = time.perf_counter()
    out = cb.main("controls", values2, base, cache)
    t_main = time.perf_counter() - t
    assert out["alert"] == "", out["alert"]
    t = time.perf_counter()
    r = rcb.render(out["store"], "linear", 100, 1.0, cache)
    t_render = time.perf_counter() - t
    t = time.perf_counter()
    n3d = dash_json_bytes(r["fig3d"]); nc = dash_json_bytes(r["contour"]); nk = dash_json_bytes(r["curves"])
    t_json = time.perf_counter() - t
    t = time.perf_counter()
    rcb.render(out0["store"], "log", 100, 1.0, cache)
    t_hit = time.perf_counter() - t
    print("default preset: four_optimizers (4 optimizers x 2000 steps, 51 x 51 grid)")
    print(f"  first computation of the preset (main callback, cache miss): {t_first:6.2f} s")
    print("spec change (lr of optimizer 0: 0.07 -> 0.08) to the new figure:")
    print(f"  main callback (validate + train + landscape):    {t_main:6.2f} s")
    print(f"  render callback (3D with frames, contour, curves, table): {t_render:6.2f} s")
    print(f"  JSON encoding of the three figures:              {t_json:6.2f} s")
    print(f"  total callback time:                             {t_main + t_render + t_json:6.2f} s")
    print(f"  view change on a cached result (render only):    {t_hit:6.2f} s")
    fig = r["fig3d"]
    print("figure JSON sent to the browser:")
    print(f"  3D landscape with {len(fig.frames)} frames: {n3d / MB:6.2f} MB  "
          f"(limit 3 MB: {'ok' if n3d < 3 * MB else 'OVER'})")
    print(f"  contour: {nc / MB:6.3f} MB, curves: {nk / MB:6.3f} MB, all three: {(n3d + nc + nk) / MB:6.2f} MB")
    print(f"  (plotly to_json of the 3D figure: {len(pio.to_json(fig)) / MB:6.2f} MB)")


# In the page from its first script on: performance.now() (ms from navigation start) at the first animation frame
# (just before a paint) where the 3D graph has its 9 traces and its canvas ("first"), and where it holds its
# animation frames ("frames"). Unlike the polls above, not delayed by whatever work follows the first draw.
WATCH = """window.__llnSeen = {};
(function tick() {
    var g = document.querySelector('#graph-landscape-3d .js-plotly-plot'), seen = window.__llnSeen;
    if (!seen.first && g && g._fullData && g._fullData.length === 9 &&
        document.querySelector('#graph-landscape-3d canvas')) { seen.first = performance.now(); }
    if (!seen.frames && g && g._transitionData && g._transitionData._frames &&
        g._transitionData._frames.length) { seen.frames = performance.now(); }
    if (!(seen.first && seen.frames)) { requestAnimationFrame(tick); }
})();"""


def _callback_timings(drv, top=4):
    """The page's slowest callback requests (the browser's resource timing: request start -> response end, the
    body's size), to tell the server's and the transfer's share from the drawing's."""
    rows = drv.execute_script(
        "return performance.getEntriesByType('resource').filter(function (e) {"
        " return e.name.indexOf('_dash-update-component') >= 0; }).map(function (e) {"
        " return [e.startTime, e.responseStart, e.responseEnd, e.encodedBodySize]; })")
    print(f"  callback requests: {len(rows)}; slowest (start, waiting for the server, received by, body):")
    for start, first, end, size in sorted(rows, key=lambda r: r[1] - r[0], reverse=True)[:top]:
        print(f"    at {start / 1e3:5.2f} s: {(first - start) / 1e3:5.2f} s to the first byte, done at "
              f"{end / 1e3:5.2f} s, {size / MB:5.2f} MB")


def bench_browser(cache, screenshot=None):
    from selenium import webdriver
    from werkzeug.serving import make_server

    from tests.helpers import chrome_options

    from visualizer.app.factory import create_app
    logging.getLogger("werkzeug").setLevel(logging.WARNING)      # no line per request
    app = create_app(cache=cache, warm=False)
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    port = srv.server_port
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    drv = webdriver.Chrome(options=chrome_options(headless=True, window_size="1400,1000"))
    gd = "document.querySelector('#graph-landscape-3d .js-plotly-plot')"
    try:
        drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
        drv.set_script_timeout(120)
        t = time.perf_counter()
        drv.get(f"http://127.0.0.1:{port}/")
        while True:
            n = drv.execute_script(f"var g = {gd}; return g && g._fullData ? g._fullData.length : 0")
            if n == 9 and drv.execute_script("return document.querySelectorAll('#graph-landscape-3d canvas').length"):
                break
            if time.perf_counter() - t > 120:
                raise TimeoutError("the 3D graph did not render within 120 s")
            time.sleep(0.05)
        t_first = time.perf_counter() - t
        titles = ("return ['graph-landscape-3d', 'graph-contour', 'graph-curves'].map(function (id) {"
                  " var g = document.querySelector('#' + id + ' .js-plotly-plot');"
                  " return g && g._fullLayout && g._fullLayout.title ? g._fullLayout.title.text : ''; })")
        while not all(" · step " in x for x in drv.execute_script(titles)):
            if time.perf_counter() - t > 120:
                raise TimeoutError("the panels did not show their step within 120 s")
            time.sleep(0.05)
        t_panels = time.perf_counter() - t
        seen = drv.execute_script("return window.__llnSeen")
        while "frames" not in seen and time.perf_counter() - t < 120:
            time.sleep(0.05)
            seen = drv.execute_script("return window.__llnSeen")
        print(f"headless Chromium (software WebGL), server warm (load average {os.getloadavg()[0]:.2f}):")
        print(f"  time to first render of the 3D landscape: {t_first:6.2f} s  (target: < 4 s)")
        print(f"  time until the 3D, contour and curves titles name the step: {t_panels:6.2f} s")
        print(f"  in the page, from navigation start: first frame with the 3D {seen['first'] / 1e3:6.2f} s, "
              f"its animation frames there (Play can run) {seen.get('frames', float('nan')) / 1e3:6.2f} s")
        _callback_timings(drv)
        if screenshot:
            time.sleep(2.0)                         # let the contour, curves and table settle
            drv.save_screenshot(screenshot)
            print(f"  screenshot: {screenshot}")
        logs = [l for l in drv.get_log("browser") if l["level"] == "SEVERE"]
        print(f"  browser console errors: {len(logs)}")
    finally:
        drv.quit()
        srv.shutdown()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--screenshot", help="save a 1400 x 1000 screenshot of the app here")
    ap.add_argument("--no-browser", action="store_true", help="skip the headless Chromium measurement")
    ap.add_argument("--sweep-seeds", type=int, default=None, help="keep only the sweep's first N seeds (shorter)")
    ap.add_argument("--first-figure", action="store_true",
                    help="only section 3 (the preset computed once, then the first figure in Chromium)")
    ap.add_argument("--repeat", type=int, default=1, help="page loads in section 3 (a new browser each)")
    args = ap.parse_args(argv)
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), f"load average {os.getloadavg()[0]:.2f}")
    if args.first_figure:
        cache = ResultCache(maxsize=8)
        cache.get_or_compute(core.ExperimentSpec.preset("four_optimizers"))
        for _ in range(args.repeat):
            bench_browser(cache, args.screenshot)
        return 0
    bench_recompute()
    bench_sweep(args.sweep_seeds)
    cache = ResultCache(maxsize=8)
    bench_callbacks(cache)
    if not args.no_browser:
        for _ in range(args.repeat):
            bench_browser(cache, args.screenshot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
