"""core.experiment.result_check: zip bombs, lying headers and dishonest runs are refused before they cost memory."""
import dataclasses
import io
import tracemalloc
import zipfile

import numpy as np
import pytest

import core
from core.experiment.result_check import check_npz, check_result


def _npy_header(shape, dtype="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _bomb(members, zeros_mb):
    """A valid run's members plus one deflated member of ``zeros_mb`` MB of zeros (a few hundred kB on disk)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        n = zeros_mb * 2**20 // 8
        with zf.open("t0_extra.npy", "w", force_zip64=True) as f:
            f.write(_npy_header((n,)))
            chunk = bytes(2**20)
            for _ in range(zeros_mb):
                f.write(chunk)
    buf.seek(0)
    return buf


def _members(result):
    buf = io.BytesIO()
    result.write(buf)
    buf.seek(0)
    with zipfile.ZipFile(buf) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _load_peak(src, **kw):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as e:
            core.load_result(src, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(e.value), peak


def test_a_zip_bomb_inside_a_valid_run_is_refused_unread(small_result):
    bomb = _bomb(_members(small_result), zeros_mb=300)
    assert len(bomb.getvalue()) < 2 * 2**20                  # a small upload ...
    msg, peak = _load_peak(bomb, max_bytes=200 * 2**20)       # ... that unpacks to 300 MB
    assert "unpacks to 30" in msg and "at most 200 MB" in msg
    assert peak < 20 * 2**20, peak                           # nothing was unpacked


def test_an_array_header_larger_than_its_member_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("meta.npy", _npy_header((10**12,)) + bytes(64))    # declares 8 TB
    buf.seek(0)
    msg, peak = _load_peak(buf)
    assert "declares 8,000,000,000,000 bytes but holds" in msg and peak < 5 * 2**20


def test_pickled_members_are_refused():
    buf = io.BytesIO()
    np.savez(buf, meta=np.array([{"a": 1}], dtype=object))
    buf.seek(0)
    with pytest.raises(ValueError, match="holds Python objects"):
        check_npz(buf)


def test_computed_results_pass(small_result, small_moving_result):
    assert check_result(small_result) is small_result
    assert check_result(small_moving_result) is small_moving_result


def _saved(result):
    buf = io.BytesIO()
    result.write(buf)
    buf.seek(0)
    return buf


def _with(result, **changes):
    return dataclasses.replace(result, **changes)


@pytest.mark.parametrize("change,match", [
    (lambda r: _with(r, alphas=np.where(np.arange(r.alphas.size) == 3, np.nan, r.alphas)), "alphas: contains nan"),
    (lambda r: _with(r, betas=r.betas[::-1].copy()), "betas: grid values must increase"),
    (lambda r: _with(r, surface=r.surface[:, :-1].copy()), "surface has shape"),
    (lambda r: _with(r, surface=np.where(r.surface > 0, np.inf, r.surface)), "surface: contains inf"),
    (lambda r: _with(r, alphas=np.linspace(-1, 1, 2001), betas=np.linspace(-1, 1, 2001),
                     surface=np.zeros((2001, 2001))), "alphas has 2001 points: expected 15"),
    (lambda r: _with(r, layer_sizes=[9, 16, 1]), r"layer_sizes=\[9, 16, 1\]: does not match model.hidden=\[15\]"),
])
def test_dishonest_runs_are_refused_with_a_named_error(small_result, change, match):
    with pytest.raises(ValueError, match=match):
        core.load_result(_saved(change(small_result)))


def test_a_path_whose_arrays_disagree_is_refused(small_result):
    lab = small_result.labels[0]
    pr = dataclasses.replace(small_result.paths[lab], alpha=small_result.paths[lab].alpha[:-1].copy())
    r = _with(small_result, paths={**small_result.paths, lab: pr})
    with pytest.raises(ValueError, match=r"run 'SGD' path alpha has shape"):
        core.load_result(_saved(r))


def test_a_hostile_info_entry_is_dropped(small_result):
    r = _with(small_result, info={**small_result.info, "n_params": "x" * 10**6, "evil": [1] * 10})
    back = core.load_result(_saved(r))
    assert "n_params" not in back.info and "evil" not in back.info and back.info["dataset"] == "wisconsin"
