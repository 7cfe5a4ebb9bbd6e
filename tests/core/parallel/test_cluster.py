"""--timeout bounds the scheduler's greeting, not only the TCP connect; a peer that is not Dask is named."""
import struct
import subprocess
import sys

import pytest

from core.errors import NotAScheduler
from core.parallel.cluster import _looks_like_handshake, connect, probe_scheduler
from tests.helpers import GARBAGE, ROOT, Peer


def test_handshake_shape():
    handshake = struct.pack("<QQQ", 8 + 8 + 200, 1, 200) + b"x" * 200     # Dask's framing: length, count, sizes
    assert _looks_like_handshake(handshake[:16])
    assert not _looks_like_handshake(GARBAGE[:16])                      # 3 EiB as a length
    assert not _looks_like_handshake(struct.pack("<QQ", 24, 0))          # no frames
    assert not _looks_like_handshake(b"\x00" * 5)


def test_a_silent_peer_times_out():
    with Peer() as peer:
        with pytest.raises(TimeoutError, match="sent no Dask handshake within 0.5 s"):
            probe_scheduler(peer.address, 0.5, "scheduler")


def test_a_peer_answering_garbage_is_named():
    with Peer(GARBAGE) as peer:
        with pytest.raises(NotAScheduler, match=r"--scheduler tcp://127\.0\.0\.1:\d+: the peer answered b'HTTP/1\.1 "
                                                r"400 Bad', which is not Dask's handshake"):
            connect(peer.address, 2, "--scheduler")


def test_a_peer_that_hangs_up_is_named():
    with Peer(close_after=True) as peer:
        with pytest.raises(NotAScheduler, match="closed the connection without Dask's handshake"):
            probe_scheduler(peer.address, 2, "scheduler")


def _sweep(address, timeout="3"):
    return subprocess.run([sys.executable, "-m", "core", "sweep", "lr_sweep", "--scheduler", address, "--timeout",
                           timeout, "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_sweep_cli_silent_peer_fails_within_the_timeout():
    with Peer() as peer:
        r = _sweep(peer.address)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"error: scheduler='{peer.address}': no Dask scheduler answered within 3 s"), r.stderr
    assert "sent no Dask handshake" in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_sweep_cli_garbage_peer_is_one_line_exit_2():
    with Peer(GARBAGE) as peer:
        r = _sweep(peer.address)
    assert r.returncode == 2, r.stderr
    assert "which is not Dask's handshake" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr and "allocate" not in r.stderr
