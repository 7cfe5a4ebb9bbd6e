"""A sweep's result: every run's metrics per optimizer, in arrays shaped (seeds, *axes); saved and loaded as .npz.

    res.blocks["momentum"].final_loss        # (seeds, *axes) e.g. (3, 40, 10); nan / -1 where not done
    res.summary(); res.save("sweep.npz"); res = load_sweep("sweep.npz")

Metrics (METRICS; ints are -1 where there is no value): final_loss, train_acc, test_acc, steps_to_target,
diverged_at, sharpness0 (at the seed's initial weights), threshold (the optimizer's stability threshold at
the cell's first learning rate), sharpness (at the last weights kept); and (core.model.failure) failed,
spiked, nonmonotone (bools), live_units (at the last weights kept), peak_loss, loss0 (the initial loss).
Version 1 files (before the failure metrics) load with failed = diverged and the others blank.
See core/sweeps/run.py for how a run computes them, core/sweeps/summary.py for the table. Files: one .npz of
plain arrays and a JSON ``meta``
(format, version, the spec, labels), checked before unpacking (core.experiment.result_check.check_npz) and refused
when an array's shape or values do not fit the spec.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from core.errors import clip_message, quote
from core.fileio import loads_json, read_meta, save_npz
from core.experiment.result_check import MAX_RESULT_BYTES, check_npz, read_npz
from core.experiment.spec import ExperimentSpec
from core.sweeps.summary import summary_row

FORMAT = "loss-landscape-navigator/sweep"
VERSION = 2     # 2: the failure fields (failed, spiked, nonmonotone, live_units, peak_loss, loss0)
READS = (1, 2)  # version 1 files load; their runs are judged failed only when they diverged (see _from_arrays)
# name -> dtype; ints are -1 where there is no value, bools False
METRICS = {"final_loss": np.float64, "train_acc": np.float64, "test_acc": np.float64,
           "steps_to_target": np.int64, "diverged_at": np.int64, "sharpness0": np.float64,
           "threshold": np.float64, "sharpness": np.float64,
           "failed": np.bool_, "spiked": np.bool_, "nonmonotone": np.bool_, "live_units": np.int64,
           "peak_loss": np.float64, "loss0": np.float64}
FAILURE_METRICS = ("failed", "spiked", "nonmonotone", "live_units", "peak_loss", "loss0")   # new in version 2


def _blank(dt):
    """The value of a metric where there is none: nan, -1 or False."""
    return np.nan if dt is np.float64 else (False if dt is np.bool_ else -1)


@dataclass
class SweepBlock:
    """One optimizer of a sweep: its grid and every run's metrics, each an array (seeds, *axes)."""
    label: str
    optimizer: str
    hparams: dict              # the fixed hyper-parameters (as given in the spec)
    axes: dict                 # axis name -> values (float64, int64 for batch_size), in the spec's order
    metrics: dict              # METRICS name -> (S, *shape) array
    done: np.ndarray           # (S, *shape) bool: runs computed

    def __getattr__(self, k):                     # block.final_loss is block.metrics["final_loss"]
        m = self.__dict__.get("metrics")
        if m is not None and k in m:
            return m[k]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {k!r}")

    @property
    def shape(self):
        return tuple(len(v) for v in self.axes.values())

    @property
    def n_runs(self):
        return int(self.done.size)

    @property
    def n_done(self):
        return int(self.done.sum())

    def cell(self, index):
        """{axis: value} of the cell at ``index`` (a tuple over the axes, or a flat index)."""
        if not isinstance(index, tuple):
            index = np.unravel_index(int(index), self.shape)
        return {k: v[i].item() for (k, v), i in zip(self.axes.items(), index)}

    def converged(self, target):
        """(S, *shape) bool: runs that did not diverge and ended below ``target``."""
        return self.done & (self.diverged_at < 0) & (self.final_loss < target)


