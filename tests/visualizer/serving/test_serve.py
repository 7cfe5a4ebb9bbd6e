"""The production server: `python -m visualizer serve` and `make run` (waitress), its options, the request-body
limit, and a clean shutdown on SIGTERM / SIGINT. Servers bind 127.0.0.1 on a free port."""
import json
import logging
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from visualizer.app.factory import MAX_BODY_BYTES, create_app
from visualizer.serving.cache import ResultCache
from visualizer.app.spec_callbacks import MAX_UPLOAD_BYTES
from tests.helpers import GARBAGE, Peer, SlowClients, _until, foreground, free_port, stop, wait_http

from tests.helpers import ROOT


def start(args, **kw):
    env = dict(os.environ, PYTHONFAULTHANDLER="1")          # a hung server dumps its threads on SIGABRT
    return subprocess.Popen(foreground(args), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, **kw)


def oversize_status(port):
    """Send only the headers of a body one byte over the limit; the server answers before reading it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((f"POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n").encode())
        return s.recv(200).decode(errors="replace").split("\r\n")[0]


def test_the_body_limit_follows_the_upload_cap():
    assert 4 * MAX_UPLOAD_BYTES / 3 < MAX_BODY_BYTES <= 4 * MAX_UPLOAD_BYTES / 3 + 2 * 2**20


def test_flask_refuses_an_oversize_body_before_reading_it():
    app = create_app(cache=ResultCache(maxsize=1), warm=False)
    client = app.server.test_client()
    r = client.post("/_dash-update-component", data=b"x" * (MAX_BODY_BYTES + 1), content_type="application/json")
    assert r.status_code == 413
    r = client.post("/_dash-update-component", data=b"{}", content_type="application/json")
    assert r.status_code != 413


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_refuses_oversize_bodies_and_stops_cleanly(sig):
    port = free_port()
    proc = start([sys.executable, "-m", "visualizer", "serve", "--port", str(port), "--workers", "1"])
    try:
        assert wait_http(port, proc) == 200
        assert oversize_status(port).startswith("HTTP/1.1 413")
        assert wait_http(port, proc) == 200                       # still serving
    finally:
        code, out = stop(proc, sig, timeout=15)                  # a generous bound: the stop is the check
    assert code == 0
    assert "waitress" in out and "stopped" in out and "Traceback" not in out
    assert "failed" not in out                                    # stopping while warming up is no failure


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_with_waitress():
    port = free_port()
    # -o: do not (re)build the venv stamp; PY: this interpreter (make test's own venv in CI)
    proc = start(["make", "-s", "-o", ".venv/.installed", "run", f"PY={sys.executable}", f"PORT={port}",
                  "SERVE_ARGS=--workers 1"], start_new_session=True)
    try:
        assert wait_http(port, proc) == 200
    finally:
        code, out = stop(proc, signal.SIGINT, group=True)           # Ctrl-C in a terminal
    assert "(waitress" in out and "stopped" in out and "Traceback" not in out
    assert code in (0, 2, 130, -signal.SIGINT)                      # make re-raises the interrupt


@pytest.mark.parametrize("args,match", [
    (["--max-work", "lots"], "error: --max-work lots: must be a number of work units >= 0"),
    (["--max-work", "-1"], "error: --max-work -1: must be a number"),
    (["--workers", "-1"], "error: --workers -1: must be an integer in [0, 64]"),
    (["--threads", "2"], "error: --threads 2: must be an integer in [4, 1024]"),
    (["--max-sweep-work", "inf"], "error: --max-sweep-work inf: must be a number of work units >= 0"),
    (["--max-sweeps", "0"], "error: --max-sweeps 0: must be an integer in [1, 64]"),
    (["--port", "0"], "error: --port 0: must be an integer in [1, 65535]"),
    (["--frobnicate"], "error: unrecognized arguments: --frobnicate"),
    (["--host", "no.such.host.invalid", "--workers", "0"],
     "error: --host no.such.host.invalid --port 8050: cannot listen"),
])
def test_bad_serve_options_one_line_exit_2(args, match):
    r = subprocess.run([sys.executable, "-m", "visualizer", "serve", *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and match in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("payload,match", [(b"", "no Dask scheduler answered within 3 s"),
                                           (GARBAGE, "which is not Dask's handshake")])
def test_serve_scheduler_that_is_not_dask_one_line_exit_2(payload, match):
    """--timeout bounds the scheduler's greeting: a silent peer fails after it, a web server at once."""
    with Peer(payload) as peer:
        r = subprocess.run([sys.executable, "-m", "visualizer", "serve", "--scheduler", peer.address, "--timeout", "3"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith(f"error: --scheduler {peer.address}: ") and match in r.stderr, \
        r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_serve_help():
    r = subprocess.run([sys.executable, "-m", "visualizer", "serve", "--help"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0
    for opt in ("--max-work", "--workers", "--threads", "--debug", "--host", "--port", "--max-sweep-work",
                "--max-sweeps"):
        assert opt in r.stdout


def test_serve_scheduler_local_sends_experiments_and_sweeps_to_one_cluster():
    """`serve --scheduler local`: the app's experiments run on the DaskRunner's cluster, and the Sweep tab's
    sweeps on the same one (app.services.scheduler is the runner's client, not a second LocalCluster)."""
    from visualizer.serving.serve import _serve_args, build_app
    from visualizer.serving.dask_runner import DaskRunner
    args, _, workers, _, max_work, scheduler, timeout = _serve_args(["--scheduler", "local", "--workers", "1"])
    app, where = build_app(args, workers, max_work, scheduler, timeout, warm=False)
    try:
        runner = app.services.runner
        client = runner.client
        assert (isinstance(runner, DaskRunner) and app.services.scheduler is client
                and app.services.sweeps.scheduler() is client)
        assert where.startswith("computations on")
    finally:
        app.close()
    assert client.status != "running"                    # closed with the app


def test_serve_workers_0_computes_with_one_blas_thread_like_the_workers():
    """In-thread mode pins BLAS to one thread for the process, as each worker process does (same bits)."""
    code = ("import numpy\nfrom threadpoolctl import threadpool_info\n"
            "from visualizer.serving.serve import _serve_args, build_app\n"
            "before = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
            "args, _, workers, _, max_work, scheduler, timeout = _serve_args(['--workers', '0'])\n"
            "app, where = build_app(args, workers, max_work, scheduler, timeout, warm=False)\n"
            "after = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
            "print(where, before, after)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="2"))
    assert r.returncode == 0, r.stderr
    assert "in the server's threads" in r.stdout and r.stdout.strip().endswith("[2] [1]"), r.stdout


def test_serve_passes_the_sweep_limits_to_the_sweep_tab():
    from visualizer.serving.serve import _serve_args, build_app
    from visualizer.serving.sweep_service import DEFAULT_MAX_WORK
    for argv, work, at_once in ((["--workers", "1"], DEFAULT_MAX_WORK, 2),
                                (["--workers", "1", "--max-sweep-work", "5e10", "--max-sweeps", "3"], 5e10, 3),
                                (["--workers", "1", "--max-sweep-work", "0"], None, 2)):
        args, _, workers, _, max_work, scheduler, timeout = _serve_args(argv)
        app, _ = build_app(args, workers, max_work, scheduler, timeout, warm=False)
        try:
            assert (app.services.sweeps.max_work, app.services.sweeps.max_running) == (work, at_once), argv
        finally:
            app.close()


# ----------------------------------------------------------------- hostile load
CALLBACK = {"output": "..dataset.options...csv-target.options..",
            "outputs": [{"id": "dataset", "property": "options"}, {"id": "csv-target", "property": "options"}],
            "inputs": [{"id": "spec-base", "property": "data", "value": None}],
            "state": [{"id": "session-id", "property": "data", "value": "slowtest"}], "changedPropIds": []}




def test_300_slow_connections_do_not_lock_out_a_page_load_or_a_callback():
    """The issue's acceptance check: with 300 slow clients connected (waitress's default limit is 100), GET /
    and a callback are still answered within 2 s (the client's timeout: a functional bound)."""
    port = free_port()
    proc = start([sys.executable, "-m", "visualizer", "serve", "--port", str(port), "--workers", "1"])
    slow = None
    try:
        assert wait_http(port, proc) == 200
        slow = SlowClients(port, n=300, every=3.0)
        assert len(slow.socks) == 300 and slow.refused == 0
        _until(lambda: slow.rounds >= 2, timeout=20)                   # every one of them is dripping
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            assert r.status == 200 and b"Loss Landscape Navigator" in r.read()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/_dash-update-component",
                                     data=json.dumps(CALLBACK).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=2) as r:
            assert r.status == 200 and json.loads(r.read())["response"]["dataset"]["options"]
    finally:
        if slow is not None:
            slow.close()
        code, out = stop(proc)
    assert code == 0 and "reached the connection limit" not in out and "4,000 connections" in out, out


def test_a_malformed_callback_request_is_one_log_line_and_a_400(caplog):
    app = create_app(cache=ResultCache(maxsize=1), warm=False)
    client = app.server.test_client()
    with caplog.at_level(logging.WARNING, logger="visualizer"):
        for body in (b'{"output": "x"}', b"[]", b'{"output": "graph-slices.figure", "inputs": 5}'):
            r = client.post("/_dash-update-component", data=body, content_type="application/json")
            assert r.status_code == 400
    lines = [rec for rec in caplog.records if "malformed request" in rec.getMessage()]
    assert len(lines) == 3 and all(rec.exc_info is None and "\n" not in rec.getMessage() for rec in lines)
    assert all(len(rec.getMessage()) < 400 for rec in lines)
    assert not [rec for rec in caplog.records if rec.exc_info]                     # no traceback anywhere


def test_waitress_options_for_a_public_server():
    from visualizer.serving.serve import CHANNEL_TIMEOUT, CONNECTION_LIMIT, waitress_options
    o = waitress_options(32)
    assert o["connection_limit"] == CONNECTION_LIMIT >= 1000 and o["channel_timeout"] == CHANNEL_TIMEOUT <= 20
    assert o["asyncore_use_poll"] is True and o["cleanup_interval"] <= CHANNEL_TIMEOUT
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= CONNECTION_LIMIT + 32 or \
        o["connection_limit"] < CONNECTION_LIMIT                                   # raised, or lowered to fit


@pytest.mark.parametrize("argv,message", [(["--connection-limit", "5"], "--connection-limit 5: must be an integer"),
                                          (["--channel-timeout", "x"], "--channel-timeout x: must be an integer"),
                                          (["--cache-mb", "0"], "--cache-mb 0: must be an integer in [16,")])
def test_serve_refuses_bad_load_options(argv, message):
    r = subprocess.run([sys.executable, "-m", "visualizer", "serve", *argv], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith(f"error: {message}"), r.stderr
