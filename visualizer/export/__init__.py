"""Export a loss-landscape animation or still: GIF, MP4 (matplotlib), HTML (plotly), PNG.

    python -m visualizer export SPEC|PRESET|RUN.npz --format gif|mp4|html|png --out FILE
        [--frames N] [--fps N] [--size WxH] [--elev DEG] [--azim DEG] [--rotate DEG]
        [--scale linear|log|sqrt] [--clip P] [--exaggerate X] [--moving]
        [--optimizers a,b,...] [--title TEXT] [--step N] [--quiet]
        [--panels landscape,sharpness,curves,slices] [--slice-optimizer LABEL]

    from visualizer.export import ExportOptions

    from visualizer.export import export
    summary = export(result, ExportOptions(out="run.gif", frames=60))

One idea a file: ``options`` (the options, their ranges, the panels), ``inputs`` (reading a preset, spec or
run; checks before a long run), ``render`` (matplotlib frames, in a forked pool when costly), the four
writers ``gif``, ``mp4``, ``png``, ``html`` (with ``html_panels``: several panels as plotly subplots),
``run`` (one export, written atomically) and ``cli`` (the command line).

Panels (``--panels``): the landscape, the sharpness, the training loss (``curves``) and the 1-D slices,
side by side in one frame of ``--size`` (the whole frame), each with a step marker that moves with the
balls; see visualizer/export/options.py.

Pictures (the landscape panel): the surface is drawn once with a colour map and a colour bar labelled
with the height scale in use (visualizer.plotdata.view: the same heights, labels, colours
and step grid as the app); each optimizer's trail and ball are drawn above it in
its own colour; the legend carries each optimizer's true training loss at the
shown step, and a counter shows the step. Balls sit where the app puts them
(visualizer.plotdata.frames: the one frame model and height rule); the legend gives the
true loss of the weights, which may differ when the plane misses part of the path.

Speed: every frame's data is computed before drawing. With a fixed camera and a
fixed surface, the background (surface, axes, colour bar) is rendered once and
each frame only draws the trails, balls, legend, counter and the panels' step markers over a copy of
it (the slices panel redraws its axes: its lines change with the step). With --rotate or --moving the
whole figure is drawn per frame.

Files are written to a temporary file in the target folder and renamed, so a
failed export leaves nothing behind. The same inputs and options give the same
bytes (no timestamps; MP4 with ffmpeg's bitexact flags and no metadata).
"""
from __future__ import annotations

from visualizer.export.cli import main
from visualizer.export.options import ExportOptions
from visualizer.export.run import Summary, export

__all__ = ["export", "ExportOptions", "Summary", "main"]
