"""python -m visualizer export: files read back (GIF, MP4, HTML, PNG), determinism, and one-line errors.

The experiment is run once per module on a small spec (the four-optimizer preset with 300 steps
and an 21 x 21 grid) and saved as a .npz, so every export loads it in well under a second.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import core
from visualizer import export as E
from visualizer.export import gif as gif_writer
from visualizer.export.scene import build_scene
from visualizer.plotdata.style import PALETTE
from visualizer.plotdata.view import MAX_ANIMATION_FRAMES

from tests.helpers import ROOT
from tests.helpers import browser_missing, chrome_options, frame_trace, trace, traces
LABELS = ["SGD", "LR annealing", "large LR", "momentum"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    spec = core.ExperimentSpec.preset("four_optimizers").to_dict()
    spec["training"]["steps"] = 300
    spec["grid"].update(resolution=21, moving_frames=8, moving_resolution=11)
    spec_file = d / "small.json"
    spec_file.write_text(json.dumps(spec))
    s = core.ExperimentSpec.from_dict(spec)
    s.grid.moving = True
    result = core.run_experiment(s)
    run = d / "run.npz"
    result.save(str(run))
    return dict(dir=d, spec=str(spec_file), run=str(run), result=result)


def cli(*args):
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = E.main([str(a) for a in args])
        except SystemExit as e:          # argparse's own errors
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


def leftovers(folder):
    return sorted(f for f in os.listdir(folder) if ".part" in f)


# ------------------------------------------------------------------ formats
def test_gif_has_requested_frames_and_size(files, tmp_path):
    from PIL import Image
    out = tmp_path / "a.gif"
    rc, stdout, err = cli(files["run"], "--format", "gif", "--out", out, "--frames", 12, "--size", "320x240",
                          "--fps", 10, "--scale", "log", "--quiet")
    assert rc == 0, err
    with Image.open(out) as im:
        assert im.format == "GIF" and im.size == (320, 240)
        assert im.n_frames == 12
        assert im.info["duration"] == 100 and im.info["loop"] == 0
        im.seek(11)
        last = np.asarray(im.convert("RGB"))
    assert last.std() > 10                     # not blank
    assert re.fullmatch(rf"wrote {re.escape(str(out))}: [\d.]+ (kB|MB), 12 frames, 320x240, [\d.]+ s\n", stdout)
    assert leftovers(tmp_path) == []


def test_gif_from_spec_file_with_rotation_and_subset(files, tmp_path):
    from PIL import Image
    out = tmp_path / "b.gif"
    rc, _, err = cli(files["spec"], "--out", out, "--frames", 5, "--size", "200x160", "--rotate", 90,
                     "--optimizers", "SGD,momentum", "--title", "two of four", "--quiet")
    assert rc == 0, err
    with Image.open(out) as im:
        assert im.n_frames == 5 and im.size == (200, 160)


def _ffmpeg_size(exe, path):
    p = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    m = re.search(r"Video: h264.*?, (\d{2,5})x(\d{2,5})", p.stderr)
    assert m, p.stderr
    return int(m.group(1)), int(m.group(2)), p.stderr


def test_mp4_frames_size_codec_and_bitexact(files, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    outs = []
    for name in ("a.mp4", "b.mp4"):
        out = tmp_path / name
        rc, _, err = cli(files["run"], "--format", "mp4", "--out", out, "--frames", 15, "--size", "320x240",
                         "--fps", 15, "--quiet")
        assert rc == 0, err
        outs.append(out)
    n, secs = imageio_ffmpeg.count_frames_and_secs(str(outs[0]))
    assert n == 15 and secs == pytest.approx(1.0, abs=0.1)
    w, h, info = _ffmpeg_size(exe, outs[0])
    assert (w, h) == (320, 240) and "yuv420p" in info
    gen = imageio_ffmpeg.read_frames(str(outs[0]))
    meta = gen.__next__()
    assert tuple(meta["size"]) == (320, 240)
    frame = np.frombuffer(next(gen), np.uint8)
    gen.close()
    assert frame.std() > 10
    assert outs[0].read_bytes() == outs[1].read_bytes()          # deterministic, byte for byte


def test_png_size_step_and_not_blank(files, tmp_path):
    from PIL import Image
    a, b = tmp_path / "last.png", tmp_path / "s100.png"
    assert cli(files["run"], "--format", "png", "--out", a, "--size", "401x301", "--quiet")[0] == 0
    rc, _, err = cli(files["run"], "--out", b, "--size", "401x301", "--step", 100, "--quiet")   # format from .png
    assert rc == 0, err
    with Image.open(a) as im, Image.open(b) as im2:
        assert im.size == (401, 301) and im2.size == (401, 301)
        px, px2 = np.asarray(im.convert("RGB")), np.asarray(im2.convert("RGB"))
    assert px.std() > 10 and len(np.unique(px.reshape(-1, 3), axis=0)) > 50
    assert not np.array_equal(px, px2)          # step 100 is a different picture from the last step
    # the four optimizer colours appear (balls and trails)
    for c in PALETTE[:4]:
        rgb = np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(px.astype(int) - rgb).sum(axis=2) < 60).sum() > 5, c


def test_exports_are_deterministic(files, tmp_path):
    for fmt in ("gif", "png"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        for out in (a, b):
            assert cli(files["run"], "--out", out, "--frames", 6, "--size", "240x180", "--quiet")[0] == 0
        assert a.read_bytes() == b.read_bytes(), fmt


def test_moving_landscape(files, tmp_path):
    from PIL import Image
    out = tmp_path / "m.gif"
    rc, stdout, err = cli(files["run"], "--moving", "--out", out, "--frames", 20, "--size", "240x180", "--quiet")
    assert rc == 0, err
    with Image.open(out) as im:       # one frame per moving surface (8 in this spec), as in the app
        assert im.n_frames == 8 and im.size == (240, 180)
    assert ", 8 frames," in stdout


def test_moving_from_spec_sets_grid_moving(files, tmp_path):
    out = tmp_path / "m.png"
    rc, _, err = cli(files["spec"], "--moving", "--out", out, "--size", "240x180", "--quiet")
    assert rc == 0, err


def test_scene_heights_match_view(files):
    """The exporter's heights, steps and colours are the app's (visualizer.plotdata.view; see also
    tests/visualizer/plotdata/test_frames.py)."""
    from visualizer.plotdata import view as V
    r = files["result"]
    opts = E.ExportOptions(out="x.gif", frames=30, scale="sqrt", clip=95, exaggerate=2)
    sc = build_scene(r, opts)
    v = opts.view()
    H, label = V.height(r.surface, v)
    np.testing.assert_array_equal(sc.frames.heights[0], H)
    assert sc.frames.zlabel == label == "sqrt(train loss) (clipped at p95, x2 vertical)"
    np.testing.assert_array_equal(sc.steps, V.animation_steps(r, 30))
    assert sc.colors == [V.color_of(r, l) for l in r.trajectories]


# ------------------------------------------------------------------ panels
def _frames_of(path):
    from PIL import Image
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("RGB")).astype(int))
        return im.size, out


def _step_line_x(img, x0, skip=70):
    """The column of the sharpness panel's step line (dark grey) right of x0, the y axis and its labels left out."""
    reg = img[:, x0:]
    grey = (np.ptp(reg, axis=2) < 10) & (reg.max(axis=2) < 150)
    cols = grey.sum(axis=0)
    cols[:skip] = 0
    return x0 + int(np.argmax(cols))