@dataclass
class SweepResult:
    spec: ExperimentSpec
    layer_sizes: list
    seeds: np.ndarray          # (S,) int64
    blocks: dict               # label -> SweepBlock, in the spec's order
    info: dict = field(default_factory=dict)

    @property
    def labels(self):
        return list(self.blocks)

    @property
    def n_runs(self):
        return sum(b.n_runs for b in self.blocks.values())

    @property
    def n_done(self):
        return sum(b.n_done for b in self.blocks.values())

    @property
    def complete(self):
        return all(bool(b.done.all()) for b in self.blocks.values())

    def copy(self):
        blocks = {k: SweepBlock(b.label, b.optimizer, dict(b.hparams), {a: v.copy() for a, v in b.axes.items()},
                                {m: v.copy() for m, v in b.metrics.items()}, b.done.copy())
                  for k, b in self.blocks.items()}
        return SweepResult(self.spec, list(self.layer_sizes), self.seeds.copy(), blocks, dict(self.info))

    @classmethod
    def empty(cls, spec, layer_sizes, info=None):
        """Every run missing (nan, -1), shaped by ``spec.sweep``."""
        blocks = {}
        S = len(spec.sweep.seeds)
        for i, o in enumerate(spec.sweep.optimizers):
            axes = o.values(f"sweep.optimizers[{i}].axes")
            shape = (S,) + tuple(len(v) for v in axes.values())
            metrics = {k: np.full(shape, _blank(dt), dtype=dt) for k, dt in METRICS.items()}
            blocks[o.display] = SweepBlock(o.display, o.name, dict(o.hparams), axes, metrics,
                                           np.zeros(shape, dtype=bool))
        return cls(spec, list(layer_sizes), np.array(spec.sweep.seeds, dtype=np.int64), blocks, dict(info or {}))

    def _fill(self, rows):
        """Store a chunk's rows: (block index, flat cell, seed index, *metrics)."""
        blocks = list(self.blocks.values())
        for r in rows:
            b = blocks[int(r[0])]
            idx = (int(r[2]),) + np.unravel_index(int(r[1]), b.shape)
            for j, (k, dt) in enumerate(METRICS.items()):
                b.metrics[k][idx] = (r[3 + j] == 1.0) if dt is np.bool_ else r[3 + j]
            b.done[idx] = True

    # -------------------------------------------------------------- summary
    def summary(self):
        """One dict per optimizer: the compact table's numbers (see ``summary_row``)."""
        return [summary_row(b, self.spec.training.target_loss) for b in self.blocks.values()]

    # -------------------------------------------------------------- files
    def to_arrays(self):
        meta = dict(format=FORMAT, version=VERSION, spec=self.spec.to_dict(), layer_sizes=self.layer_sizes,
                    labels=self.labels, complete=self.complete, n_done=self.n_done, n_runs=self.n_runs,
                    blocks=[dict(label=b.label, optimizer=b.optimizer, hparams=b.hparams, axes=list(b.axes))
                            for b in self.blocks.values()], info=self.info)
        a = {"meta": np.array(json.dumps(meta)), "seeds": self.seeds}
        for i, b in enumerate(self.blocks.values()):
            for j, v in enumerate(b.axes.values()):
                a[f"b{i}_axis{j}"] = v
            for k, v in b.metrics.items():
                a[f"b{i}_{k}"] = v
            a[f"b{i}_done"] = b.done
        return a

    def write(self, f):
        """Write as a compressed .npz into a binary file object."""
        np.savez_compressed(f, **self.to_arrays())

    def save(self, path):
        """Write ``path`` (.npz) atomically, with the umask's permissions (core.fileio.save_npz)."""
        return save_npz(path, self.to_arrays())


