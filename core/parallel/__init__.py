"""Where work runs: threads over chunks in this process, a local Dask cluster, or any running Dask cluster.

chunking: memory-sized chunks on a few Python threads with BLAS pinned; engine: Engine (inline / local / address)
for sweeps and curvature maps; cluster: how we reach Dask (connect, wait for workers, close quietly);
worker_setup: the Dask preload of local workers. Dask is imported only when a cluster is used.
"""
from core.parallel.engine import Engine

__all__ = ["Engine"]