def test_landscape_and_sharpness_panels_side_by_side_with_moving_markers(files, tmp_path):
    out = tmp_path / "ls.gif"
    rc, stdout, err = cli(files["run"], "--panels", "landscape,sharpness", "--out", out, "--frames", 10, "--quiet")
    assert rc == 0, err
    size, frames = _frames_of(out)
    assert size == (1120, 480) and len(frames) == 10                   # default: 640 + 480 pixels a panel
    assert ", 10 frames, 1120x480," in stdout
    x0 = 640                                                            # the sharpness panel starts here
    assert all(f[:, x0 + 60:].std() > 10 for f in frames)               # both panels drawn
    left = [f[:, :x0] for f in frames]
    right = [f[:, x0:] for f in frames]
    assert not np.array_equal(left[2], left[7]) and not np.array_equal(right[2], right[7])   # both move
    xs = [_step_line_x(f, x0) for f in frames[1:]]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 200                   # the step line walks right with the balls
    c = np.array([int(PALETTE[3][i:i + 2], 16) for i in (1, 3, 5)])    # momentum's colour appears in the panel
    assert (np.abs(frames[-1][:, x0:] - c).sum(axis=2) < 60).sum() > 50


def test_a_png_of_all_four_panels(files, tmp_path):
    from PIL import Image
    out = tmp_path / "all.png"
    rc, stdout, err = cli(files["run"], "--panels", "landscape,sharpness,curves,slices", "--out", out,
                          "--step", 100, "--quiet")
    assert rc == 0, err
    with Image.open(out) as im:
        assert im.size == (1920, 480)                                   # 640 + 3 x 480, capped at 1920
        px = np.asarray(im.convert("RGB")).astype(int)
    edges = np.cumsum([0, 640, 480, 480, 480]) * 1920 / 2080
    for a, b in zip(edges[:-1], edges[1:]):                             # every panel has a picture
        reg = px[60:, int(a) + 40:int(b) - 10]
        assert reg.std() > 10 and len(np.unique(reg.reshape(-1, 3), axis=0)) > 20
    other = tmp_path / "all2.png"
    assert cli(files["run"], "--panels", "landscape,sharpness,curves,slices", "--out", other, "--step", 250,
               "--slice-optimizer", "large LR", "--quiet")[0] == 0
    with Image.open(other) as im:
        assert not np.array_equal(px[:, int(edges[3]):], np.asarray(im.convert("RGB"))[:, int(edges[3]):])


