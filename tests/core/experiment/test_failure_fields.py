"""Run files keep the failure fields (live units per frame, failed_at); files without them load, computing them."""
import json

import numpy as np
import pytest

import core
from core.experiment.result import complete_failure, from_arrays
from tests.helpers import small_spec_dict


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    d = small_spec_dict()
    d["grid"]["resolution"] = 9
    d["curvature"] = {"enabled": False}
    next(o for o in d["optimizers"] if o["label"] == "large LR")["lr"] = 50.0
    r = core.run_experiment(d)
    path = tmp_path_factory.mktemp("run") / "run.npz"
    r.save(path)
    return r, path


def test_the_summary_and_the_file_say_which_run_failed(failing):
    r, path = failing
    rows = {row["label"]: row for row in r.summary()}
    big = rows["large LR"]
    assert big["failed_at"] is not None and big["live_units"] == 0 and big["diverged_at"] is None
    assert big["peak_loss"] > r.trajectories["large LR"].loss[0] and big["spiked"]
    assert rows["SGD"]["failed_at"] is None and rows["SGD"]["live_units"] > 0
    back = core.load_result(path)
    for lab, t in r.trajectories.items():
        assert back.trajectories[lab].failed_at == t.failed_at
        assert np.array_equal(back.trajectories[lab].live_units, t.live_units)
    assert back.summary() == r.summary()


def _strip(path, data=True):
    """The file's arrays as an older version wrote them: no live units, no failed_at (and maybe no data)."""
    with np.load(path) as z:
        a = {k: z[k] for k in z.files if not k.endswith("_live_units") and (data or not k.startswith("data_"))}
    meta = json.loads(str(a["meta"]))
    for run in meta["runs"]:
        del run["failed_at"]
    a["meta"] = np.array(json.dumps(meta))
    return a


def test_a_file_without_the_failure_fields_loads_computing_them(failing, tmp_path):
    r, path = failing
    np.savez(tmp_path / "old.npz", **_strip(path))
    old = core.load_result(tmp_path / "old.npz")
    for lab, t in r.trajectories.items():            # computed from the saved weights and data: the same
        assert old.trajectories[lab].failed_at == t.failed_at
        assert np.array_equal(old.trajectories[lab].live_units, t.live_units)
    # without the training data: no live units; failed_at from the losses alone (the bound is L0)
    np.savez(tmp_path / "older.npz", **_strip(path, data=False))
    older = core.load_result(tmp_path / "older.npz")
    big = older.trajectories["large LR"]
    assert big.live_units is None and big.failed_at is not None
    assert older.trajectories["SGD"].failed_at is None
    assert {row["label"]: row["live_units"] for row in older.summary()}["large LR"] is None
    assert complete_failure(from_arrays(_strip(path))).trajectories["large LR"].failed_at is not None


def test_a_dishonest_failed_at_is_refused(failing, tmp_path):
    _, path = failing
    with np.load(path) as z:
        a = {k: z[k] for k in z.files}
    meta = json.loads(str(a["meta"]))
    meta["runs"][0]["failed_at"] = "soon"
    a["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "bad.npz", **a)
    with pytest.raises(ValueError, match="failed_at"):
        core.load_result(tmp_path / "bad.npz")
