"""Rendering an export's frames with matplotlib (visualizer.export.scene), in this process or a forked pool.

    for img in render_frames(scene, opts, "gif"): ...      # (H, W, 3) uint8 arrays, in order
"""
from __future__ import annotations

import contextlib
import os
import signal

from visualizer.export.scene import Renderer
from core.cli.progress import StageBar

MAX_WORKERS = 2        # this kind of machine has 2 cores; the encoder needs some too
_WORKER = None


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _worker_init(scene, opts):
    """A forked render worker: Ctrl-C is the parent's to handle (it ends the pool); SIGTERM, which the
    pool sends on shutdown, ends the worker quietly (the parent's handler would raise in it). The worker
    starts with both signals blocked (see _forked_pool) and takes them only once its own handlers are set."""
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _WORKER = Renderer(scene, opts)


@contextlib.contextmanager
def _forked_pool(workers, scene, opts):
    """A fork pool whose workers never run the parent's signal handlers: SIGINT and SIGTERM are blocked while
    it forks (the children inherit the mask and unblock after setting their own handlers); a signal that
    arrives meanwhile reaches the parent when they are unblocked here."""
    import multiprocessing
    ctx = multiprocessing.get_context("fork")
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        pool = ctx.Pool(workers, initializer=_worker_init, initargs=(scene, opts))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    with pool:
        yield pool


def _worker_render(k):
    return _WORKER.render(k)


def n_workers(scene, opts, n):
    """Processes to render with: 1 for the cheap fixed-camera path (each frame only redraws the trails,
    markers and text over a saved background) or few frames; else up to MAX_WORKERS (a forked pool).
    The slices panel redraws its axes every frame, so it counts as costly."""
    if n < 8 or (not scene.moving and not opts.rotate and "slices" not in scene.panels):
        return 1
    import multiprocessing
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def render_frames(scene, opts, desc="frames", workers=None):
    """Yield every frame of ``scene`` in order as (H, W, 3) uint8 arrays, with a progress bar.

    A frame depends only on its index (not on the frames before it), so the frames
    are identical however many processes render them."""
    n = len(scene.steps)
    workers = n_workers(scene, opts, n) if workers is None else workers
    with StageBar(enabled=opts.progress, unit="frame") as bar:
        if workers > 1:
            with _forked_pool(workers, scene, opts) as pool:
                for k, img in enumerate(pool.imap(_worker_render, range(n), chunksize=2)):
                    yield img
                    bar(desc, k + 1, n)
        else:
            r = Renderer(scene, opts)
            try:
                for k in range(n):
                    yield r.render(k)
                    bar(desc, k + 1, n)
            finally:
                r.close()


def render_still(scene, opts):
    """Frame 0 of a one-frame scene (a PNG)."""
    r = Renderer(scene, opts)
    try:
        return r.render(0)
    finally:
        r.close()
