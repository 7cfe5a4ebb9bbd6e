"""What a worker computes for the app: the named tasks, their work estimates, and the first view's figures.

    out = run_named("slices", payload, progress)        # in a worker process (runner.ProcessRunner), a Dask
    work = task_work("slices", payload)                 # task (dask_runner) or, for tests, the calling thread

Every heavy computation of the app is one of these, so it goes through the same admission (its estimated work
against ``serve --max-work``), the same worker processes and the same per-page cancellation (jobs.JobRegistry):

* ``experiment``: ``(spec_dict, files, trained)`` -> Computed(result, figures): core.run_experiment (``trained``:
  label -> Trajectory to reuse, or None; the cache's training key), then the page's
  first view (``prerender``: plotly JSON of the landscape, contour, curves and sharpness figures);
* ``slices``: ``(result, label, step, lines)`` -> (StepSlices, [LineSlice] or None): the dense Hessian's top
  eigenvector and the gradient step at one recorded frame (plotdata.slices.step_slices), and the interpolation
  lines when ``lines``;
* ``curvature-map``: ``result`` -> core.curvature_map of the surface colour (plotdata.surface_colour).

The web process keeps what comes back in its caches (cache.ResultCache and its figures, the slices' and maps'
caches), keyed by the result's key. Nothing here imports Dash.
"""
from __future__ import annotations

from collections import namedtuple

import core

from visualizer import figures
from visualizer.plotdata import panels as panel_data
from visualizer.plotdata import slices as S
from visualizer.plotdata import surface_colour as _colour
from visualizer.plotdata.view import DEFAULT_SCALE, ViewOptions

PRERENDER_VIEW = (DEFAULT_SCALE, 100.0, 1.0)         # the page's initial view (scale, clip, exaggerate): layout.py
LINE_POINTS = 200                                    # loss evaluations of a slice line (a rough count: the estimate)

Computed = namedtuple("Computed", "result figures")  # an experiment's result and its first view (dict or None)


def view_key(view):
    """What identifies a drawing of a result: (scale, clip percentile, exaggeration)."""
    return (view.scale, float(view.clip_percentile), float(view.exaggerate))


def prerender(result, scale="log", clip=100.0, exaggerate=1.0):
    """The app's first figures of ``result`` for one view, as plotly JSON strings (what render would send):
    the landscape, contour, curves and (with curvature) sharpness figures."""
    v = ViewOptions(scale=scale, clip_percentile=clip, exaggerate=exaggerate)
    v.moving = result.moving is not None
    v.validate()
    sharp = figures.sharpness_figure(result, v).to_json() if panel_data.has_curvature(result) else None
    return {"view": view_key(v), "fig3d": figures.animated_landscape(result, v).to_json(),
            "contour": figures.contour_figure(result, v).to_json(),
            "curves": figures.curves_figure(result, v).to_json(), "sharpness": sharp}


def figures_or_none(result):
    try:
        return prerender(result, *PRERENDER_VIEW)
    except Exception:                                 # the web process will draw them
        return None


# ----------------------------------------------------------------- the tasks
def _experiment(payload, progress):
    spec_dict, files, trained = payload
    result = core.run_experiment(core.ExperimentSpec.from_dict(spec_dict), progress=progress, files=files,
                                 trained=trained)
    if progress is not None:
        progress("drawing", 0, 1)
    return Computed(result, figures_or_none(result))


def _slices(payload, progress):
    result, label, step, lines = payload
    if progress is not None:
        progress("slices", 0, 1)
    steps = S.step_slices(result, label, step)
    return steps, (S.interpolation_slices(result) if lines else None)


def _curvature_map(payload, progress):
    if progress is None:
        return _colour.curvature_grid(payload)
    progress("curvature map", 0, 1)
    return _colour.curvature_grid(payload, progress=lambda done, total: progress("curvature map", done, total))


TASKS = {"experiment": _experiment, "slices": _slices, "curvature-map": _curvature_map}


def run_named(name, payload, progress=None):
    """Run task ``name`` (a key of TASKS) on ``payload``; KeyError for an unknown name."""
    return TASKS[name](payload, progress)


# ----------------------------------------------------------------- work estimates (core.experiment's units)
def n_weights(result):
    """The number of weights, measured from the arrays (not what a file's info claims)."""
    t = next(iter(result.trajectories.values()))
    return int(t.params.shape[-1])


def slice_work(result, lines=False):
    """Work units of one frame's slices: the dense Hessian and its eigendecomposition (the top eigenvector; the
    curvature map's per-point cost), plus the lines' loss evaluations."""
    n, p = len(result.y_train), n_weights(result)
    hess = _colour.point_work(p, n)
    evals = 2 * LINE_POINTS * 4.0 * n * p
    if lines:
        evals += len(result.trajectories) * LINE_POINTS * 4.0 * n * p
    return hess + evals


def map_work(result):
    """Work units of the surface colour's curvature map (at the resolution curvature_grid picks)."""
    _colour.check_colourable(result)
    n, p = len(result.y_train), n_weights(result)
    res = _colour.map_resolution(p, n)
    return res * res * _colour.point_work(p, n)


def task_work(name, payload):
    if name == "slices":
        return slice_work(payload[0], payload[3])
    if name == "curvature-map":
        return map_work(payload)
    raise KeyError(name)


__all__ = ["Computed", "PRERENDER_VIEW", "TASKS", "map_work", "n_weights", "prerender",
           "run_named", "slice_work", "task_work", "view_key"]
