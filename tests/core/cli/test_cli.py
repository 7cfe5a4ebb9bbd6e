"""python -m core: comparison table, presets, one-line errors with exit status 2."""
import json
import os
import subprocess
import sys

import pytest

from core.cli.main import format_table, main
from tests.helpers import background, foreground

from tests.helpers import ROOT


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def small_spec_file(tmp_path, **changes):
    from core.experiment.spec import ExperimentSpec
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
    for col in ("final loss", "train acc", "test acc", "steps<target", "diverged at", "failed at", "live units",
                "peak loss", "path length", "in plane",
                "peak sharpness", "final / threshold", "frames >= threshold"):     # the presets compute curvature
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


# ------------------------------------------------------------ every entry point, in a pipe and on a terminal
def _entry_points(tmp_path):
    spec = small_spec_file(tmp_path)
    return {
        "core run": (["-m", "core", "run", spec, "--out", str(tmp_path / "run.npz")], tmp_path / "run.npz"),
        "export gif": (["-m", "visualizer", "export", spec, "--format", "gif", "--out", str(tmp_path / "a.gif"),
                        "--frames", "4", "--size", "200x160"], tmp_path / "a.gif"),
        "export png": (["-m", "visualizer", "export", spec, "--out", str(tmp_path / "a.png"), "--size", "200x160"],
                       tmp_path / "a.png"),
        "serve --help": (["-m", "visualizer", "serve", "--help"], None),
    }


def _run_on_pty(args, timeout=300):
    """Run with stdout and stderr on a pseudo-terminal: (exit status, everything it printed)."""
    import fcntl
    import pty
    import struct
    import termios
    import threading
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # 100 x 24, as a terminal has
    p = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []

    def read():
        while True:
            try:
                b = os.read(master, 4096)
            except OSError:                   # the child closed the terminal
                return
            if not b:
                return
            chunks.append(b)
    t = threading.Thread(target=read, daemon=True)
    t.start()
    rc = p.wait(timeout=timeout)
    t.join(10)
    os.close(master)
    return rc, b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("name", ["core run", "export gif", "export png", "serve --help"])
def test_entry_points_in_a_pipe(tmp_path, name):
    """stdout and stderr captured (not a terminal), as in scripts, Makefiles, cron and CI."""
    args, out = _entry_points(tmp_path)[name]
    r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and r.stderr == "", r.stderr     # no progress bar text in a pipe
    if out is not None:
        assert out.exists() and out.stat().st_size > 0
        assert f"{out}" in r.stdout
    else:
        assert "--host" in r.stdout and "--port" in r.stdout


@pytest.mark.parametrize("name", ["core run", "export gif", "serve --help"])
def test_entry_points_on_a_terminal(tmp_path, name):
    args, out = _entry_points(tmp_path)[name]
    if name == "core run":                    # a run long enough for its progress bar (>= 20,000 steps)
        d = json.loads(open(args[3]).read())
        d["optimizers"] = d["optimizers"][:1]
        d["training"].update(steps=20000, record_every=100)
        open(args[3], "w").write(json.dumps(d))
    rc, text = _run_on_pty(args)
    assert rc == 0, text
    assert "Traceback" not in text
    if out is not None:
        assert out.exists() and out.stat().st_size > 0
    if name == "core run":
        assert "train:" in text and "%|" in text      # the tqdm bar drew on the terminal
    if name == "export gif":
        assert "gif:" in text and "frame" in text


