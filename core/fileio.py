"""Writing a user's file atomically, with the permissions ``open(path, "w")`` would give.

    with atomic_path("run.npz") as tmp:      # a temporary file in the target folder
        write_to(tmp)                        # the block fills it ...
    # ... then it gets mode 0666 & ~umask and replaces "run.npz" in one rename; on any error (Ctrl-C and
    # SIGTERM included) it is removed, so a failed write leaves nothing behind

``tempfile.mkstemp`` creates files with mode 0600; a user's output should get the usual permissions.
"""
from __future__ import annotations

import contextlib
import os
import tempfile

from core.cli.progress import check_interrupted
import numpy as np


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
