"""An experiment end to end: the spec, its cost, the run, the result and its file.

    spec = ExperimentSpec.preset("four_optimizers")     # or .from_dict(d); validated in one place
    result = run_experiment(spec)                        # ExperimentResult: trajectories, plane, surfaces, paths
    result.save("run.npz"); load_result("run.npz")       # plain arrays + JSON, no pickle, checked before trusted

    trajs = train_runs(spec); run_experiment(other_plane_spec, trained=trajs)   # train once, many planes

spec: ExperimentSpec; budget: the one cost model (work estimate, caps and what to reduce); run: run_experiment;
result: ExperimentResult and its .npz file; result_check: the checks a file passes before it is trusted.
"""
from core.experiment.budget import check_budget, estimate_work
from core.experiment.result import ExperimentResult, MovingLandscape, load_result
from core.experiment.run import run_experiment, train_runs
from core.experiment.spec import ExperimentSpec

__all__ = ["ExperimentSpec", "run_experiment", "train_runs", "ExperimentResult", "MovingLandscape", "load_result",
           "check_budget", "estimate_work"]