def test_panel_exports_are_deterministic(files, tmp_path):
    """The slices panel renders in two processes (8 frames or more): the same bytes anyway."""
    outs = [tmp_path / f"{n}.gif" for n in "ab"]
    for out in outs:
        assert cli(files["run"], "--panels", "sharpness,slices", "--out", out, "--frames", 8, "--size", "640x240",
                   "--quiet")[0] == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()
    size, frames = _frames_of(outs[0])
    assert size == (640, 240) and len(frames) == 8
    assert not np.array_equal(frames[1][:, 320:], frames[6][:, 320:])    # the slices follow the step


def test_html_panels_are_subplots_animated_together(files, tmp_path):
    from visualizer.export.html import html_figure
    opts = E.ExportOptions(out=str(tmp_path / "p.html"), frames=6, size=(1500, 500),
                           panels=("landscape", "sharpness", "curves", "slices")).validate()
    fig = html_figure(files["result"], opts)
    n = 4
    assert len(traces(fig, type="surface")) == 1 and len(traces(fig, type="scatter3d")) == 2 * n
    assert {t.xaxis for t in fig.data if t.type == "scatter"} == {"x", "x2", "x3", "x4", "x5"}
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert len(fig.frames) == 6 and [f.name for f in fig.frames] == [str(int(s)) for s in build_scene(
        files["result"], E.ExportOptions(out="x.gif", frames=6)).steps]
    axis = trace(fig, "SGD threshold").xaxis                             # the sharpness panel's step line:
    line = dict(xaxis=axis, mode="lines", hoverinfo="skip", showlegend=False)    # the one unnamed line there
    assert trace(fig, **line).name is None
    for f in fig.frames:
        assert f.layout.annotations                                       # the slices' titles change
        assert frame_trace(fig, f, **line).x[0] == int(f.name)            # the step line moved
    out = tmp_path / "p.html"
    rc, stdout, err = cli(files["run"], "--format", "html", "--panels", "landscape,sharpness", "--out", out,
                          "--frames", 5, "--quiet")
    assert rc == 0 and ", 5 frames, 480 px high, the window's width," in stdout, err


def _without(result, what):
    import dataclasses
    if what == "curvature":
        trs = {l: dataclasses.replace(t, sharpness=None, min_eig=None, threshold=None)
               for l, t in result.trajectories.items()}
        return dataclasses.replace(result, trajectories=trs)
    return dataclasses.replace(result, X_train=None, y_train=None)


