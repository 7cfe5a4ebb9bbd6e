"""python -m core: comparison table, presets, one-line errors with exit status 2."""
import json
import os
import subprocess
import sys

import pytest

from core.__main__ import format_table, main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def small_spec_file(tmp_path, **changes):
    from core.spec import ExperimentSpec
    d = ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"]["steps"] = 200
    d["grid"]["resolution"] = 11
    for k, v in changes.items():
        d[k] = v
    f = tmp_path / "spec.json"
    f.write_text(json.dumps(d))
    return str(f)


def test_presets_lists_names(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "article" in out and "four_optimizers" in out


def test_run_prints_table_and_saves(tmp_path, capsys):
    out_file = tmp_path / "run.npz"
    assert main(["run", small_spec_file(tmp_path), "--out", str(out_file), "--json", "--quiet"]) == 0
    out = capsys.readouterr().out
    for col in ("final loss", "train acc", "test acc", "steps<target", "diverged at", "path length", "plane residual"):
        assert col in out
    for lab in ("SGD", "LR annealing", "large LR", "momentum"):
        assert lab in out
    rows = json.loads([l for l in out.splitlines() if l.startswith("[")][0])
    assert len(rows) == 4 and out_file.exists()
    import core
    assert core.load_result(str(out_file)).summary() == rows


def test_format_table_marks_missing_with_dash():
    rows = [dict(label="x", final_loss=0.5, train_acc=1.0, test_acc=0.5, steps_to_target=None, diverged_at=None,
                 path_length=1.0, residual=0.25)]
    t = format_table(rows)
    assert t.splitlines()[2].split()[4:6] == ["-", "-"]


@pytest.mark.parametrize("args,match", [
    (["run", "nope"], "error: preset='nope': allowed are article"),
    (["run", "missing.json"], "error: spec file 'missing.json': no such file"),
    (["run", "four_optimizers", "--out", "/no/such/dir/run.npz"], "error: --out '/no/such/dir/run.npz': folder"),
    (["run", "four_optimizers", "--out", "run.txt"], "must end in .npz"),
    (["frobnicate"], "error: argument cmd: invalid choice"),
    ([], "error: the following arguments are required"),
])
def test_errors_one_line_exit_2(args, match):
    r = run_cli(*args)
    assert r.returncode == 2
    assert match in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_bad_spec_file_exit_2(tmp_path):
    r = run_cli("run", small_spec_file(tmp_path, seed=-3))
    assert r.returncode == 2 and "error: seed=-3: must be an integer" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.json"; bad.write_text('{"optimizers": [{"name": "sgd", "lr": 0}]}')
    r = run_cli("run", str(bad))
    assert r.returncode == 2 and "optimizers[0].lr=0" in r.stderr
