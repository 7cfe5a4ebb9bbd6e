"""Data sets: the bundled Wisconsin breast-cancer data, seeded synthetic 2-D sets, a user's CSV.

    ds = load_dataset("wisconsin", seed=0)     # Dataset: X_train (n, d) float64, y_train (n,), X_test, y_test

datasets: the loaders and Dataset; csvfile: where a CSV may come from (DataFiles) and reading it under caps.
"""
from core.data.csvfile import MAX_SAMPLES, DataFiles, read_csv
from core.data.datasets import Dataset, load_dataset

__all__ = ["Dataset", "load_dataset", "DataFiles", "read_csv", "MAX_SAMPLES"]
