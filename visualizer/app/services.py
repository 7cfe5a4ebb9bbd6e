"""The app's server-side state, made once by ``factory.create_app`` and passed to ``wiring``: an explicit
object instead of attributes written onto Dash's or core's objects.

    services.cache      # serving.cache.ResultCache: results (and a worker's first-view figures) by key, in bytes
    services.jobs       # serving.jobs.JobRegistry: every heavy computation of a page, its progress, cancellation
    services.sweeps     # serving.sweep_service.SweepService (the Sweep tab)
    services.runner     # where computations run (runner.ProcessRunner, LocalRunner, dask_runner.DaskRunner)
    services.slices     # curvature_callbacks.SliceCache of the slices panel: (key, run, frame) -> slices
    services.maps       # the same LRU kind for the surface colour's curvature maps
    services.scheduler  # where sweeps run: None (a LocalCluster on the first sweep), an address, "inline", a Client
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Services:
    cache: object
    jobs: object
    sweeps: object = None
    runner: object = None
    slices: object = None
    maps: object = None
    scheduler: object = None
    closing: threading.Event = field(default_factory=threading.Event)

    def close(self):
        """Stop sweeps and the runner's workers (running computations are killed); once."""
        if self.closing.is_set():
            return
        self.closing.set()
        close = getattr(self.runner, "close", None)
        if close is not None:                   # first: waiting requests end at once
            close()
        if self.sweeps is not None:
            self.sweeps.close(wait=1.0)
