"""A sweep's failure metrics (core.model.failure) are saved per cell and seed, and older files still load."""
import json

import numpy as np
import pytest

import core
from core.sweeps.result import FAILURE_METRICS, METRICS, load_sweep
from tests.helpers import small_sweep_dict

LRS = [0.1, 1.0, 3.4, 5.62, 9.34, 12.0, 20.0]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = small_sweep_dict(steps=500, seeds=(0, 1, 2), sharpness=True)
    d["sweep"]["optimizers"] = [{"name": "sgd", "label": "SGD", "axes": {"lr": LRS}}]
    path = tmp_path_factory.mktemp("sweep") / "s.npz"
    core.sweep(d, scheduler="inline").save(path)
    return path


def test_sgd_fails_from_lr_9_34_and_not_below_1(saved):
    b = load_sweep(saved).blocks["SGD"]
    lr = b.axes["lr"]
    assert b.failed.dtype == np.bool_ and b.failed.shape == (3, len(LRS))
    assert b.failed[:, lr >= 9.34].all()
    assert not b.failed[:, lr <= 1].any()
    assert (b.live_units[:, lr >= 9.34] == 0).sum() >= 1 and (b.live_units[:, lr <= 1] > 0).all()
    assert not b.spiked[:, lr <= 1].any() and b.spiked[:, lr >= 9.34].all()
    assert not b.nonmonotone[:, lr <= 1].any() and b.nonmonotone[:, lr >= 9.34].all()
    assert np.all(b.peak_loss >= b.loss0) and np.all(b.peak_loss[:, lr >= 9.34] > b.loss0[:, lr >= 9.34])
    with np.load(saved) as z:                        # saved under those names
        assert {f"b0_{k}" for k in ("failed", "spiked", "nonmonotone", "live_units", "peak_loss")} <= set(z.files)


def test_the_summary_names_the_measured_edges(saved):
    r = load_sweep(saved)
    row = r.summary()[0]
    assert row["fails_from"] == 9.34 and row["failed"] == int(r.blocks["SGD"].failed.sum())
    assert row["best"] < row["fails_from"] and row["nonmonotone_from"] <= row["fails_from"]
    b = r.blocks["SGD"]
    lam = b.sharpness0[:, 0]
    assert row["lambda0"] == pytest.approx(list(lam)) and row["edge0"] == pytest.approx(2 / lam.max())
    assert row["fails_ratio"] == pytest.approx(row["fails_from"] / row["edge0"])
    # catapult: the highest median peak / L0 of a cell that spiked without failing
    height = np.median(b.peak_loss / b.loss0, axis=0)
    ok = ~b.failed.any(axis=0) & b.spiked.any(axis=0)
    assert ok.any() and row["catapult"] == pytest.approx(height[ok].max()) and row["catapult"] > 1
    # edge of stability: the ends of the values where no seed failed and the median sharpness x lr / 2 >= 0.9
    at = ~b.failed.any(axis=0) & (np.median(b.sharpness / b.threshold, axis=0) >= 0.9)
    lr = b.axes["lr"]
    assert row["eos"] == ((lr[at].min(), lr[at].max()) if at.any() else None)
    assert np.allclose(b.threshold * lr, 2)
    i = int(np.flatnonzero(lr == 1.0)[0])                # a converging cell, far below: not at the edge ...
    assert not at[i]
    b.sharpness[:, i] = b.threshold[:, i]                # ... until its final sharpness sits on 2 / lr
    b.sharpness[:, lr >= 3] = 0.0
    assert r.summary()[0]["eos"] == (1.0, 1.0)
    table = core.sweeps.summary.format_summary([row])
    for words in ("fails from", "non-monotone from", "initial stability edge", "edge of stability", "catapult"):
        assert words in table


def test_a_version_1_file_still_loads(saved, tmp_path):
    with np.load(saved) as z:
        a = {k: z[k] for k in z.files if not any(k == f"b0_{m}" for m in FAILURE_METRICS)}
    meta = json.loads(str(a["meta"]))
    meta["version"] = 1
    a["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "v1.npz", **a)
    old, new = load_sweep(tmp_path / "v1.npz").blocks["SGD"], load_sweep(saved).blocks["SGD"]
    for k in METRICS:
        if k not in FAILURE_METRICS:
            assert np.array_equal(getattr(old, k), getattr(new, k), equal_nan=True)
    assert np.array_equal(old.failed, new.done & (new.diverged_at >= 0))   # what a v1 file can say
    assert (old.live_units == -1).all() and np.isnan(old.peak_loss).all()
