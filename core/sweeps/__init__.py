"""Optimizer sweeps: every cell of a hyper-parameter grid, for every seed, trained in full, on Dask or inline.

    res = sweep(ExperimentSpec.preset("lr_sweep"), scheduler="inline")   # None: a local cluster; "tcp://..."
    res.blocks["momentum"].final_loss         # (seeds, *axes); res.save("s.npz"); load_sweep("s.npz")

spec: the spec's ``sweep`` section; run: sweep(); result: SweepResult and its file; summary: the compact table.
"""
from core.sweeps.result import SweepBlock, SweepResult, load_sweep
from core.sweeps.run import sweep

__all__ = ["sweep", "SweepResult", "SweepBlock", "load_sweep"]
