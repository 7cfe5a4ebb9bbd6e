"""python -m visualizer serve [--host 127.0.0.1] [--port 8050] [--workers N] [--threads N] [--max-work UNITS]
                            [--max-sweep-work UNITS] [--max-sweeps N] [--scheduler ADDR|local|env] [--timeout S]
                            [--connection-limit N] [--channel-timeout S] [--cache-mb MB] [--debug] [--data-dir DIR]
python -m visualizer export SPEC|PRESET|RUN.npz --format gif|mp4|html|png --out FILE [...]

``serve`` runs the app under waitress, a production WSGI server (one process: its threads answer HTTP,
the computations run in worker processes, see visualizer/runner.py, or with ``--scheduler`` on a Dask cluster,
see visualizer/dask_runner.py); ``--debug`` uses Dash's development server instead (reloader, error pages).
SIGTERM and SIGINT stop it cleanly: workers killed (a local Dask cluster closed), exit status 0. Bad options, an
unreachable scheduler: one line, exit status 2; a cluster that cannot run the app's tasks or an internal failure:
exit status 1 (``--traceback`` shows where); core.cli.common and docs/cli.md.

Under hostile load (docs/serving.md, "Under load"): waitress keeps a connection without a thread until its
request is complete, so slow clients cost a socket, not a thread. Its defaults (100 connections, 120 s idle
timeout) let about 100 slow clients lock everyone out; here the defaults are CONNECTION_LIMIT (4,000)
connections, each closed after CHANNEL_TIMEOUT (15 s) without a byte, checked every few seconds, with
poll() instead of select() (select stops at file descriptor 1,024), and the soft limit of open files raised
to fit them (``raise_fd_limit``). At most half the HTTP threads wait for computations (jobs.JobRegistry's
``max_jobs``), so a page load always finds a thread.
"""
from __future__ import annotations

import atexit
import logging
import os
import resource
import signal
import sys

from core.cli.common import (INTERRUPTED, TERMINATED, ArgParser, add_traceback_option, parse_int, parse_number,
                             run_command, shown)
from core.constraints import Int, Real
from core.errors import EngineError, Terminated
from core.parallel.engine import CONNECT_TIMEOUT, TIMEOUT, quiet_dask_logs
from visualizer.app.factory import MAX_BODY_BYTES
from visualizer.app.factory import create_app
from visualizer.serving.dask_runner import LOCAL
from visualizer.serving.dask_runner import DaskRunner
from visualizer.serving.dask_runner import resolve_scheduler
from visualizer.serving.runner import DEFAULT_MAX_WORK
from visualizer.serving.runner import LocalRunner, ProcessRunner
from visualizer.serving.sweep_service import DEFAULT_MAX_WORK as SWEEP_MAX_WORK
from visualizer.serving.uploads import UploadStore
from visualizer.serving.cache import DEFAULT_CACHE_BYTES

log = logging.getLogger("visualizer")
CONNECTION_LIMIT = 4000     # open connections waitress accepts (its default, 100, is a lock-out at 100 slow clients)
CHANNEL_TIMEOUT = 15        # s a connection may stay silent (idle keep-alive, a stalled upload) before it is closed
FD_RESERVE = 256            # file descriptors kept for everything but the connections (workers, pipes, files)


def _stopper(app):
    """The SIGTERM / SIGINT handler: kill the workers first (the HTTP threads waiting for them end at once),
    then stop waitress (whose shutdown waits up to 5 s for busy threads)."""
    def stop(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)       # a second Ctrl-C must not interrupt the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        app.close()
        raise KeyboardInterrupt
    return stop


