"""A saved run is checked before it is trusted: the zip file first (sizes declared before anything is
unpacked), then the arrays (the invariants every computed result holds).

    check_npz(file, max_bytes)     # ValueError unless every member is a plain .npy within the caps
    check_result(result)           # ValueError unless shapes agree, caps hold and values are finite where needed

``numpy.load`` of an ``.npz`` decompresses a member when it is accessed, and allocates the array its
header declares: a 4 MB zip can hold gigabytes of zeros, or declare a terabyte. ``check_npz`` reads
only the zip directory and each member's ``.npy`` header (a few hundred bytes) and refuses a member
whose declared array is bigger than the member, or members that add up to more than ``max_bytes``.
"""
from __future__ import annotations

import math
import os
import zipfile

import numpy as np

from core.data.datasets import MAX_SAMPLES
from core.errors import clip_message, quote
from core.model import failure
from core.model.network import MAX_HIDDEN_LAYERS, MAX_UNITS
from core.model.training import MAX_FRAMES, MAX_STEPS
from core.experiment.spec import MAX_GRID
from core.experiment.spec import MAX_MOVING_FRAMES, MAX_MOVING_GRID
from core.model.network import MLP

MAX_MEMBERS = 2000                   # arrays in one file (8 optimizers x ~25 arrays, plus the plane and grid)
MAX_RESULT_BYTES = 1024 * 2**20      # unpacked size of a run file on the command line (the app sets its own)
MAX_INPUTS = 4096                    # input features of a saved network


# ------------------------------------------------------------------ the zip file
def _npy_header(f):
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version in ((2, 0), (3, 0)):
        return np.lib.format.read_array_header_2_0(f)
    raise ValueError(f"unsupported .npy version {version}")


def check_npz(src, max_bytes=MAX_RESULT_BYTES):
    """Check a .npz (a path or a seekable binary file) without unpacking it; rewinds a file object."""
    pos = src.tell() if hasattr(src, "tell") else None
    try:
        with zipfile.ZipFile(src) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ValueError(f"{len(infos):,} arrays; a run file has at most {MAX_MEMBERS:,}")
            total = sum(i.file_size for i in infos)
            if total > max_bytes:
                raise ValueError(f"it unpacks to {total / 2**20:,.0f} MB; at most {max_bytes / 2**20:,.0f} MB "
                                 "are allowed here")
            for info in infos:
                name = quote(info.filename)
                if not info.filename.endswith(".npy"):
                    raise ValueError(f"member {name} is not a .npy array")
                with zf.open(info) as f:
                    try:
                        shape, _, dtype = _npy_header(f)
                    except ValueError as e:
                        raise ValueError(f"member {name}: not a readable .npy header ({e})") from None
                if dtype.hasobject:
                    raise ValueError(f"member {name} holds Python objects (pickle); a run holds numbers only")
                nbytes = math.prod(int(s) for s in shape) * dtype.itemsize
                if nbytes > info.file_size:
                    raise ValueError(f"member {name} declares {nbytes:,} bytes but holds {info.file_size:,}")
    finally:
        if pos is not None:
            src.seek(pos)


def read_npz(src, max_bytes, what="run", noun="result"):
    """The arrays of a .npz (a path or a seekable binary file), read only after check_npz passed; ValueError
    "<what> file '<name>': no such file" or "...: not a readable .npz <noun> (why)" otherwise."""
    name = os.fspath(src) if isinstance(src, (str, os.PathLike)) else "uploaded file"
    if isinstance(src, (str, os.PathLike)) and not os.path.isfile(src):
        raise ValueError(f"{what} file {name!r}: no such file")
    try:
        check_npz(src, max_bytes)
        with np.load(src, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:                                   # zip errors, truncated files, pickled objects
        msg = clip_message(f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else e, 300)
        raise ValueError(f"{what} file {name!r}: not a readable .npz {noun} ({msg})") from None


# ------------------------------------------------------------------ the arrays
def _arr(name, v, shape=None, ndim=None, finite=False, kind="f"):
    """A numeric array with the given shape (None entries are free) or number of dimensions."""
    if not isinstance(v, np.ndarray) or v.dtype.kind not in ("f", "i", "u") or (kind == "i" and v.dtype.kind == "f"):
        raise ValueError(f"{name}: expected a numeric array, got {quote(getattr(v, 'dtype', type(v).__name__))}")
    if ndim is not None and v.ndim != ndim:
        raise ValueError(f"{name} has shape {v.shape}: expected {ndim} dimension(s)")
    if shape is not None and (v.ndim != len(shape) or any(s is not None and a != s for a, s in zip(v.shape, shape))):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} has shape {v.shape}: expected {want}")
    if finite and not np.all(np.isfinite(v)):
        raise ValueError(f"{name}: contains nan or inf; these values must be finite")
    return v


def _axis(name, v, cap, size=None):
    _arr(name, v, ndim=1, finite=True)
    if not 2 <= v.size <= cap or (size is not None and v.size != size):
        want = f"{size}" if size is not None else f"2 to {cap}"
        raise ValueError(f"{name} has {v.size} points: expected {want}")
    if np.any(np.diff(v) <= 0):
        raise ValueError(f"{name}: grid values must increase")
    return v


def _no_inf(name, v):
    if np.any(np.isinf(v)):
        raise ValueError(f"{name}: contains inf; surfaces hold finite values or nan")


def check_result(r):
    """Raise ValueError naming the array when ``r`` (an ExperimentResult) breaks an invariant of computed runs."""
    P = _check_layers(r.spec, r.layer_sizes)
    _check_runs(r, P)
    _check_plane_and_data(r, P)
    _check_surfaces(r)
    if r.moving is not None:
        _check_moving(r, r.moving)
    return r


