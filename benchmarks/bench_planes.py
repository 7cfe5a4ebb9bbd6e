"""Which plane keeps the most of every run's path ("in plane", core.landscape.projection.in_plane) on the presets.

    python benchmarks/bench_planes.py four_optimizers moons_adam article

Per preset: each run's in-plane share on the shared uncentred PCA plane, the centred PCA plane, the balanced
PCA plane (each run's block at unit Frobenius norm), a random plane, and each run's own PCA plane
(pca_per_run, through its own final or initial weights as the preset says), the shared ones through the
preset's centre; "worst" is the run the plane serves least. Also the curvature
beside the shared plane at each run's last weights (core.landscape.plane_curvature). Curvature tracking is
off and the grid small: the planes do not depend on either.
"""
import sys

import core
from core.landscape.planes import make_plane
from core.landscape.projection import in_plane


def main(names):
    for name in names:
        d = core.ExperimentSpec.preset(name).to_dict()
        d["curvature"]["enabled"] = False
        d["grid"]["resolution"] = 11
        r = core.run_experiment(d)
        labels, spec = r.labels, r.spec
        net = core.MLP(r.layer_sizes)
        follow = spec.plane.center_on or labels[0]
        order = [r.trajectories[follow]] + [r.trajectories[lab] for lab in labels if lab != follow]
        c = r.plane.center
        print(f"\n{name} (centre: {follow}'s {spec.plane.center} weights) in plane per run")
        print(f"{'plane':<16}" + "".join(f"{lab:>18}" for lab in labels) + f"{'worst':>9}")
        for m, kw in (("pca", {}), ("pca-centered", dict(center_mean=True)), ("pca_balanced", {}), ("random", {})):
            pl = make_plane("pca" if m == "pca-centered" else m, net, center=c, trajectories=order, seed=spec.seed,
                            **kw)
            v = [in_plane(r.trajectories[lab].params, pl) for lab in labels]
            print(f"{m:<16}" + "".join(f"{100 * x:>17.1f}%" for x in v) + f"{100 * min(v):>8.1f}%")
        own = []                      # each run on its own plane through its own centre (core.experiment.per_run)
        for lab in labels:
            tr = r.trajectories[lab]
            oc = tr.params[-1] if spec.plane.center == "final" else tr.params[0]
            own.append(in_plane(tr.params, make_plane("pca", net, center=oc, trajectories=[tr])))
        print(f"{'pca_per_run':<16}" + "".join(f"{100 * x:>17.1f}%" for x in own) + f"{100 * min(own):>8.1f}%")
        print("curvature at the last weights, shared pca plane: u^T H u along d1, d2 | lambda_max | |P v|^2")
        for row in r.summary():
            print(f"  {row['label']:<18}{row['curv_d1']:>9.4f}{row['curv_d2']:>9.4f} | {row['lambda_max']:>6.3f} | "
                  f"{100 * row['top_in_plane']:.1f}%")


if __name__ == "__main__":
    main(sys.argv[1:] or ["four_optimizers", "moons_adam", "article"])
