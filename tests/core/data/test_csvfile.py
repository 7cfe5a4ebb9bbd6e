"""core.data.csvfile: which files a spec may name on a server, and CSV caps checked before parsing."""
import os

import numpy as np
import pytest

import core
from core.data import csvfile as csvdata
from core.data.csvfile import DataFiles

GOOD = "a,b,label\n1,2,yes\n3,4,no\n5,6,yes\n7,8,no\n1,1,yes\n2,2,no\n3,3,yes\n4,4,no\n"


@pytest.fixture
def server(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "ok.csv").write_text(GOOD)
    (data / "sub" / "deep.csv").write_text(GOOD)
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:root,target\n1,0\n2,1\n")
    os.symlink(secret, data / "link.csv")                  # a link out of the folder
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    return DataFiles(data_dir=str(data), upload_dir=str(uploads)), tmp_path


@pytest.mark.parametrize("path", ["/etc/passwd", "../secret.csv", "sub/../../secret.csv", "link.csv", ".", "",
                                  "sub/../../data/../secret.csv", "/" + "x" * 600])
def test_paths_outside_the_data_folder_are_refused_without_opening(server, path):
    files, root = server
    with pytest.raises(ValueError, match=r"^path=") as e:
        files.resolve(path)
    assert "root:x" not in str(e.value) and str(root) not in str(e.value)    # neither contents nor server paths
    assert len(str(e.value)) < 300


def test_files_inside_the_folder_and_uploads_resolve(server):
    files, root = server
    assert files.resolve("ok.csv") == str(root / "data" / "ok.csv")
    assert files.resolve("sub/deep.csv").endswith("deep.csv")
    assert files.listing() == ["ok.csv", os.path.join("sub", "deep.csv")]       # the link out is not offered
    key = "0123456789abcdef0123456789abcdef"
    with pytest.raises(ValueError, match="no longer on the server; upload the CSV file again"):
        files.resolve("upload:" + key)
    (root / "uploads" / f"{key}.csv").write_text(GOOD)
    assert files.resolve("upload:" + key).endswith(f"{key}.csv")
    for bad in ("upload:../../secret", "upload:XYZ"):
        with pytest.raises(ValueError, match="not an upload of this server"):
            files.resolve(bad)


def test_a_server_without_a_data_folder_reads_no_path():
    with pytest.raises(ValueError, match="this server reads no files from its disk; upload the CSV"):
        DataFiles().resolve("/etc/passwd")
    with pytest.raises(ValueError, match="^path=./etc/passwd."):
        core.load_dataset("csv", path="/etc/passwd", target="x", files=DataFiles())
    spec = core.ExperimentSpec.from_dict({"data": {"name": "csv", "path": "/etc/passwd", "target": "x"}})
    with pytest.raises(ValueError, match="^data.path=./etc/passwd.: this server reads no files"):
        core.run_experiment(spec, files=DataFiles())           # the spec's own field name


def test_the_command_line_reads_local_paths(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text(GOOD)
    assert DataFiles.local_files().resolve(str(f)) == str(f)
    ds = core.load_dataset("csv", path=str(f), target="label")
    assert ds.X_train.shape[1] == 2


def test_caps_are_checked_before_parsing(tmp_path, monkeypatch):
    f = tmp_path / "big.csv"
    f.write_text("a,y\n" + "1,0\n2,1\n" * 15000)                  # 30,000 rows > MAX_SAMPLES
    calls = []
    monkeypatch.setattr(csvdata.csv, "reader", lambda *a, **k: calls.append(1) or iter([["a", "y"]]))
    with pytest.raises(ValueError, match=r"about 30,000 data rows; at most 20,000"):
        csvdata.read_csv(str(f), "y")
    assert calls == [1]                                           # the header line only
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(300)) + "\n" + ",".join("1" * 300) + "\n")
    with pytest.raises(ValueError, match="more than 256 columns"):
        csvdata.read_csv(str(wide), "c0")
    monkeypatch.setattr(csvdata, "MAX_CSV_BYTES", 1000)
    with pytest.raises(ValueError, match="a CSV may have at most 0 MB"):
        csvdata.read_csv(str(f), "y")


def test_a_huge_column_name_is_quoted_short(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a," + "t" * 100000 + "\n1,0\n2,1\n")
    with pytest.raises(ValueError) as e:
        csvdata.read_csv(str(f), "y" * 100000)
    assert len(str(e.value)) < 600


def test_read_csv_values(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("x1,x2,cls\n0,1,2\n1,0,4\n0.5,0.5,2\n")
    X, y, names = csvdata.read_csv(str(f), "cls", shown="given.csv")
    assert names == ["x1", "x2"] and X.shape == (3, 2) and np.array_equal(y, [0, 1, 0])
