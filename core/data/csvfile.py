"""A user's CSV data set: where its file may come from, and reading it with caps checked before parsing.

    files = DataFiles.local()                                  # the CLI: any local path (the user is the operator)
    files = DataFiles(data_dir="/srv/data", upload_dir=tmp)   # a server: "upload:<key>" or a file inside data_dir
    real = files.resolve("heart.csv")                          # ValueError when outside, missing or not allowed
    X, y, names = read_csv(real, target="label", shown="heart.csv")

On a server a spec is client input: its ``data.path`` never names a server path. It is either
``upload:<key>`` (a CSV the user uploaded, stored by the server under its content hash) or a path
relative to the data folder the operator named (``serve --data-dir DIR``); symlinks and ``..`` are
resolved first and anything that lands outside the folder is refused before it is opened. Messages
quote the path the client gave, never the server's real one.

Caps, checked before a row is parsed: at most MAX_CSV_BYTES bytes, MAX_CSV_COLUMNS columns and
MAX_SAMPLES data rows (MAX_SAMPLES below), so a huge file is refused without being read into lists.
"""
from __future__ import annotations

import csv
import io
import os
import re

import numpy as np

from core.errors import quote

MAX_SAMPLES = 20000                 # rows of any data set (CSV or synthetic)
MAX_CSV_BYTES = 16 * 2**20          # a CSV file or upload, bytes
MAX_CSV_COLUMNS = 256               # features + the target column
UPLOAD_PREFIX = "upload:"
_UPLOAD_KEY = re.compile(r"^[0-9a-f]{32}$")
MAX_PATH_CHARS = 500


class DataFiles:
    """Which files a spec's ``data.path`` may name (see the module docstring)."""

    def __init__(self, data_dir=None, upload_dir=None, local=False):
        self.local = bool(local)
        self.data_dir = os.path.realpath(data_dir) if data_dir is not None else None
        self.upload_dir = os.path.realpath(upload_dir) if upload_dir is not None else None
        if self.data_dir is not None and not os.path.isdir(self.data_dir):
            raise ValueError(f"--data-dir {data_dir!r}: not a folder")

    @classmethod
    def local_files(cls):
        return cls(local=True)

    def upload_path(self, key):
        return os.path.join(self.upload_dir, key + ".csv")

    def resolve(self, path):
        """The real file path for ``path``, or ValueError naming data.path and what is allowed."""
        if not isinstance(path, str) or not path or len(path) > MAX_PATH_CHARS or "\x00" in path:
            raise ValueError(f"path={quote(path)}: give the path of a CSV file with a header row")
        if self.local:
            if not os.path.isfile(path):
                raise ValueError(f"path={quote(path, 300)}: no such file")
            return path
        if path.startswith(UPLOAD_PREFIX):
            key = path[len(UPLOAD_PREFIX):]
            if self.upload_dir is None or not _UPLOAD_KEY.match(key):
                raise ValueError(f"path={quote(path)}: not an upload of this server; upload the CSV file")
            real = self.upload_path(key)
            if not os.path.isfile(real):
                raise ValueError(f"path={quote(path)}: this upload is no longer on the server; "
                                 "upload the CSV file again")
            return real
        if self.data_dir is None:
            raise ValueError(f"path={quote(path)}: this server reads no files from its disk; upload the CSV "
                             "file instead (the operator can offer a folder with serve --data-dir)")
        real = os.path.realpath(os.path.join(self.data_dir, path))
        if os.path.commonpath([real, self.data_dir]) != self.data_dir or real == self.data_dir:
            raise ValueError(f"path={quote(path)}: outside the server's data folder; give a path relative "
                             "to that folder (no '..', no absolute paths, no links out of it)")
        if not os.path.isfile(real):
            raise ValueError(f"path={quote(path)}: no such file in the server's data folder")
        return real

    def listing(self, limit=200):
        """CSV files offered by the data folder (paths relative to it, sorted), for the app's menu."""
        if self.data_dir is None:
            return []
        out = []
        for root, dirs, names in os.walk(self.data_dir):
            dirs.sort()
            for n in sorted(names):
                if n.lower().endswith(".csv"):
                    rel = os.path.relpath(os.path.join(root, n), self.data_dir)
                    try:
                        self.resolve(rel)
                    except ValueError:                  # e.g. a link out of the folder
                        continue
                    out.append(rel)
                    if len(out) >= limit:
                        return out
        return out


