"""Shared test helpers, in one place.

Child processes: Helpers for tests that drive our commands as child processes: start them with a chosen SIGINT, find a
free port, wait for a server's first answer, stop it (dumping its threads when it hangs), list children.

SIGINT: a shell running this suite in the background (``make test &`` in a script) starts it with SIGINT
ignored, children inherit that, and Python and our CLIs keep an ignored SIGINT ignored (as they should: a
Ctrl-C meant for the foreground job must not stop background jobs). Tests that press Ctrl-C on a child
start it as a terminal's foreground job has it (``foreground``): the prefix sets SIGINT, then execs the
command (same pid, no preexec_fn).

Browser: Whether the headless-browser tests can run here (Debian's chromium + chromium-driver, selenium), and the
one place the Chromium options live (dash_duo's, through tests/conftest.py, and the export test's own driver).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import threading
import urllib.request

import numpy as np

import core
from core.model.optimizers import make

_PREFIX = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.{}); "
           "os.execvp(sys.argv[1], sys.argv[1:])")


def foreground(args):
    """``args`` (a command list) run with SIGINT at its default action (a Ctrl-C interrupts it)."""
    return [sys.executable, "-c", _PREFIX.format("SIG_DFL"), *args]


def background(args):
    """``args`` run with SIGINT ignored, as a shell starts ``cmd &`` in a script."""
    return [sys.executable, "-c", _PREFIX.format("SIG_IGN"), *args]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, proc, timeout=90):
    """The HTTP status of the server's first answer on ``/`` (it may take ``timeout`` s to start)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                return r.status
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer")


def stop(proc, sig=signal.SIGTERM, group=False, timeout=30):
    """Send ``sig`` (to the process group with ``group``) and wait; (exit status, output). A child that does
    not stop in ``timeout`` s gets SIGABRT (started with PYTHONFAULTHANDLER=1 it prints every thread's
    stack) and the test fails with its output."""
    def send(s):
        os.killpg(proc.pid, s) if group else proc.send_signal(s)
    send(sig)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGABRT)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        raise AssertionError(f"the server did not stop within {timeout} s; its output:\n{(out or '')[-8000:]}")
    return proc.returncode, out


