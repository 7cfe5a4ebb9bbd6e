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
shown step, and a counter shows the step. Balls sit on the surface at their
projected point (the surface's loss there); the legend gives the true loss of
the weights, which may differ when the plane misses part of the path.

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
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from . import view as V

FORMATS = ("gif", "mp4", "html", "png")
MIN_SIZE, MAX_SIZE = (160, 120), (1920, 1080)
MAX_FPS = 60
DPI = 100
SCALES = V.SCALES


class UsageError(ValueError):
    """Bad command-line input: ``str(e)`` is the one-line message naming the option."""

    def __init__(self, option, value, allowed):
        self.option, self.value, self.allowed = option, value, allowed
        super().__init__(f"{option} {value}: {allowed}")


class EncoderError(RuntimeError):
    """The encoder (ffmpeg) is missing or failed."""


@dataclass
class ExportOptions:
    out: str = "landscape.gif"
    format: str | None = None          # gif | mp4 | html | png; None: from the extension of ``out``
    frames: int = 100                  # 2..300 (view.MAX_ANIMATION_FRAMES)
    fps: int = 20                      # 1..60
    size: tuple = (640, 480)           # pixels, (160..1920) x (120..1080)
    elev: float | None = None          # camera elevation, degrees, -90..90; None: 30 (HTML: the app's camera)
    azim: float | None = None          # camera azimuth, degrees, -360..360; None: -60 (HTML: the app's camera)
    rotate: float = 0.0                # camera turn over the whole animation, degrees, -720..720
    scale: str = "linear"              # linear | log | sqrt
    clip: float = 100.0                # clip heights above this percentile of the surface, 50..100
    exaggerate: float = 1.0            # vertical exaggeration, 0.1..10
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
        if fmt not in FORMATS:
            if self.format is None:
                raise UsageError("--format", "(none)", f"give --format {'|'.join(FORMATS)} or an --out "
                                 f"ending in .{', .'.join(FORMATS)}")
            raise UsageError("--format", self.format, f"allowed are {', '.join(FORMATS)}")
        out = os.fspath(self.out)
        folder = os.path.dirname(os.path.abspath(out))
        if not out or out.endswith(os.sep) or os.path.isdir(out):
            raise UsageError("--out", out, "must be a file path, not a folder")
        if not os.path.isdir(folder):
            raise UsageError("--out", out, f"folder {folder} does not exist")
        _int_in("--frames", self.frames, 2, V.MAX_ANIMATION_FRAMES)
        _int_in("--fps", self.fps, 1, MAX_FPS)
        w, h = self.size
        if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
            raise UsageError("--size", f"{w}x{h}", f"must be WxH pixels with W in [{MIN_SIZE[0]}, {MAX_SIZE[0]}] "
                             f"and H in [{MIN_SIZE[1]}, {MAX_SIZE[1]}]")
        if fmt == "mp4" and (w % 2 or h % 2):
            raise UsageError("--size", f"{w}x{h}", "MP4 (H.264, yuv420p) needs an even width and height")
        if self.elev is not None:
            _num_in("--elev", self.elev, -90, 90)
        if self.azim is not None:
            _num_in("--azim", self.azim, -360, 360)
        _num_in("--rotate", self.rotate, -720, 720)
        if fmt == "html" and self.rotate:
            raise UsageError("--rotate", f"{self.rotate:g}", "not available for --format html "
                             "(the page's camera turns with the mouse); use gif or mp4")
        if self.scale not in SCALES:
            raise UsageError("--scale", self.scale, f"allowed are {', '.join(SCALES)}")
        _num_in("--clip", self.clip, 50, 100)
        _num_in("--exaggerate", self.exaggerate, 0.1, 10)
        if self.title is not None and len(self.title) > 200:
            raise UsageError("--title", repr(self.title[:20] + "..."), "must be at most 200 characters")
        if self.step is not None:
            if fmt != "png":
                raise UsageError("--step", self.step, "only applies to --format png")
            _int_in("--step", self.step, 0, 10**9)
        return self


def _int_in(option, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise UsageError(option, v, f"must be an integer in [{lo}, {hi}]")


def _num_in(option, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo <= v <= hi):   # NaN fails too
        raise UsageError(option, v, f"must be a number in [{lo}, {hi}]")


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
    return run_spec(spec, progress=progress)


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
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=1, desc="train", unit="step", leave=False, file=sys.stderr)

        def cb(stage, done, total):
            if bar.total != total:
                bar.total = total
            bar.set_description(stage)
            bar.n = done
            bar.refresh()
    try:
        return core.run_experiment(spec, progress=cb if bar else None)
    finally:
        if bar is not None:
            bar.close()


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


# ---------------------------------------------------------------- frame data
@dataclass
class Scene:
    """Everything the renderer needs, computed before drawing."""
    labels: list
    colors: list
    steps: np.ndarray                 # (K,) training step shown in each frame
    last_step: int                    # the longest run's last step (for "step s / last")
    alphas: np.ndarray
    betas: np.ndarray
    heights: np.ndarray               # (B, A) static surface, or (M, B, A) moving surfaces
    surface_of_frame: np.ndarray | None   # (K,) index into heights when moving
    zlim: tuple
    zlabel: str
    # per label: x, y, z arrays of the whole path (NaN outside the grid), end index per frame
    paths: dict = field(default_factory=dict)
    ends: dict = field(default_factory=dict)     # label -> (K,) index of the ball in each frame
    losses: dict = field(default_factory=dict)   # label -> (K,) true training loss shown per frame
    diverged: dict = field(default_factory=dict)  # label -> (K,) bool: the run has stopped (diverged) by then
    offgrid: dict = field(default_factory=dict)   # label -> (K,) bool: the ball is outside the drawn grid
    trails: bool = True
    title: str = ""
    moving_follow: str | None = None


def _inside(x, y, alphas, betas):
    return (x >= alphas[0]) & (x <= alphas[-1]) & (y >= betas[0]) & (y <= betas[-1])


def _diverged(tr, steps):
    if tr.diverged_at is None:
        return np.zeros(len(steps), bool)
    return np.asarray(steps) >= tr.diverged_at


def build_scene(result, opts):
    """Precompute the frames: steps, surface heights and every path's coordinates."""
    v = opts.view()
    labels = V.check_labels(result, opts.optimizers)
    steps = V.animation_steps(result, opts.frames, labels)
    if opts.fmt == "png":
        s = steps[-1] if opts.step is None else opts.step
        last = int(max(result.trajectories[l].steps[-1] for l in labels))
        if not 0 <= s <= last:
            raise UsageError("--step", s, f"must be an integer in [0, {last}] (the run's steps)")
        steps = np.array([s])
    last_step = int(max(result.trajectories[l].steps[-1] for l in labels))
    colors = [V.color_of(result, l) for l in labels]
    title = opts.title if opts.title is not None else result.spec.name
    sc = dict(labels=labels, colors=colors, steps=np.asarray(steps), last_step=last_step, title=title)
    paths, ends, losses, diverged = {}, {}, {}, {}
    for l in labels:
        tr = result.trajectories[l]
        idx = np.array([V.frame_index(tr.steps, s) for s in steps])
        losses[l] = tr.loss[idx]
        diverged[l] = _diverged(tr, steps)
    offgrid = {}
    if opts.moving:
        # as in the app: one frame per moving-landscape surface (at most --frames of them, evenly spread);
        # each frame has its own plane, so there are balls but no trails
        mv = result.moving
        fidx = np.arange(len(mv.steps))
        if len(fidx) > opts.frames and opts.fmt != "png":
            fidx = np.unique(np.round(np.linspace(0, len(fidx) - 1, opts.frames)).astype(int))
        if opts.fmt == "png":
            fidx = np.array([V.frame_index(mv.steps, steps[0])])
        steps = np.asarray(mv.steps)[fidx]
        for l in labels:
            tr = result.trajectories[l]
            idx = np.array([V.frame_index(tr.steps, s) for s in steps])
            losses[l] = tr.loss[idx]
            diverged[l] = _diverged(tr, steps)
        clip = V.clip_value(mv.surfaces, v)
        H, zlabel = V.height(mv.surfaces, v, clip=clip)
        for l in labels:
            p = mv.paths[l]
            x, y = np.asarray(p["alpha"], float)[fidx], np.asarray(p["beta"], float)[fidx]
            zs = np.array([V.surface_at(mv.alphas, mv.betas, mv.surfaces[f], xi, yi) for f, xi, yi in zip(fidx, x, y)])
            z = V.point_height(zs, v, clip)
            out = ~_inside(x, y, mv.alphas, mv.betas)
            x, y, z = (np.where(out, np.nan, q) for q in (x, y, z))
            paths[l] = (x, y, z)
            ends[l] = np.arange(len(steps))
            offgrid[l] = out
        sc.update(alphas=mv.alphas, betas=mv.betas, heights=H, surface_of_frame=fidx, zlabel=zlabel,
                  trails=False, moving_follow=mv.follow, steps=steps)
    else:
        clip = V.clip_value(result.surface, v)
        H, zlabel = V.height(result.surface, v, clip=clip)
        for l in labels:
            pr = result.paths[l]
            tr = result.trajectories[l]
            x, y = np.asarray(pr.alpha, float), np.asarray(pr.beta, float)
            sl = pr.surface_loss
            if sl is None:
                sl = V.surface_at(result.alphas, result.betas, result.surface, x, y)
            z = V.point_height(sl, v, clip)
            out = ~_inside(x, y, result.alphas, result.betas)
            x, y, z = (np.where(out, np.nan, q) for q in (x, y, z))
            paths[l] = (x, y, z)
            ends[l] = np.array([V.frame_index(tr.steps, s) for s in steps])
            offgrid[l] = out[ends[l]]
        sc.update(alphas=result.alphas, betas=result.betas, heights=H, surface_of_frame=None, zlabel=zlabel)
    fin = H[np.isfinite(H)]
    lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    sc.update(zlim=(lo, hi), paths=paths, ends=ends, losses=losses, diverged=diverged, offgrid=offgrid)
    return Scene(**sc)


# ---------------------------------------------------------------- drawing
def _fmt_loss(x):
    if not np.isfinite(x):
        return "  n/a"
    return f"{x:.4f}" if x < 100 else f"{x:.3g}"


class Renderer:
    """Draw frame k of a Scene into an (H, W, 3) uint8 array with matplotlib (Agg, no pyplot)."""

    def __init__(self, scene, opts):
        import matplotlib
        matplotlib.use("Agg", force=False)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib import patheffects as pe
        self.sc, self.opts = scene, opts
        w, h = opts.size
        self.size = (w, h)
        # +0.25 px so float rounding of W/dpi * dpi never truncates to W - 1
        fig = Figure(figsize=((w + 0.25) / DPI, (h + 0.25) / DPI), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(fig)
        self.fig = fig
        small = h < 360
        fs = 7 if small else 8 if h < 600 else 10
        self.fs = fs
        ax = fig.add_subplot(projection="3d", computed_zorder=False)
        fig.subplots_adjust(left=0.0, right=0.86, bottom=0.0, top=0.92)
        self.ax = ax
        sc = scene
        self.norm = matplotlib.colors.Normalize(vmin=sc.zlim[0], vmax=sc.zlim[1])
        self.cmap = matplotlib.colormaps["viridis"]
        self.A, self.B = np.meshgrid(sc.alphas, sc.betas)
        self.surf = None
        self._surface_index = None
        self._draw_surface(0 if sc.surface_of_frame is not None else None)
        ax.set_xlim(sc.alphas[0], sc.alphas[-1])
        ax.set_ylim(sc.betas[0], sc.betas[-1])
        ax.set_zlim(*sc.zlim)
        ax.set_xlabel("alpha (d1)", fontsize=fs, labelpad=-4)
        ax.set_ylabel("beta (d2)", fontsize=fs, labelpad=-4)
        ax.set_zlabel("")
        ax.tick_params(labelsize=fs - 1, pad=-2)
        ax.tick_params(axis="z", pad=1)
        self.elev, self.azim = opts.camera
        ax.view_init(elev=self.elev, azim=self.azim)
        sm = matplotlib.cm.ScalarMappable(norm=self.norm, cmap=self.cmap)
        cb = fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.02, fraction=0.04)
        cb.set_label(sc.zlabel, fontsize=fs)
        cb.ax.tick_params(labelsize=fs - 1)
        t = sc.title + (f"  (landscape follows {sc.moving_follow})" if sc.moving_follow else "")
        fig.text(0.5, 0.985, t, ha="center", va="top", fontsize=fs + 2, fontweight="bold")
        stroke = [pe.Stroke(linewidth=3.6, foreground="black"), pe.Normal()]
        self.trails, self.balls = [], []
        for lab, col in zip(sc.labels, sc.colors):
            tr, = ax.plot([], [], [], color=col, lw=2.0, zorder=10, solid_capstyle="round",
                          path_effects=stroke, label=lab)
            ball, = ax.plot([], [], [], "o", color=col, ms=8 if not small else 6, mec="black", mew=1.0,
                            zorder=11)
            self.trails.append(tr)
            self.balls.append(ball)
        # Legend rows "label  loss": every frame's strings padded to one width, so the box (drawn once,
        # in the background) fits them all; each frame only redraws the row texts in place.
        width = max(len(l) for l in sc.labels)
        self.rows = {}
        for lab in sc.labels:
            self.rows[lab] = [f"{lab:<{width}}  {_fmt_loss(x)}" + (" diverged" if d else "") + (" off grid" if o else "")
                              for x, d, o in zip(sc.losses[lab], sc.diverged[lab], sc.offgrid[lab])]
        row_w = max(len(r) for rows in self.rows.values() for r in rows)
        self.rows = {lab: [r.ljust(row_w) for r in rows] for lab, rows in self.rows.items()}
        self.legend = ax.legend(handles=self.trails, labels=[self.rows[l][-1] for l in sc.labels],
                                loc="upper left", bbox_to_anchor=(0.004, 0.895), bbox_transform=fig.transFigure,
                                title="train loss (true, at the shown step)", title_fontsize=fs, frameon=True,
                                framealpha=0.9, prop={"family": "monospace", "size": fs}, borderaxespad=0.4)
        self.legend.set_zorder(20)
        self.legend_texts = self.legend.get_texts()
        self.counter = fig.text(0.012, 0.935, "", ha="left", va="top", fontsize=fs + 1, family="monospace")
        self.dynamic = self.trails + self.balls + list(self.legend_texts) + [self.counter]
        self.blit = sc.surface_of_frame is None and opts.rotate == 0
        self.background = None
        self.n = len(sc.steps)

    def _draw_surface(self, index):
        if index is not None and index == self._surface_index:
            return
        sc = self.sc
        H = sc.heights if index is None else sc.heights[index]
        if self.surf is not None:
            self.surf.remove()
        rc, cc = H.shape
        self.surf = self.ax.plot_surface(self.A, self.B, H, cmap=self.cmap, norm=self.norm, rcount=rc, ccount=cc,
                                         linewidth=0, antialiased=False, shade=False, zorder=1)
        self._surface_index = index

    def _set_frame(self, k):
        sc = self.sc
        for lab, tr, ball in zip(sc.labels, self.trails, self.balls):
            x, y, z = sc.paths[lab]
            e = int(sc.ends[lab][k])
            if sc.trails:
                tr.set_data_3d(x[:e + 1], y[:e + 1], z[:e + 1])
            ball.set_data_3d(x[e:e + 1], y[e:e + 1], z[e:e + 1])
        for lab, text in zip(sc.labels, self.legend_texts):
            text.set_text(self.rows[lab][k])
        self.counter.set_text(f"step {int(sc.steps[k]):>{len(str(sc.last_step))}} / {sc.last_step}")

    def _buffer(self):
        buf = np.asarray(self.canvas.buffer_rgba())
        w, h = self.size
        return np.ascontiguousarray(buf[:h, :w, :3])

    def render(self, k):
        sc, ax = self.sc, self.ax
        self._set_frame(k)
        if self.blit:
            if self.background is None:
                for a in self.dynamic:
                    a.set_visible(False)
                self.canvas.draw()
                self.background = self.canvas.copy_from_bbox(self.fig.bbox)
                for a in self.dynamic:
                    a.set_visible(True)
            self.canvas.restore_region(self.background)
            r = self.canvas.get_renderer()
            for a in self.dynamic:
                a.draw(r)
        else:
            if sc.surface_of_frame is not None:
                self._draw_surface(int(sc.surface_of_frame[k]))
            if self.opts.rotate:
                t = k / max(self.n - 1, 1)
                ax.view_init(elev=self.elev, azim=self.azim + self.opts.rotate * t)
            self.canvas.draw()
        img = self._buffer()
        if img.shape[:2] != (self.size[1], self.size[0]):
            raise RuntimeError(f"rendered {img.shape[1]}x{img.shape[0]}, expected {self.size[0]}x{self.size[1]}")
        return img

    def close(self):
        self.fig.clear()


# ---------------------------------------------------------------- writers
def _frames(renderer, n, progress, desc):
    it = range(n)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n, desc=desc, unit="frame", file=sys.stderr, leave=False)
    try:
        for k in it:
            yield renderer.render(k)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()


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
        gen.close()
        raise EncoderError(f"--format mp4: ffmpeg failed ({e})") from None
    gen.close()