def _serve_parser():
    cores = os.cpu_count() or 1
    ap = ArgParser(prog="python -m visualizer [serve]",
                 description="Serve the Loss Landscape Navigator app (or: python -m visualizer export ...)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", default="8050", help="port (default 8050)")
    ap.add_argument("--workers", default=None,
                    help=f"worker processes for computations of any size (default: the number of cores, {cores}); "
                         "one more is kept for small requests; 0 computes in the server's threads; with "
                         "--scheduler local: the local Dask cluster's worker processes")
    ap.add_argument("--threads", default="32",
                    help="HTTP threads of the waitress server (default 32; a page waiting for a computation holds one)")
    ap.add_argument("--max-work", default=f"{DEFAULT_MAX_WORK:.0e}",
                    help=f"refuse requests estimated above this many work units (default {DEFAULT_MAX_WORK:.0e}, "
                         "about 10 s of computing here; 0: no limit)")
    ap.add_argument("--max-sweep-work", default=f"{SWEEP_MAX_WORK:.0e}",
                    help=f"refuse sweeps (the Sweep tab) estimated above this many units of runs x steps x rows x "
                         f"weights (default {SWEEP_MAX_WORK:.0e}, about 3 minutes of one CPU here; 0: no limit)")
    ap.add_argument("--max-sweeps", default="2",
                    help="sweeps running at once (default 2); a page asking for one more is told to wait")
    ap.add_argument("--scheduler", metavar="ADDR",
                    help="compute on this Dask scheduler (tcp://host:8786) instead of the server's worker processes; "
                         "local: a Dask cluster started here; env: the address in $DASK_SCHEDULER_ADDRESS (which the "
                         "server ignores without this option)")
    ap.add_argument("--timeout", default=None,
                    help=f"with --scheduler: seconds to reach the scheduler and find a worker "
                         f"(default {CONNECT_TIMEOUT:g})")
    ap.add_argument("--connection-limit", default=str(CONNECTION_LIMIT),
                    help=f"open HTTP connections accepted at once (default {CONNECTION_LIMIT:,}; the soft limit of "
                         "open files is raised to fit, or this lowered to it)")
    ap.add_argument("--channel-timeout", default=str(CHANNEL_TIMEOUT),
                    help=f"seconds a connection may stay silent before it is closed (default {CHANNEL_TIMEOUT}: "
                         "idle and stalled clients free their slot)")
    ap.add_argument("--cache-mb", default=str(DEFAULT_CACHE_BYTES // 2**20),
                    help=f"megabytes of results (arrays, as measured) and figures the server keeps "
                         f"(default {DEFAULT_CACHE_BYTES // 2**20}; with the default workers the whole server "
                         "stays under about 1 GB)")
    ap.add_argument("--debug", action="store_true", help="Dash's development server in debug mode (off by default)")
    ap.add_argument("--data-dir", help="a folder of CSV files that specs may name (paths relative to it); "
                                       "without it, CSV data comes only from uploads")
    add_traceback_option(ap)
    return ap


def _serve_args(argv):
    """The parsed and checked options: (args, port, workers, threads, max_work or None, scheduler, timeout);
    ValueError naming the option (serve: one line, exit status 2) else."""
    return _checked(_serve_parser().parse_args(argv))


def _checked(args):
    """(args, port, workers, threads, max_work or None, scheduler, timeout) of parsed options, checked."""
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        raise ValueError(f"--data-dir {args.data_dir}: not a folder")
    port = parse_int("--port", args.port, Int(1, 65535), "a TCP port")
    workers = None if args.workers is None else parse_int(
        "--workers", args.workers, Int(0, 64), "worker processes; 0 computes in the server's threads")
    threads = parse_int("--threads", args.threads, Int(4, 1024), "HTTP threads")
    max_work = _units("--max-work", args.max_work, "3e10")
    # the Sweep tab's limits ride on args (build_app reads them): None is no limit
    args.sweep_max_work = _units("--max-sweep-work", args.max_sweep_work, "2e11")
    args.sweeps_at_once = parse_int("--max-sweeps", args.max_sweeps, Int(1, 64), "sweeps running at once")
    args.connections = parse_int("--connection-limit", args.connection_limit, Int(10, 100_000), "open connections")
    args.channel_seconds = parse_int("--channel-timeout", args.channel_timeout, Int(2, 3600), "seconds")
    args.cache_bytes = parse_int("--cache-mb", args.cache_mb, Int(16, 1_000_000), "megabytes") * 2**20
    scheduler, timeout = _scheduler_args(args, workers)
    if scheduler is None and workers is None:
        workers = os.cpu_count() or 1
    return args, port, workers, threads, max_work, scheduler, timeout


def _units(option, text, example):
    """A work limit: a finite number of units >= 0; 0 is no limit (None)."""
    try:
        return parse_number(option, text, Real(0.0)) or None
    except ValueError:
        raise ValueError(f"{option} {shown(text)}: must be a number of work units >= 0 (0: no limit), "
                         f"e.g. {example}") from None


def _scheduler_args(args, workers):
    """(scheduler, timeout) of --scheduler / --timeout, checked; (None, None) without --scheduler."""
    if args.scheduler is None:
        if args.timeout is not None:
            raise ValueError(f"--timeout {args.timeout}: applies to --scheduler only")
        return None, None
    scheduler = resolve_scheduler(args.scheduler)
    if workers is not None and scheduler != LOCAL:
        raise ValueError(f"--workers {workers}: sets the size of the server's own workers or of --scheduler local; "
                         f"the cluster at {scheduler} has the workers it was given")
    if workers == 0:
        raise ValueError("--workers 0: a local Dask cluster needs at least 1 worker process")
    timeout = CONNECT_TIMEOUT if args.timeout is None else parse_number("--timeout", args.timeout, TIMEOUT,
                                                                          "seconds")
    return scheduler, timeout


def _runner(args, workers, max_work, scheduler, timeout, files):
    """(the runner, a few words on where computations run)."""
    # with --debug, Dash's reloader runs the app in a child process (WERKZEUG_RUN_MAIN set); the watching
    # parent never computes, so it gets no worker processes
    watcher = args.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    if scheduler is not None and not watcher:
        runner = _dask_runner(scheduler, workers, max_work, files, timeout)
        return runner, f"computations on {runner.description}"
    if workers and not watcher:
        return (ProcessRunner(workers=workers, max_work=max_work, files=files),
                f"{workers} worker processes + 1 for small requests")
    if not watcher:
        # one BLAS thread, as in the worker processes: the same bits, whatever --workers says (OpenBLAS's
        # setting is the process's; this process serves and computes)
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=1)
    return LocalRunner(max_work=max_work, files=files), "computations in the server's threads"


