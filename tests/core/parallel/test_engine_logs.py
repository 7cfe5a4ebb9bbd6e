"""quiet_dask_logs silences every Dask/tornado logger, including children with levels of their own."""
import logging

import pytest

from core.parallel.engine import quiet_dask_logs


@pytest.fixture
def restore_levels():
    saved = {n: l.level for n, l in logging.root.manager.loggerDict.items() if isinstance(l, logging.Logger)}
    yield
    for n, level in saved.items():
        logging.getLogger(n).setLevel(level)


def test_children_with_their_own_level_are_silenced(restore_levels):
    pytest.importorskip("distributed")          # its logging config sets tornado.application to ERROR
    child = logging.getLogger("tornado.application")
    assert child.level == logging.ERROR and child.isEnabledFor(logging.ERROR)
    quiet_dask_logs(logging.CRITICAL + 1)
    # the "Exception in callback" traceback of a cancelled future is logged here at ERROR: no longer emitted
    assert not child.isEnabledFor(logging.ERROR)
    assert not logging.getLogger("distributed.client").isEnabledFor(logging.CRITICAL)
    assert not logging.getLogger("asyncio").isEnabledFor(logging.CRITICAL)
