"""The GIF writer: frames (H, W, 3) uint8 -> an animated GIF, deterministic."""
from __future__ import annotations

import numpy as np


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
