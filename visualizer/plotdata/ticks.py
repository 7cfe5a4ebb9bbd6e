"""Log-axis ticks that read: 1, 2 and 5 of each decade, labelled as plain numbers; when the axis spans many
decades only the decades are labelled (the 2 and 5 ticks stay, unlabelled), and past MAX_DECADES only every
k-th decade is a tick at all. No SI prefixes ("1µ"): a number reads the same in every panel.

    vals, texts = log_ticks(0.8, 60)     # [1, 2, 5, 10, 20, 50, 100], ["1", "2", ... "100"]
    vals, texts = log_ticks(1e-6, 100)   # 1-2-5 ticks; labels "1e-06", "", "", "1e-05", ... "100"
"""
from __future__ import annotations

import math

LABEL_ALL_DECADES = 2     # up to this many decades, every 1-2-5 tick is labelled
NARROW = 5                # a range narrower than this ratio gets the plotting library's own ticks
MAX_DECADES = 8           # past this many, ticks only at every k-th decade (at most about 8 labels)


def tick_text(v):
    """A tick label: plain for 1e-3 <= v < 1e5, else exponent form ("1e-06")."""
    return f"{v:g}" if 1e-3 <= v < 1e5 else f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")


def log_ticks(lo, hi):
    """(values, texts) of a log axis showing (lo, hi), both > 0; ([], []) for an empty or bad range."""
    if not (lo > 0 and hi > 0 and math.isfinite(lo) and math.isfinite(hi)) or hi < NARROW * lo:
        return [], []                  # bad, or too narrow for 1-2-5 ticks: the plotting library's own ticks
    d0, d1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    span = math.log10(hi / lo)                   # decades the data spans
    vals, texts = [], []
    if span > MAX_DECADES:
        k = math.ceil(span / MAX_DECADES)
        for d in range(d0, d1 + 1):
            if d % k == 0:
                vals.append(10.0 ** d)
                texts.append(tick_text(10.0 ** d))
        return vals, texts
    for d in range(d0, d1 + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** d
            if lo <= v <= hi or (m == 1 and lo / 3 <= v <= hi * 3):      # a decade just past the data
                vals.append(float(f"{v:.12g}"))
                texts.append(tick_text(v) if m == 1 or span <= LABEL_ALL_DECADES else "")
    if not any(texts[i] for i in range(len(vals)) if lo <= vals[i] <= hi):    # no labelled tick in the data
        return [], []
    return vals, texts
