"""Optimizer sweeps: every cell of a hyper-parameter grid, for every seed, trained in full; on one machine or a
Dask cluster (core.parallel.engine).

    spec = ExperimentSpec.preset("lr_sweep")                 # an experiment spec with a ``sweep`` section
    res = sweep(spec, scheduler=None, workers=None, progress=None)   # -> SweepResult
    res.blocks["momentum"].final_loss                          # (seeds, *axes) e.g. (3, 40, 10)
    res.summary(); res.save("sweep.npz"); res = load_sweep("sweep.npz")   # core/sweepresult.py

A run is one (optimizer, cell, seed): ``core.train`` from the seed's initial weights (``net.init(seed)``, shared
by every cell of that seed), its mini-batch order seeded by the seed, for ``training.steps`` steps, with the
cell's hyper-parameters over the optimizer's fixed ones (defaults resolved as for experiments:
optimizers.hparams_for). Per run (metrics, each an array (seeds, *axes) per optimizer):

  final_loss       full-batch training loss of the last weights kept (a diverged run: the last finite ones)
  train_acc, test_acc   accuracies of those weights (test_acc nan without test rows)
  steps_to_target  first step whose loss is below training.target_loss, -1 if never
  diverged_at      the step at which the run diverged (core.model.training's rule), -1 if it did not
  sharpness0       top Hessian eigenvalue at the initial weights (the same for every cell of a seed)
  threshold        the optimizer's stability threshold at the cell's first learning rate
                   (optimizers.stability_threshold: 2/lr for gradient descent, (2 + 2 beta)/lr for momentum)
  sharpness        top Hessian eigenvalue at the last weights kept
  failed           the run is judged failed (core.model.failure: diverged, a dead hidden layer, or a final loss
                   at or above min(L0, H(mean y))); spiked: the per-step loss rose above L0 after step 0;
                   nonmonotone: it rose within the first failure.NONMONOTONE_STEPS steps
  live_units       units alive on the training data in the emptiest hidden layer, at the last weights kept
  peak_loss, loss0 the largest per-step loss (inf when not finite) and the initial loss L0
For adam and rmsprop both sharpness values are of the preconditioned Hessian P^-1/2 H P^-1/2, with the
preconditioner of that step (Trajectory.precond), the matrix their threshold applies to; for the SGD family
they are of H itself (exact, core.curvature). With ``sweep.sharpness = false`` they are nan.

Engines (core.parallel.engine): "inline", a LocalCluster (scheduler=None), an address, or a distributed.Client. Runs go
out in chunks of ``chunk_size`` runs (default: about 2 s of work by core.experiment.budget.run_work, at least 4
chunks a worker); the data and the
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

import math
import os
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from core.constraints import Int
from core.curvature.sharpness import frames_curvature
from core.parallel.engine import CONNECT_TIMEOUT, Engine, check_engine_args
from core.data.datasets import spec_dataset
from core.model.network import MLP
from core.model.optimizers import hparams_for, is_preconditioned, make, stability_threshold
from core.experiment.spec import ExperimentSpec
from core.sweeps.result import METRICS, SweepResult, load_sweep
from core.experiment.budget import run_work, seconds
from core.experiment.sweep_section import MAX_RUNS, check_sweep_budget
from core.model.training import train_batch
from core.parallel.engine import pinned_call

CHUNK_SECONDS = 2.0            # default chunk: about this much work (core.experiment.budget's cost model)
CHUNK_SIZE = Int(1, MAX_RUNS)


# ------------------------------------------------------------------ running
@dataclass
class _Shared:
    """What every chunk needs, scattered once to the workers."""
    layer_sizes: list
    ds: object                 # core.data.datasets.Dataset
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
    return run_chunk(sh, [(b, c, s)])[0, 3:]


def run_chunk(sh, runs):
    """Rows (block, cell, seed index, *metrics) of a chunk of runs; the task sent to workers. The runs of one
    block and batch size train together (core.model.training.train_batch: each run's numbers are those of core.train),
    and their sharpness is computed in one call (a stack of frames; each frame's value as if alone)."""
    net = MLP(sh.layer_sizes)
    setups = [_cell_setup(sh, b, c) for b, c, _ in runs]
    groups = {}
    for i, ((b, _, _), (_, _, batch)) in enumerate(zip(runs, setups)):
        groups.setdefault((b, batch), []).append(i)
    out = np.empty((len(runs), 3 + len(METRICS)))
    col = {k: 3 + j for j, k in enumerate(METRICS)}
    for (_, batch), idx in groups.items():
        name = setups[idx[0]][0]
        opts = [make(name, **hparams_for(name, setups[i][1], sh.steps)) for i in idx]
        seed_idx = [runs[i][2] for i in idx]
        trs = train_batch(net, sh.p0[seed_idx], sh.ds, opts, steps=sh.steps, batch_size=batch,
                          record_every=sh.steps, seeds=[sh.seeds[s] for s in seed_idx])
        for i, opt, tr in zip(idx, opts, trs):
            out[i, :3] = runs[i]
            out[i, 3:] = _metrics(sh, name, setups[i][1], opt, tr)
        if sh.sharpness:
            s0, s1 = _sharpness(sh, net, name, setups[idx[0]][1], trs, seed_idx)
            out[idx, col["sharpness0"]], out[idx, col["sharpness"]] = s0, s1
    return out


def _metrics(sh, name, hp, opt, tr):
    """METRICS of one finished run ``tr`` as a float64 vector (sharpness0 and sharpness nan: _sharpness)."""
    out = dict.fromkeys(METRICS, np.nan)
    out.update(steps_to_target=-1, diverged_at=-1 if tr.diverged_at is None else tr.diverged_at,
               failed=float(tr.failed), spiked=float(tr.spiked), nonmonotone=float(bool(tr.nonmonotone)),
               live_units=tr.live_units[-1] if tr.live_units is not None and len(tr.live_units) else -1,
               peak_loss=tr.peak_loss, loss0=tr.loss[0] if len(tr.loss) else np.nan)
    out["threshold"] = stability_threshold(name, hp, float(opt.schedule(0)))
    if len(tr.loss):
        st = tr.steps_to(sh.target_loss)
        out.update(final_loss=tr.loss[-1], train_acc=tr.train_acc[-1], test_acc=tr.test_acc[-1],
                   steps_to_target=-1 if st is None else st)
    return np.array([float(out[k]) for k in METRICS])


def _sharpness(sh, net, name, hp, trs, seed_idx):
    """(sharpness0, sharpness) (R,) each of runs ``trs`` of optimizer ``name``, nan where there is none: for the
    SGD family the seed's top eigenvalue of H at p0 and at the last weights kept; for adam and rmsprop those of
    P^-1/2 H P^-1/2 with each frame's preconditioner (runs whose preconditioner is not finite and positive
    are left out). One frames_curvature call for all the frames; ``hp`` only feeds its thresholds, unused."""
    X, y = sh.ds.X_train, sh.ds.y_train
    R = len(trs)
    s0, s1 = np.full(R, np.nan), np.full(R, np.nan)
    if is_preconditioned(name):
        rows = [r for r, tr in enumerate(trs) if len(tr.loss) and np.all(np.isfinite(tr.precond[[0, -1]]))
                and np.all(tr.precond[[0, -1]] > 0)]
        if rows:
            def first_last(field):                      # (2 len(rows), ...) each run's first and last frame
                return np.concatenate([getattr(trs[r], field)[[0, -1]] for r in rows])
            cv = frames_curvature(net, X, y, first_last("params"), first_last("lr"), name, hparams=hp,
                                  precond=first_last("precond"), threads=1)
            s0[rows], s1[rows] = cv.sharpness[0::2], cv.sharpness[1::2]
    else:
        rows = [r for r, tr in enumerate(trs) if len(tr.loss)]
        s0[rows] = sh.sharpness0[[seed_idx[r] for r in rows]]
        if rows:
            cv = frames_curvature(net, X, y, np.stack([trs[r].params[-1] for r in rows]),
                                  np.array([trs[r].lr[-1] for r in rows]), name, hparams=hp, threads=1)
            s1[rows] = cv.sharpness
    return s0, s1


def _initial_sharpness(net, X, y, p0):
    """Top Hessian eigenvalue at each seed's initial weights (S,), BLAS on one thread (as in the workers)."""
    return pinned_call(lambda _, ps: frames_curvature(net, X, y, ps, np.zeros(len(ps)), "sgd", threads=1).sharpness,
                       None, p0)


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


def _auto_chunk(n_runs, n_workers, steps, rows, n_params, sharpness, hidden):
    per_run = seconds(run_work(steps, rows, n_params, sharpness, hidden))
    by_time = max(1, int(CHUNK_SECONDS / per_run))
    spread = max(1, math.ceil(n_runs / (4 * n_workers)))       # at least 4 chunks a worker
    return max(1, min(by_time, spread))


def sweep(spec, scheduler=None, workers=None, progress=None, *, chunk_size=None, resume=None, checkpoint=None,
          checkpoint_every=2.0, timeout=CONNECT_TIMEOUT, files=None):
    """Run every (optimizer, cell, seed) of ``spec.sweep``; return a SweepResult (see the module docstring).

    scheduler / workers / timeout: core.parallel.engine.Engine (None: DASK_SCHEDULER_ADDRESS or a LocalCluster of
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
    ds = spec_dataset(spec, files)
    net = MLP([ds.n_features] + list(spec.model.hidden) + [1])
    check_sweep_budget(spec, net.n_params, len(ds.y_train))
    result = _resumed(spec, net, resume)
    result.info.update(dataset=ds.name, n_train=int(len(ds.y_train)), n_test=int(len(ds.y_test)),
                       n_params=int(net.n_params))
    runs = _missing_runs(result, len(spec.sweep.seeds))
    shared = _shared(spec, net, ds, result)
    if progress is not None:
        progress(result, result.n_done, result.n_runs)
    with Engine(scheduler, workers, timeout) as eng:
        t = spec.training
        rows = len(ds.y_train) if t.batch_size is None else min(t.batch_size, len(ds.y_train))
        size = chunk_size or _auto_chunk(len(runs), eng.n_workers, t.steps, rows, net.n_params, spec.sweep.sharpness,
                                         spec.model.hidden)
        result.info.update(engine=eng.description, workers=int(eng.n_workers), chunk_size=int(size))
        chunks = [runs[i:i + size] for i in range(0, len(runs), size)]
        _gather(eng.run(run_chunk, chunks, shared), result, progress, checkpoint, checkpoint_every)
    result.info["seconds"] = round(time.perf_counter() - t0, 3)
    if checkpoint is not None:
        result.save(checkpoint)
    return result


def _missing_runs(result, n_seeds):
    """(block index, flat cell, seed index) of every run not done yet, block by block."""
    runs = []
    for b, blk in enumerate(result.blocks.values()):
        todo = ~blk.done.reshape(n_seeds, -1)                          # (S, cells)
        runs += [(b, int(c), int(s)) for c in range(todo.shape[1]) for s in range(todo.shape[0]) if todo[s, c]]
    return runs


def _shared(spec, net, ds, result):
    """What every chunk needs: the data, each seed's initial weights (S, P) and, for the SGD family, their
    top Hessian eigenvalue (S,), scattered once."""
    sw, t = spec.sweep, spec.training
    p0 = np.stack([net.init(seed, scheme=spec.model.init) for seed in sw.seeds])
    need0 = sw.sharpness and any(not is_preconditioned(o.name) for o in sw.optimizers)
    return _Shared(layer_sizes=net.layer_sizes, ds=ds, p0=p0, seeds=[int(s) for s in sw.seeds], steps=t.steps,
                   batch_size=t.batch_size, target_loss=float(t.target_loss),
                   blocks=[(b.optimizer, dict(b.hparams), list(b.axes.items())) for b in result.blocks.values()],
                   sharpness0=_initial_sharpness(net, ds.X_train, ds.y_train, p0) if need0 else None,
                   sharpness=sw.sharpness)


def _gather(outputs, result, progress, checkpoint, checkpoint_every):
    """Fill ``result`` as chunks finish, report progress, save checkpoints (and what is done on the way out)."""
    last_save, saved_done = -math.inf, result.n_done
    try:
        for _, out in outputs:
            result._fill(out)
            if progress is not None:
                progress(result, result.n_done, result.n_runs)
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
