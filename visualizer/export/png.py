"""The PNG writer: one still, deterministic."""
from __future__ import annotations


def write_png(img, path):
    from PIL import Image
    with open(path, "wb") as fh:
        Image.fromarray(img).save(fh, format="PNG", optimize=False)
