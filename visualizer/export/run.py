"""One export: a result and ExportOptions in, one file out (written atomically), a Summary back."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from core.fileio import atomic_path

from visualizer.export import gif

from visualizer.export import mp4

from visualizer.export import png
from visualizer.export.html import write_html
from visualizer.export.inputs import check_result_panels
from visualizer.export.render import render_frames, render_still
from visualizer.export.scene import build_scene
from visualizer.errors import UsageError


@dataclass
class Summary:
    path: str
    format: str
    bytes: int
    frames: int
    seconds: float
    size: tuple

    def line(self):
        mb = self.bytes / 1e6
        sz = f"{self.bytes / 1e3:.1f} kB" if mb < 1 else f"{mb:.2f} MB"
        size = (f"{self.size[1]} px high, the window's width" if self.format == "html"
                else f"{self.size[0]}x{self.size[1]}")       # an HTML page fills its window's width
        return (f"wrote {self.path}: {sz}, {self.frames} frame{'s' if self.frames != 1 else ''}, "
                f"{size}, {self.seconds:.1f} s")


def export(result, opts, t0=None):
    """Write ``opts.out`` from ``result``; return a Summary. Raises UsageError / EncoderError."""
    t0 = time.perf_counter() if t0 is None else t0
    opts.validate()
    fmt = opts.fmt
    check_result_panels(result, opts)
    if opts.moving and result.moving is None:
        raise UsageError("--moving", "", "this result has no moving landscape (run the spec with grid.moving = true)")
    if fmt == "mp4":
        mp4.ffmpeg_exe()                 # fail before rendering
    out = os.path.abspath(os.fspath(opts.out))
    with atomic_path(out) as tmp:           # nothing is left behind on failure, Ctrl-C or SIGTERM
        n = _write(result, opts, fmt, tmp)
    return Summary(path=os.fspath(opts.out), format=fmt, bytes=os.path.getsize(out), frames=n,
                   seconds=time.perf_counter() - t0, size=tuple(opts.size))


def _write(result, opts, fmt, path):
    """Render and write one format into ``path``; returns the number of frames."""
    if fmt == "html":
        return write_html(result, opts, path)
    scene = build_scene(result, opts)
    if fmt == "png":
        png.write_png(render_still(scene, opts), path)
    elif fmt == "gif":
        gif.write_gif(render_frames(scene, opts, "gif"), path, opts.fps, len(scene.steps), scene.colors)
    else:
        mp4.write_mp4(render_frames(scene, opts, "mp4"), path, opts.fps, opts.size)
    return len(scene.steps)
