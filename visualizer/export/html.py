"""The HTML writer: the app's plotly animation (one panel) or plotly subplots of several panels
(visualizer.export.html_panels), self-contained (plotly.js inlined), no autoplay, the same bytes run to run.
The page is responsive: the plot fills the window's width (no fixed width, no sideways scroll); ``--size``
gives its height."""
from __future__ import annotations

import numpy as np
from visualizer import figures
from visualizer.export.html_panels import grid_rows, panels_figure
from visualizer.figures.landscape import CAMERA_EYE


def html_figure(result, opts):
    """The figure an HTML export writes: the landscape alone, or the panels side by side."""
    h = opts.size[1]
    if tuple(opts.panels) == ("landscape",):
        fig = figures.animated_landscape(result, opts.view(), height=h, title=opts.title)
    else:
        fig = panels_figure(result, opts)
    rows = len(grid_rows(opts.panels))                  # more than two panels: a grid, --size's height a row
    fig.update_layout(height=h * rows, autosize=True)  # the width follows the window (a responsive page)
    if opts.has_landscape and (opts.elev is not None or opts.azim is not None):
        _set_camera(fig, *opts.camera)
    _set_frame_duration(fig, opts.fps)
    return fig


def write_html(result, opts, path):
    """Write the page; returns its number of frames."""
    fig = html_figure(result, opts)
    with open(path, "w", encoding="utf-8") as f:
        f.write(figures.to_html(fig, displaylogo=False, responsive=True))
    return len(fig.frames)


def _set_camera(fig, elev, azim):
    """Plotly camera from matplotlib's (elev, azim): the eye at the app's distance in that direction."""
    e, a = np.radians(elev), np.radians(azim)
    r = float(np.linalg.norm(list(CAMERA_EYE.values())))
    fig.update_layout(scene_camera_eye=dict(x=float(r * np.cos(e) * np.cos(a)), y=float(r * np.cos(e) * np.sin(a)),
                                            z=float(r * np.sin(e))))


def _set_frame_duration(fig, fps):
    """Set the play button's frame duration (if the figure has one) to 1000 / fps ms."""
    ms = int(round(1000 / fps))
    for menu in fig.layout.updatemenus or ():
        for b in menu.buttons or ():
            args = list(b.args or ())
            if len(args) >= 2 and isinstance(args[1], dict) and "frame" in args[1]:
                a1 = dict(args[1])
                a1["frame"] = {**dict(a1["frame"]), "duration": ms}
                if "transition" in a1:
                    a1["transition"] = {**dict(a1["transition"]), "duration": 0}
                args[1] = a1
                b.args = args
