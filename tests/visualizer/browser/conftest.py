"""Browser tests skip (with the reason) when Chromium / chromedriver are missing, except on CI
(CI=true), where they must run: there a missing browser is a failure."""
import os

import pytest

from tests.helpers import browser_missing


def pytest_collection_modifyitems(config, items):
    reason = browser_missing()
    if reason is None:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.fspath).startswith(here):
            if os.environ.get("CI") == "true":
                item.fixturenames.insert(0, "_ci_requires_browser")    # fails before dash_duo starts
            else:
                item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


@pytest.fixture
def _ci_requires_browser():
    pytest.fail(f"CI=true but the browser tests cannot run: {browser_missing()}")
