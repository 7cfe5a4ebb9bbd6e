"""The download buttons' plain functions: the shown run as a file (tested directly in
tests/test_download_callbacks.py; ``wiring`` connects them to the page, through its ``_safe``).

    download_npz(store, cache)                                   # the run (.npz), as dcc.send_bytes
    download_spec(store, cache)                                  # its spec (.json)
    download_html(store, scale, clip, exaggerate, cache, colour, maps)   # the animation, a self-contained page

Each gives a dcc.Download payload named after the spec; a problem raises (the store's spec goes through
``callbacks.accept_spec``, the data-file rule included).
"""
from __future__ import annotations

import re

from dash import dcc

from visualizer import figures
from visualizer.app.spec_callbacks import accept_spec
from visualizer.app.render_callbacks import result_for, surface_colour, view_from


def _slug(spec_dict):
    s = re.sub(r"[^a-z0-9]+", "-", str(spec_dict.get("name", "experiment")).lower()).strip("-")
    return (s[:40].rstrip("-") or "experiment")


def download_npz(store, cache):
    result = result_for(store, cache)
    return dcc.send_bytes(result.write, f"{_slug(store['spec'])}.npz")


def download_spec(store, cache):
    spec = accept_spec(store["spec"], cache)
    return dict(content=spec.to_json(), filename=f"{_slug(store['spec'])}.json", type="application/json")


def download_html(store, scale, clip, exaggerate, cache, colour="loss", maps=None):
    result = result_for(store, cache)
    view = view_from(scale, clip, exaggerate, result)
    try:
        c = surface_colour(result, store, colour, maps)
    except ValueError:                          # the page already says why; the page's picture is by loss
        c = None
    html = figures.to_html(figures.animated_landscape(result, view, colour=c))
    return dict(content=html, filename=f"{_slug(store['spec'])}.html", type="text/html")
