"""python -m visualizer [serve] [options] | python -m visualizer export SPEC|PRESET|RUN.npz [options]

The console script ``landscape-app`` is the same command. ``serve`` (the default) is visualizer.serving.serve,
``export`` is visualizer.export.cli.
"""
from __future__ import annotations

import sys

from visualizer.export.cli import main as export_main
from visualizer.serving.serve import serve


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "export":
        return export_main(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    return serve(argv)
