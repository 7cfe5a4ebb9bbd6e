"""python -m visualizer serve [--host 127.0.0.1] [--port 8050] [--workers N] [--threads N] [--max-work UNITS] [--debug]
python -m visualizer export SPEC|PRESET|RUN.npz --format gif|mp4|html|png --out FILE [...]

``serve`` runs the app under waitress, a production WSGI server (one process: its threads answer HTTP,
the computations run in worker processes, see visualizer/runner.py); ``--debug`` uses Dash's development
server instead (reloader, error pages). SIGTERM and SIGINT stop it cleanly: workers killed, exit status 0.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys


class _Parser(argparse.ArgumentParser):
    def error(self, message):                      # one line, exit status 2 (like the core CLI)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def _stop(signum, frame):
    raise KeyboardInterrupt


def _serve_parser():
    from .runner import DEFAULT_MAX_WORK
    cores = os.cpu_count() or 1
    ap = _Parser(prog="python -m visualizer [serve]",
                 description="Serve the Loss Landscape Navigator app (or: python -m visualizer export ...)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", default="8050", help="port (default 8050)")
    ap.add_argument("--workers", default=str(cores),
                    help=f"worker processes for computations of any size (default: the number of cores, {cores}); "
                         "one more is kept for small requests; 0 computes in the server's threads")
    ap.add_argument("--threads", default="32",
                    help="HTTP threads of the waitress server (default 32; a page waiting for a computation holds one)")
    ap.add_argument("--max-work", default=f"{DEFAULT_MAX_WORK:.0e}",
                    help=f"refuse requests estimated above this many work units (default {DEFAULT_MAX_WORK:.0e}, "
                         "about 10 s of computing here; 0: no limit)")
    ap.add_argument("--debug", action="store_true", help="Dash's development server in debug mode (off by default)")
    ap.add_argument("--data-dir", help="a folder of CSV files that specs may name (paths relative to it); "
                                       "without it, CSV data comes only from uploads")
    return ap


def _serve_args(argv):
    """The parsed and checked options: (args, port, workers, threads, max_work or None); one line and exit 2 else."""
    ap = _serve_parser()
    args = ap.parse_args(argv)
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        ap.error(f"--data-dir {args.data_dir}: not a folder")

    def integer(name, text, lo, hi, what):
        try:
            v = int(text)
        except ValueError:
            v = None
        if v is None or not lo <= v <= hi:
            ap.error(f"--{name} {text}: must be an integer in [{lo}, {hi}] ({what})")
        return v
    port = integer("port", args.port, 1, 65535, "a TCP port")
    workers = integer("workers", args.workers, 0, 64, "worker processes; 0 computes in the server's threads")
    threads = integer("threads", args.threads, 4, 1024, "HTTP threads")
    try:
        max_work = float(args.max_work)
    except ValueError:
        max_work = -1.0
    if not (max_work >= 0 and max_work != float("inf")):
        ap.error(f"--max-work {args.max_work}: must be a number of work units >= 0 (0: no limit), e.g. 3e10")
    return args, port, workers, threads, max_work or None


def serve(argv):
    args, port, workers, threads, max_work = _serve_args(argv)
    from .app import create_app
    from .runner import LocalRunner, ProcessRunner
    from .uploads import UploadStore
    uploads = UploadStore(data_dir=args.data_dir)
    # with --debug, Dash's reloader runs the app in a child process (WERKZEUG_RUN_MAIN set); the watching
    # parent never computes, so it gets no worker processes
    watcher = args.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    use_pool = workers and not watcher
    runner = (ProcessRunner(workers=workers, max_work=max_work, files=uploads.files) if use_pool
              else LocalRunner(max_work=max_work, files=uploads.files))
    app = create_app(runner=runner, uploads=uploads)
    url = f"http://{args.host}:{port}"
    if args.debug:
        print(f"Loss Landscape Navigator on {url} (Dash development server, debug mode)", flush=True)
        try:
            app.run(host=args.host, port=port, debug=True)
        finally:
            app.close()
        return 0
    return _waitress(app, args.host, port, threads, workers, max_work)


def _waitress(app, host, port, threads, workers, max_work):
    """Serve ``app`` under waitress until SIGTERM or Ctrl-C; 2 when it cannot listen."""
    from waitress import create_server

    from .app import MAX_BODY_BYTES
    try:
        server = create_server(app.server, host=host, port=port, threads=threads,
                               max_request_body_size=MAX_BODY_BYTES, ident="loss-landscape-navigator")
    except (OSError, ValueError) as e:                     # address in use, unknown host, ...
        app.close()
        why = getattr(e, "strerror", None) or str(e)
        print(f"error: --host {host} --port {port}: cannot listen there ({why})", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop)
    print(f"Loss Landscape Navigator on http://{host}:{port} (waitress, {threads} threads; {workers} worker "
          f"processes{' + 1 for small requests' if workers else ''}; max work {max_work or 0:.0e})", flush=True)
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
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "export":
        from .export import main as export_main
        return export_main(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    return serve(argv)


if __name__ == "__main__":
    sys.exit(main())
