"""The package move changed no byte of what users get: a run file and every export format, made from one small
spec, have the SHA-256 recorded from the flat layout before the move (tests/layout_checksums.py made the record).

Bytes depend on the versions of NumPy, matplotlib and plotly: with other versions than the record's the test is
skipped with the reason (the exports' run-to-run determinism is tested in tests/visualizer/export)."""
import json
import os

import pytest

from tests.helpers import ROOT
from tests.layout_checksums import checksums, versions

RECORD = os.path.join(ROOT, "tests", "data", "layout_checksums.json")


def test_run_file_and_exports_are_byte_identical_to_the_flat_layout(tmp_path):
    record = json.load(open(RECORD))
    if record["versions"] != versions():
        pytest.skip(f"recorded with {record['versions']}, running {versions()}")
    assert checksums(str(tmp_path)) == record["sha256"]