@pytest.mark.parametrize("what,panels,message", [
    ("curvature", "landscape,sharpness", "error: --panels landscape,sharpness: the sharpness panel cannot be drawn: "
                                         "this run has no curvature"),
    ("data", "slices", "error: --panels slices: the slices panel cannot be drawn: this run has no training data"),
])
def test_a_run_without_curvature_or_data_cannot_draw_that_panel(files, tmp_path, what, panels, message):
    run = tmp_path / "old.npz"
    _without(files["result"], what).save(str(run))
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("gif", "html"):
        rc, stdout, err = cli(run, "--panels", panels, "--out", out / f"x.{fmt}", "--quiet")
        assert rc == 2 and err.count("\n") == 1 and err.startswith(message), err
        assert stdout == "" and os.listdir(out) == []


def test_a_spec_without_curvature_fails_before_running(tmp_path, monkeypatch):
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["curvature"]["enabled"] = False
    spec = tmp_path / "flat.json"
    spec.write_text(json.dumps(d))
    monkeypatch.setattr(core, "run_experiment", lambda *a, **k: pytest.fail("ran the spec"))
    rc, _, err = cli(spec, "--panels", "sharpness", "--out", tmp_path / "x.gif", "--quiet")
    assert rc == 2 and err == ("error: --panels sharpness: the sharpness panel needs curvature: this spec has "
                               "curvature.enabled false; set it to true in the spec\n")
    assert sorted(os.listdir(tmp_path)) == ["flat.json"]


# ------------------------------------------------------------------ HTML
def test_html_holds_frames_and_is_self_contained(files, tmp_path):
    pytest.importorskip("visualizer.figures.landscape")
    out = tmp_path / "a.html"
    rc, stdout, err = cli(files["run"], "--format", "html", "--out", out, "--frames", 10, "--quiet")
    assert rc == 0, err
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc=", text)                  # plays offline: nothing to fetch
    assert len(text) > 1_000_000                                        # plotly.js is inlined
    assert "Plotly.addFrames" in text and "Plotly.animate('loss-landscape'" not in text   # frames, no autoplay
    assert ", 10 frames," in stdout
    out2 = tmp_path / "b.html"
    assert cli(files["run"], "--format", "html", "--out", out2, "--frames", 10, "--quiet")[0] == 0
    assert out.read_bytes() == out2.read_bytes()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # selenium 4.2 on urllib3
@pytest.mark.parametrize("panels", [None, "landscape,sharpness,curves,slices"])
def test_html_loads_in_headless_chromium_without_console_errors(files, tmp_path, panels):
    pytest.importorskip("visualizer.figures.landscape")
    reason = browser_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the browser check cannot run: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.wait import WebDriverWait
    out = tmp_path / "page.html"
    more = ["--panels", panels, "--size", "1800x500"] if panels else ["--size", "640x480"]
    assert cli(files["run"], "--format", "html", "--out", out, "--frames", 8, *more, "--quiet")[0] == 0
    o = chrome_options(headless=True, window_size="800,600")
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=o)
    try:
        d.set_page_load_timeout(60)
        d.get(out.as_uri())
        try:
            state = WebDriverWait(d, 20, poll_frequency=0.1).until(lambda drv: drv.execute_script(
                "var g = document.getElementById('loss-landscape');"
                "if (!g || !g._fullData || !g._transitionData) return null;"
                "return [g._fullData.length, g._transitionData._frames.length, !!g.querySelector('canvas')];"))
        except TimeoutException:
            pytest.fail("the plot never rendered")
        n_traces, n_frames, has_canvas = state
        # landscape 1 + 2n; sharpness 3n + step line; curves 2n (per-step line, frames) + step line; slices 3 + 3 + 3n
        assert n_traces == (1 + 2 * 4 + (3 * 4 + 1) + (2 * 4 + 1) + (3 + 3 + 3 * 4) if panels else 1 + 2 * 4)
        assert n_frames == 8 and has_canvas
        # jump to the first frame (never wait for a whole playback: WebGL is software here)
        moved = d.execute_async_script(
            "var done = arguments[arguments.length - 1]; var g = document.getElementById('loss-landscape');"
            "var name = g._transitionData._frames[0].name;"
            "Plotly.animate(g, [name], {frame: {duration: 0, redraw: true}, mode: 'immediate',"
            " transition: {duration: 0}}).then(function () { done(g._fullLayout.annotations.map(a => a.text)); },"
            " function (e) { done(String(e)); });")
        if panels:                            # the slices' titles follow the frame (frame layouts)
            assert any(t.startswith("(a) top Hessian eigenvector") for t in moved), moved
        logs = d.get_log("browser")
    finally:
        d.quit()
    severe = [l for l in logs if l["level"] == "SEVERE"]
    assert severe == [], severe


