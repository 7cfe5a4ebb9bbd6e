import numpy as np
import pytest

import core
from core.data.datasets import WISCONSIN_PATH, parse_wisconsin


def test_wisconsin_file_is_the_original():
    import hashlib
    with open(WISCONSIN_PATH, "rb") as f:
        assert hashlib.md5(f.read()).hexdigest() == "52b89051b9bd37a91a54e8570b963719"


def test_parse_counts_and_labels():
    X, y = parse_wisconsin(drop_missing=False)
    assert X.shape == (699, 9)
    X, y = parse_wisconsin()
    assert X.shape == (683, 9) and y.shape == (683,)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert int(y.sum()) == 239 and int((y == 0).sum()) == 444     # 683 complete rows: 444 benign, 239 malignant
    assert X.min() == 1 and X.max() == 10
    # first file row: 1000025,5,1,1,1,2,1,3,1,1,2 -> id dropped, class 2 -> 0
    np.testing.assert_array_equal(X[0], [5, 1, 1, 1, 2, 1, 3, 1, 1]); assert y[0] == 0


def test_article_split_and_train_only_scaling():
    ds = core.load_dataset("wisconsin")
    assert ds.X_train.shape == (500, 9) and ds.X_test.shape == (183, 9)
    X, y = parse_wisconsin()
    np.testing.assert_array_equal(ds.y_train, y[:500]); np.testing.assert_array_equal(ds.y_test, y[500:])
    np.testing.assert_allclose(ds.X_train.min(0), 0); np.testing.assert_allclose(ds.X_train.max(0), 1)
    np.testing.assert_allclose(ds.X_train, (X[:500] - 1) / 9)     # every feature spans 1..10 in the first 500 rows
    assert ds.feature_names[5] == "bare_nuclei"


def test_stratified_split_seeded_and_no_leak():
    a = core.load_dataset("wisconsin", split="stratified", seed=3)
    b = core.load_dataset("wisconsin", split="stratified", seed=3)
    c = core.load_dataset("wisconsin", split="stratified", seed=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert abs(a.y_train.mean() - a.y_test.mean()) < 0.02
    assert len(a.y_train) + len(a.y_test) == 683
    np.testing.assert_allclose(a.X_train.min(0), 0); np.testing.assert_allclose(a.X_train.max(0), 1)


@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "xor"])
def test_synthetic_sets(name):
    a = core.load_dataset(name, seed=1, n_samples=200)
    b = core.load_dataset(name, seed=1, n_samples=200)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.X_train.shape[1] == 2 and len(a.y_train) + len(a.y_test) == 200
    assert 0.3 < np.mean(np.r_[a.y_train, a.y_test]) < 0.7
    assert not np.array_equal(a.X_train, core.load_dataset(name, seed=2, n_samples=200).X_train)


def test_csv(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,b,label\n1,2,yes\n3,4,no\n5,6,yes\n7,8,no\n1,1,yes\n2,2,no\n3,3,yes\n4,4,no\n")
    ds = core.load_dataset("csv", path=str(f), target="label", test_fraction=0.25)
    assert ds.feature_names == ["a", "b"] and ds.X_train.shape == (6, 2) and ds.X_test.shape == (2, 2)
    assert set(np.unique(ds.y_train)) == {0.0, 1.0}


@pytest.mark.parametrize("content,target,match", [
    (None, "y", "no such file"),
    ("a,b,y\n1,2,0\n3,4,1\n", "label", r"^target='label': no such column"),
    ("a,b,y\n1,x,0\n3,4,1\n", "y", r"column 'b': value 'x' is not numeric"),
    ("a,b,y\n1,2,0\n3,4,1\n5,6,2\n", "y", "must be binary"),
    ("", "y", "empty"),
    ("a,b,y\n1,2\n", "y", "has 2 values"),
])
def test_csv_errors(tmp_path, content, target, match):
    f = tmp_path / "bad.csv"
    if content is not None:
        f.write_text(content)
    with pytest.raises(ValueError, match=match):
        core.load_dataset("csv", path=str(f), target=target)


@pytest.mark.parametrize("kw,match", [
    (dict(name="mnist"), "^name='mnist'"), (dict(name="moons", n_samples=5), "^n_samples=5"),
    (dict(split="random"), "^split='random'"), (dict(test_fraction=0.99), "^test_fraction=0.99"),
    (dict(name="xor", noise=-1.0), "^noise=-1.0"),
])
def test_bad_dataset_args(kw, match):
    with pytest.raises(ValueError, match=match):
        core.load_dataset(**kw)
