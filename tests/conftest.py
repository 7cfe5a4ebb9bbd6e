"""Shared fixtures: small experiment results, the callbacks' cache and spec, and Chromium options for the
dash_duo browser tests."""
import pytest

import core
from tests.helpers import chrome_options, small_spec_dict


def pytest_setup_options():
    """Selenium ChromeOptions for dash.testing (Debian's chromium + chromium-driver): tests/browser_env.py."""
    return chrome_options()


@pytest.fixture(scope="session")
def small_result():
    return core.run_experiment(small_spec_dict())


def four_short(method="pca"):
    """The four_optimizers preset, shortened (200 steps, a 9 x 9 grid, no curvature), on a plane ``method``."""
    d = core.ExperimentSpec.preset("four_optimizers").to_dict()
    d["training"].update(steps=200, record_every=10)
    d["grid"].update(resolution=9)
    d["curvature"]["enabled"] = False
    d["plane"]["method"] = method
    return core.run_experiment(d)


@pytest.fixture(scope="session")
def four_pca():
    return four_short("pca")


@pytest.fixture(scope="session")
def four_random():
    """On a random plane: every run keeps well under 1% of its path in it."""
    return four_short("random")


@pytest.fixture(scope="session")
def small_moving_result():
    return core.run_experiment(small_spec_dict(moving=True, moving_frames=6, moving_resolution=9))


@pytest.fixture(scope="session")
def shared_cache():
    """One ResultCache for the whole session, so the default preset is computed once."""
    from visualizer.serving.cache import ResultCache
    return ResultCache(maxsize=8)


@pytest.fixture(scope="session")
def small_adam_result():
    """SGD and Adam on two moons, with curvature (Adam's sharpness is preconditioned)."""
    d = core.ExperimentSpec.preset("moons_adam").to_dict()
    d["training"].update(steps=150, record_every=5)
    d["optimizers"] = [o for o in d["optimizers"] if o["name"] in ("sgd", "adam")]
    d["grid"].update(resolution=9)
    d["curvature"]["enabled"] = True
    return core.run_experiment(d)


@pytest.fixture
def cache():
    """A fresh ResultCache for the callbacks' tests (replaces pytest's own ``cache`` fixture under tests/)."""
    from visualizer.serving.cache import ResultCache
    return ResultCache(maxsize=4)


@pytest.fixture
def small():
    """(spec dict, control values, spec-base) of the small test run, as the callbacks receive them."""
    from visualizer.app.controls import controls_from_spec
    d = core.ExperimentSpec.from_dict(small_spec_dict()).to_dict()
    values, extras = controls_from_spec(d)
    return d, values, {"spec": d, "extras": extras}


@pytest.fixture(scope="session")
def four_per_run():
    """Each run on its own PCA plane (small multiples), beside the shared PCA plane."""
    return four_short("pca_per_run")
