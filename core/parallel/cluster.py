"""How this project reaches Dask, in one place: a local cluster started here, a running scheduler reached by
its address, its workers waited for, a client closed quietly, Dask's errors as one line, and the arrays of
what Dask delivered copied into memory of our own.

Used by core.parallel.engine.Engine (sweeps, curvature maps) and visualizer.serving.dask_runner.DaskRunner (``serve
--scheduler``). NumPy and the standard library only; ``distributed`` is imported by the functions that need
it, so this module imports without Dask.

    local = LocalDask(n_workers, timeout)           # local.client, local.cluster; local.close(timeout)
    client = connect("tcp://host:8786", timeout, "scheduler")   # ValueError, NotAScheduler, SchedulerUnreachable
    wait_for_workers(client, timeout, "scheduler", "tcp://host:8786")  # SchedulerUnreachable
    close_client(client, timeout)

Messages name the caller's setting, ``field``: a keyword argument ("scheduler": ``scheduler='tcp://h:8786'``)
or a command-line option ("--scheduler": ``--scheduler tcp://h:8786``), and with ``timeout_hint`` the option
that sets the timeout ("--timeout").

The timeout bounds the whole greeting, not only the TCP connect: before Dask's Client is made, a plain socket
(probe_scheduler) connects and waits for the first bytes a Dask scheduler sends on every new connection (its
handshake, framed as Dask's TCP messages are: a uint64 length, a uint64 frame count, the frame lengths). A peer
that accepts and stays silent is SchedulerUnreachable after ``timeout`` seconds; one that answers other bytes (a
web server, garbage) is NotAScheduler, before Dask would read its bytes as a length ("Unable to allocate 3 EiB").
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import os
import socket
import struct
import time

import numpy as np

from core.errors import NotAScheduler, SchedulerUnreachable, clip_message, quote

TRANSPORTS = ("tcp", "tls", "ws", "wss", "ucx")     # the schemes of a scheduler reached over a network
OWN_DEPTH = 20                                      # own_arrays follows this many levels of nesting
MAX_HANDSHAKE_BYTES = 1 << 24                       # a Dask handshake is a few hundred bytes; more is not one
MAX_HANDSHAKE_FRAMES = 1024


# ----------------------------------------------------------------- a cluster started here
class LocalDask:
    """A LocalCluster of ``n`` worker processes of one thread each, started here, and a client of it
    (``.cluster``, ``.client``); ``close(timeout)`` closes both and gives os.environ back as it was."""

    def __init__(self, n, timeout, set_as_default=True):
        import dask
        from distributed import Client, LocalCluster
        self.client = self.cluster = None
        # Dask's nanny copies "pre-spawn-environ" into this process's os.environ and its workers': by default
        # MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's adaptive mmap threshold and makes these runs
        # about 1.6x slower (every freed temporary goes back to the kernel), and OMP/MKL/OPENBLAS_NUM_THREADS=1,
        # which would leak into every process started from here later. Each task pins BLAS itself
        # (core.parallel.engine.pinned_call), so the workers get nothing but the hash seed, and os.environ is restored
        # on close.
        self._environ = dict(os.environ)
        spawn_env = {"PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED") or "random"}
        try:
            # the workers ignore SIGINT (core.parallel.worker_setup): a Ctrl-C on the terminal reaches the whole process
            # group, and only this process should handle it (by cancelling the tasks and closing the cluster)
            with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn_env}):
                self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.ERROR,
                                            preload=["core.parallel.worker_setup"],
                                            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})  # any free port
            self.client = Client(self.cluster, timeout=timeout, set_as_default=set_as_default)
        except BaseException:                           # half started: close what was, restore os.environ
            self.close(timeout)
            raise

    def close(self, timeout):
        """Close the client, then the cluster with its worker processes, and restore os.environ; idempotent."""
        client, cluster = self.client, self.cluster
        self.client, self.cluster = None, None
        if client is not None:
            close_client(client, timeout)
        with contextlib.suppress(Exception):
            if cluster is not None:
                cluster.close(timeout=timeout)
        if self._environ is not None:                   # what the nanny put into os.environ (see __init__)
            for k in set(os.environ) - set(self._environ):
                os.environ.pop(k, None)
            os.environ.update(self._environ)
            self._environ = None


# ----------------------------------------------------------------- a running scheduler
def _named(field, value, parsed=True):
    """The caller's setting in a message: ``scheduler='tcp://h:1'`` (a keyword argument, always quoted) or
    ``--scheduler tcp://h:1`` (a command-line option: as typed, quoted when it is not an address)."""
    if field.startswith("--"):
        return f"{field} {value if parsed else quote(value)}"
    return f"{field}={quote(value)}"


