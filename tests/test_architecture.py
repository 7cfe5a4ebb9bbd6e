"""The house rules that keep the package easy to pick up: no import cycles between files, function-local imports
only for optional heavy libraries, small folders, and the public names the README shows."""
import os

import pytest

import core
import visualizer
from tests.helpers import ROOT
from tools.import_graph import cycles, graph, modules


def test_no_import_cycles_between_files():
    edges, _ = graph(ROOT)
    assert cycles(edges) == []


def test_the_graph_sees_a_cycle_when_there_is_one(tmp_path):
    """The checker itself: two modules importing each other (one inside a function) form a cycle."""
    pkg = tmp_path / "core"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from core.b import x\n")
    (pkg / "b.py").write_text("x = 1\n\ndef f():\n    from core import a\n")
    edges, local = graph(str(tmp_path))
    assert cycles(edges) == [["core.a", "core.b"]]
    assert [(m, t) for m, _, t in local] == [("core.b", "core"), ("core.b", "core.a")]


def test_function_local_imports_only_for_optional_heavy_libraries():
    _, local = graph(ROOT)
    assert local == []


def test_no_folder_holds_more_than_fifteen_modules():
    folders = {}
    for name in modules(ROOT):
        folders.setdefault(name.rsplit(".", 1)[0] if "." in name else name, []).append(name)
    big = {k: len(v) for k, v in folders.items() if len(v) > 15}
    assert big == {}


@pytest.mark.parametrize("name", ["MLP", "train", "load_dataset", "make_plane", "surface", "project",
                                  "run_experiment", "ExperimentSpec", "load_result", "hvp", "hessian",
                                  "hessian_eigs", "sweep", "load_sweep", "curvature_map", "Trajectory"])
def test_the_readme_api_keeps_its_spelling(name):
    assert name in core.__all__ and callable(getattr(core, name))


def test_namespaces_the_readme_uses():
    assert callable(core.optimizers.make) and callable(core.ExperimentSpec.preset)
    assert callable(core.ExperimentSpec.from_dict) and callable(core.curvature.hvp)
    for name in visualizer.__all__:
        assert getattr(visualizer, name) is not None
    assert callable(visualizer.landscape_figure)


def test_bundled_files_are_package_data():
    """Presets and data live inside the packages (found through importlib.resources), so pip installs them."""
    assert os.path.isfile(os.path.join(ROOT, "core", "bundled", "presets", "four_optimizers.json"))
    assert core.ExperimentSpec.presets() == ["article", "four_optimizers", "lr_sweep", "moons_adam"]
    ds = core.load_dataset("wisconsin", seed=0)
    assert ds.X_train.shape[1] == 9
