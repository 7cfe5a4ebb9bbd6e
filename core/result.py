"""What an experiment produces: ExperimentResult (runs, plane, surfaces, paths) and MovingLandscape.

    result.summary()                    # one dict a run: the comparison table's numbers
    result.save("run.npz")              # core.resultfile: plain arrays + JSON meta, loaded without pickle

Built by core.experiment.run_experiment; read back by core.resultfile.load_result.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .directions import Plane
from .fileio import save_npz
from .spec import ExperimentSpec

__all__ = ["ExperimentResult", "MovingLandscape"]


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

    @property
    def labels(self):
        return list(self.trajectories)

    def summary(self):
        """One dict per run: the comparison table's numbers.

        capture: 1 - the path's RMS relative residual, sqrt(sum |r_t|^2 / sum |theta_t - c|^2),
        i.e. how much of the path's displacement from the center the plane holds. With curvature:
        peak_sharpness, sharpness_ratio (final sharpness / its stability threshold) and above_threshold (the
        share of frames at or above it); None without.
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
                steps_to_target=tr.steps_to(target), diverged_at=tr.diverged_at,
                path_length=tr.path_length(), residual=res, capture=1.0 - res,
                final_step=int(tr.steps[-1])))
        return rows

    # ------------------------------------------------------------ files (core.resultfile)
    def to_arrays(self):
        """Plain arrays and a JSON ``meta`` string, as saved (core.resultfile.result_arrays)."""
        from .resultfile import result_arrays          # resultfile builds results from this module's classes
        return result_arrays(self)

    def write(self, f):
        """Write the result as a compressed .npz into a binary file object (what ``save`` and downloads use)."""
        np.savez_compressed(f, **self.to_arrays())

    def save(self, path):
        """Write ``path`` (.npz) atomically, with the umask's permissions (core.fileio.save_npz)."""
        return save_npz(path, self.to_arrays())
