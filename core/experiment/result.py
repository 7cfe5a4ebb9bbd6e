"""What an experiment produces, and its file: ExperimentResult (runs, plane, surfaces, paths), MovingLandscape,
and the ``.npz`` they are saved as (plain arrays and a JSON ``meta`` string, loaded with ``allow_pickle=False``).

    result.summary()                    # one dict a run: the comparison table's numbers
    result.save("run.npz")              # atomically, with the umask's permissions
    arrays = result_arrays(result)      # what ExperimentResult.to_arrays / .write / .save store
    result = load_result("run.npz")     # checked before and after unpacking (core.experiment.result_check)

Built by core.experiment.run.run_experiment. File layout: ``meta`` (format name, version, the spec, layer sizes,
labels, info, per-run scalars); per run i
``t{i}_<field>`` (its Trajectory's arrays), ``p{i}_<field>`` (its Projection) and, with a moving
landscape, ``m{i}_<key>`` (its points on each frame's plane); ``plane_*`` (core.landscape.planes.Plane);
``alphas``, ``betas``, ``surface`` and optionally ``acc_surface``, ``data_X``, ``data_y``, ``moving_*``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from core.errors import clip_message
from core.experiment.result_check import MAX_INPUTS, MAX_RESULT_BYTES, check_result, read_npz
from core.experiment.spec import ExperimentSpec
from core.fileio import read_meta, save_npz
from core.landscape.planes import Plane
from core.landscape.plane_curvature import MAX_PLANE_CURVATURE_PARAMS, plane_curvature
from core.landscape.projection import Projection, in_plane
from core.model import failure
from core.model.network import MLP
from core.model.training import Trajectory

FORMAT = "loss-landscape-navigator/result"
VERSION = 2    # 2: independent random streams (core.rng), curvature, the training data, moving surface losses
READS = (1, 2)  # version 1 files load without curvature and data (their spec now gives other numbers: streams)
CURVATURE_KEYS = ("sharpness", "min_eig", "threshold")
TRAJECTORY_KEYS = ("params", "steps", "loss", "train_acc", "test_acc", "lr", "loss_history") + CURVATURE_KEYS + (
    "live_units",)
PATH_KEYS = ("alpha", "beta", "residual", "loss", "surface_loss", "steps")
MOVING_PATH_KEYS = ("alpha", "beta", "loss", "surface_loss")   # MovingLandscape.paths[label], saved as m{i}_{key}
_INFO_KEYS = {"dataset": str, "n_train": int, "n_test": int, "n_features": int, "feature_names": list,
              "n_params": int, "seconds_train": float, "seconds_surface": float, "seconds_total": float}

__all__ = ["ExperimentResult", "MovingLandscape", "FORMAT", "VERSION", "READS", "CURVATURE_KEYS", "MOVING_PATH_KEYS",
           "result_arrays", "from_arrays", "load_result"]


@dataclass
class MovingLandscape:
    """One surface per frame, centered on the followed run's weights at that frame."""
    follow: str               # label of the run the surface follows
    steps: np.ndarray         # (M,) training step of each frame
    alphas: np.ndarray        # (A,)
    betas: np.ndarray         # (B,)
    surfaces: np.ndarray      # (M, B, A) loss
    paths: dict               # label -> dict(alpha, beta, loss, surface_loss), each (M,): every run on each frame's
                              # plane; loss: the run's true loss, surface_loss: the exact loss at its projected point


