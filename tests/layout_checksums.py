"""Checksums of a run file and of every export format, made from one small spec.

    python -m tests.layout_checksums OUT.json      # record (was run once on the flat layout, before the move)

tests/test_layout_unchanged.py makes the same files again and compares their SHA-256 with the record,
so a reorganisation of the packages cannot change a single byte of what users get.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import matplotlib
import numpy as np
import plotly

import core

FORMATS = ("gif", "png", "html", "mp4")


def small_spec():
    spec = core.ExperimentSpec.preset("four_optimizers").to_dict()
    spec["training"]["steps"] = 200
    spec["grid"].update(resolution=15)
    return spec


def versions():
    return {"numpy": np.__version__, "matplotlib": matplotlib.__version__, "plotly": plotly.__version__}


def run_digest(path):
    """SHA-256 over a run file's arrays and its meta, less the wall-clock timings (``info.seconds_*``)."""
    h = hashlib.sha256()
    with np.load(path, allow_pickle=False) as z:
        for name in sorted(z.files):
            a = z[name]
            if name == "meta":
                meta = json.loads(str(a))
                meta["info"] = {k: v for k, v in meta["info"].items() if not k.startswith("seconds_")}
                a = np.array(json.dumps(meta, sort_keys=True))
            h.update(name.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    return h.hexdigest()


def checksums(folder):
    """SHA-256 of the run file and of each export (made with `python -m visualizer export`) in ``folder``."""
    run = os.path.join(folder, "run.npz")
    core.run_experiment(core.ExperimentSpec.from_dict(small_spec())).save(run)
    sums = {"run.npz": run_digest(run)}
    for fmt in FORMATS:
        out = os.path.join(folder, f"export.{fmt}")
        subprocess.run([sys.executable, "-m", "visualizer", "export", run, "--out", out, "--frames", "4",
                        "--size", "240x180", "--quiet"], check=True, capture_output=True)
        sums[f"export.{fmt}"] = hashlib.sha256(open(out, "rb").read()).hexdigest()
    return sums


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        record = {"versions": versions(), "sha256": checksums(d)}
    with open(sys.argv[1], "w") as fh:
        json.dump(record, fh, indent=1)
    print(json.dumps(record, indent=1))