def _check_layers(spec, sizes):
    """The layer sizes against the spec's model; returns the number of weights P."""
    if (not isinstance(sizes, list) or not 3 <= len(sizes) <= MAX_HIDDEN_LAYERS + 2
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes)):
        raise ValueError(f"layer_sizes={quote(sizes)}: expected a list of integers [inputs, hidden..., 1]")
    if sizes[1:-1] != list(spec.model.hidden) or sizes[-1] != 1 or not 1 <= sizes[0] <= MAX_INPUTS \
            or max(sizes[1:-1]) > MAX_UNITS:
        raise ValueError(f"layer_sizes={quote(sizes)}: does not match model.hidden={quote(spec.model.hidden)}")
    return MLP(sizes).n_params


def _check_runs(r, P):
    """Every run's trajectory (frames (F, P), steps, per-frame values, curvature) and projected path."""
    spec = r.spec
    if list(r.trajectories) != spec.labels() or list(r.paths) != spec.labels():
        raise ValueError(f"labels {quote(list(r.trajectories))}: expected the spec's {quote(spec.labels())}")
    for lab, t in r.trajectories.items():
        w = f"run {quote(lab)}"
        _arr(f"{w} params", t.params, (None, P), finite=True)
        F = t.params.shape[0]
        if not 1 <= F <= MAX_FRAMES:
            raise ValueError(f"{w} has {F} frames: expected 1 to {MAX_FRAMES}")
        _arr(f"{w} steps", t.steps, (F,), kind="i")
        if t.steps[0] != 0 or np.any(np.diff(t.steps) <= 0) or t.steps[-1] > min(spec.training.steps, MAX_STEPS):
            raise ValueError(f"{w} steps: must start at 0, increase and end by training.steps={spec.training.steps}")
        for k in ("loss", "train_acc", "test_acc", "lr"):
            _arr(f"{w} {k}", getattr(t, k), (F,))
        _arr(f"{w} loss_history", t.loss_history, ndim=1)
        if t.loss_history.size > spec.training.steps + 1:
            raise ValueError(f"{w} loss_history has {t.loss_history.size} values: more than training.steps + 1")
        for k in ("sharpness", "min_eig", "threshold"):
            if getattr(t, k) is not None:
                _arr(f"{w} {k}", getattr(t, k), (F,))
        if (t.sharpness is None) != (t.threshold is None) or (t.sharpness is None) != (t.min_eig is None):
            raise ValueError(f"{w}: sharpness, min_eig and threshold come together")
        if t.live_units is not None:
            _arr(f"{w} live_units", t.live_units, (F,), kind="i")
        fa = t.failed_at
        if not (fa is None or fa == failure.UNKNOWN or (isinstance(fa, int) and not isinstance(fa, bool)
                                                         and 0 <= fa <= spec.training.steps)):
            raise ValueError(f"{w} failed_at={quote(fa)}: expected null or a step from 0 to "
                             f"training.steps={spec.training.steps}")
        pr = r.paths[lab]
        for k in ("alpha", "beta"):
            _arr(f"{w} path {k}", getattr(pr, k), (F,), finite=True)
        for k in ("residual", "loss", "steps") + (("surface_loss",) if pr.surface_loss is not None else ()):
            _arr(f"{w} path {k}", getattr(pr, k), (F,))


def _check_plane_and_data(r, P):
    """The plane's vectors (P,) and the training data (n, d), (n,) with labels 0 or 1."""
    for k in ("center", "d1", "d2"):
        _arr(f"plane {k}", getattr(r.plane, k), (P,), finite=True)
    if (r.X_train is None) != (r.y_train is None):
        raise ValueError("training data: X and y come together")
    if r.X_train is not None:
        _arr("training data X", r.X_train, (None, r.layer_sizes[0]), finite=True)
        n = r.X_train.shape[0]
        if not 1 <= n <= MAX_SAMPLES:
            raise ValueError(f"training data has {n} rows: expected 1 to {MAX_SAMPLES}")
        _arr("training data y", r.y_train, (n,), finite=True)
        if not np.all((r.y_train == 0) | (r.y_train == 1)):
            raise ValueError("training data y: labels must be 0 or 1")


def _check_surfaces(r):
    """The grid axes (resolution points, increasing) and the surfaces (B, A) on them."""
    g = r.spec.grid
    _axis("alphas", r.alphas, MAX_GRID, g.resolution)
    _axis("betas", r.betas, MAX_GRID, g.resolution)
    _arr("surface", r.surface, (r.betas.size, r.alphas.size))
    _no_inf("surface", r.surface)
    if r.acc_surface is not None:
        _arr("acc_surface", r.acc_surface, (r.betas.size, r.alphas.size))


def _check_moving(r, mv):
    """A moving landscape: M frames, surfaces (M, B, A) and every run's points (M,) on them."""
    if mv.follow not in r.trajectories:
        raise ValueError(f"moving landscape follows {quote(mv.follow)}: not a run of this result")
    _arr("moving steps", mv.steps, ndim=1, kind="i")
    M = mv.steps.size
    if not 1 <= M <= MAX_MOVING_FRAMES:
        raise ValueError(f"moving landscape has {M} frames: expected 1 to {MAX_MOVING_FRAMES}")
    _axis("moving alphas", mv.alphas, MAX_MOVING_GRID)
    _axis("moving betas", mv.betas, MAX_MOVING_GRID)
    _arr("moving surfaces", mv.surfaces, (M, mv.betas.size, mv.alphas.size))
    _no_inf("moving surfaces", mv.surfaces)
    for lab in r.trajectories:
        for k in ("alpha", "beta", "loss", "surface_loss"):
            _arr(f"moving path of {quote(lab)} {k}", mv.paths[lab][k], (M,), finite=k in ("alpha", "beta"))