@dataclass
class ExperimentResult:
    spec: ExperimentSpec
    layer_sizes: list
    trajectories: dict        # label -> Trajectory, in spec order
    plane: Plane
    alphas: np.ndarray        # (A,) grid coordinates along d1
    betas: np.ndarray         # (B,) grid coordinates along d2
    surface: np.ndarray       # (B, A) train loss; surface[j, i] at (alphas[i], betas[j])
    paths: dict               # label -> Projection
    acc_surface: np.ndarray | None = None      # (B, A) train accuracy, if asked for
    moving: MovingLandscape | None = None
    info: dict = field(default_factory=dict)   # dataset sizes, n_params, timings
    X_train: np.ndarray | None = None          # (n, d) the training data (scaled), for slices and curvature later
    y_train: np.ndarray | None = None          # (n,); both None in files of version 1
    per_run: dict | None = None                # "pca_per_run": label -> core.experiment.per_run.RunLandscape
                                               # (not saved: a loaded result recomputes them)

    @property
    def labels(self):
        return list(self.trajectories)

    def summary(self):
        """One dict per run: the comparison table's numbers.

        in_plane: the share of the path's squared displacement from the centre that the plane holds,
        sum_t |P(theta_t - c)|^2 / sum_t |theta_t - c|^2 in [0, 1] (core.landscape.projection.in_plane; the
        figures' "in plane 43%"). capture (older, kept for scripts): 1 - the RMS relative residual
        sqrt(sum |r_t|^2 / sum |theta_t - c|^2) = 1 - sqrt(1 - in_plane). With curvature:
        peak_sharpness, sharpness_ratio (final sharpness / its stability threshold) and above_threshold (the
        share of frames at or above it); None without. Failure (core.model.failure): failed_at (first step from
        which the run is judged failed, None if it did not fail), live_units (at the last frame; None when
        unknown), peak_loss (largest per-step loss), spiked (the loss rose above its start after step 0).
        With the training data (and at most MAX_PLANE_CURVATURE_PARAMS weights), at each run's last weights
        (core.landscape.plane_curvature): curv_d1, curv_d2 (u^T H u along the unit plane axes), lambda_max (the
        plain Hessian's top eigenvalue) and top_in_plane (the share of its eigenvector inside the plane); None
        otherwise. Computed once per result (a dense eigenpair per run).
        """
        target = self.spec.training.target_loss
        rows = []
        for lab, tr in self.trajectories.items():
            pr = self.paths[lab]
            disp = np.linalg.norm(tr.params - self.plane.center, axis=1)
            den = float(np.sum(disp ** 2))
            res = float(np.sqrt(np.sum((pr.residual * disp) ** 2) / den)) if den > 0 else 0.0
            peak, ratio, above = tr.curvature_summary()
            rows.append(dict(
                peak_sharpness=peak, sharpness_ratio=ratio, above_threshold=above,
                label=lab, optimizer=tr.optimizer, final_loss=float(tr.loss[-1]),
                train_acc=float(tr.train_acc[-1]), test_acc=float(tr.test_acc[-1]),
                steps_to_target=tr.steps_to(target), diverged_at=tr.diverged_at, failed_at=tr.failed_at,
                live_units=None if tr.live_units is None else int(tr.live_units[-1]), peak_loss=tr.peak_loss,
                spiked=tr.spiked,
                path_length=tr.path_length(), residual=res, capture=1.0 - res,
                in_plane=in_plane(tr.params, self.plane), **self._plane_curvature(lab),
                final_step=int(tr.steps[-1])))
        return rows

    def _plane_curvature(self, label):
        """curv_d1, curv_d2, lambda_max, top_in_plane of one run at its last finite weights (Nones without data)."""
        cache = self.__dict__.setdefault("_plane_curvature_cache", {})
        if label not in cache:
            cache[label] = dict(curv_d1=None, curv_d2=None, lambda_max=None, top_in_plane=None)
            params = np.asarray(self.trajectories[label].params)
            ok = np.flatnonzero(np.all(np.isfinite(params), axis=1))
            if self.X_train is not None and self.plane.n_params <= MAX_PLANE_CURVATURE_PARAMS and ok.size:
                try:
                    with np.errstate(all="ignore"):
                        pc = plane_curvature(MLP(self.layer_sizes), params[ok[-1]], self.X_train, self.y_train,
                                             self.plane)
                except (np.linalg.LinAlgError, ValueError):        # weights so large the Hessian is not finite
                    return cache[label]
                cache[label] = dict(curv_d1=float(pc.along[0]), curv_d2=float(pc.along[1]),
                                    lambda_max=pc.lambda_max, top_in_plane=pc.top_in_plane)
        return cache[label]

    # ------------------------------------------------------------ files (below)
    def to_arrays(self):
        """Plain arrays and a JSON ``meta`` string, as saved (result_arrays, below)."""
        return result_arrays(self)

    def write(self, f):
        """Write the result as a compressed .npz into a binary file object (what ``save`` and downloads use)."""
        np.savez_compressed(f, **self.to_arrays())

    def save(self, path):
        """Write ``path`` (.npz) atomically, with the umask's permissions (core.fileio.save_npz)."""
        return save_npz(path, self.to_arrays())


# ------------------------------------------------------------------ writing
def result_arrays(r):
    """The arrays of an ExperimentResult, keyed as in the module docstring."""
    meta = dict(format=FORMAT, version=VERSION, spec=r.spec.to_dict(), layer_sizes=r.layer_sizes,
                labels=r.labels, info=r.info,
                runs=[dict(optimizer=t.optimizer, hparams=t.hparams, diverged_at=t.diverged_at, failed_at=t.failed_at)
                      for t in r.trajectories.values()],
                moving_follow=r.moving.follow if r.moving is not None else None)
    a = {"meta": np.array(json.dumps(meta))}
    for i, (lab, t) in enumerate(r.trajectories.items()):
        for k in TRAJECTORY_KEYS:
            if getattr(t, k) is not None:
                a[f"t{i}_{k}"] = getattr(t, k)
        pr = r.paths[lab]
        for k in PATH_KEYS:
            v = getattr(pr, k)
            if v is not None:
                a[f"p{i}_{k}"] = v
    a.update(r.plane.to_arrays())
    a.update(alphas=r.alphas, betas=r.betas, surface=r.surface)
    if r.X_train is not None:
        a.update(data_X=r.X_train, data_y=r.y_train)
    if r.acc_surface is not None:
        a["acc_surface"] = r.acc_surface
    if r.moving is not None:
        mv = r.moving
        a.update(moving_steps=mv.steps, moving_alphas=mv.alphas, moving_betas=mv.betas, moving_surfaces=mv.surfaces)
        for i, lab in enumerate(r.labels):
            for k in MOVING_PATH_KEYS:
                a[f"m{i}_{k}"] = mv.paths[lab][k]
    return a