def children(pid):
    """The pids of ``pid``'s children (direct and indirect)."""
    import psutil
    try:
        return {c.pid for c in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the repository


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def browser_missing():
    """Why browser tests cannot run here, or None."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"chromium not found at {CHROMIUM} (apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "chromedriver not on PATH (apt-get install chromium-driver)"
    try:
        import dash.testing  # noqa: F401
        import selenium  # noqa: F401
    except ImportError as e:
        return f"dash[testing] / selenium not installed ({e})"
    return None


FLAGS = ("--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


def chrome_options(headless=False, window_size="1400,1000"):
    """Selenium ChromeOptions for Debian's chromium. ``headless``: add --headless=new (dash_duo adds its own
    from pytest's --headless; a driver built by hand asks here)."""
    from selenium.webdriver.chrome.options import Options
    options = Options()
    if os.path.exists(CHROMIUM):
        options.binary_location = CHROMIUM
    flags = FLAGS + (f"--window-size={window_size}",) + (("--headless=new",) if headless else ())
    for flag in flags:
        options.add_argument(flag)
    return options


FRAMES_3D = ("var g = document.querySelector('#graph-landscape-3d .js-plotly-plot');"
             " return g && g._transitionData && g._transitionData._frames ?"
             " g._transitionData._frames.map(function (f) { return f.name; }) : [];")


def landscape_frames(driver, timeout=30):
    """The app's 3D figure's frame names (training steps, as str) once the page has them: the figure is drawn
    first and its frames come after it (visualizer/app/assets/app.js, render_callbacks.landscape_frames)."""
    _until(lambda: len(driver.execute_script(FRAMES_3D)) > 0, timeout)
    return driver.execute_script(FRAMES_3D)


# ------------------------------------------------------------ small specs and computations in threads
LRS = {"log": [0.01, 20, 6]}


def small_spec_dict(**grid):
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"].update(steps=200, record_every=5)
    d["grid"].update(resolution=15, **grid)
    d["name"] = "small test run"
    return d


def small_sweep_dict(steps=60, seeds=(0, 1), sharpness=True, lrs=LRS, momenta=(0.0, 0.9)):
    d = core.ExperimentSpec.preset("lr_sweep").to_dict()
    d["name"] = "small sweep"
    d["training"]["steps"] = steps
    d["sweep"] = {"optimizers": [{"name": "sgd", "label": "SGD", "axes": {"lr": lrs}},
                                 {"name": "momentum", "axes": {"lr": lrs, "momentum": list(momenta)}}],
                  "seeds": list(seeds), "sharpness": sharpness}
    return d


class Stop(Exception):
    pass


def spec_of(d=None, **sections):
    d = d or small_spec_dict()
    for path, v in sections.items():
        sec, _, key = path.partition("__")
        d[sec][key] = v
    return core.ExperimentSpec.from_dict(d)


def long_spec(seed=0):
    """Minutes of training if nobody stops it (estimated far above the small lane)."""
    return spec_of(core.ExperimentSpec.preset("four_optimizers").to_dict() | {"seed": seed},
                   training__steps=200_000, training__record_every=400)


def _until(cond, timeout=60.0):
    t0 = time.time()
    while not cond():
        if time.time() - t0 > timeout:
            raise AssertionError("timed out")
        time.sleep(0.02)


class Tracker:
    """A progress callback that records the stages it saw and raises Stop once ``stop`` is set."""

    def __init__(self):
        self.stages, self.stop = [], threading.Event()

    def __call__(self, stage, done, total):
        self.stages.append(stage)
        if self.stop.is_set():
            raise Stop

    def saw(self, stage):
        return stage in self.stages


def _in_thread(fn, *args):
    box = {}

    def go():
        try:
            box["value"] = fn(*args)
        except BaseException as e:            # noqa: BLE001 -- handed to the test
            box["error"] = e
    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, box


# ------------------------------------------------------------ peers that are not Dask schedulers
class Peer:
    """A TCP server on 127.0.0.1 that accepts every connection and sends ``payload`` (nothing: a silent peer),
    then keeps the connection open until closed."""

    def __init__(self, payload=b"", close_after=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.payload, self.close_after, self.conns = payload, close_after, []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if self.payload:
                c.sendall(self.payload)
            if self.close_after:
                c.close()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


GARBAGE = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


def traces(fig, name=None, **props):
    """The traces of a figure (or frame, or figure dict) with this ``name`` and these top-level properties, e.g.
    ``traces(fig, "SGD", mode="lines")``; ``type`` matches too. Tests select traces by name, never by position."""
    data = fig["data"] if isinstance(fig, dict) else fig.data
    out = []
    for t in data:
        get = t.get if isinstance(t, dict) else (lambda k, t=t: getattr(t, k, None))
        if name is not None and get("name") != name:
            continue
        if all(get(k) == v for k, v in props.items()):
            out.append(t)
    return out


def trace(fig, name=None, **props):
    """The one trace with this name and properties (AssertionError if none or several)."""
    found = traces(fig, name, **props)
    assert len(found) == 1, f"{len(found)} traces named {name!r} with {props}"
    return found[0]


def trace_index(fig, name=None, **props):
    """The position of the one trace with this name and properties (for frames' ``traces`` lists)."""
    t = trace(fig, name, **props)
    data = fig["data"] if isinstance(fig, dict) else fig.data
    return next(i for i, u in enumerate(data) if u is t)


def frame_trace(fig, frame, name=None, **props):
    """What ``frame`` (an animation frame of ``fig``, with its ``traces`` list) holds for the one trace of ``fig``
    with this name and properties, e.g. ``frame_trace(fig, fig.frames[k], legendgroup="SGD", mode="lines")``
    (frame traces carry no names themselves). AssertionError when the frame does not update that trace."""
    i = trace_index(fig, name, **props)
    ids = list(frame["traces"] if isinstance(frame, dict) else frame.traces)
    assert i in ids, f"the frame does not update trace {i} ({name!r}, {props})"
    data = frame["data"] if isinstance(frame, dict) else frame.data
    return data[ids.index(i)]


# ------------------------------------------------------------ browser tests: what the page draws
# the colour of each run-labelled trace in every graph: {graph: {legendgroup: [colours]}}
COLOURS_JS = """
var out = {};
arguments[0].forEach(function (id) {
    var gd = document.querySelector('#' + id + ' .js-plotly-plot');
    if (!gd || !gd._fullData) { return; }
    var m = out[id] = {};
    gd._fullData.forEach(function (t) {
        var g = t.legendgroup; if (!g) { return; }
        var c = (t.line && t.line.color) || (t.marker && t.marker.color);
        if (typeof c === 'string') { (m[g] = m[g] || []).push(c.toUpperCase()); }
    });
});
return out;
"""

# text that does not fit its box: (what, text) of every cut title, menu value, input, help line, the table, and the
# page when it scrolls sideways
CUT_JS = """
var cut = [];
function over(el) { return el.scrollWidth > el.clientWidth + 1; }
var de = document.documentElement;
if (de.scrollWidth > de.clientWidth + 1) { cut.push(['page', de.scrollWidth + ' > ' + de.clientWidth]); }
document.querySelectorAll('.controls input[type=text], .controls input[type=number], .controls input:not([type]), '
                          + '.step-row input[type=number]')
    .forEach(function (el) { if (el.offsetParent && over(el)) { cut.push(['input', el.id + '=' + el.value]); } });
document.querySelectorAll('h3, .field-label, .help summary, .help-text')
    .forEach(function (el) { if (el.offsetParent && over(el)) { cut.push(['text', el.innerText.slice(0, 40)]); } });
document.querySelectorAll('.dash-dropdown-value, .dash-dropdown-value-item, .Select-value-label')
    .forEach(function (el) { if (el.offsetParent && over(el)) { cut.push(['menu', el.innerText]); } });
document.querySelectorAll('.tab').forEach(function (el) {           // a tab's label inside its tab, with room
    var r = el.getBoundingClientRect(), range = document.createRange();
    range.selectNodeContents(el);
    var s = range.getBoundingClientRect();
    if (s.left < r.left + 4 || s.right > r.right - 4) { cut.push(['tab', el.innerText]); }
});
var t = document.querySelector('#summary-table .dash-spreadsheet-container');
var tw = document.querySelector('#summary-table');
if (t && tw && (t.scrollWidth > tw.clientWidth + 1)) { cut.push(['table', t.scrollWidth + ' > ' + tw.clientWidth]); }
document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
    if (!gd.offsetParent) { return; }
    var box = gd.getBoundingClientRect();
    gd.querySelectorAll('.gtitle, .g-xtitle text, .g-ytitle text, .annotation-text, .legendtext')
        .forEach(function (el) {
            var r = el.getBoundingClientRect();
            if (r.width === 0) { return; }
            if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
                cut.push([gd.parentElement.id || 'plot', el.textContent.slice(0, 40)]);
            }
        });
});
return cut;
"""


# ------------------------------------------------------------ slow clients (a slowloris), for tests and bench_load
class SlowClients:
    """``n`` connections to 127.0.0.1:``port`` that send a request line, then one more header line every
    ``every`` s, never finishing their request (a slowloris). One thread drives them all; it stops by itself
    after ``limit`` s (or at ``close``)."""

    def __init__(self, port, n=300, every=3.0, limit=40.0):
        self.socks, self.rounds, self.refused = [], 0, 0
        for _ in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                self.socks.append(s)
            except OSError:
                self.refused += 1
        self.every, self.stop = every, threading.Event()
        self.thread = threading.Thread(target=self._drip, args=(limit,), daemon=True)
        self.thread.start()

    def _drip(self, limit):
        end = time.monotonic() + limit
        while not self.stop.wait(self.every) and time.monotonic() < end:
            for i, s in enumerate(self.socks):
                try:
                    s.sendall(f"X-Slow-{self.rounds}-{i}: 1\r\n".encode())
                except OSError:
                    pass
            self.rounds += 1

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)
        for s in self.socks:
            s.close()


# ------------------------------------------------------------------ training runs (tests/core/model)
FIELDS = ("params", "steps", "loss", "train_acc", "test_acc", "lr", "loss_history", "precond", "live_units")


def assert_same_bits(a, b):
    """Every recorded array byte for byte (so also the sign of a zero), and the scalars."""
    for k in FIELDS:
        x, y = getattr(a, k), getattr(b, k)
        assert (x is None) == (y is None), k
        if x is not None:
            assert x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes(), k
    assert (a.diverged_at, a.failed_at, a.label, a.optimizer, a.hparams) == \
        (b.diverged_at, b.failed_at, b.label, b.optimizer, b.hparams)


def reference(net, p0, X, y, opt, steps, diverge_factor=100.0):
    """The training loop as it was before batching, full batch: (loss at every step, last finite weights)."""
    p, state, hist, last = np.array(p0, dtype=np.float64), opt.init(p0), [], None
    for t in range(steps + 1):
        loss, grad = net.loss_and_grad(p, X, y)
        hist.append(loss)
        if t == 0:
            limit = diverge_factor * max(loss, np.log(2.0)) if np.isfinite(loss) else -np.inf
        if not loss <= limit:
            return np.array(hist), last
        if t == steps:
            return np.array(hist), p
        last = p
        delta, state = opt.update(grad, state, t)
        p = p + delta


# one batch of every family, with schedules, and runs that diverge at different steps while the others go on
MIXED = [("sgd", dict(lr=0.5)), ("annealing", dict(lr=3.0, decay_rate=0.01)), ("large_lr", dict(lr=6.0)),
         ("sgd", dict(lr=1.0, schedule="cosine", total_steps=150, min_lr=0.1)),
         ("sgd", dict(lr=1.0, schedule="step", drop=0.5, every=40)),
         ("momentum", dict(lr=0.1, momentum=0.9)), ("momentum", dict(lr=4.0, momentum=0.99)),     # diverges at 20
         ("nesterov", dict(lr=0.1, momentum=0.9)), ("nesterov", dict(lr=2.0, momentum=0.99)),     # diverges at 40
         ("adam", dict(lr=0.01)), ("adam", dict(lr=0.05, beta1=0.5, beta2=0.9, eps=1e-3)), ("adam", dict(lr=3.0)),
         ("rmsprop", dict(lr=0.01)), ("rmsprop", dict(lr=0.02, alpha=0.9, schedule="inverse_time", decay_rate=2.0,
                                                      decay_steps=50))]


def mixed_batch(net):
    opts = [make(n, **hp) for n, hp in MIXED]
    p0s = np.stack([net.init(i % 2) for i in range(len(MIXED))])
    return p0s, opts