def write_png(img, path):
    from PIL import Image
    with open(path, "wb") as fh:
        Image.fromarray(img).save(fh, format="PNG", optimize=False)


def write_html(result, opts, path):
    """The app's plotly animation (visualizer.figures.animated_landscape), self-contained, no autoplay."""
    from . import figures
    fn = getattr(figures, "animated_landscape", None)
    if fn is None:
        raise EncoderError("--format html: visualizer.figures.animated_landscape is not available")
    w, h = opts.size
    fig = fn(result, opts.view(), height=h, title=opts.title)
    fig.update_layout(width=w, height=h, autosize=False)
    if opts.elev is not None or opts.azim is not None:
        _set_camera(fig, *opts.camera)
    _set_frame_duration(fig, opts.fps)
    # fixed div id: plotly otherwise draws a random one, and the same inputs must give the same bytes
    fig.write_html(path, include_plotlyjs=True, full_html=True, auto_play=False, div_id="loss-landscape",
                   config={"displaylogo": False, "responsive": False})
    return len(fig.frames)


def _set_camera(fig, elev, azim):
    """Plotly camera from matplotlib's (elev, azim): the eye at the app's distance in that direction."""
    e, a = np.radians(elev), np.radians(azim)
    r = float(np.linalg.norm([1.45, 1.45, 0.95]))
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
    folder, base = os.path.split(out)
    ext = os.path.splitext(base)[1]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=".part" + ext)
    os.close(fd)
    try:
        if fmt == "html":
            n = write_html(result, opts, tmp)
        else:
            scene = build_scene(result, opts)
            r = Renderer(scene, opts)
            n = len(scene.steps)
            try:
                if fmt == "png":
                    write_png(r.render(0), tmp)
                elif fmt == "gif":
                    write_gif(_frames(r, n, opts.progress, "gif"), tmp, opts.fps, n, scene.colors)
                else:
                    write_mp4(_frames(r, n, opts.progress, "mp4"), tmp, opts.fps, opts.size)
            finally:
                r.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return Summary(path=os.fspath(opts.out), format=fmt, bytes=os.path.getsize(out), frames=n,
                   seconds=time.perf_counter() - t0, size=tuple(opts.size))