# ------------------------------------------------------------------ loading
def load_sweep(path_or_file, max_bytes=MAX_RESULT_BYTES):
    """Load a sweep saved by ``SweepResult.save`` (complete or partial); ValueError for foreign, corrupt or
    inconsistent files. The zip is checked before anything is unpacked (core.experiment.result_check.check_npz)."""
    name = path_or_file if isinstance(path_or_file, (str, os.PathLike)) else "uploaded file"
    arrays = read_npz(path_or_file, max_bytes, "sweep", "sweep")
    try:
        return _from_arrays(arrays)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, json.JSONDecodeError) as e:
        msg = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        raise ValueError(f"sweep file {os.fspath(name)!r}: not a valid sweep ({clip_message(msg, 300)})") from None


def is_sweep_file(path):
    """True when ``path`` is an .npz whose meta says it is a sweep (never raises)."""
    try:
        check_npz(path, MAX_RESULT_BYTES)
        with np.load(path, allow_pickle=False) as z:
            meta = loads_json(str(z["meta"]), "meta")
        return isinstance(meta, dict) and meta.get("format") == FORMAT
    except Exception:
        return False


_INFO_KEYS = {"dataset": str, "n_train": int, "n_test": int, "n_params": int, "engine": str, "chunk_size": int,
              "workers": int, "seconds": float}


def _from_arrays(a):
    meta = read_meta(a, FORMAT, READS)
    version = meta["version"]
    spec = ExperimentSpec.from_dict(meta["spec"])
    if spec.sweep is None:
        raise ValueError("its spec has no sweep section")
    sizes = meta["layer_sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 3 or sizes[1:-1] != list(spec.model.hidden) or sizes[-1] != 1
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)):
        raise ValueError(f"layer_sizes={quote(sizes)}: does not match model.hidden={quote(spec.model.hidden)}")
    info = {k: meta.get("info", {}).get(k) for k in _INFO_KEYS if isinstance(meta.get("info"), dict)}
    info = {k: v for k, v in info.items() if isinstance(v, _INFO_KEYS[k]) and not isinstance(v, bool)}
    res = SweepResult.empty(spec, sizes, info)
    seeds = a["seeds"]
    if seeds.dtype.kind not in "iu" or seeds.tolist() != list(spec.sweep.seeds):
        raise ValueError(f"seeds {quote(seeds.tolist())}: expected the spec's {quote(spec.sweep.seeds)}")
    if meta.get("labels") != res.labels:
        raise ValueError(f"labels {quote(meta.get('labels'))}: expected the spec's {quote(res.labels)}")
    steps = spec.training.steps
    for i, b in enumerate(res.blocks.values()):
        for j, (k, v) in enumerate(b.axes.items()):
            got = a[f"b{i}_axis{j}"]
            if got.shape != v.shape or not np.array_equal(got, v):
                raise ValueError(f"{b.label} axis {k}: the stored values differ from the spec's")
        done = a[f"b{i}_done"]
        if done.dtype != np.bool_ or done.shape != b.done.shape:
            raise ValueError(f"{b.label} done: expected a bool array of shape {b.done.shape}")
        b.done[...] = done
        for k, dt in METRICS.items():
            if version == 1 and k in FAILURE_METRICS:
                continue                                    # below: what a version 1 file allows
            v = a[f"b{i}_{k}"]
            if v.shape != b.done.shape or v.dtype != np.dtype(dt):
                raise ValueError(f"{b.label} {k}: expected {np.dtype(dt).name} of shape {b.done.shape}, got "
                                 f"{v.dtype.name} of shape {v.shape}")
            top, what = ((max(sizes[1:-1]), "the widest hidden layer") if k == "live_units"
                         else (steps, "training.steps"))
            if dt is np.int64 and np.any((v[done] < -1) | (v[done] > top)):
                raise ValueError(f"{b.label} {k}: values outside [-1, {what}={top}]")
            b.metrics[k][...] = v
        if np.any(np.isinf(b.final_loss[done])):
            raise ValueError(f"{b.label} final_loss: contains inf")
        if version == 1:                                    # without its initial losses: diverged runs only
            b.metrics["failed"][...] = done & (b.diverged_at >= 0)
    return res
