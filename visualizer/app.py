"""The Dash app factory.

    from visualizer.app import create_app
    app = create_app(); app.run(host="127.0.0.1", port=8050)      # or: python -m visualizer serve

Results live server-side in a bounded ResultCache (8 results, LRU, keyed by the spec, at most two
computing at once); the browser holds only the spec and its key. A JobRegistry over the cache
tracks each page's in-flight computation: its progress, and its cancellation when superseded.
"""
from __future__ import annotations

import logging
import os
import threading

import dash

import core

from .cache import ResultCache
from .controls import DEFAULT_PRESET
from .jobs import JobRegistry
from .layout import make_layout
from .uploads import UploadStore
from .wiring import register_callbacks

ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets")
log = logging.getLogger("visualizer")


def _warm(cache):
    try:
        cache.get_or_compute(core.ExperimentSpec.preset(DEFAULT_PRESET))
    except Exception as e:                     # the first request will report it
        log.warning("warming the default preset failed: %s: %s", type(e).__name__, e)


def create_app(cache=None, warm=True, data_dir=None):
    """A new Dash app. ``cache``: share a ResultCache (tests); ``warm``: start computing the default
    preset in a background thread so the first page load finds it ready. ``data_dir``: a folder of CSV
    files specs may name (paths relative to it); without it, CSV data comes only from uploads."""
    cache = cache if cache is not None else ResultCache(maxsize=8, uploads=UploadStore(data_dir=data_dir))
    app = dash.Dash(__name__, assets_folder=ASSETS, title="Loss Landscape Navigator",
                    suppress_callback_exceptions=False, update_title=None)
    app.layout = make_layout
    jobs = JobRegistry(cache)
    register_callbacks(app, cache, jobs)
    app.result_cache = cache
    app.jobs = jobs
    if warm:
        threading.Thread(target=_warm, args=(cache,), daemon=True, name="warm-default").start()
    return app


_server = None


def __getattr__(name):
    """``visualizer.app.server`` (for WSGI servers) builds the app on first access, not on import."""
    global _server
    if name == "server":
        if _server is None:
            _server = create_app().server
        return _server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
