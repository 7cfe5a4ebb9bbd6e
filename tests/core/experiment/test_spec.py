import json

import pytest

from core.experiment.spec import ExperimentSpec


def test_presets_load_and_validate():
    names = ExperimentSpec.presets()
    assert {"article", "four_optimizers"} <= set(names)
    for n in names:
        s = ExperimentSpec.preset(n)
        assert s.validate() is s
    art = ExperimentSpec.preset("article")
    assert art.seed == 1 and art.model.hidden == [15] and art.model.init == "article"
    assert art.training.steps == 67000 and art.training.batch_size is None
    assert art.optimizers[0].name == "sgd" and art.optimizers[0].hparams["lr"] == 0.07
    four = ExperimentSpec.preset("four_optimizers")
    assert [o.name for o in four.optimizers] == ["sgd", "annealing", "large_lr", "momentum"]


def test_json_round_trip():
    s = ExperimentSpec.preset("four_optimizers")
    d = s.to_dict()
    assert ExperimentSpec.from_dict(json.loads(json.dumps(d))).to_dict() == d
    assert ExperimentSpec.from_json(s.to_json()) == s


def test_defaults_valid():
    s = ExperimentSpec()
    s.validate()
    assert s.labels() == ["sgd"]


def base():
    return ExperimentSpec.preset("four_optimizers").to_dict()


def with_(path, value):
    d = base()
    node = d
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return d


@pytest.mark.parametrize("path,value,match", [
    (("bogus",), 1, r"spec.bogus: unknown key; allowed are curvature, data, grid, model, name, optimizers, plane, "
                    r"seed, sweep, training"),
    (("data", "colour"), "red", r"data.colour: unknown key"),
    (("seed",), -1, r"seed=-1: must be an integer in \[0, 4294967295\]"),
    (("seed",), "x", r"seed='x'"),
    (("data", "name"), "mnist", r"data.name='mnist': allowed are wisconsin, moons"),
    (("data", "split"), "rand", r"data.split='rand'"),
    (("model", "hidden"), [0], r"model.hidden\[0\]=0: must be an integer in \[1, 512\]"),
    (("model", "hidden"), [600], r"model.hidden\[0\]=600"),
    (("model", "hidden"), [], r"model.hidden=\[\]: must be a list of 1 to 4"),
    (("model", "hidden"), [4, 4, 4, 4, 4], r"model.hidden=.*1 to 4 layer"),
    (("model", "init"), "he", r"model.init='he': allowed are default, article"),
    (("training", "steps"), 0, r"training.steps=0: must be an integer in \[1, 200000\]"),
    (("training", "steps"), 200001, r"training.steps=200001"),
    (("training", "steps"), 2.5, r"training.steps=2.5"),
    (("training", "batch_size"), 0, r"training.batch_size=0"),
    (("training", "record_every"), 1, r"would record 2001 frames; at most 1000"),
    (("training", "target_loss"), 0, r"training.target_loss=0"),
    (("plane", "method"), "tsne",
     r"plane.method='tsne': allowed are pca, pca_balanced, pca_per_run, random, interpolation"),
    (("plane", "center"), "middle", r"plane.center='middle'"),
    (("plane", "center_on"), "adam", r"plane.center_on='adam': allowed are SGD, LR annealing, large LR, momentum"),
    (("grid", "resolution"), 202, r"grid.resolution=202: must be an integer in \[3, 201\]"),
    (("grid", "resolution"), 2, r"grid.resolution=2"),
    (("grid", "range"), -1, r"grid.range=-1"),
    (("grid", "moving"), "yes", r"grid.moving='yes': must be true or false"),
    (("grid", "moving_frames"), 500, r"grid.moving_frames=500: must be an integer in \[2, 100\]"),
    (("optimizers",), [], r"optimizers: 0 given; give 1 to 8"),
    (("optimizers",), [{"name": "sgd", "label": f"s{i}"} for i in range(9)], r"optimizers: 9 given"),
    (("optimizers",), [{"name": "sgd"}, {"name": "sgd"}], r"optimizers\[1\].label='sgd': labels must be unique"),
    (("optimizers",), [{"lr": 0.1}], r"optimizers\[0\].name: missing"),
    (("optimizers",), [{"name": "sgd", "lr": 0}], r"optimizers\[0\].lr=0: must be a number in \(0, 100\]"),
    (("optimizers",), [{"name": "sgd", "lr": 1000}], r"optimizers\[0\].lr=1000"),
    (("optimizers",), [{"name": "lbfgs"}], r"optimizers\[0\].name='lbfgs'"),
    (("optimizers",), [{"name": "sgd", "momentum": 0.9}],
     r"optimizers\[0\].momentum: unknown hyper-parameter for 'sgd'"),
    (("optimizers",), "sgd", r"optimizers='sgd': must be a list"),
    (("data",), 5, r"data=5: must be an object"),
])
def test_bad_spec_messages(path, value, match):
    with pytest.raises(ValueError, match=match):
        ExperimentSpec.from_dict(with_(path, value))


def test_csv_needs_path_and_target():
    d = base(); d["data"] = {"name": "csv"}
    with pytest.raises(ValueError, match="data.path=None: the csv dataset needs"):
        ExperimentSpec.from_dict(d)
    d["data"] = {"name": "csv", "path": "x.csv"}
    with pytest.raises(ValueError, match="data.target=None"):
        ExperimentSpec.from_dict(d)


def test_preset_and_file_errors(tmp_path):
    with pytest.raises(ValueError, match="preset='nope': allowed are article"):
        ExperimentSpec.preset("nope")
    with pytest.raises(ValueError, match="no such file"):
        ExperimentSpec.load(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"; bad.write_text("{not json")
    with pytest.raises(ValueError, match="spec: not valid JSON"):
        ExperimentSpec.load(str(bad))
    arr = tmp_path / "arr.json"; arr.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object, got list"):
        ExperimentSpec.load(str(arr))