def build_app(args, workers, max_work, scheduler, timeout, warm=True):
    """(the app, a few words on where it computes) for the checked serve options (``warm``: as create_app)."""
    uploads = UploadStore(data_dir=args.data_dir)
    runner, where = _runner(args, workers, max_work, scheduler, timeout, uploads.files)
    threads = int(getattr(args, "threads", 32) or 32)
    app = create_app(runner=runner, uploads=uploads, warm=warm,
                     cache_bytes=getattr(args, "cache_bytes", DEFAULT_CACHE_BYTES), max_jobs=max(2, threads // 2),
                     sweep_limits=dict(max_work=getattr(args, "sweep_max_work", SWEEP_MAX_WORK),
                                       max_running=getattr(args, "sweeps_at_once", 2)))
    if scheduler is not None and hasattr(runner, "client"):     # sweeps (the Sweep tab) go to the same cluster
        app.services.scheduler = runner.client if scheduler == LOCAL else scheduler
    return app, where


def serve(argv):
    """``python -m visualizer serve``: its exit status (0 once stopped by SIGTERM or Ctrl-C)."""
    args = _serve_parser().parse_args(argv)

    def stopped(e):                                # while starting (the server itself stops with status 0)
        return ("terminated" if isinstance(e, Terminated) else "interrupted"), (
            TERMINATED if isinstance(e, Terminated) else INTERRUPTED)
    return run_command(lambda: _serve(*_checked(args)), traceback=args.traceback, failures=(EngineError,),
                       on_stop=stopped)


def _serve(args, port, workers, threads, max_work, scheduler, timeout):
    app, where = build_app(args, workers, max_work, scheduler, timeout)
    if args.debug:
        print(f"Loss Landscape Navigator on http://{args.host}:{port} (Dash development server, debug mode)",
              flush=True)
        try:
            app.run(host=args.host, port=port, debug=True)
        finally:
            app.close()
        return 0
    return _waitress(app, args.host, port, threads, where, max_work, connections=args.connections,
                     channel_timeout=args.channel_seconds)


def raise_fd_limit(want):
    """Raise this process's soft limit of open files to ``want`` (at most the hard limit); the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def waitress_options(threads, connections=CONNECTION_LIMIT, channel_timeout=CHANNEL_TIMEOUT):
    """waitress.create_server's options for a public-facing server (see the module docstring); the connection
    limit is lowered to what the open-files limit allows."""
    soft = raise_fd_limit(connections + threads + FD_RESERVE)
    if soft != resource.RLIM_INFINITY and connections > soft - threads - FD_RESERVE:
        fit = max(10, soft - threads - FD_RESERVE)
        log.warning("--connection-limit %d: the open-files limit is %d; accepting %d connections", connections,
                    soft, fit)
        connections = fit
    return dict(threads=threads, connection_limit=connections, channel_timeout=channel_timeout,
                cleanup_interval=max(1, min(5, channel_timeout // 2)), asyncore_use_poll=True, backlog=2048,
                max_request_body_size=MAX_BODY_BYTES, ident="loss-landscape-navigator")


def _waitress(app, host, port, threads, where, max_work, connections=CONNECTION_LIMIT,
              channel_timeout=CHANNEL_TIMEOUT):
    """Serve ``app`` under waitress until SIGTERM or Ctrl-C; 2 when it cannot listen."""
    from waitress import create_server

    try:
        server = create_server(app.server, host=host, port=port,
                               **waitress_options(threads, connections, channel_timeout))
    except (OSError, ValueError) as e:                     # address in use, unknown host, ...
        app.close()
        why = getattr(e, "strerror", None) or str(e)
        print(f"error: --host {host} --port {port}: cannot listen there ({why})", file=sys.stderr)
        return 2
    handler = _stopper(app)
    signal.signal(signal.SIGTERM, handler)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:   # a background job keeps ignoring Ctrl-C
        signal.signal(signal.SIGINT, handler)
    print(f"Loss Landscape Navigator on http://{host}:{port} (waitress, {threads} threads, {connections:,} "
          f"connections, {channel_timeout} s idle timeout; {where}; max work {max_work or 0:.0e})", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)       # a second Ctrl-C must not interrupt the cleanup
        app.close()                                        # kill the workers: waiting requests end at once
        server.close()
        print("stopped", flush=True)
    _exit_now(0)
    return 0


def _exit_now(code):
    """Leave the process after a stop: the exit handlers run (temporary folders removed, multiprocessing's
    children joined), but not the interpreter's teardown of the heap, which took 1-3 s here with results and
    figures in memory (docs/serving.md, "Under load": shutdown within about 3 s with work running)."""
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    logging.shutdown()
    os._exit(code)


def _dask_runner(scheduler, workers, max_work, files, timeout):
    """A DaskRunner for ``serve --scheduler``; SchedulerUnreachable or ValueError (serve: one line, exit status
    2), EngineError (a cluster that cannot run the app's tasks: exit status 1) when it cannot start."""
    quiet_dask_logs()
    return DaskRunner(scheduler, workers=workers if scheduler == LOCAL else None, max_work=max_work,
                      files=files, timeout=timeout)
