"""Writing a user's file atomically, with the permissions ``open(path, "w")`` would give.

    with atomic_path("run.npz") as tmp:      # a temporary file in the target folder
        write_to(tmp)                        # the block fills it ...
    # ... then it gets mode 0666 & ~umask and replaces "run.npz" in one rename; on any error (Ctrl-C and
    # SIGTERM included) it is removed, so a failed write leaves nothing behind

``tempfile.mkstemp`` creates files with mode 0600; a user's output should get the usual permissions.

    check_writable("--out", "run.npz", ".npz")    # before computing: ValueError naming --out when it cannot be written
    loads_json(text, "spec")                      # json.loads, refusing nesting deeper than MAX_JSON_DEPTH by name
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile

import numpy as np

from core.cli.progress import check_interrupted
from core.errors import PATH_LIMIT, quote


def _umask():
    """The process's umask, read without changing it where /proc tells it (os.umask is not thread-safe)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_npz(path, arrays):
    """Write ``arrays`` as a compressed .npz at ``path``, atomically (atomic_path); returns the path."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return os.fspath(path)


@contextlib.contextmanager
def atomic_path(path, check=None):
    """Yield a temporary path beside ``path``; on success give it the umask's mode and rename it to ``path``.
    ``check``: called just before the rename (a last chance to refuse, e.g. a signal that arrived)."""
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"output path {path!r}: folder {folder!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=".part" + os.path.splitext(base)[1])
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        check_interrupted()                      # a signal that arrived while a writer held it: no file
        if check is not None:
            check()
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ------------------------------------------------------------------ JSON read from outside
MAX_JSON_DEPTH = 32      # levels of nested lists and objects a spec or a run file's meta may have (specs use 4)
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')     # strings (skipped whole) and brackets


def json_depth(text, limit=None):
    """The deepest nesting of lists and objects in JSON ``text`` (brackets inside strings do not count);
    with ``limit``, stops counting as soon as it is exceeded (returns limit + 1)."""
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()[0]
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if limit is not None and deepest > limit:
                    return deepest
        elif c in "]}":
            depth -= 1
    return deepest


def loads_json(text, what, max_depth=MAX_JSON_DEPTH):
    """``json.loads(text)`` after checking its nesting, so a 100,000-deep document gives a named ValueError
    ("<what>: nested deeper than 32 levels ...") instead of a RecursionError; malformed JSON gives a
    ValueError naming ``what``, the line and the column."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if json_depth(text, max_depth) > max_depth:
        raise ValueError(f"{what}: nested deeper than {max_depth} levels of lists and objects; "
                         f"at most {max_depth} are allowed")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{what}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None


def read_meta(arrays, format_name, versions):
    """The ``meta`` dict of a saved file's arrays (run or sweep file), after checking its format name and
    version: ValueError naming what was found and what this program reads."""
    if "meta" not in arrays:
        raise ValueError(f"no 'meta' entry, so this is not a {format_name} file")
    meta = loads_json(str(arrays["meta"]), "meta")
    if not isinstance(meta, dict) or meta.get("format") != format_name:
        raise ValueError(f"format {quote(meta.get('format') if isinstance(meta, dict) else None)}; "
                         f"expected {quote(format_name)}")
    if meta.get("version") not in versions:
        raise ValueError(f"version {quote(meta.get('version'))}; this program reads versions "
                         f"{', '.join(map(str, versions))}")
    return meta


def check_writable(option, path, suffix=None, what="file"):
    """ValueError naming ``option`` unless a file can be written at ``path``: its folder exists, ``path`` is not
    a folder, it ends in ``suffix`` (when given), and a temporary file can be created and removed in the folder
    (a read-only or full file system, missing permissions). Called before any computation."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    named, where = f"{option} {quote(path, PATH_LIMIT)}", quote(folder, PATH_LIMIT)
    if suffix is not None and not path.endswith(suffix):
        raise ValueError(f"{named}: the {what} must end in {suffix}")
    if not os.path.isdir(folder):
        raise ValueError(f"{named}: folder {where} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"{named}: is a folder; give a file name")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".write-check.", suffix=".part")
        os.close(fd)
        os.remove(tmp)
    except OSError as e:
        raise ValueError(f"{named}: cannot write in folder {where} ({e.strerror or type(e).__name__})") from None
