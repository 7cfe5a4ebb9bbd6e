"""Loss Landscape Navigator core: NumPy only (Dask only for sweeps and curvature maps on a cluster).

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

Subpackages: data, model (network, optimizers, schedules, training), landscape (planes, surfaces, projection,
slices, curvature maps), curvature (HVP, Hessian, Lanczos, sharpness), experiment (spec, budget, run, result
files), sweeps, parallel (chunks, Dask), cli. Modules at the top: errors, constraints, rng, fileio, resources.
"""
from core.curvature import (LanczosResult, TrajectoryCurvature, frames_curvature, hessian, hessian_eigs, hvp, lanczos,
                            trajectory_curvature)
from core.data import Dataset, load_dataset
from core.experiment import ExperimentResult, ExperimentSpec, MovingLandscape, load_result, run_experiment
from core.landscape import (CurvatureMap, Plane, Projection, curvature_map, make_plane, project, random_direction,
                            renormalize, surface)
from core.model import MLP, Trajectory, optimizers, schedules, train
from core.model.optimizers import stability_threshold
from core.errors import EngineError, LanczosNotConverged, SchedulerUnreachable
from core.sweeps import SweepBlock, SweepResult, load_sweep, sweep
import core.curvature as curvature

__all__ = ["curvature", "optimizers", "schedules", "Dataset", "load_dataset", "Plane", "make_plane", "random_direction",
           "renormalize", "ExperimentResult", "MovingLandscape", "load_result", "run_experiment",
           "Projection", "project", "surface", "MLP", "ExperimentSpec", "Trajectory", "train",
           "hvp", "hessian", "hessian_eigs", "lanczos", "LanczosResult", "LanczosNotConverged",
           "trajectory_curvature", "frames_curvature", "TrajectoryCurvature", "stability_threshold",
           "sweep", "SweepResult", "SweepBlock", "load_sweep", "curvature_map", "CurvatureMap",
           "SchedulerUnreachable", "EngineError"]
