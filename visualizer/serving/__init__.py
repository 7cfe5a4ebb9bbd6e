"""Serving the app: waitress and its limits (serve), where computations run (runner: worker processes;
dask_runner and dask_task: a Dask cluster), the result cache, per-page jobs with progress and cancellation,
the Sweep tab's sweep service, and uploaded CSV files. Nothing is imported here: serve imports what it needs.
"""