# ---------------------------------------------------------------- command line
def build_parser():
    ap = argparse.ArgumentParser(
        prog="python -m visualizer export",
        description="Export a loss-landscape animation (GIF, MP4, HTML) or a still (PNG).",
        epilog="Example: python -m visualizer export four_optimizers --format gif --out four.gif "
               "--frames 120 --size 640x480 --scale log")
    ap.add_argument("spec", metavar="SPEC", help="a preset name, a .json spec file or a saved .npz run")
    ap.add_argument("--format", help="gif | mp4 | html | png (default: from the --out extension)")
    ap.add_argument("--out", required=True, help="output file (its folder must exist)")
    ap.add_argument("--frames", default="100", help=f"animation frames, 2..{V.MAX_ANIMATION_FRAMES} (default 100)")
    ap.add_argument("--fps", default="20", help=f"frames per second, 1..{MAX_FPS} (default 20)")
    ap.add_argument("--size", default="640x480", help="WxH in pixels, 160x120..1920x1080 (default 640x480)")
    ap.add_argument("--elev", help="camera elevation in degrees, -90..90 (default 30; HTML: the app's camera)")
    ap.add_argument("--azim", help="camera azimuth in degrees, -360..360 (default -60; HTML: the app's camera)")
    ap.add_argument("--rotate", default="0", help="camera turn over the animation in degrees, -720..720 (default 0)")
    ap.add_argument("--scale", default="linear", help="height scale: linear | log | sqrt (default linear)")
    ap.add_argument("--clip", default="100", help="clip heights above this percentile, 50..100 (default 100)")
    ap.add_argument("--exaggerate", default="1", help="vertical exaggeration, 0.1..10 (default 1)")
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
    allowed = (f"must be WxH pixels with W in [{MIN_SIZE[0]}, {MAX_SIZE[0]}] "
               f"and H in [{MIN_SIZE[1]}, {MAX_SIZE[1]}], e.g. 640x480")
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


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    a = build_parser().parse_args(argv)       # argparse's own errors: usage line, exit 2
    t0 = time.perf_counter()
    try:
        opts = options_from_args(a)
        labels = spec_labels(a.spec)              # early check: before a possibly long run
        if labels is not None:
            check_optimizers(opts.optimizers, labels)
        result = read_input(a.spec, moving=opts.moving, progress=opts.progress)
        summary = export(result, opts, t0=t0)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except EncoderError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no file written", file=sys.stderr)
        return 130
    print(summary.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