# ------------------------------------------------------------------ bad input
BAD = [
    (["--format", "webm"], "out.webm", "error: --format webm: allowed are gif, mp4, html, png"),
    ([], "out.txt", "error: --format (none): give --format"),
    (["--format", "gif"], "no/such/folder/out.gif", "error: --out {dir}/no/such/folder/out.gif: folder"),
    (["--size", "100x100"], "o.gif",
     "error: --size 100x100: must be WxH pixels with W in [160, 1920] and H in [120, 1080]"),
    (["--size", "big"], "o.gif", "error: --size big: must be WxH pixels"),
    (["--size", "3000x2000"], "o.png", "error: --size 3000x2000: must be WxH pixels"),
    (["--size", "321x240"], "o.mp4", "error: --size 321x240: MP4 (H.264, yuv420p) needs an even width and height"),
    (["--frames", "1"], "o.gif", f"error: --frames 1: must be an integer in [2, {MAX_ANIMATION_FRAMES}]"),
    (["--frames", "301"], "o.gif", f"error: --frames 301: must be an integer in [2, {MAX_ANIMATION_FRAMES}]"),
    (["--frames", "ten"], "o.gif", "error: --frames ten: must be an integer"),
    (["--fps", "0"], "o.gif", "error: --fps 0: must be an integer in [1, 60]"),
    (["--fps", "61"], "o.mp4", "error: --fps 61: must be an integer in [1, 60]"),
    (["--elev", "91"], "o.gif", "error: --elev 91.0: must be a number in [-90, 90]"),
    (["--azim", "-361"], "o.gif", "error: --azim -361.0: must be a number in [-360, 360]"),
    (["--rotate", "721"], "o.gif", "error: --rotate 721.0: must be a number in [-720, 720]"),
    (["--rotate", "nan"], "o.gif", "error: --rotate nan: must be a finite number"),
    (["--exaggerate", "0.05"], "o.gif", "error: --exaggerate 0.05: must be a number in [0.1, 10]"),
    (["--clip", "20"], "o.gif", "error: --clip 20.0: must be a number in [50, 100]"),
    (["--scale", "cubic"], "o.gif", "error: --scale cubic: allowed are linear, log, sqrt"),
    (["--optimizers", "SGD,adamw"], "o.gif", "error: --optimizers SGD,adamw: unknown 'adamw'; allowed are "
     "SGD,LR annealing,large LR,momentum"),
    (["--step", "5"], "o.gif", "error: --step 5: only applies to --format png"),
    (["--step", "99999"], "o.png", "error: --step 99999: must be an integer in [0, 300]"),
    (["--rotate", "30"], "o.html", "error: --rotate 30: not available for --format html"),
    (["--panels", "landscape,loss"], "o.gif", "error: --panels landscape,loss: unknown 'loss'; allowed are "
     "landscape,sharpness,curves,slices (comma-separated)"),
    (["--panels", ""], "o.gif", "error: --panels '': empty; allowed are landscape,sharpness,curves,slices"),
    (["--panels", "curves,curves"], "o.png", "error: --panels curves,curves: a panel is named twice"),
    (["--panels", "landscape,sharpness,curves,slices", "--size", "640x480"], "o.gif",
     "error: --size 640x480: 4 panels need a width of at least 800 pixels (200 a panel)"),
    (["--slice-optimizer", "SGD"], "o.gif", "error: --slice-optimizer SGD: only applies with the slices panel"),
    (["--panels", "slices", "--slice-optimizer", "adam"], "o.gif", "error: --slice-optimizer adam: unknown; "
     "allowed are SGD,LR annealing,large LR,momentum"),
]


