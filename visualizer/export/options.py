"""The exporter's options: their ranges (declared once), ExportOptions and its validation, the panels.

    opts = ExportOptions(out="four.gif", frames=60, panels=("landscape", "sharpness")).validate()

Every range is in EXPORT_CONSTRAINTS (the command line's help reads it; the height-scale options are the
app's view options, visualizer.plotdata.view.VIEW_CONSTRAINTS). Bad values raise UsageError naming the option,
the value and what is allowed.

Panels (``--panels``): ``landscape`` (the 3D surface with trails and balls), ``sharpness``, ``curves`` (the
training loss) and ``slices`` (the 1-D slices of one run, ``--slice-optimizer``), side by side in one frame
of ``--size``: the whole frame, within the usual size caps, at least MIN_PANEL_WIDTH pixels a panel.
Without ``--size`` one panel is 640x480 and each more panel adds 480 pixels of width (at most 1920): the
command line passes ``size=None`` (default_size); ExportOptions' own default stays 640x480.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from core.constraints import Choice, Int, Real

from visualizer.plotdata import view as V
from visualizer.plotdata.panels import PANEL_WIDTH, PANELS
from visualizer.errors import UsageError

FORMATS = ("gif", "mp4", "html", "png")
MIN_SIZE, MAX_SIZE = (160, 120), (1920, 1080)
MAX_FPS = 60
SCALES = V.SCALES
MIN_PANEL_WIDTH = 200
# Every option's range, declared once: ExportOptions.validate and the command line's help read it
# (the height-scale options are the app's view options, visualizer.plotdata.view.VIEW_CONSTRAINTS).
EXPORT_CONSTRAINTS = {
    "--format": Choice(FORMATS),
    "--frames": V.VIEW_CONSTRAINTS["n_frames"],
    "--fps": Int(1, MAX_FPS),
    "--width": Int(MIN_SIZE[0], MAX_SIZE[0]),
    "--height": Int(MIN_SIZE[1], MAX_SIZE[1]),
    "--elev": Real(-90, 90),
    "--azim": Real(-360, 360),
    "--rotate": Real(-720, 720),
    "--scale": V.VIEW_CONSTRAINTS["scale"],
    "--clip": V.VIEW_CONSTRAINTS["clip_percentile"],
    "--exaggerate": V.VIEW_CONSTRAINTS["exaggerate"],
    "--step": Int(0, 10**9),
    "--panels": Choice(PANELS),
}
SIZE_RULE = (f"must be WxH pixels with W in [{MIN_SIZE[0]}, {MAX_SIZE[0]}] and H in [{MIN_SIZE[1]}, {MAX_SIZE[1]}]")


def default_size(panels):
    """640x480 for one panel; each more panel adds its width (PANEL_WIDTH), at most MAX_SIZE's width."""
    return min(MAX_SIZE[0], sum(PANEL_WIDTH[p] for p in panels)), 480


def parse_panels(text):
    """'landscape,sharpness' -> ("landscape", "sharpness"); UsageError for unknown, repeated or no panels."""
    names = tuple(p.strip() for p in str(text).split(","))
    bad = [p for p in names if p not in PANELS]
    if bad or not any(names):
        what = f"unknown {', '.join(repr(b) for b in bad)}" if any(bad) else "empty"
        raise UsageError("--panels", text or "''", f"{what}; allowed are {','.join(PANELS)} (comma-separated)")
    if len(set(names)) != len(names):
        raise UsageError("--panels", text, "a panel is named twice; name each at most once")
    return names


