"""What an export reads: a preset name, a .json spec file or a saved .npz run -> ExperimentResult, and the
checks that can be made before a possibly long run (labels, panels a run can draw).

    result = read_input("four_optimizers", moving=False, progress=True)
    check_optimizers(["SGD"], spec_labels("four_optimizers"))

Errors are UsageError naming the option (SPEC, --optimizers, --panels, --moving).
"""
from __future__ import annotations

import os

from visualizer.plotdata import panels as panel_data
from visualizer.errors import PanelUnavailable, UsageError
from core.cli.progress import StageBar
import core


def read_input(src, moving=False, progress=False):
    """A preset name, a .json spec file or a saved .npz run -> ExperimentResult.

    With ``moving`` a spec is run with ``grid.moving = True``; a saved run without a
    moving landscape is an error. Errors are UsageError naming SPEC.
    """
    src = os.fspath(src)
    if src.lower().endswith(".npz"):
        try:
            result = core.load_result(src)
        except ValueError as e:
            raise UsageError("SPEC", src, _strip_prefix(str(e))) from None
        if moving and result.moving is None:
            raise UsageError("--moving", f"({src})", "this saved run has no moving landscape; "
                             "re-run its spec with --moving or grid.moving = true")
        return result
    spec = read_spec(src)
    if moving:
        spec.grid.moving = True
    try:
        return run_spec(spec, progress=progress)
    except ValueError as e:                       # checks that need the data: a CSV's content, the budgets
        raise UsageError("SPEC", src, str(e)) from None


def read_spec(src):
    try:
        if src.lower().endswith(".json"):
            return core.ExperimentSpec.load(src)
        if src in core.ExperimentSpec.presets():
            return core.ExperimentSpec.preset(src)
    except (ValueError, OSError, TypeError) as e:
        raise UsageError("SPEC", src, _strip_prefix(str(e))) from None
    raise UsageError("SPEC", src, "not a preset (" + ", ".join(core.ExperimentSpec.presets())
                     + "), a .json spec file or a saved .npz run")


def _strip_prefix(msg):
    # core's messages start with "run file 'x': ..." / "spec file 'x': ..."; the option already names it
    for p in ("run file ", "spec file "):
        if msg.startswith(p) and "': " in msg:
            return msg.split("': ", 1)[1]
    return msg


def run_spec(spec, progress=False):
    with StageBar(enabled=progress) as bar:          # silent (and safe) when stderr is not a terminal
        return core.run_experiment(spec, progress=bar)


def spec_labels(src):
    """Labels of a spec or preset without running it (for early --optimizers checks); None for runs."""
    if os.fspath(src).lower().endswith(".npz"):
        return None
    return read_spec(os.fspath(src)).labels()


def check_optimizers(labels, allowed):
    if labels is None:
        return None
    bad = [l for l in labels if l not in allowed]
    if bad or not labels:
        raise UsageError("--optimizers", ",".join(labels) if labels else "''",
                         f"{'unknown ' + ', '.join(repr(b) for b in bad) if bad else 'empty'}; "
                         f"allowed are {','.join(allowed)}")
    return list(labels)


def check_slice_optimizer(label, allowed):
    if label is not None and label not in allowed:
        raise UsageError("--slice-optimizer", label, f"unknown; allowed are {','.join(allowed)}")


def check_spec_panels(src, panels):
    """Before running a spec: the sharpness panel needs curvature.enabled (a saved run is checked once loaded)."""
    if os.fspath(src).lower().endswith(".npz") or "sharpness" not in panels:
        return
    if not read_spec(os.fspath(src)).curvature.enabled:
        raise UsageError("--panels", ",".join(panels), "the sharpness panel needs curvature: this spec has "
                         "curvature.enabled false; set it to true in the spec")


def check_result_panels(result, opts):
    """The panels, --optimizers and --slice-optimizer against a loaded or computed result."""
    labels = list(result.trajectories)
    check_optimizers(opts.optimizers, labels)
    check_slice_optimizer(opts.slice_optimizer, opts.optimizers or labels)
    try:
        panel_data.check_panels(result, opts.panels, opts.optimizers)
    except PanelUnavailable as e:
        raise UsageError("--panels", ",".join(opts.panels), f"the {e.panel} panel cannot be drawn: {e.reason}") \
            from None