def _start_and_wait_for_part(args, folder, timeout=120, start=foreground):
    import time
    p = subprocess.Popen(start([sys.executable, *args]), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if any(".part" in f for f in os.listdir(folder)):
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    raise AssertionError(f"no .part file appeared: {p.communicate()}")


@pytest.mark.parametrize("sig,status", [("SIGTERM", 143), ("SIGINT", 130)])
def test_export_killed_mid_write_leaves_nothing(tmp_path, sig, status):
    import signal
    run = tmp_path / "run.npz"
    assert main(["run", small_spec_file(tmp_path), "--out", str(run), "--quiet"]) == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    p = _start_and_wait_for_part(["-m", "visualizer", "export", str(run), "--format", "gif", "--frames", "300",
                                  "--rotate", "90", "--out", str(out_dir / "long.gif")], out_dir)
    p.send_signal(getattr(signal, sig))
    _, err = p.communicate(timeout=60)
    assert p.returncode == status, err
    assert "Traceback" not in err and "no file written" in err
    assert os.listdir(out_dir) == []


def test_a_background_export_keeps_ignoring_ctrl_c_and_stops_on_sigterm(tmp_path):
    """Started as ``cmd &`` in a script (SIGINT ignored), a Ctrl-C for the foreground does not stop it."""
    import signal
    import time
    run = tmp_path / "run.npz"
    assert main(["run", small_spec_file(tmp_path), "--out", str(run), "--quiet"]) == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    p = _start_and_wait_for_part(["-m", "visualizer", "export", str(run), "--format", "gif", "--frames", "300",
                                  "--rotate", "90", "--out", str(out_dir / "long.gif")], out_dir, start=background)
    p.send_signal(signal.SIGINT)
    time.sleep(1.0)
    still_running = p.poll() is None
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert still_running, err
    assert p.returncode == 143 and "no file written" in err, err
    assert os.listdir(out_dir) == []


def test_output_files_get_the_usual_permissions(tmp_path):
    """core run --out and exports write through one atomic helper: mode 0666 & ~umask, as open() gives."""
    old = os.umask(0o022)
    try:
        assert main(["run", small_spec_file(tmp_path), "--out", str(tmp_path / "r.npz"), "--quiet"]) == 0
        from visualizer.export import main as export_main
        assert export_main([str(tmp_path / "r.npz"), "--out", str(tmp_path / "s.png"), "--size", "200x160",
                            "--quiet"]) == 0
    finally:
        os.umask(old)
    for name in ("r.npz", "s.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644
    assert not [p for p in os.listdir(tmp_path) if ".part" in p]


# ------------------------------------------------------------ OS errors, deep JSON, internal failures (issue 17)
def _unwritable_folder():
    """A folder where even root cannot create a file (sysfs refuses; /proc has no room for files), or None."""
    import tempfile
    for folder in ("/sys", "/proc"):
        try:
            fd, tmp = tempfile.mkstemp(dir=folder)
        except OSError:
            return folder
        os.close(fd)
        os.remove(tmp)
    return None


UNWRITABLE = _unwritable_folder()


@pytest.mark.skipif(UNWRITABLE is None, reason="no folder here refuses new files to this user")
@pytest.mark.parametrize("args", [
    ["-m", "core", "run", "four_optimizers", "--out", f"{UNWRITABLE}/run.npz"],
    ["-m", "core", "sweep", "lr_sweep", "--scheduler", "inline", "--out", f"{UNWRITABLE}/sweep.npz"],
    ["-m", "visualizer", "export", "four_optimizers", "--out", f"{UNWRITABLE}/four.gif"],
])
def test_unwritable_out_is_one_line_exit_2_before_computing(args):
    r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"error: --out '{args[-1]}': cannot write in folder '{UNWRITABLE}' ("), r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stdout == ""                              # nothing was computed: no table, no summary


def test_a_file_in_place_of_the_folder_is_one_line_exit_2(tmp_path):
    (tmp_path / "plain").write_text("x")
    r = run_cli("run", "four_optimizers", "--out", str(tmp_path / "plain" / "run.npz"))
    assert r.returncode == 2 and "does not exist" in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_a_full_disk_while_saving_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    import errno
    import numpy as np

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "run.npz"))
    monkeypatch.setattr(np, "savez_compressed", full)
    assert main(["run", small_spec_file(tmp_path), "--out", str(tmp_path / "run.npz"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: '{tmp_path / 'run.npz'}': No space left on device (the disk is full)\n"
    assert sorted(os.listdir(tmp_path)) == ["spec.json"]          # the half-written file was removed


def _nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("cmd", [["-m", "core", "run"], ["-m", "core", "sweep", "--scheduler", "inline"],
                                 ["-m", "visualizer", "export", "--out", "OUT"]])
def test_a_deeply_nested_spec_is_one_line_exit_2(tmp_path, cmd):
    spec = tmp_path / "deep.json"
    spec.write_text('{"name": "deep", "optimizers": ' + _nested(100_000) + "}")
    rest = [str(tmp_path / "x.gif") if a == "OUT" else a for a in cmd[3:]]
    r = subprocess.run([sys.executable, *cmd[:3], str(spec), *rest], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2, r.stderr
    assert "spec: nested deeper than 32 levels of lists and objects" in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and "RecursionError" not in r.stderr


def test_a_run_file_with_a_deep_meta_is_named(tmp_path):
    import numpy as np
    import core
    bad = tmp_path / "deep.npz"
    np.savez_compressed(bad, meta=np.array('{"format": ' + _nested(50_000) + "}"))
    with pytest.raises(ValueError, match=r"run file .*: not a valid result \(meta: nested deeper than 32 levels"):
        core.load_result(str(bad))
    r = subprocess.run([sys.executable, "-m", "visualizer", "export", str(bad), "--out", str(tmp_path / "x.gif")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "meta: nested deeper than 32 levels" in r.stderr and r.stderr.count("\n") == 1, \
        r.stderr


def test_json_nesting_limit_counts_brackets_outside_strings():
    from core.fileio import MAX_JSON_DEPTH, json_depth, loads_json
    assert json_depth('{"a": [1, {"b": "[[[[{{"}], "c": "\\"]"}') == 3
    assert loads_json(_nested(MAX_JSON_DEPTH), "x") == eval(_nested(MAX_JSON_DEPTH))
    with pytest.raises(ValueError, match="x: nested deeper than 32 levels"):
        loads_json(_nested(MAX_JSON_DEPTH + 1), "x")
    with pytest.raises(ValueError, match=r"x: not valid JSON \(Expecting value at line 1, column 2\)"):
        loads_json("[", "x")


def test_an_internal_failure_is_one_line_exit_1_and_traceback_shows_it(capsys, monkeypatch):
    import core.cli.main as cli_main

    def broken(spec, progress=None):
        raise KeyError("boom")
    monkeypatch.setattr(cli_main, "run_experiment", broken)
    assert main(["run", "four_optimizers", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err == "error: internal failure: KeyError: 'boom' (run again with --traceback to see where)\n"
    assert main(["run", "four_optimizers", "--quiet", "--traceback"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "in broken" in err
    assert err.splitlines()[-1] == "error: internal failure: KeyError: 'boom'"


@pytest.mark.parametrize("exc,status,text", [
    (RecursionError("maximum recursion depth exceeded"), 2, "nested too deeply"),
    (MemoryError(), 2, "not enough memory"),
    (PermissionError(13, "Permission denied", "/x/run.npz"), 2, "'/x/run.npz': Permission denied"),
    (ValueError("seed=-1: must be ..."), 2, "seed=-1: must be ..."),
    (ZeroDivisionError("division by zero"), 1, "internal failure: ZeroDivisionError: division by zero"),
])
def test_every_error_maps_to_one_line_and_a_status(exc, status, text):
    import io
    from core.cli.common import run_command

    def body():
        raise exc
    err = io.StringIO()
    assert run_command(body, stream=err) == status
    assert text in err.getvalue() and err.getvalue().count("\n") == 1