def _check_size(text_bytes, shown):
    if len(text_bytes) > MAX_CSV_BYTES:
        raise ValueError(f"path={quote(shown)}: {len(text_bytes) / 2**20:.1f} MB; a CSV may have at most "
                         f"{MAX_CSV_BYTES // 2**20} MB")


def read_bytes(path, shown=None):
    """The file's bytes, refused (before reading) when over MAX_CSV_BYTES."""
    shown = path if shown is None else shown
    size = os.path.getsize(path)
    if size > MAX_CSV_BYTES:
        raise ValueError(f"path={quote(shown)}: {size / 2**20:.1f} MB; a CSV may have at most "
                         f"{MAX_CSV_BYTES // 2**20} MB")
    with open(path, "rb") as f:
        return f.read(MAX_CSV_BYTES + 1)


def file_header(path, shown=None):
    """Column names of the CSV file at ``path``, reading only its first line."""
    shown = path if shown is None else shown
    with open(path, "rb") as f:
        first = f.readline(64 * 1024)
    return csv_header(first, shown)


def csv_header(raw, shown="uploaded file"):
    """Column names of a CSV given as bytes (caps checked); ValueError when it is not a usable CSV."""
    _check_size(raw, shown)
    text = _decode(raw, shown)
    first = text.split("\n", 1)[0]
    if first.count(",") + 1 > MAX_CSV_COLUMNS:
        raise ValueError(f"path={quote(shown)}: more than {MAX_CSV_COLUMNS} columns; at most "
                         f"{MAX_CSV_COLUMNS} are allowed")
    try:
        header = next(csv.reader(io.StringIO(first)))
    except StopIteration:
        raise ValueError(f"path={quote(shown)}: the file is empty; expected a header row and data rows") from None
    return [h.strip() for h in header]


def check_table(raw, shown="uploaded file", max_rows=None):
    """Caps of a CSV given as bytes, checked without parsing its rows: size, columns and data rows.
    Returns the header."""
    max_rows = MAX_SAMPLES if max_rows is None else max_rows
    header = csv_header(raw, shown)
    n_lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    if n_lines - 1 > max_rows:
        raise ValueError(f"path={quote(shown)}: about {n_lines - 1:,} data rows; at most {max_rows:,} are "
                         "allowed")
    return header


def _decode(raw, shown):
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"path={quote(shown)}: not UTF-8 text, so not a CSV file") from None


def read_csv(path, target, shown=None, max_rows=None):
    """A CSV with a header row -> X (n, d), y (n,), feature names. ``shown``: the path as the user gave it
    (used in messages instead of ``path``). Caps are checked before any row is parsed."""
    shown = path if shown is None else shown
    if not isinstance(path, str) or not os.path.isfile(path):
        raise ValueError(f"path={quote(shown, 300)}: no such file")
    raw = read_bytes(path, shown)
    header = check_table(raw, shown, max_rows)
    if target not in header:
        raise ValueError(f"target={quote(target)}: no such column in {quote(shown)}; columns are "
                         f"{quote(header, 300)}")
    rows = [r for r in csv.reader(io.StringIO(_decode(raw, shown)))][1:]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"path={quote(shown)}: no data rows after the header")
    t = header.index(target)
    names = [h for i, h in enumerate(header) if i != t]
    if not names:
        raise ValueError(f"path={quote(shown)}: needs at least one feature column besides target {quote(target)}")
    X = np.empty((len(rows), len(names)))
    y_raw = []
    for r_i, r in enumerate(rows, start=2):
        if len(r) != len(header):
            raise ValueError(f"path={quote(shown)}: line {r_i} has {len(r)} values, the header has {len(header)}")
        vals = [c.strip() for j, c in enumerate(r) if j != t]
        for j, v in enumerate(vals):
            try:
                X[r_i - 2, j] = float(v)
            except ValueError:
                raise ValueError(f"path={quote(shown)}: line {r_i}, column {quote(names[j])}: value {quote(v)} "
                                 "is not numeric; features must be numbers") from None
        y_raw.append(r[t].strip())
    if not np.all(np.isfinite(X)):
        raise ValueError(f"path={quote(shown)}: features contain nan or inf; remove or fill those values")
    classes = sorted(set(y_raw))
    if len(classes) != 2:
        raise ValueError(f"target={quote(target)}: the target must be binary (2 distinct values), "
                         f"found {len(classes)}: {quote(classes[:10])}")
    # numeric classes: larger one is 1 (so 0/1 and 2/4 map as expected); otherwise sorted order
    try:
        num = sorted(classes, key=float)
    except ValueError:
        num = classes
    y = np.array([1.0 if v == num[1] else 0.0 for v in y_raw])
    return X, y, names
