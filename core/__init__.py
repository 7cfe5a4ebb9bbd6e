"""Loss Landscape Navigator core: NumPy only.

    import core
    ds = core.load_dataset("wisconsin", seed=0)
    net = core.MLP([9, 15, 1]); p0 = net.init(seed=0)
    opt = core.optimizers.make("momentum", lr=0.07, momentum=0.9)
    traj = core.train(net, p0, ds, opt, steps=2000, record_every=10)
    plane = core.make_plane("pca", net, center=traj.params[-1], trajectories=[traj])
    Z = core.surface(net, ds.X_train, ds.y_train, plane, alphas, betas)   # (len(betas), len(alphas))
    path = core.project(traj, plane)
    result = core.run_experiment(core.ExperimentSpec.preset("four_optimizers"))
    vals, vecs = core.hessian_eigs(net, p0, ds.X_train, ds.y_train, k=2)   # also hvp, hessian, trajectory_curvature
    res = core.sweep(core.ExperimentSpec.preset("lr_sweep"), scheduler=None)   # Dask: None = local cluster
    cm = core.curvature_map(net, ds.X_train, ds.y_train, plane, alphas, betas)  # .top .bottom (B, A)

Dask is imported only when a sweep or a curvature map runs on a cluster (core.engine).
"""
from . import curvature, optimizers, schedules
from .curvmap import CurvatureMap, curvature_map
from .cluster import SchedulerUnreachable
from .engine import EngineError
from .curvature import (LanczosNotConverged, LanczosResult, TrajectoryCurvature, hessian, hessian_eigs, hvp,
                        lanczos, trajectory_curvature)
from .data import Dataset, load_dataset
from .directions import Plane, make_plane, random_direction, renormalize
from .experiment import ExperimentResult, MovingLandscape, load_result, run_experiment
from .landscape import Projection, project, surface
from .network import MLP
from .optimizers import stability_threshold
from .spec import ExperimentSpec
from .sweeps import SweepBlock, SweepResult, load_sweep, sweep
from .training import Trajectory, train

__all__ = ["curvature", "optimizers", "schedules", "Dataset", "load_dataset", "Plane", "make_plane", "random_direction",
           "renormalize", "ExperimentResult", "MovingLandscape", "load_result", "run_experiment",
           "Projection", "project", "surface", "MLP", "ExperimentSpec", "Trajectory", "train",
           "hvp", "hessian", "hessian_eigs", "lanczos", "LanczosResult", "LanczosNotConverged",
           "trajectory_curvature", "TrajectoryCurvature", "stability_threshold",
           "sweep", "SweepResult", "SweepBlock", "load_sweep", "curvature_map", "CurvatureMap",
           "SchedulerUnreachable", "EngineError"]
