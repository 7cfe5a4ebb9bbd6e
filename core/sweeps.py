"""Optimizer sweeps: every cell of a hyper-parameter grid, for every seed, trained in full; on one machine or a
Dask cluster (core.engine).

    spec = ExperimentSpec.preset("lr_sweep")                 # an experiment spec with a ``sweep`` section
    res = sweep(spec, scheduler=None, workers=None, progress=None)   # -> SweepResult
    res.blocks["momentum"].final_loss                          # (seeds, *axes) e.g. (3, 40, 10)
    res.summary(); res.save("sweep.npz"); res = load_sweep("sweep.npz")

A run is one (optimizer, cell, seed): ``core.train`` from the seed's initial weights (``net.init(seed)``, shared
by every cell of that seed), its mini-batch order seeded by the seed, for ``training.steps`` steps, with the
cell's hyper-parameters over the optimizer's fixed ones (defaults resolved as for experiments:
optimizers.hparams_for). Per run (metrics, each an array (seeds, *axes) per optimizer):

  final_loss       full-batch training loss of the last weights kept (a diverged run: the last finite ones)
  train_acc, test_acc   accuracies of those weights (test_acc nan without test rows)
  steps_to_target  first step whose loss is below training.target_loss, -1 if never
  diverged_at      the step at which the run diverged (core.training's rule), -1 if it did not
  sharpness0       top Hessian eigenvalue at the initial weights (the same for every cell of a seed)
  threshold        the optimizer's stability threshold at the cell's first learning rate
                   (optimizers.stability_threshold: 2/lr for gradient descent, (2 + 2 beta)/lr for momentum)
  sharpness        top Hessian eigenvalue at the last weights kept
For adam and rmsprop both sharpness values are of the preconditioned Hessian P^-1/2 H P^-1/2, with the
preconditioner of that step (Trajectory.precond), the matrix their threshold applies to; for the SGD family
they are of H itself (exact, core.curvature). With ``sweep.sharpness = false`` they are nan.

Engines (core.engine): "inline", a LocalCluster (scheduler=None), an address, or a distributed.Client. Runs go
out in chunks of ``chunk_size`` runs (default: about 2 s of work, at least 4 chunks a worker); the data and the
initial weights are scattered once. Each run is a pure function of its cell and seed with BLAS on one thread,
so the result is bit-identical whatever the engine, the number of workers and the chunk size.

Live results: ``progress(result, done, total)`` is called once before the first run (``done`` counts resumed
runs) and after every finished chunk, with the SweepResult being filled (``result.blocks[label].done`` says
which runs are in). Read it, or ``result.copy()`` it; raise from the callback to stop the sweep (the
unfinished tasks are cancelled). ``checkpoint=PATH`` saves the partial result atomically as cells finish (at
most every ``checkpoint_every`` seconds, and when the sweep stops early); ``resume=`` a partial SweepResult or
its file computes only the missing runs.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from .constraints import Int, within
from .curvature import MAX_DENSE_PARAMS, trajectory_curvature
from .data import load_dataset
from .engine import CONNECT_TIMEOUT, Engine, check_engine_args
from .errors import clip_message, quote
from .network import MLP
from .optimizers import hparams_for, is_preconditioned, make, stability_threshold
from .resultcheck import MAX_RESULT_BYTES, check_npz
from .spec import ExperimentSpec
from .sweepspec import MAX_RUNS, check_sweep_budget
from .training import train

FORMAT = "loss-landscape-navigator/sweep"
VERSION = 1
# name -> dtype; ints are -1 where there is no value
METRICS = {"final_loss": np.float64, "train_acc": np.float64, "test_acc": np.float64,
           "steps_to_target": np.int64, "diverged_at": np.int64, "sharpness0": np.float64,
           "threshold": np.float64, "sharpness": np.float64}
CHUNK_SECONDS = 2.0            # default chunk: about this much work
CHUNK_SIZE = Int(1, MAX_RUNS)
_SECONDS_PER_UNIT = 1.2e-9     # one training step costs about this x rows x weights here


# ------------------------------------------------------------------ the result
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
            metrics = {k: np.full(shape, np.nan if dt is np.float64 else -1, dtype=dt) for k, dt in METRICS.items()}
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
                b.metrics[k][idx] = r[3 + j]
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
        """Write ``path`` (.npz) atomically: a temporary file in the same folder, then a rename; the file gets
        the permissions the umask gives (as ``open(path, "w")`` would)."""
        return atomic_write(path, self.write)


def _umask():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)                          # not thread-safe: only where /proc is missing
    os.umask(old)
    return old


def atomic_write(path, writer):
    """Call writer(binary file) on a temporary file beside ``path``, then rename it to ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"output path {path!r}: folder {folder!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _fmt_value(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def summary_row(block, target):
    """The table's numbers for one optimizer.

    main axis: lr when swept, else the first axis. Cells are judged over all seeds: a cell *converges* when
    every seed's run is done, did not diverge and ended below ``target``. best: the cell of lowest mean final
    loss among the cells where no seed diverged; ``at``: its values of the other axes, the slice along the
    main axis that the rest of the row reads. converges: the widest run of consecutive converging values in
    that slice (lo, hi). diverges_from: the smallest value in the slice at which some seed diverged.
    predicted: (lr only) the learning rate at which the optimizer's threshold meets the largest initial
    sharpness of the seeds, threshold x lr / max sharpness0 (gradient descent 2 / lambda_0, momentum
    (2 + 2 beta) / lambda_0, ...); ratio = diverges_from / predicted.
    """
    names = list(block.axes)
    main = "lr" if "lr" in names else names[0]
    m = names.index(main)
    row = dict(label=block.label, optimizer=block.optimizer, axis=main, at={}, runs=block.n_runs,
               done=block.n_done, diverged=int(np.sum(block.done & (block.diverged_at >= 0))), best=None,
               best_loss=None, converges=None, diverges_from=None, predicted=None, ratio=None)
    all_done = block.done.all(axis=0)
    no_div = all_done & ~np.any(block.done & (block.diverged_at >= 0), axis=0)
    mean = np.where(all_done, np.where(block.done, block.final_loss, np.nan).mean(axis=0), np.nan)
    ok = no_div & np.isfinite(mean)
    if not ok.any():
        return row
    best = np.unravel_index(int(np.argmin(np.where(ok, mean, np.inf))), ok.shape)
    row["best"] = block.axes[main][best[m]].item()
    row["best_loss"] = float(mean[best])
    row["at"] = {k: block.axes[k][best[i]].item() for i, k in enumerate(names) if i != m}
    sl = tuple(slice(None) if i == m else best[i] for i in range(len(names)))
    vals = block.axes[main]
    conv = block.converged(target)[(slice(None),) + sl].all(axis=0)          # (len(main axis),)
    run, widest = None, None
    for i, c in enumerate(list(conv) + [False]):
        if c and run is None:
            run = i
        if not c and run is not None:
            if widest is None or i - run > widest[1] - widest[0] + 1:
                widest = (run, i - 1)
            run = None
    if widest is not None:
        row["converges"] = (vals[widest[0]].item(), vals[widest[1]].item())
    div = np.any((block.done & (block.diverged_at >= 0))[(slice(None),) + sl], axis=0)
    if div.any():
        row["diverges_from"] = vals[int(np.argmax(div))].item()
    if main == "lr":
        thr = block.threshold[(slice(None),) + sl]                           # (S, len(lr))
        s0 = block.sharpness0[(slice(None),) + sl]
        done = block.done[(slice(None),) + sl]
        c = (thr * vals)[done & np.isfinite(thr)]                            # threshold x lr: free of lr
        lam = s0[done & np.isfinite(s0)]
        if c.size and lam.size and lam.max() > 0:
            row["predicted"] = float(np.median(c) / lam.max())
            if row["diverges_from"] is not None:
                row["ratio"] = row["diverges_from"] / row["predicted"]
    return row


