"""python -m visualizer serve [--host 127.0.0.1] [--port 8050] [--debug]
python -m visualizer export SPEC|PRESET|RUN.npz --format gif|mp4|html|png --out FILE [...]"""
from __future__ import annotations

import argparse
import os
import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "export":
        from .export import main as export_main
        return export_main(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    ap = argparse.ArgumentParser(prog="python -m visualizer [serve]",
                                 description="Serve the Loss Landscape Navigator app (or: python -m visualizer export ...)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    ap.add_argument("--debug", action="store_true", help="Dash debug mode (off by default)")
    ap.add_argument("--data-dir", help="a folder of CSV files that specs may name (paths relative to it); "
                                       "without it, CSV data comes only from uploads")
    args = ap.parse_args(argv)
    if not 1 <= args.port <= 65535:
        ap.error(f"--port {args.port}: must be in [1, 65535]")
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        ap.error(f"--data-dir {args.data_dir}: not a folder")
    from .app import create_app
    app = create_app(data_dir=args.data_dir)
    print(f"Loss Landscape Navigator on http://{args.host}:{args.port}", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