# ------------------------------------------------------------------ reading
def load_result(path_or_file, max_bytes=MAX_RESULT_BYTES):
    """Load a result saved by ``ExperimentResult.save``; clear errors for foreign, corrupt or dishonest files.

    The zip is checked before anything is unpacked (at most ``max_bytes`` unpacked, no pickles, no array
    bigger than its member; core.experiment.result_check.check_npz), and the loaded arrays must hold the invariants of a
    computed result (check_result)."""
    name = path_or_file if isinstance(path_or_file, (str, os.PathLike)) else "uploaded file"
    arrays = read_npz(path_or_file, max_bytes, "run", "result")
    try:
        return complete_failure(check_result(from_arrays(arrays)))
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, json.JSONDecodeError) as e:
        msg = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        raise ValueError(f"run file {name!r}: not a valid result ({clip_message(msg, 300)})") from None


def from_arrays(a):
    """An ExperimentResult from the arrays of a result file (a dict); KeyError etc. on a malformed one."""
    meta = read_meta(a, FORMAT, READS)
    spec = ExperimentSpec.from_dict(meta["spec"])
    labels = meta["labels"]
    trajs, paths = {}, {}
    for i, lab in enumerate(labels):
        run = meta["runs"][i]
        trajs[lab] = Trajectory(
            params=a[f"t{i}_params"], steps=a[f"t{i}_steps"], loss=a[f"t{i}_loss"],
            train_acc=a[f"t{i}_train_acc"], test_acc=a[f"t{i}_test_acc"], lr=a[f"t{i}_lr"],
            diverged_at=run["diverged_at"], loss_history=a[f"t{i}_loss_history"], label=lab,
            optimizer=run["optimizer"], hparams=run["hparams"],
            live_units=a.get(f"t{i}_live_units"), failed_at=run.get("failed_at", _UNKNOWN),
            **{k: a.get(f"t{i}_{k}") for k in CURVATURE_KEYS})
        paths[lab] = Projection(**{k: a.get(f"p{i}_{k}") for k in PATH_KEYS})
    moving = _moving_from_arrays(a, meta, labels) if "moving_surfaces" in a else None
    return ExperimentResult(spec=spec, layer_sizes=list(meta["layer_sizes"]), trajectories=trajs,
                            plane=Plane.from_arrays(a), alphas=a["alphas"], betas=a["betas"], surface=a["surface"],
                            paths=paths, acc_surface=a.get("acc_surface"), moving=moving,
                            info=_clean_info(meta.get("info", {})), X_train=a.get("data_X"), y_train=a.get("data_y"))


_UNKNOWN = failure.UNKNOWN    # failed_at of a run whose file predates it (from_arrays); complete_failure computes it


def complete_failure(r):
    """Fill what files written before the failure fields lack (core.model.failure): live units per frame from
    the weights and the saved training data (left None without data), and failed_at from them and the losses
    (the bound is L0 alone without data). Returns ``r``."""
    h_const = failure.constant_loss(r.y_train) if r.y_train is not None else None
    net = MLP(r.layer_sizes)
    for t in r.trajectories.values():
        if t.live_units is None and r.X_train is not None:
            t.live_units = failure.live_units(net, t.params, r.X_train)
        if t.failed_at == _UNKNOWN:
            t.failed_at = failure.failed_at(t, h_const)
    return r


def _clean_info(info):
    """The known entries of a saved result's ``info`` with their types (a file may hold anything)."""
    out = {}
    for k, typ in _INFO_KEYS.items():
        v = info.get(k) if isinstance(info, dict) else None
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, typ) or isinstance(v, bool):
            continue
        if typ is str:
            v = v[:100]
        if typ is list:
            v = [str(x)[:100] for x in v[:MAX_INPUTS]]
        out[k] = v
    return out


def _moving_from_arrays(a, meta, labels):
    missing = [f"m{i}_surface_loss" for i in range(len(labels)) if f"m{i}_surface_loss" not in a]
    if missing:
        raise ValueError(f"moving landscape without the surface loss of its paths ({missing[0]}): written by an "
                         "older version; re-run its spec to view it")
    return MovingLandscape(
        follow=meta["moving_follow"], steps=a["moving_steps"], alphas=a["moving_alphas"],
        betas=a["moving_betas"], surfaces=a["moving_surfaces"],
        paths={lab: {k: a[f"m{i}_{k}"] for k in MOVING_PATH_KEYS} for i, lab in enumerate(labels)})
