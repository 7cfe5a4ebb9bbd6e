"""The download buttons' plain functions: the shown run as a file (tested directly in
tests/test_download_callbacks.py; ``wiring`` connects them to the page, through its ``_safe``).

    download_npz(store, cache, jobs, session)                    # the run (.npz), as dcc.send_bytes
    download_spec(store, cache, session=session)                 # its spec (.json)
    download_html(store, scale, clip, exaggerate, cache, colour, maps, jobs, session)   # the animation and the
                                                                 # page's panels (page_panels), one page

A result no longer in the cache is recomputed as a "download" job of the page (jobs.JobRegistry), a
curvature colour not in the maps' cache as a "curvature-map" job: nothing heavy runs in the web process.

Each gives a dcc.Download payload named after the spec; a problem raises (the store's spec goes through
``callbacks.accept_spec``, the data-file rule included).
"""
from __future__ import annotations

import re

from dash import dcc

from visualizer import figures
from visualizer.export.html_panels import grid_rows, panels_figure
from visualizer.export.options import ExportOptions
from visualizer.plotdata.panels import has_curvature
from visualizer.app.spec_callbacks import accept_spec
from visualizer.app.render_callbacks import result_for, surface_colour, view_from


PAGE_HEIGHT = 520            # the HTML download's height (px) a row of panels; its width follows the window


def _slug(spec_dict):
    s = re.sub(r"[^a-z0-9]+", "-", str(spec_dict.get("name", "experiment")).lower()).strip("-")
    return (s[:40].rstrip("-") or "experiment")


def download_npz(store, cache, jobs=None, session=None):
    result = result_for(store, cache, jobs, session, "download")
    return dcc.send_bytes(result.write, f"{_slug(store['spec'])}.npz")


def download_spec(store, cache, jobs=None, session=None):
    spec = accept_spec(store["spec"], cache, session)
    return dict(content=spec.to_json(), filename=f"{_slug(store['spec'])}.json", type="application/json")


def download_html(store, scale, clip, exaggerate, cache, colour="loss", maps=None, jobs=None, session=None):
    result = result_for(store, cache, jobs, session, "download")
    view = view_from(scale, clip, exaggerate, result)
    try:
        c = surface_colour(result, store, colour, maps, jobs, session)
    except ValueError:                          # the page already says why; the page's picture is by loss
        c = None
    html = figures.to_html(page_figure(result, view, c), responsive=True)
    return dict(content=html, filename=f"{_slug(store['spec'])}.html", type="text/html")


def page_panels(result, colour=None):
    """The page's panels an HTML download holds: the 3D landscape, its sharpness (when the run has curvature)
    and the loss curves, animated together (the export's --panels page). A surface coloured by curvature:
    the 3D figure alone, in those colours (the export's panels colour by height)."""
    if colour is not None:
        return ("landscape",)
    return ("landscape",) + (("sharpness",) if has_curvature(result) else ()) + ("curves",)


def page_figure(result, view, colour=None):
    """The HTML download's figure: page_panels side by side, filling the window's width."""
    panels = page_panels(result, colour)
    if panels == ("landscape",):
        return figures.animated_landscape(result, view, colour=colour)
    opts = ExportOptions(out="page.html", panels=panels, scale=view.scale, clip=view.clip_percentile,
                         exaggerate=view.exaggerate, frames=view.n_frames, optimizers=view.optimizers, size=None)
    fig = panels_figure(result, opts)
    fig.update_layout(height=PAGE_HEIGHT * len(grid_rows(panels)), autosize=True)
    return fig