@pytest.mark.parametrize("args,out,message", BAD, ids=[" ".join(b[0]) or b[1] for b in BAD])
@pytest.mark.parametrize("source", ["run", "spec"])
def test_bad_input_one_line_error_exit_2_no_file(files, tmp_path, args, out, message, source):
    target = tmp_path / out
    rc, stdout, err = cli(files[source], "--out", target, *args, "--quiet")
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(message.format(dir=tmp_path)), err
    assert stdout == ""
    assert os.listdir(tmp_path) == []              # no output, no temporary file


@pytest.mark.parametrize("name,content,message", [
    ("nope.npz", None, "error: SPEC {f}: no such file"),
    ("bad.npz", b"not a zip file", "error: SPEC {f}: not a readable .npz result"),
    ("empty.npz", b"", "error: SPEC {f}: not a readable .npz result"),
    ("foreign.npz", "npz", "error: SPEC {f}: not a valid result (no 'meta' entry"),
    ("nothing", None, "error: SPEC {f}: not a preset (article, four_optimizers"),
    ("bad.json", b"{", "error: SPEC {f}: spec: not valid JSON"),
])
def test_unreadable_input(tmp_path, name, content, message):
    src = tmp_path / name
    if content == "npz":
        np.savez(src, x=np.arange(3))
    elif content is not None:
        src.write_bytes(content)
    out = tmp_path / "out" / "x.gif"
    out.parent.mkdir()
    rc, _, err = cli(src, "--out", out, "--quiet")
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith(message.format(f=src)), err
    assert os.listdir(out.parent) == []


def test_moving_needs_a_moving_landscape(files, tmp_path):
    r = files["result"]
    import dataclasses
    still = dataclasses.replace(r, moving=None)
    run = tmp_path / "still.npz"
    still.save(str(run))
    rc, _, err = cli(run, "--moving", "--out", tmp_path / "m.gif", "--quiet")
    assert rc == 2 and err.startswith(f"error: --moving ({run}): this saved run has no moving landscape"), err
    assert sorted(os.listdir(tmp_path)) == ["still.npz"]


def test_argparse_errors_exit_2(files, tmp_path):
    rc, _, err = cli(files["run"], "--out", tmp_path / "x.gif", "--no-such-option")
    assert rc == 2 and err == "error: unrecognized arguments: --no-such-option\n", err   # one line, no usage block
    rc, _, err = cli(files["run"])                            # --out is required
    assert rc == 2 and "--out" in err and err.count("\n") == 1, err


def test_failure_while_writing_leaves_no_file(files, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(gif_writer, "write_gif", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        E.export(files["result"], E.ExportOptions(out=str(tmp_path / "x.gif"), frames=3, size=(200, 160),
                                                  progress=False))
    assert os.listdir(tmp_path) == []


def test_missing_encoder_is_a_clear_error(files, tmp_path, monkeypatch):
    import imageio_ffmpeg
    def missing():
        raise RuntimeError("No ffmpeg exe could be found.")
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", missing)
    rc, _, err = cli(files["run"], "--out", tmp_path / "x.mp4", "--frames", 3, "--quiet")
    assert rc == 1 and err.startswith("error: --format mp4: no ffmpeg encoder found") and err.count("\n") == 1
    assert os.listdir(tmp_path) == []


def test_module_entry_point(files, tmp_path):
    """`python -m visualizer export` dispatches here (a real subprocess, exit status and summary line)."""
    out = tmp_path / "s.png"
    p = subprocess.run([sys.executable, "-m", "visualizer", "export", files["run"], "--out", str(out),
                        "--size", "200x160"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"wrote {out}: ") and out.exists()
    p = subprocess.run([sys.executable, "-m", "visualizer", "export", files["run"], "--out", str(out),
                        "--format", "avi"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr == "error: --format avi: allowed are gif, mp4, html, png\n"


def test_a_spec_over_a_budget_is_a_one_line_error(tmp_path):
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["model"]["hidden"] = [512, 512, 512]
    spec = tmp_path / "big.json"
    spec.write_text(json.dumps(d))
    out = tmp_path / "big.gif"
    r = subprocess.run([sys.executable, "-m", "visualizer", "export", str(spec), "--format", "gif", "--out", str(out)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert "error: SPEC" in r.stderr and "training.record_every=10" in r.stderr and "recorded values" in r.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["big.json"]
