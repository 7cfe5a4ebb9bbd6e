"""python -m core run | presets | sweep: see core.cli.main (the console script ``landscape``)."""
import sys

from core.cli.main import main

sys.exit(main())
