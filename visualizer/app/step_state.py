"""One step state for every panel: the table the page's step controls work from (plain functions, no Dash).

    table = step_table(result, view, key, titles)     # JSON for the step-table store
    app_landscape(fig3d, step)                        # the app's 3D figure: no own Play button or slider
    retitle(fig, base, step)                          # "<base> · step <step>"

The page holds one step (the ``step-store``), moved by Play / Pause, the slider, the step box and the keys
(assets/app.js ``stepper``); ``showStep`` (app.js) jumps the 3D figure to the frame named by that step and
patches the contour, curves and sharpness panels from this table, so those never wait for the server; the
slices panel is drawn by a server callback at the same step (curvature_callbacks.slices).

The table (JSON): ``key`` (the result's key), ``steps`` (K,) the frame steps (figures.step_grid: the 3D
figure's frame names), ``start`` (index of the step the figures are drawn at: the last), ``titles``
{fig3d, contour, curves, sharpness: base text or None}, ``patches`` {contour, curves, sharpness: [[path,
values (K,)], ...]}: at frame k, figure[path] = values[k] (figures.marker_patch at each frame step); the render
adds ``landscape`` {id, coloured}: which 3D figure this is, so its frames (sent after it) match it
(render_callbacks.landscape_frames).
"""
from __future__ import annotations

from visualizer import figures

CURVES_TITLE = "Training curves"
PANELS = ("contour", "curves", "sharpness")


def step_title(base, step):
    """A panel's title at ``step`` (app.js ``title`` writes the same)."""
    return f"{base} · step {int(step)}"


def step_table(result, view, key, titles):
    """The step table of ``result`` for ``view`` (see the module docstring); ``titles``: base titles."""
    steps = figures.step_grid(result, view)
    per = [figures.marker_patch(result, view, s) for s in steps]      # K dicts of plain updates per panel
    patches = {}
    for panel in PANELS:
        paths = list(per[-1][panel])
        patches[panel] = [[list(p), [d[panel].get(p) for d in per]] for p in paths]
    return {"key": key, "steps": [int(s) for s in steps], "start": len(steps) - 1, "titles": dict(titles),
            "patches": patches}


def _layout(fig):
    """The layout of a figure dict (created if missing) or of a plotly Figure."""
    return fig.setdefault("layout", {}) if isinstance(fig, dict) else fig.layout


def title_of(fig):
    """The title text of a figure dict or plotly Figure ("" when it has none)."""
    lay = _layout(fig)
    t = lay.get("title") if isinstance(lay, dict) else lay.title
    if isinstance(t, dict):
        return t.get("text") or ""
    return getattr(t, "text", None) or ""


def retitle(fig, base, step):
    """Set the figure's title to ``step_title(base, step)`` (left-aligned when it had none); returns fig."""
    text = step_title(base, step)
    if isinstance(fig, dict):
        t = _layout(fig).setdefault("title", {})
        t.setdefault("x", 0)
        t.setdefault("xanchor", "left")
        t.setdefault("font", {"size": 14})
        t["text"] = text
    else:
        if not title_of(fig):
            fig.update_layout(title=dict(x=0, xanchor="left", font=dict(size=14)))
        fig.update_layout(title_text=text)
    return fig


def app_landscape(fig3d, step):
    """The app's 3D figure: its own Play buttons and slider removed (the page's step controls drive it; an
    HTML export keeps them), the title at ``step``. Returns (figure, base title)."""
    base = title_of(fig3d)
    if isinstance(fig3d, dict):
        lay = _layout(fig3d)
        lay.pop("updatemenus", None)
        lay.pop("sliders", None)
        lay.setdefault("margin", {})["b"] = 10
    else:
        fig3d.layout.updatemenus, fig3d.layout.sliders = (), ()       # (update_layout would merge, not clear)
        fig3d.layout.margin.b = 10
    return retitle(fig3d, base, step), base