def _not_an_address(field, address, e):
    return (f"{_named(field, address, parsed=False)}: not a Dask address ({clip_message(e, 160)}); "
            "e.g. tcp://host:8786")


def check_address(address, field):
    """ValueError naming ``field`` unless ``address`` is a scheduler's network address (e.g. tcp://host:8786)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    try:
        scheme, loc = parse_address(address, strict=False)      # no scheme: tcp
        if scheme not in TRANSPORTS:
            raise ValueError(f"scheme {scheme}:// is not a network transport")
        parse_host_port(loc)                                    # a host and a port
    except (ValueError, TypeError) as e:
        raise ValueError(_not_an_address(field, address, e)) from None


def connect(address, timeout, field, timeout_hint=None, set_as_default=True):
    """A distributed.Client of the scheduler at ``address``. The address is checked first (check_address:
    Client() would leave a half-made client behind); SchedulerUnreachable when no scheduler answers within
    ``timeout`` seconds."""
    from distributed import Client
    check_address(address, field)
    try:
        probe_scheduler(address, timeout, field)
        return Client(address, timeout=timeout, set_as_default=set_as_default)
    except (OSError, TimeoutError) as e:
        raise _unreachable(address, timeout, field, timeout_hint, e) from None
    except NotAScheduler:
        raise
    except ValueError as e:                             # an address Dask still cannot use
        raise ValueError(_not_an_address(field, address, e)) from None


def _unreachable(address, timeout, field, timeout_hint, e):
    # why it failed: Dask's reason (or the probe's), or the option that sets the timeout (and the reason unless
    # it is a "Timed out ...", which says the same)
    why = clip_message(e, 200)
    if timeout_hint is not None:
        why = timeout_hint + ("" if "Timed out" in str(e) else f"; {dask_message(e)[:160]}")
    return SchedulerUnreachable(f"{_named(field, address)}: no Dask scheduler answered within {timeout:g} s "
                                f"({why}); start one with `dask scheduler` and workers with "
                                "`dask worker ADDRESS`")


def probe_scheduler(address, timeout, field):
    """Connect to a tcp:// ``address`` with a plain socket and read the first 16 bytes of Dask's handshake,
    all within ``timeout`` seconds. TimeoutError (a silent peer) or OSError (nothing listening) when no
    handshake came; NotAScheduler when the peer answered something else. Other transports (tls, ws, ucx) are
    left to Dask."""
    from distributed.comm.addressing import parse_address, parse_host_port
    scheme, loc = parse_address(address, strict=False)
    if scheme != "tcp":
        return
    host, port = parse_host_port(loc)
    deadline = time.monotonic() + timeout
    head = b""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        while len(head) < 16:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(16 - len(head))
            except (socket.timeout, TimeoutError):
                break
            if not chunk:
                break
            head += chunk
    if head and not _looks_like_handshake(head):
        raise NotAScheduler(f"{_named(field, address)}: the peer answered {quote(head[:16], 40)}, which is not "
                            "Dask's handshake; is this a Dask scheduler's address (e.g. tcp://host:8786)?")
    if len(head) < 16 and time.monotonic() >= deadline:
        raise TimeoutError(f"Timed out: the peer accepted the connection but sent no Dask handshake within "
                           f"{timeout:g} s")
    if not head:
        raise NotAScheduler(f"{_named(field, address)}: the peer closed the connection without Dask's "
                            "handshake; is this a Dask scheduler's address (e.g. tcp://host:8786)?")


def _looks_like_handshake(head):
    """Whether the first bytes of an answer can begin a Dask TCP message: a uint64 total length, then a uint64
    frame count and that many uint64 frame lengths (distributed.comm.tcp); fewer than 16 bytes: a stalled
    peer, judged on what came."""
    if len(head) < 16:
        return len(head) >= 8 and 16 <= struct.unpack("<Q", head[:8])[0] <= MAX_HANDSHAKE_BYTES
    total, frames = struct.unpack("<QQ", head)
    return 1 <= frames <= MAX_HANDSHAKE_FRAMES and 8 + 8 * frames <= total <= MAX_HANDSHAKE_BYTES


def wait_for_workers(client, timeout, field, address=None, timeout_hint=None):
    """Wait until the client's scheduler has a worker; SchedulerUnreachable after ``timeout`` seconds.
    ``address``: as the caller gave it (None: a cluster started here, "local")."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        hint = f" ({timeout_hint})" if timeout_hint else ""
        raise SchedulerUnreachable(f"{_named(field, address or 'local')}: the scheduler answered but has no "
                                   f"workers after {timeout:g} s{hint}; start some with "
                                   f"`dask worker {address or 'ADDRESS'}`") from None


