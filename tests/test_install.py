"""The install story, for real (slow, needs PyPI): skipped unless LLN_CHECK_INSTALL=1.

benchmarks/check_install.sh makes a fresh venv, installs the checkout (not editable), runs the console scripts
from another folder, then installs the [dask] extra, starts a `dask scheduler` and two `dask worker`s without
PYTHONPATH and compares a sweep on them with one run inline, array by array, bit for bit.

    LLN_CHECK_INSTALL=1 python -m pytest -q tests/test_install.py
"""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(os.environ.get("LLN_CHECK_INSTALL") != "1", reason="slow, needs PyPI: set LLN_CHECK_INSTALL=1")
def test_install_from_pypi_and_a_sweep_on_dask_workers_without_pythonpath(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DASK_SCHEDULER_ADDRESS")}
    proc = subprocess.run([str(ROOT / "benchmarks" / "check_install.sh"), str(tmp_path / "venv")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=1800)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "arrays compared bit for bit, 0 differ" in out and "meta equal apart from info: True" in out, out[-4000:]
