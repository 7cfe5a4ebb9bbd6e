"""Dask preload for the workers of a LocalCluster started by core.parallel.cluster.LocalDask: they ignore SIGINT.

A Ctrl-C on a terminal reaches the whole process group; the process that started the cluster handles it
(cancels the tasks, closes the cluster), so its workers must not die on it with tracebacks of their own.
"""
from core.parallel.engine import _ignore_sigint


def dask_setup(worker):
    _ignore_sigint()
