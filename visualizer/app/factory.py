"""The Dash app factory.

    from visualizer.app.factory import create_app
    app = create_app(); app.run(host="127.0.0.1", port=8050)      # or: python -m visualizer serve

Results live server-side in a ResultCache bounded in bytes (``cache_bytes``, serve --cache-mb; LRU, keyed by
the spec); the browser holds
only the spec and its key. Computations run in worker processes (``runner.ProcessRunner``: one per core
plus one for small requests, each request's estimated work capped by ``max_work``), or on a Dask cluster
(``dask_runner.DaskRunner``, ``serve --scheduler``). A JobRegistry over
the cache tracks each page's in-flight computation: its progress, and its cancellation when superseded or
when the page stops polling (``heartbeat``). Request bodies are capped at ``MAX_BODY_BYTES`` (the largest
upload, base64-encoded, plus room for the rest of the callback's JSON), refused with 413 before reading.
"""
from __future__ import annotations

import logging
import threading
import time

import dash
from flask import request
from werkzeug.exceptions import HTTPException

import core
from core.errors import clip_message
from core.resources import resource_path

from visualizer.app.curvature_callbacks import SliceCache
from visualizer.app.services import Services
from visualizer.serving.cache import DEFAULT_CACHE_BYTES, ResultCache
from visualizer.app.spec_callbacks import MAX_UPLOAD_BYTES
from visualizer.app.controls import DEFAULT_PRESET
from visualizer.serving.jobs import MAX_JOBS, JobRegistry
from visualizer.serving.runner import ProcessRunner
from visualizer.app.layout import make_layout
from visualizer.serving.sweep_service import SweepService
from visualizer.serving.uploads import UploadStore
from visualizer.app.wiring import register_callbacks

ASSETS = str(resource_path("visualizer.app", "assets"))        # app.css, app.js
log = logging.getLogger("visualizer")
BODY_SLACK = 2**20                                          # the callback's other inputs, JSON framing
MAX_BODY_BYTES = 4 * -(-MAX_UPLOAD_BYTES // 3) + BODY_SLACK  # base64 of the largest upload allowed, plus slack
HEARTBEAT = 15.0                                            # s without a poll before a page's job is cancelled


def _warm(cache, closing):
    try:
        cache.get_or_compute(core.ExperimentSpec.preset(DEFAULT_PRESET))
    except Exception as e:                     # the first request will report it
        if not closing.is_set():               # a server stopped while warming: nothing failed
            log.warning("warming the default preset failed: %s: %s", type(e).__name__, e)


class NavigatorApp(dash.Dash):
    """The Dash app with its server-side state (``services``, see visualizer/app/services.py) and ``close()``."""

    def __init__(self, services, **kw):
        super().__init__(__name__, **kw)
        self.services = services

    def close(self):
        self.services.close()


def _one_line_errors(server):
    """A malformed request (a callback body Dash cannot read) is one log line and a 400, not a traceback."""
    @server.errorhandler(Exception)
    def _malformed(e):
        if isinstance(e, HTTPException):
            return e
        log.warning("malformed request %s %s: %s", request.method, clip_message(request.path, 80),
                    clip_message(f"{type(e).__name__}: {e}", 200))
        return "malformed request", 400


def create_app(cache=None, warm=True, runner=None, heartbeat=HEARTBEAT, uploads=None, sweep_limits=None,
               cache_bytes=DEFAULT_CACHE_BYTES, max_jobs=MAX_JOBS, clock=time.monotonic):
    """A new Dash app (a NavigatorApp). ``cache``: share a ResultCache (tests); else one over ``runner``
    (default: a ProcessRunner with its default workers and work cap, reading CSV data through ``uploads``'
    rule), holding at most ``cache_bytes``. ``uploads``: the UploadStore (CSV uploads and the operator's data
    folder; default: uploads only). ``warm``: start computing the default preset in a background thread so the
    first page load finds it ready. ``heartbeat``, ``max_jobs``, ``clock``: see jobs.JobRegistry.
    ``sweep_limits``: the Sweep tab's ``max_work`` and ``max_running`` (sweep_service.SweepService; its
    defaults else). ``app.services`` holds the state; ``app.close()`` stops the runner's worker processes."""
    if cache is None:
        uploads = uploads if uploads is not None else UploadStore()
        runner = runner if runner is not None else ProcessRunner(files=uploads.files)
        cache = ResultCache(maxsize=64, runner=runner, uploads=uploads, max_bytes=cache_bytes,
                            max_running=None if getattr(runner, "queues", False) else 2)
    services = Services(cache=cache, jobs=JobRegistry(cache, heartbeat=heartbeat, clock=clock, max_jobs=max_jobs),
                        runner=runner, slices=SliceCache(), maps=SliceCache(maxsize=16, max_bytes=16 * 2**20))
    # sweeps (the Sweep tab) run on services.scheduler, read when the first sweep starts: None, a LocalCluster
    # the app starts then; an address (serve --scheduler); "inline"; or a distributed.Client
    services.sweeps = SweepService(scheduler=lambda: services.scheduler, files=cache.uploads.files, clock=clock,
                                   **(sweep_limits or {}))
    app = NavigatorApp(services, assets_folder=ASSETS, title="Loss Landscape Navigator",
                       suppress_callback_exceptions=False, update_title=None)
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    _one_line_errors(app.server)
    app.layout = make_layout
    register_callbacks(app, services)
    if warm:
        threading.Thread(target=_warm, args=(cache, services.closing), daemon=True, name="warm-default").start()
    return app


_server = None


def __getattr__(name):
    """``visualizer.app.factory.server`` (for WSGI servers) builds the app on first access, not on import."""
    global _server
    if name == "server":
        if _server is None:
            _server = create_app().server
        return _server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
