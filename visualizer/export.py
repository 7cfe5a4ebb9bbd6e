"""Export a loss-landscape animation or still: GIF, MP4 (matplotlib 3D), HTML (plotly), PNG.

    python -m visualizer export SPEC|PRESET|RUN.npz --format gif|mp4|html|png --out FILE
        [--frames N] [--fps N] [--size WxH] [--elev DEG] [--azim DEG] [--rotate DEG]
        [--scale linear|log|sqrt] [--clip P] [--exaggerate X] [--moving]
        [--optimizers a,b,...] [--title TEXT] [--step N] [--quiet]

    from visualizer.export import ExportOptions, export
    summary = export(result, ExportOptions(out="run.gif", frames=60))

Pictures: the surface is drawn once with a colour map and a colour bar labelled
with the height scale in use (visualizer.view: the same heights, labels, colours
and step grid as the app); each optimizer's trail and ball are drawn above it in
its own colour; the legend carries each optimizer's true training loss at the
shown step, and a counter shows the step. Balls sit where the app puts them
(visualizer.frames: the one frame model and height rule); the legend gives the
true loss of the weights, which may differ when the plane misses part of the path.

Speed: every frame's data is computed before drawing. With a fixed camera and a
fixed surface, the background (surface, axes, colour bar) is rendered once and
each frame only draws the trails, balls, legend and counter over a copy of it.
With --rotate or --moving the whole figure is drawn per frame.

Files are written to a temporary file in the target folder and renamed, so a
failed export leaves nothing behind. The same inputs and options give the same
bytes (no timestamps; MP4 with ffmpeg's bitexact flags and no metadata).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from core.fileio import atomic_path

from . import view as V
from .scene import Renderer, build_scene
from .view import UsageError
from core.constraints import Choice, Int, Real

FORMATS = ("gif", "mp4", "html", "png")
MIN_SIZE, MAX_SIZE = (160, 120), (1920, 1080)
MAX_FPS = 60
SCALES = V.SCALES
# Every option's range, declared once: ExportOptions.validate and the command line's help read it
# (the height-scale options are the app's view options, visualizer.view.VIEW_CONSTRAINTS).
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
}
SIZE_RULE = (f"must be WxH pixels with W in [{MIN_SIZE[0]}, {MAX_SIZE[0]}] and H in [{MIN_SIZE[1]}, {MAX_SIZE[1]}]")


class EncoderError(RuntimeError):
    """The encoder (ffmpeg) is missing or failed."""


@dataclass
class ExportOptions:
    out: str = "landscape.gif"
    format: str | None = None          # gif | mp4 | html | png; None: from the extension of ``out``
    frames: int = 100                  # animation frames (ranges: EXPORT_CONSTRAINTS)
    fps: int = 20                      # frames per second
    size: tuple = (640, 480)           # (width, height) in pixels
    elev: float | None = None          # camera elevation, degrees; None: 30 (HTML: the app's camera)
    azim: float | None = None          # camera azimuth, degrees; None: -60 (HTML: the app's camera)
    rotate: float = 0.0                # camera turn over the whole animation, degrees
    scale: str = "linear"              # height scale: linear | log | sqrt
    clip: float = 100.0                # clip heights above this percentile of the surface
    exaggerate: float = 1.0            # vertical exaggeration
    moving: bool = False               # the landscape follows the weights (needs result.moving)
    optimizers: list | None = None    # labels to show; None: all
    title: str | None = None           # None: the spec's name
    step: int | None = None            # PNG: the training step shown; None: the last
    progress: bool = True              # a progress bar on stderr while frames render

    @property
    def camera(self):
        return (30.0 if self.elev is None else float(self.elev), -60.0 if self.azim is None else float(self.azim))

    @property
    def fmt(self):
        return self.format or os.path.splitext(self.out)[1].lower().lstrip(".")

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
        out = os.fspath(self.out)
        folder = os.path.dirname(os.path.abspath(out))
        if not out or out.endswith(os.sep) or os.path.isdir(out):
            raise UsageError("--out", out, "must be a file path, not a folder")
        if not os.path.isdir(folder):
            raise UsageError("--out", out, f"folder {folder} does not exist")
        _check("--frames", self.frames)
        _check("--fps", self.fps)
        w, h = self.size
        if not (EXPORT_CONSTRAINTS["--width"].allows(w) and EXPORT_CONSTRAINTS["--height"].allows(h)):
            raise UsageError("--size", f"{w}x{h}", SIZE_RULE)
        if fmt == "mp4" and (w % 2 or h % 2):
            raise UsageError("--size", f"{w}x{h}", "MP4 (H.264, yuv420p) needs an even width and height")
        if self.elev is not None:
            _check("--elev", self.elev)
        if self.azim is not None:
            _check("--azim", self.azim)
        _check("--rotate", self.rotate)
        if fmt == "html" and self.rotate:
            raise UsageError("--rotate", f"{self.rotate:g}", "not available for --format html "
                             "(the page's camera turns with the mouse); use gif or mp4")
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


def _check(option, v):
    c = EXPORT_CONSTRAINTS[option]
    if not c.allows(v):
        raise UsageError(option, v, c.must())


# ---------------------------------------------------------------- inputs
def read_input(src, moving=False, progress=False):
    """A preset name, a .json spec file or a saved .npz run -> ExperimentResult.

    With ``moving`` a spec is run with ``grid.moving = True``; a saved run without a
    moving landscape is an error. Errors are UsageError naming SPEC.
    """
    import core
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
    spec = _read_spec(src)
    if moving:
        spec.grid.moving = True
    try:
        return run_spec(spec, progress=progress)
    except ValueError as e:                       # checks that need the data: a CSV's content, the budgets
        raise UsageError("SPEC", src, str(e)) from None


def _read_spec(src):
    import core
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
    import core
    from core.cli import StageBar
    with StageBar(enabled=progress) as bar:          # silent (and safe) when stderr is not a terminal
        return core.run_experiment(spec, progress=bar)


def spec_labels(src):
    """Labels of a spec or preset without running it (for early --optimizers checks); None for runs."""
    if os.fspath(src).lower().endswith(".npz"):
        return None
    return _read_spec(os.fspath(src)).labels()


def check_optimizers(labels, allowed):
    if labels is None:
        return None
    bad = [l for l in labels if l not in allowed]
    if bad or not labels:
        raise UsageError("--optimizers", ",".join(labels) if labels else "''",
                         f"{'unknown ' + ', '.join(repr(b) for b in bad) if bad else 'empty'}; "
                         f"allowed are {','.join(allowed)}")
    return list(labels)


# ---------------------------------------------------------------- writers
MAX_WORKERS = 2        # this kind of machine has 2 cores; the encoder needs some too
_WORKER = None


def _worker_init(scene, opts):
    """A forked render worker: Ctrl-C is the parent's to handle (it ends the pool); SIGTERM, which the
    pool sends on shutdown, ends the worker quietly (the parent's handler would raise in it)."""
    import signal
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER = Renderer(scene, opts)


def _worker_render(k):
    return _WORKER.render(k)


def n_workers(scene, opts, n):
    """Processes to render with: 1 for the cheap fixed-camera path (each frame only redraws the trails
    and text over a saved background) or few frames; else up to MAX_WORKERS (a forked pool)."""
    if n < 8 or (not scene.moving and not opts.rotate):
        return 1
    import multiprocessing
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def render_frames(scene, opts, desc="frames", workers=None):
    """Yield every frame of ``scene`` in order as (H, W, 3) uint8 arrays, with a progress bar.

    A frame depends only on its index (not on the frames before it), so the frames
    are identical however many processes render them."""
    n = len(scene.steps)
    workers = n_workers(scene, opts, n) if workers is None else workers
    from core.cli import StageBar
    with StageBar(enabled=opts.progress, unit="frame") as bar:
        if workers > 1:
            import multiprocessing
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers, initializer=_worker_init, initargs=(scene, opts)) as pool:
                for k, img in enumerate(pool.imap(_worker_render, range(n), chunksize=2)):
                    yield img
                    bar(desc, k + 1, n)
        else:
            r = Renderer(scene, opts)
            try:
                for k in range(n):
                    yield r.render(k)
                    bar(desc, k + 1, n)
            finally:
                r.close()