def close_client(client, timeout):
    """Close a distributed.Client, errors ignored. One still trying to reconnect to a lost scheduler would log
    its cancelled attempt as an error with a traceback, which says nothing here: that log is silenced."""
    quiet = client.status != "running"
    logger = logging.getLogger("distributed.client")
    level = logger.level
    if quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        with contextlib.suppress(Exception):
            client.close(timeout=timeout)
    finally:
        if quiet:
            logger.setLevel(level)


def dask_message(e):
    """An exception from Dask as one line: its type and message, at most 300 characters."""
    return clip_message(" ".join(f"{type(e).__name__}: {e}".split()), 300)


# ----------------------------------------------------------------- what Dask delivered
def own_arrays(obj, _depth=0):
    """A copy of ``obj`` whose numpy arrays are fresh, aligned and writeable: also those inside dataclasses
    (every attribute, those set after __init__ too, e.g. a result's ``prerendered``), dicts, lists and tuples,
    to OWN_DEPTH levels. ``obj`` itself is left as it is; object arrays and other objects are shared.

    Why: data scattered by Dask, and a result coming back from a worker, can arrive in buffers that are
    read-only or not even 8-byte aligned, and NumPy then takes other loops whose last bits differ. Every
    task's inputs are copied once per process (core.parallel.engine.pinned_call) and every result of the app's tasks
    once (visualizer.serving.dask_runner), so a run gives the same bits in this process and on any worker.
    """
    if _depth > OWN_DEPTH:
        return obj
    if isinstance(obj, np.ndarray):
        return obj if obj.dtype == object else np.array(obj, copy=True, order="C")

    def own(x):
        return own_arrays(x, _depth + 1)
    if isinstance(obj, dict):
        out = copy.copy(obj)                            # its type, its entries replaced
        for k, v in obj.items():
            out[k] = own(v)
        return out
    if isinstance(obj, list):
        out = copy.copy(obj)
        out[:] = [own(x) for x in obj]
        return out
    if isinstance(obj, tuple):
        items = [own(x) for x in obj]
        return obj._make(items) if hasattr(obj, "_make") else tuple(items)     # a namedtuple stays one
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # every attribute, not only the fields __init__ takes; no __init__ or __post_init__ runs again
        state = getattr(obj, "__dict__", None)
        if state is None:                               # slots=True
            state = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        out = copy.copy(obj)
        for k, v in list(state.items()):
            object.__setattr__(out, k, own(v))          # frozen dataclasses too
        return out
    return obj
