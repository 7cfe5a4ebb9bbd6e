"""Work in chunks: sized from a memory budget, run on a few Python threads, with a progress hook.

    run_sliced(fn, n, bytes_per_item, chunk_size=None, threads=None, progress=None)
        # fn(slice) for consecutive slices of range(n): surfaces (alphas or grid points a chunk)
    run_chunks(fn, chunks, threads, progress=None)
        # fn(chunk) for each item of a prepared list: any chunks (curvature's groups of frames)

Chunk size: ``chunk_size`` items, or (None) as many as fit in ``budget`` bytes (default CHUNK_BYTES,
about 48 MB of working memory a worker) at ``bytes_per_item`` each, at least one.
Threads: ``threads`` Python worker threads, at most one a chunk (None: up to MAX_THREADS, and the
machine's cores). NumPy releases the GIL in large array operations, so two threads do run at once;
while they run BLAS is held to one thread each (threadpoolctl, when installed), since many small
GEMMs are fastest that way and two BLAS pools on two threads would oversubscribe the cores.
Floating-point warnings are silenced in every chunk (``np.errstate`` holds per thread): callers
turn non-finite results into nan themselves.

Progress and cancellation: ``progress(done, total)`` is called after each chunk, in the calling
thread, in chunk order (with threads: as each chunk's result is collected). Whatever it raises stops
the work there: chunks not yet started are dropped and the exception propagates, which is how a
server cancels a surface within one chunk's time. It does not change the numbers.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np

from core.constraints import Int, Optional

CHUNK_BYTES = 48 * 2 ** 20          # working-memory budget of one chunk (one worker)
MAX_THREADS = 2
THREADS = Optional(Int(1), "automatic")        # threads=0: must be a positive integer, or null (automatic)
CHUNK_SIZE = Optional(Int(1), "automatic")

try:                                  # optional: keep BLAS to one thread inside worker threads
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:                   # pragma: no cover - depends on the environment
    _threadpool_limits = None

__all__ = ["CHUNK_BYTES", "MAX_THREADS", "blas_limit", "resolve_threads", "chunk_slices", "run_chunks",
           "run_sliced"]


def blas_limit():
    """A context in which BLAS uses one thread (a no-op without threadpoolctl)."""
    return _threadpool_limits(limits=1) if _threadpool_limits is not None else nullcontext()


def resolve_threads(threads, n_chunks):
    """Worker threads for n_chunks chunks: ``threads`` (None: up to MAX_THREADS), at most one a chunk."""
    if threads is None:
        threads = min(MAX_THREADS, os.cpu_count() or 1)
    threads = int(THREADS.check("threads", threads))
    return max(1, min(threads, n_chunks))


def chunk_slices(n, bytes_per_item, chunk_size=None, budget=CHUNK_BYTES):
    """Consecutive slices covering range(n): ``chunk_size`` items each (None: as many as fit in
    ``budget`` bytes, at least one); the last may be shorter."""
    if chunk_size is None:
        chunk_size = max(1, int(budget // bytes_per_item))
    chunk_size = int(CHUNK_SIZE.check("chunk_size", chunk_size))
    return [slice(i, min(i + chunk_size, n)) for i in range(0, n, chunk_size)]


def run_chunks(fn, chunks, threads, progress=None):
    """Call fn(chunk) for each chunk, on ``threads`` Python threads (see the module docstring for
    warnings, BLAS threads, ``progress`` and cancellation)."""
    def call(chunk):
        with np.errstate(all="ignore"):
            fn(chunk)

    total = len(chunks)
    if threads <= 1 or total <= 1:
        for done, chunk in enumerate(chunks, 1):
            call(chunk)
            if progress is not None:
                progress(done, total)
        return
    with blas_limit():
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(call, chunk) for chunk in chunks]
            try:
                for done, future in enumerate(futures, 1):
                    future.result()
                    if progress is not None:
                        progress(done, total)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


def run_sliced(fn, n, bytes_per_item, chunk_size=None, threads=None, progress=None):
    """fn(slice) over range(n) in chunks sized from the memory budget (``chunk_slices``), on
    ``resolve_threads(threads, chunks)`` threads, with ``progress`` after each (``run_chunks``)."""
    chunks = chunk_slices(n, bytes_per_item, chunk_size)
    run_chunks(fn, chunks, resolve_threads(threads, len(chunks)), progress)
