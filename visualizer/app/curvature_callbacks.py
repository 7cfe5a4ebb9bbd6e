"""The plain functions behind the curvature panels' own callbacks (tested directly, as visualizer.app.spec_callbacks):

    slice_cache = SliceCache()                                   # one per app (wiring.register_callbacks)
    out = slices(step, label, store, cache, slice_cache)         # {figure, hidden, message}
    patch = min_eig_visibility(show, store, cache)               # show / hide |bottom eigenvalue| traces

The slices figure changes with the step (its lines are taken at the chosen run's weights there), so it is
drawn whole for each (run, recorded frame); the costly part, the slices themselves (a Hessian eigenvector
and line evaluations, about 15-25 ms with one BLAS thread on the four_optimizers preset), is cached per
(result key, run, recorded frame), and the interpolation lines once per result. A run without its training
data (an old file) gets a message instead of the panel. No callback raises.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from dash import no_update

from core.errors import clip_message

from visualizer import figures

from visualizer.plotdata import panels as panel_data
from visualizer.plotdata import slices as S
from visualizer.serving.cache import spec_key
from visualizer.app.render_callbacks import patch_of, result_for

log = logging.getLogger("visualizer")

NO_DATA = ("No 1-D slices for this run: it was saved without its training data (an older file). Run its "
           "spec again (it is loaded in the controls) to compute them.")


class SliceCache:
    """A bounded, thread-safe LRU of computed slices: (result key, run, frame) -> StepSlices and
    (result key,) -> interpolation lines. ``get`` computes a missing entry once (outside the lock)."""

    def __init__(self, maxsize=512):
        self.maxsize = maxsize
        self._items = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key, compute):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def __len__(self):
        with self._lock:
            return len(self._items)


def _key(store):
    if store and store.get("key"):
        return store["key"]
    return spec_key(store["spec"]) if store and "spec" in store else "default"


def slice_panel(result, key, label, step, slice_cache):
    """The SlicePanel of ``label`` at ``step``, its parts from (or into) ``slice_cache``."""
    frame = S.frame_of(result, label, step)
    steps = slice_cache.get((key, label, frame), lambda: S.step_slices(result, label, step))
    lines = slice_cache.get((key,), lambda: S.interpolation_slices(result))
    return S.slice_panel(result, label, step, steps=steps, lines=lines)


def slices(step, label, store, cache, slice_cache):
    """The slices panel at ``step`` for run ``label``: {figure, hidden, message} (no_update on a problem)."""
    out = dict(figure=no_update, hidden=no_update, message=no_update)
    try:
        result = result_for(store, cache)
        if not panel_data.has_data(result):
            return dict(figure={}, hidden=True, message=NO_DATA)
        labels = list(result.trajectories)
        label = label if label in labels else labels[0]
        panel = slice_panel(result, _key(store), label, step, slice_cache)
        out.update(figure=figures.slices_figure(result, step=step, label=label, panel=panel), hidden=False,
                   message="")
    except Exception as e:                       # never let a callback raise
        msg = clip_message(f"{type(e).__name__}: {e}")
        log.warning("slices failed: %s", msg)
        out["message"] = f"Could not compute the slices ({msg})."
    return out


def min_eig_visibility(show, store, cache):
    """A Patch showing (``show``) or hiding the sharpness panel's |bottom eigenvalue| traces."""
    try:
        result = result_for(store, cache)
        return patch_of(figures.min_eig_patch(result, figures.ViewOptions(), bool(show)))
    except Exception as e:
        log.warning("bottom eigenvalue toggle failed: %s", clip_message(f"{type(e).__name__}: {e}"))
        return no_update
