import threading
import time

import numpy as np
import pytest

from core.parallel.chunking import chunk_slices, resolve_threads, run_chunks, run_sliced


def test_chunk_slices_cover_the_range_in_order():
    assert chunk_slices(10, 8, chunk_size=4) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert chunk_slices(10, bytes_per_item=100, budget=350) == [slice(i, min(i + 3, 10)) for i in range(0, 10, 3)]
    assert chunk_slices(3, bytes_per_item=10**12) == [slice(0, 1), slice(1, 2), slice(2, 3)]   # at least one an item
    assert chunk_slices(0, 8) == []
    with pytest.raises(ValueError, match=r"chunk_size=0: must be a positive integer"):
        chunk_slices(10, 8, chunk_size=0)


def test_resolve_threads():
    assert resolve_threads(4, 3) == 3 and resolve_threads(1, 10) == 1 and resolve_threads(2, 0) == 1
    assert 1 <= resolve_threads(None, 10) <= 2
    with pytest.raises(ValueError, match=r"threads=0: must be a positive integer"):
        resolve_threads(0, 5)


@pytest.mark.parametrize("threads", [1, 2])
def test_run_sliced_fills_every_item_and_reports_in_the_calling_thread(threads):
    out = np.zeros(11)
    calls = []

    def fill(sl):
        out[sl] = np.arange(sl.start, sl.stop) ** 2
        np.log(np.zeros(1))                           # warnings are silenced in every chunk

    def progress(done, total):
        calls.append((done, total, threading.current_thread() is threading.main_thread()))
    with np.errstate(divide="raise"):
        run_sliced(fill, 11, 8, chunk_size=3, threads=threads, progress=progress)
    np.testing.assert_array_equal(out, np.arange(11) ** 2)
    assert calls == [(k, 4, True) for k in range(1, 5)]


@pytest.mark.parametrize("threads", [1, 2])
def test_raising_in_progress_drops_the_chunks_not_started(threads):
    started = []

    def work(chunk):
        started.append(chunk)
        time.sleep(0.02)

    def stop(done, total):
        if done == 1:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        run_chunks(work, list(range(50)), threads, stop)
    assert len(started) < 10                        # one reported, at most a few more running
