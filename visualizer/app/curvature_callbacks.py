"""The plain functions behind the curvature panels' own callbacks (tested directly, as visualizer.app.spec_callbacks):

    slice_cache = SliceCache()                                   # one per app (wiring.register_callbacks)
    out = slices(step, label, store, cache, slice_cache, jobs=jobs, session=session)   # {figure, hidden, message}
    patch = min_eig_visibility(show, store, cache, jobs=jobs, session=session)  # show / hide |bottom eigenvalue|

The slices figure changes with the step (its lines are taken at the chosen run's weights there), so it is
drawn whole for each (run, recorded frame); the costly part, the slices themselves (a dense Hessian's top
eigenvector and line evaluations: about 15-25 ms with one BLAS thread on the four_optimizers preset, 20 s and
1.5 GB for a 5,000-weight network), is a "slices" job of the page (jobs.JobRegistry.task: admitted against
``serve --max-work``, computed on a worker process, cancelled when a newer slices request of the page comes
in or the page stops polling), cached per (result key, run, recorded frame), and the interpolation lines
once per result. A cached frame never waits. A run without its training data (an old file) gets a message
instead of the panel. No callback raises.
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
from visualizer.serving.cache import held_bytes, spec_key
from visualizer.serving.jobs import Cancelled
from visualizer.app.render_callbacks import patch_of, result_for
from visualizer.app.spec_callbacks import valid_session

log = logging.getLogger("visualizer")

NO_DATA = ("No 1-D slices for this run: it was saved without its training data (an older file). Run its "
           "spec again (it is loaded in the controls) to compute them.")


class SliceCache:
    """A bounded, thread-safe LRU of computed slices: (result key, run, frame) -> StepSlices and
    (result key,) -> interpolation lines (or curvature maps). ``get`` computes a missing entry (outside the
    cache's lock; two callers of the same key compute it once). Bounded by count and by the bytes its arrays
    hold (cache.held_bytes)."""

    def __init__(self, maxsize=512, max_bytes=32 * 2**20):
        self.maxsize, self.max_bytes = maxsize, max_bytes
        self._items = OrderedDict()          # key -> (value, bytes)
        self._lock = threading.Lock()
        self._computing = {}
        self.nbytes = 0
        self.hits = self.misses = 0

    def peek(self, key):
        with self._lock:
            e = self._items.get(key)
            return None if e is None else e[0]

    def put(self, key, value):
        size = held_bytes(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            self._items[key] = (value, size)
            self.nbytes += size
            while len(self._items) > self.maxsize or (self.nbytes > self.max_bytes and len(self._items) > 1):
                _, (_, n) = self._items.popitem(last=False)
                self.nbytes -= n

    def get(self, key, compute):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key][0]
            klock = self._computing.setdefault(key, threading.Lock())
        with klock:
            with self._lock:
                if key in self._items:
                    self.hits += 1
                    return self._items[key][0]
                self.misses += 1
            try:
                value = compute()
                self.put(key, value)
            finally:
                with self._lock:
                    if self._computing.get(key) is klock:
                        del self._computing[key]
        return value

    def __len__(self):
        with self._lock:
            return len(self._items)


def _key(store):
    if store and store.get("key"):
        return store["key"]
    return spec_key(store["spec"]) if store and "spec" in store else "default"


def slice_panel(result, key, label, step, slice_cache, jobs=None, session=None):
    """The SlicePanel of ``label`` at ``step``, its parts from (or into) ``slice_cache``; what is missing is
    one "slices" job of the page (``jobs``; in this thread without it: tests, exports)."""
    frame = S.frame_of(result, label, step)
    skey, lkey = (key, label, frame), (key,)
    if jobs is None:
        steps = slice_cache.get(skey, lambda: S.step_slices(result, label, step))
        lines = slice_cache.get(lkey, lambda: S.interpolation_slices(result))
        return S.slice_panel(result, label, step, steps=steps, lines=lines)
    steps, lines = slice_cache.peek(skey), slice_cache.peek(lkey)
    if steps is None or lines is None:
        want_lines = lines is None
        tkey = (key, label, frame, want_lines, "task")   # two pages asking at once: one task (the entry holds the
                                                          # same objects as the two below; counted conservatively)
        def compute():
            return jobs.task("slices", f"slices|{key}|{label}|{frame}|{want_lines}", "slices",
                             (result, label, step, want_lines), valid_session(session))
        steps, new_lines = slice_cache.get(tkey, compute)
        slice_cache.put(skey, steps)
        if new_lines is not None:
            slice_cache.put(lkey, new_lines)
            lines = new_lines
        elif lines is None:
            lines = slice_cache.peek(lkey)
    return S.slice_panel(result, label, step, steps=steps, lines=lines)


def slices(step, label, store, cache, slice_cache, jobs=None, session=None):
    """The slices panel at ``step`` for run ``label``: {figure, hidden, message} (no_update on a problem, and
    everywhere when a newer slices request of the page superseded this one)."""
    out = dict(figure=no_update, hidden=no_update, message=no_update)
    try:
        result = result_for(store, cache, jobs, session, "slices")
        if not panel_data.has_data(result):
            return dict(figure={}, hidden=True, message=NO_DATA)
        labels = list(result.trajectories)
        label = label if label in labels else labels[0]
        panel = slice_panel(result, _key(store), label, step, slice_cache, jobs, session)
        out.update(figure=figures.slices_figure(result, step=step, label=label, panel=panel), hidden=False,
                   message="")
    except Cancelled:
        return out
    except Exception as e:                       # never let a callback raise
        msg = clip_message(f"{type(e).__name__}: {e}")
        log.warning("slices failed: %s", msg)
        out["message"] = f"Could not compute the slices ({msg})."
    return out


def min_eig_visibility(show, store, cache, jobs=None, session=None):
    """A Patch showing (``show``) or hiding the sharpness panel's |bottom eigenvalue| traces."""
    try:
        result = result_for(store, cache, jobs, session, "min-eig")
        return patch_of(figures.min_eig_patch(result, figures.ViewOptions(), bool(show)))
    except Exception as e:
        log.warning("bottom eigenvalue toggle failed: %s", clip_message(f"{type(e).__name__}: {e}"))
        return no_update