def write_gif(frames, path, fps, n, colors=()):
    """Quantize every frame to one palette (median cut of the first and last frames, plus the exact
    optimizer colours, black and white; no dithering), so unchanged pixels stay identical; Pillow then
    stores each frame's changed box with unchanged pixels transparent. Deterministic."""
    from PIL import Image
    ims = list(frames)
    fixed = [(0, 0, 0), (255, 255, 255)] + [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colors]
    sample = np.concatenate([ims[0], ims[-1]], axis=0)
    q = Image.fromarray(sample).quantize(colors=255 - len(fixed), method=Image.Quantize.MEDIANCUT,
                                         dither=Image.Dither.NONE)
    rgb = q.getpalette()[:3 * (255 - len(fixed))]
    rgb += [v for c in fixed for v in c]
    pal = Image.new("P", (1, 1))
    pal.putpalette(rgb + [0, 0, 0] * (256 - len(rgb) // 3))
    ps = [Image.fromarray(f).quantize(palette=pal, dither=Image.Dither.NONE) for f in ims]
    del ims
    duration = max(20, int(round(1000 / fps / 10)) * 10)     # GIF delays are in 1/100 s
    with open(path, "wb") as fh:
        ps[0].save(fh, format="GIF", save_all=True, append_images=ps[1:], duration=duration, loop=0,
                   optimize=True, disposal=1)


def ffmpeg_exe():
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as e:           # ImportError or RuntimeError("No ffmpeg exe could be found")
        raise EncoderError(f"--format mp4: no ffmpeg encoder found ({type(e).__name__}: {e}); "
                           "install imageio-ffmpeg (pip install imageio-ffmpeg) or set IMAGEIO_FFMPEG_EXE") from None


MP4_PARAMS = ["-preset", "medium", "-crf", "20", "-movflags", "+faststart", "-threads", "1",
              "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-f", "mp4"]


def write_mp4(frames, path, fps, size):
    exe = ffmpeg_exe()
    import imageio_ffmpeg
    os.environ.setdefault("IMAGEIO_FFMPEG_EXE", exe)
    gen = imageio_ffmpeg.write_frames(path, size, fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                      pix_fmt_out="yuv420p", quality=None, macro_block_size=1,
                                      ffmpeg_log_level="error", output_params=list(MP4_PARAMS))
    try:
        gen.send(None)
        for f in frames:
            gen.send(np.ascontiguousarray(f).tobytes())
    except (OSError, RuntimeError) as e:
        raise EncoderError(f"--format mp4: ffmpeg failed ({e})") from None
    finally:
        gen.close()                      # also on Ctrl-C / SIGTERM: ffmpeg stops before the file is removed


def write_png(img, path):
    from PIL import Image
    with open(path, "wb") as fh:
        Image.fromarray(img).save(fh, format="PNG", optimize=False)


def write_html(result, opts, path):
    """The app's plotly animation (visualizer.figures.animated_landscape), self-contained, no autoplay."""
    from . import figures
    w, h = opts.size
    fig = figures.animated_landscape(result, opts.view(), height=h, title=opts.title)
    fig.update_layout(width=w, height=h, autosize=False)
    if opts.elev is not None or opts.azim is not None:
        _set_camera(fig, *opts.camera)
    _set_frame_duration(fig, opts.fps)
    with open(path, "w", encoding="utf-8") as f:
        f.write(figures.to_html(fig, displaylogo=False, responsive=False))
    return len(fig.frames)


def _set_camera(fig, elev, azim):
    """Plotly camera from matplotlib's (elev, azim): the eye at the app's distance in that direction."""
    from .figures import CAMERA_EYE
    e, a = np.radians(elev), np.radians(azim)
    r = float(np.linalg.norm(list(CAMERA_EYE.values())))
    fig.update_layout(scene_camera_eye=dict(x=float(r * np.cos(e) * np.cos(a)), y=float(r * np.cos(e) * np.sin(a)),
                                            z=float(r * np.sin(e))))


def _set_frame_duration(fig, fps):
    """Set the play button's frame duration (if the figure has one) to 1000 / fps ms."""
    ms = int(round(1000 / fps))
    for menu in fig.layout.updatemenus or ():
        for b in menu.buttons or ():
            args = list(b.args or ())
            if len(args) >= 2 and isinstance(args[1], dict) and "frame" in args[1]:
                a1 = dict(args[1])
                a1["frame"] = {**dict(a1["frame"]), "duration": ms}
                if "transition" in a1:
                    a1["transition"] = {**dict(a1["transition"]), "duration": 0}
                args[1] = a1
                b.args = args


# ---------------------------------------------------------------- the export
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
        return (f"wrote {self.path}: {sz}, {self.frames} frame{'s' if self.frames != 1 else ''}, "
                f"{self.size[0]}x{self.size[1]}, {self.seconds:.1f} s")


def export(result, opts, t0=None):
    """Write ``opts.out`` from ``result``; return a Summary. Raises UsageError / EncoderError."""
    t0 = time.perf_counter() if t0 is None else t0
    opts.validate()
    fmt = opts.fmt
    check_optimizers(opts.optimizers, list(result.trajectories))
    if opts.moving and result.moving is None:
        raise UsageError("--moving", "", "this result has no moving landscape (run the spec with grid.moving = true)")
    if fmt == "mp4":
        ffmpeg_exe()                     # fail before rendering
    out = os.path.abspath(os.fspath(opts.out))
    with atomic_path(out) as tmp:           # nothing is left behind on failure, Ctrl-C or SIGTERM
        if fmt == "html":
            n = write_html(result, opts, tmp)
        else:
            scene = build_scene(result, opts)
            n = len(scene.steps)
            if fmt == "png":
                r = Renderer(scene, opts)
                try:
                    write_png(r.render(0), tmp)
                finally:
                    r.close()
            elif fmt == "gif":
                write_gif(render_frames(scene, opts, "gif"), tmp, opts.fps, n, scene.colors)
            else:
                write_mp4(render_frames(scene, opts, "mp4"), tmp, opts.fps, opts.size)
    return Summary(path=os.fspath(opts.out), format=fmt, bytes=os.path.getsize(out), frames=n,
                   seconds=time.perf_counter() - t0, size=tuple(opts.size))


# ---------------------------------------------------------------- command line
def build_parser():
    ap = argparse.ArgumentParser(
        prog="python -m visualizer export",
        description="Export a loss-landscape animation (GIF, MP4, HTML) or a still (PNG).",
        epilog="Example: python -m visualizer export four_optimizers --format gif --out four.gif "
               "--frames 120 --size 640x480 --scale log")
    ap.add_argument("spec", metavar="SPEC", help="a preset name, a .json spec file or a saved .npz run "
                                                 "(or sweep: --format png, --size and --title only)")
    C = {k: c.hint() for k, c in EXPORT_CONSTRAINTS.items()}
    size = f"{MIN_SIZE[0]}x{MIN_SIZE[1]}..{MAX_SIZE[0]}x{MAX_SIZE[1]}"
    ap.add_argument("--format", help=f"{C['--format']} (default: from the --out extension)")
    ap.add_argument("--out", required=True, help="output file (its folder must exist)")
    ap.add_argument("--frames", default="100", help=f"animation frames, {C['--frames']} (default 100)")
    ap.add_argument("--fps", default="20", help=f"frames per second, {C['--fps']} (default 20)")
    ap.add_argument("--size", default="640x480", help=f"WxH in pixels, {size} (default 640x480)")
    ap.add_argument("--elev", help=f"camera elevation in degrees, {C['--elev']} (default 30; HTML: the app's camera)")
    ap.add_argument("--azim", help=f"camera azimuth in degrees, {C['--azim']} (default -60; HTML: the app's camera)")
    ap.add_argument("--rotate", default="0", help=f"camera turn over the animation in degrees, {C['--rotate']} "
                                                  "(default 0)")
    ap.add_argument("--scale", default="linear", help=f"height scale: {C['--scale']} (default linear)")
    ap.add_argument("--clip", default="100", help=f"clip heights above this percentile, {C['--clip']} (default 100)")
    ap.add_argument("--exaggerate", default="1", help=f"vertical exaggeration, {C['--exaggerate']} (default 1)")
    ap.add_argument("--moving", action="store_true", help="the landscape follows the weights (moving landscape)")
    ap.add_argument("--optimizers", help="comma-separated labels to show (default: all)")
    ap.add_argument("--title", help="title (default: the spec's name)")
    ap.add_argument("--step", help="PNG: the training step to show (default: the last)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def _parse_int(option, s):
    try:
        return int(s)
    except (TypeError, ValueError):
        raise UsageError(option, s, "must be an integer") from None


def _parse_num(option, s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        raise UsageError(option, s, "must be a number") from None
    if not np.isfinite(v):
        raise UsageError(option, s, "must be a finite number")
    return v


def _parse_size(s):
    allowed = SIZE_RULE + ", e.g. 640x480"
    parts = s.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError("--size", s, allowed)
    return int(parts[0]), int(parts[1])


def options_from_args(a):
    opts = ExportOptions(
        out=a.out, format=a.format.lower() if a.format else None,
        frames=_parse_int("--frames", a.frames), fps=_parse_int("--fps", a.fps), size=_parse_size(a.size),
        elev=_parse_num("--elev", a.elev) if a.elev is not None else None,
        azim=_parse_num("--azim", a.azim) if a.azim is not None else None,
        rotate=_parse_num("--rotate", a.rotate), scale=a.scale, clip=_parse_num("--clip", a.clip),
        exaggerate=_parse_num("--exaggerate", a.exaggerate), moving=a.moving,
        optimizers=[s.strip() for s in a.optimizers.split(",")] if a.optimizers is not None else None,
        title=a.title, step=_parse_int("--step", a.step) if a.step is not None else None,
        progress=not a.quiet)
    if a.format and opts.format not in FORMATS:
        raise UsageError("--format", a.format, f"allowed are {', '.join(FORMATS)}")
    return opts.validate()


def _run(a, t0):
    if a.spec.lower().endswith(".npz"):       # a sweep file: its map as a PNG (visualizer/sweep_figures.py)
        from .sweep_figures import export_sweep, is_sweep_input
        if is_sweep_input(a.spec):
            return export_sweep(a, t0)
    opts = options_from_args(a)
    labels = spec_labels(a.spec)              # early check: before a possibly long run
    if labels is not None:
        check_optimizers(opts.optimizers, labels)
    result = read_input(a.spec, moving=opts.moving, progress=opts.progress)
    return export(result, opts, t0=t0)


def main(argv=None):
    from core.cli import Terminated, terminate_as_interrupt
    argv = list(sys.argv[1:] if argv is None else argv)
    a = build_parser().parse_args(argv)       # argparse's own errors: usage line, exit 2
    t0 = time.perf_counter()
    try:
        with terminate_as_interrupt():        # SIGTERM cleans up like Ctrl-C: export() removes its .part file
            summary = _run(a, t0)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except EncoderError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except Terminated:
        print("error: terminated; no file written", file=sys.stderr)
        return Terminated.exit_status
    except KeyboardInterrupt:
        print("error: interrupted; no file written", file=sys.stderr)
        return 130
    print(summary.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