@dataclass
class ExportOptions:
    out: str = "landscape.gif"
    format: str | None = None          # gif | mp4 | html | png; None: from the extension of ``out``
    frames: int = 100                  # animation frames (ranges: EXPORT_CONSTRAINTS)
    fps: int = 20                      # frames per second
    size: tuple | None = (640, 480)    # (width, height) of the whole frame in pixels; None: default_size(panels)
    elev: float | None = None          # camera elevation, degrees; None: 30 (HTML: the app's camera)
    azim: float | None = None          # camera azimuth, degrees; None: -60 (HTML: the app's camera)
    rotate: float = 0.0                # camera turn over the whole animation, degrees
    scale: str = V.DEFAULT_SCALE       # height scale: linear | log | sqrt (default log, as the app)
    clip: float = 100.0                # clip heights above this percentile of the surface
    exaggerate: float = 1.0            # vertical exaggeration
    moving: bool = False               # the landscape follows the weights (needs result.moving)
    optimizers: list | None = None    # labels to show; None: all
    title: str | None = None           # None: the spec's name
    step: int | None = None            # PNG: the training step shown; None: the last
    progress: bool = True              # a progress bar on stderr while frames render
    panels: tuple = ("landscape",)     # side by side, in this order (PANELS)
    slice_optimizer: str | None = None  # the slices panel's run; None: the first shown

    @property
    def camera(self):
        return (30.0 if self.elev is None else float(self.elev), -60.0 if self.azim is None else float(self.azim))

    @property
    def fmt(self):
        return self.format or os.path.splitext(self.out)[1].lower().lstrip(".")

    @property
    def has_landscape(self):
        return "landscape" in self.panels

    def view(self):
        return V.ViewOptions(scale=self.scale, clip_percentile=self.clip, exaggerate=self.exaggerate,
                             n_frames=self.frames, optimizers=self.optimizers, moving=self.moving)

    def validate(self):
        """Raise UsageError naming the option, the value and what is allowed."""
        fmt = self.fmt
        if fmt not in FORMATS and self.format is None:
            raise UsageError("--format", "(none)", f"give --format {'|'.join(FORMATS)} or an --out "
                             f"ending in .{', .'.join(FORMATS)}")
        _check("--format", self.format or fmt)
        self._validate_out()
        _check("--frames", self.frames)
        _check("--fps", self.fps)
        self._validate_panels()
        self._validate_size(fmt)
        self._validate_camera(fmt)
        _check("--scale", self.scale)
        _check("--clip", self.clip)
        _check("--exaggerate", self.exaggerate)
        if self.title is not None and len(self.title) > 200:
            raise UsageError("--title", repr(self.title[:20] + "..."), "must be at most 200 characters")
        if self.step is not None:
            if fmt != "png":
                raise UsageError("--step", self.step, "only applies to --format png")
            _check("--step", self.step)
        return self

    def _validate_out(self):
        out = os.fspath(self.out)
        folder = os.path.dirname(os.path.abspath(out))
        if not out or out.endswith(os.sep) or os.path.isdir(out):
            raise UsageError("--out", out, "must be a file path, not a folder")
        if not os.path.isdir(folder):
            raise UsageError("--out", out, f"folder {folder} does not exist")

    def _validate_panels(self):
        p = self.panels
        self.panels = parse_panels(p if isinstance(p, str) else ",".join(p))
        if self.slice_optimizer is not None and "slices" not in self.panels:
            raise UsageError("--slice-optimizer", self.slice_optimizer, "only applies with the slices panel "
                             "(--panels ...,slices)")

    def _validate_size(self, fmt):
        if self.size is None:
            self.size = default_size(self.panels)
        w, h = self.size
        if not (EXPORT_CONSTRAINTS["--width"].allows(w) and EXPORT_CONSTRAINTS["--height"].allows(h)):
            raise UsageError("--size", f"{w}x{h}", SIZE_RULE)
        n = len(self.panels)
        if n > 1 and w < MIN_PANEL_WIDTH * n:
            raise UsageError("--size", f"{w}x{h}", f"{n} panels need a width of at least {MIN_PANEL_WIDTH * n} "
                             f"pixels ({MIN_PANEL_WIDTH} a panel)")
        if fmt == "mp4" and (w % 2 or h % 2):
            raise UsageError("--size", f"{w}x{h}", "MP4 (H.264, yuv420p) needs an even width and height")

    def _validate_camera(self, fmt):
        if self.elev is not None:
            _check("--elev", self.elev)
        if self.azim is not None:
            _check("--azim", self.azim)
        _check("--rotate", self.rotate)
        if fmt == "html" and self.rotate:
            raise UsageError("--rotate", f"{self.rotate:g}", "not available for --format html "
                             "(the page's camera turns with the mouse); use gif or mp4")


def _check(option, v):
    c = EXPORT_CONSTRAINTS[option]
    if not c.allows(v):
        raise UsageError(option, v, c.must())


def parse_size(s):
    """``WxH`` -> (W, H) pixels; UsageError naming --size else."""
    allowed = SIZE_RULE + ", e.g. 640x480"
    parts = s.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError("--size", s, allowed)
    return int(parts[0]), int(parts[1])
