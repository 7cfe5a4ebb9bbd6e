"""Frame models of per-run planes ("pca_per_run"): each run on its own PCA plane, all on one step grid, for the
small multiples of the app (visualizer.figures.per_run) and the matplotlib export (visualizer.export.scene).
No plotly, no matplotlib, no Dash here.

    subs = run_results(result)                  # label -> a copy of result on that run's own plane
    fms = per_run_frames(result, view)          # label -> FrameModel (one run each), the same steps
"""
from __future__ import annotations

from dataclasses import replace

from core.experiment.per_run import per_run_landscapes
from visualizer.plotdata import view as V
from visualizer.plotdata.frames import build_frames

__all__ = ["run_results", "per_run_frames", "per_run_planes"]


def per_run_planes(result, view):
    """Small multiples are drawn when the spec asks for per-run planes and the view is static."""
    return result.spec.plane.method == "pca_per_run" and not (view.moving and result.moving is not None)


def run_results(result, labels=None):
    """label -> a shallow copy of ``result`` on that run's own plane (its surface, grid and path only; every
    trajectory kept, so colours stay the run's)."""
    per = result.per_run if getattr(result, "per_run", None) is not None else per_run_landscapes(result)
    out = {}
    for lab in V.check_labels(result, labels):
        pr = per[lab]
        out[lab] = replace(result, plane=pr.plane, alphas=pr.alphas, betas=pr.betas, surface=pr.surface,
                           paths={lab: pr.path}, acc_surface=None, moving=None)
    return out


def per_run_frames(result, view, steps=None):
    """(subs, label -> FrameModel): each shown run's frames on its own plane, on the result's step grid
    (``steps``: these steps instead, e.g. a still)."""
    labels = V.check_labels(result, view.optimizers)
    grid = V.animation_steps(result, view.n_frames, labels) if steps is None else steps
    subs = run_results(result, labels)
    fms = {lab: build_frames(sub, replace(view, optimizers=[lab], moving=False), steps=grid)
           for lab, sub in subs.items()}
    return subs, fms