def format_summary(rows):
    """The compact plain-text table: one row per optimizer."""
    def rng(r):
        return "-" if r["converges"] is None else f"[{_fmt_value(r['converges'][0])}, {_fmt_value(r['converges'][1])}]"
    cols = [("optimizer", lambda r: r["label"]), ("axis", lambda r: r["axis"]),
            ("at", lambda r: ", ".join(f"{k}={_fmt_value(v)}" for k, v in r["at"].items()) or "-"),
            ("best", lambda r: "-" if r["best"] is None else _fmt_value(r["best"])),
            ("final loss", lambda r: "-" if r["best_loss"] is None else f"{r['best_loss']:.4f}"),
            ("converges in", rng),
            ("diverges from", lambda r: "-" if r["diverges_from"] is None else _fmt_value(r["diverges_from"])),
            ("predicted", lambda r: "-" if r["predicted"] is None else f"{r['predicted']:.3g}"),
            ("ratio", lambda r: "-" if r["ratio"] is None else f"{r['ratio']:.2f}"),
            ("runs", lambda r: f"{r['done']}/{r['runs']}" if r["done"] != r["runs"] else str(r["runs"])),
            ("diverged", lambda r: str(r["diverged"]))]
    cells = [[h for h, _ in cols]] + [[f(r) for _, f in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    lines = []
    for j, c in enumerate(cells):
        lines.append("  ".join(s.ljust(w) if i < 3 else s.rjust(w) for i, (s, w) in enumerate(zip(c, widths))))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ------------------------------------------------------------------ loading
def load_sweep(path_or_file, max_bytes=MAX_RESULT_BYTES):
    """Load a sweep saved by ``SweepResult.save`` (complete or partial); ValueError for foreign, corrupt or
    inconsistent files. The zip is checked before anything is unpacked (core.resultcheck.check_npz)."""
    name = path_or_file if isinstance(path_or_file, (str, os.PathLike)) else "uploaded file"
    if isinstance(path_or_file, (str, os.PathLike)) and not os.path.isfile(path_or_file):
        raise ValueError(f"sweep file {os.fspath(path_or_file)!r}: no such file")
    try:
        check_npz(path_or_file, max_bytes)
        with np.load(path_or_file, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:
        msg = clip_message(f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else e, 300)
        raise ValueError(f"sweep file {os.fspath(name)!r}: not a readable .npz sweep ({msg})") from None
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
            meta = json.loads(str(z["meta"]))
        return isinstance(meta, dict) and meta.get("format") == FORMAT
    except Exception:
        return False


_INFO_KEYS = {"dataset": str, "n_train": int, "n_test": int, "n_params": int, "engine": str, "chunk_size": int,
              "workers": int, "seconds": float}


def _from_arrays(a):
    if "meta" not in a:
        raise ValueError(f"no 'meta' entry, so this is not a {FORMAT} file")
    meta = json.loads(str(a["meta"]))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"format {quote(meta.get('format') if isinstance(meta, dict) else None)}; expected "
                         f"{quote(FORMAT)}")
    if meta.get("version") != VERSION:
        raise ValueError(f"version {quote(meta.get('version'))}; this program reads version {VERSION}")
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
            v = a[f"b{i}_{k}"]
            if v.shape != b.done.shape or v.dtype != np.dtype(dt):
                raise ValueError(f"{b.label} {k}: expected {np.dtype(dt).name} of shape {b.done.shape}, got "
                                 f"{v.dtype.name} of shape {v.shape}")
            if dt is np.int64 and np.any((v[done] < -1) | (v[done] > steps)):
                raise ValueError(f"{b.label} {k}: values outside [-1, training.steps={steps}]")
            b.metrics[k][...] = v
        if np.any(np.isinf(b.final_loss[done])):
            raise ValueError(f"{b.label} final_loss: contains inf")
    return res


# ------------------------------------------------------------------ running
@dataclass
class _Shared:
    """What every chunk needs, scattered once to the workers."""
    layer_sizes: list
    ds: object                 # core.data.Dataset
    p0: np.ndarray             # (S, P) each seed's initial weights
    seeds: list
    steps: int
    batch_size: int | None
    target_loss: float
    blocks: list               # (optimizer name, fixed hparams, [(axis, values)])
    sharpness0: np.ndarray | None   # (S,) top eigenvalue of H at p0 (SGD family), None without sharpness
    sharpness: bool
    token: str = field(default_factory=lambda: uuid.uuid4().hex)   # engine.pinned_call: own copies, per process


def _cell_setup(sh, b, c):
    name, fixed, axes = sh.blocks[b]
    idx = np.unravel_index(int(c), tuple(len(v) for _, v in axes))
    hp, batch = dict(fixed), sh.batch_size
    for (k, v), i in zip(axes, idx):
        if k == "batch_size":
            batch = int(v[i])
        else:
            hp[k] = v[i].item()
    return name, hp, batch


def run_one(sh, b, c, s):
    """Metrics (a float64 vector in METRICS order) of run (block b, flat cell c, seed index s)."""
    net = MLP(sh.layer_sizes)
    name, hp, batch = _cell_setup(sh, b, c)
    opt = make(name, **hparams_for(name, hp, sh.steps))
    tr = train(net, sh.p0[s], sh.ds, opt, steps=sh.steps, batch_size=batch, record_every=sh.steps,
               seed=sh.seeds[s])
    out = dict.fromkeys(METRICS, np.nan)
    out.update(steps_to_target=-1, diverged_at=-1 if tr.diverged_at is None else tr.diverged_at)
    out["threshold"] = stability_threshold(name, hp, float(opt.schedule(0)))
    if len(tr.loss):
        st = tr.steps_to(sh.target_loss)
        out.update(final_loss=tr.loss[-1], train_acc=tr.train_acc[-1], test_acc=tr.test_acc[-1],
                   steps_to_target=-1 if st is None else st)
        if sh.sharpness:
            X, y = sh.ds.X_train, sh.ds.y_train
            if is_preconditioned(name):
                k = [0, len(tr.steps) - 1]
                pc = tr.precond[k]
                if np.all(np.isfinite(pc)) and np.all(pc > 0):
                    cv = trajectory_curvature(net, X, y, tr.params[k], tr.lr[k], name, hp, pc, threads=1)
                    out["sharpness0"], out["sharpness"] = cv.sharpness
            else:
                out["sharpness0"] = sh.sharpness0[s]
                cv = trajectory_curvature(net, X, y, tr.params[-1:], tr.lr[-1:], name, hp, None, threads=1)
                out["sharpness"] = cv.sharpness[0]
    return np.array([float(out[k]) for k in METRICS])


def run_chunk(sh, runs):
    """Rows (block, cell, seed index, *metrics) of a chunk of runs; the task sent to workers."""
    return np.array([np.concatenate([[b, c, s], run_one(sh, b, c, s)]) for b, c, s in runs], dtype=np.float64)


def _initial_sharpness(net, X, y, p0):
    """Top Hessian eigenvalue at each seed's initial weights (S,), BLAS on one thread (as in the workers)."""
    from .engine import pinned_call
    return pinned_call(lambda _, ps: trajectory_curvature(net, X, y, ps, np.zeros(len(ps)), "sgd",
                                                          threads=1).sharpness, None, p0)


def _as_spec(spec):
    if isinstance(spec, dict):
        spec = ExperimentSpec.from_dict(spec)
    if not isinstance(spec, ExperimentSpec):
        raise TypeError(f"spec={type(spec).__name__}: expected an ExperimentSpec or a spec dict")
    spec.validate()
    if spec.sweep is None:
        raise ValueError("sweep: missing; a sweep spec needs a \"sweep\" section with its optimizers, axes and "
                         "seeds (see the lr_sweep preset)")
    return spec


def _auto_chunk(n_runs, n_workers, steps, rows, n_params, sharpness):
    per_run = steps * rows * n_params * _SECONDS_PER_UNIT + (3e-3 if sharpness else 0.0)
    by_time = max(1, int(CHUNK_SECONDS / per_run))
    spread = max(1, math.ceil(n_runs / (4 * n_workers)))       # at least 4 chunks a worker
    return max(1, min(by_time, spread))


def sweep(spec, scheduler=None, workers=None, progress=None, *, chunk_size=None, resume=None, checkpoint=None,
          checkpoint_every=2.0, timeout=CONNECT_TIMEOUT, files=None):
    """Run every (optimizer, cell, seed) of ``spec.sweep``; return a SweepResult (see the module docstring).

    scheduler / workers / timeout: core.engine.Engine (None: DASK_SCHEDULER_ADDRESS or a LocalCluster of
    ``workers`` processes; "inline"; "tcp://host:8786"; a distributed.Client). progress(result, done, total):
    live results. chunk_size: runs a task (default about 2 s of work). resume: a partial SweepResult of the
    same spec (or the path of its file): only its missing runs are computed. checkpoint: a path to save the
    partial result to as runs finish (atomically, at most every ``checkpoint_every`` s, and on the way out
    of an interrupted sweep). files: where a csv spec's data.path may come from (as run_experiment).
    """
    spec = _as_spec(spec)
    check_engine_args(scheduler, workers, timeout)
    if chunk_size is not None:
        CHUNK_SIZE.check("chunk_size", chunk_size)
    t0 = time.perf_counter()
    d = spec.data
    with within("data"):
        ds = load_dataset(d.name, seed=spec.seed, split=d.split, test_fraction=d.test_fraction,
                          n_samples=d.n_samples, noise=d.noise, path=d.path, target=d.target, files=files)
    net = MLP([ds.n_features] + list(spec.model.hidden) + [1])
    n_train = len(ds.y_train)
    check_sweep_budget(spec, net.n_params, n_train)
    sw, t = spec.sweep, spec.training
    result = _resumed(spec, net, resume)
    result.info.update(dataset=ds.name, n_train=int(n_train), n_test=int(len(ds.y_test)),
                       n_params=int(net.n_params))
    runs = []
    for b, blk in enumerate(result.blocks.values()):
        todo = ~blk.done.reshape(len(sw.seeds), -1)                    # (S, cells)
        runs += [(b, int(c), int(s)) for c in range(todo.shape[1]) for s in range(todo.shape[0]) if todo[s, c]]
    total = result.n_runs
    p0 = np.stack([net.init(seed, scheme=spec.model.init) for seed in sw.seeds])
    need0 = sw.sharpness and any(not is_preconditioned(o.name) for o in sw.optimizers)
    shared = _Shared(layer_sizes=net.layer_sizes, ds=ds, p0=p0, seeds=[int(s) for s in sw.seeds], steps=t.steps,
                     batch_size=t.batch_size, target_loss=float(t.target_loss),
                     blocks=[(b.optimizer, dict(b.hparams), list(b.axes.items())) for b in result.blocks.values()],
                     sharpness0=_initial_sharpness(net, ds.X_train, ds.y_train, p0) if need0 else None,
                     sharpness=sw.sharpness)
    last_save, saved_done = -math.inf, result.n_done
    if progress is not None:
        progress(result, result.n_done, total)
    with Engine(scheduler, workers, timeout) as eng:
        rows = n_train if t.batch_size is None else min(t.batch_size, n_train)
        size = chunk_size or _auto_chunk(len(runs), eng.n_workers, t.steps, rows, net.n_params, sw.sharpness)
        result.info.update(engine=eng.description, workers=int(eng.n_workers), chunk_size=int(size))
        chunks = [runs[i:i + size] for i in range(0, len(runs), size)]
        try:
            for _, out in eng.run(run_chunk, chunks, shared):
                result._fill(out)
                if progress is not None:
                    progress(result, result.n_done, total)
                if checkpoint is not None and time.monotonic() - last_save >= checkpoint_every:
                    result.save(checkpoint)
                    last_save, saved_done = time.monotonic(), result.n_done
        except BaseException:
            if checkpoint is not None and result.n_done > saved_done:
                try:                                    # keep what is done, for --resume; atomic as always
                    result.save(checkpoint)
                except BaseException:
                    pass
            raise
    result.info["seconds"] = round(time.perf_counter() - t0, 3)
    if checkpoint is not None:
        result.save(checkpoint)
    return result


def _resumed(spec, net, resume):
    if resume is None:
        return SweepResult.empty(spec, net.layer_sizes)
    if isinstance(resume, (str, os.PathLike)):
        resume = load_sweep(resume)
    if not isinstance(resume, SweepResult):
        raise TypeError(f"resume={type(resume).__name__}: expected a SweepResult or the path of its file")
    if resume.spec.to_dict() != spec.to_dict():
        raise ValueError("resume: the partial sweep was made from another spec; resume it with its own spec "
                         "(python -m core sweep --resume FILE takes the spec from the file)")
    if list(resume.layer_sizes) != list(net.layer_sizes):
        raise ValueError(f"resume: its network {resume.layer_sizes} differs from this data's {net.layer_sizes}")
    out = resume.copy()
    out.info = {}
    return out
