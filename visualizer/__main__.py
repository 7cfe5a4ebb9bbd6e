"""python -m visualizer serve|export: see visualizer.cli."""
import sys

from visualizer.cli import main

sys.exit(main())
