"""Where labels go so that they stay apart and inside their plot (pure geometry, no plotly).

    pos = place_labels(points, texts, plots=[(250, 340), (800, 340)], font=12)   # plotly textposition of each
    shifts = stack_apart(ys, gap=15)                                             # px to add so no two are closer
    groups = clusters(points, (240, 340), near=14)                              # points that (nearly) coincide

``place_labels``: the end labels of runs beside their markers (the contour). Each label takes, in order, the
position beside its point (plotly's textposition: "top right", ..., "middle left") whose box leaves its plot
the least, covers the labels already placed and the other markers the least, preferring its run's own
position when several are clear. A figure does not know its width in pixels (the app's panels follow the
window): boxes are estimated in pixels for each of ``plots`` (width, height), and the costs add up, so a
choice holds from the narrowest to the widest plot.

``clusters``: points too close for a label each (every run at its start, runs that end together): the contour
gives each group one label, its runs' names on lines of their own.

``stack_apart``: labels on a vertical line (threshold values in the sharpness panel's right margin), each at
a height in pixels; the shifts that keep consecutive labels ``gap`` px apart, moving them as little as
possible (labels only move up, then the stack moves down if it leaves the top).
"""
from __future__ import annotations

import re

import numpy as np

POSITIONS = ("top right", "bottom right", "top left", "bottom left", "middle right", "middle left",
             "top center", "bottom center")
CHAR = 0.6           # average character width, in font sizes (plotly's sans-serif)
LINE = 1.25          # a line's height, in font sizes


def text_size(text, font):
    """(width, height) px of a text at ``font`` px, lines split at "<br>", tags not counted (an estimate on the
    wide side)."""
    lines = [re.sub(r"<[^>]*>", "", line) for line in str(text).split("<br>")]
    return CHAR * font * max(len(line) for line in lines) + 2.0, LINE * font * len(lines)


def clusters(points, plot, near):
    """Groups (lists of indices, in order) of points closer than ``near`` px to one of the group, in a plot of
    ``plot`` (width, height) px; ``points`` in plot fractions."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2) * np.asarray(plot, dtype=np.float64)
    group = list(range(len(pts)))
    for i in range(len(pts)):
        for j in range(i):
            if np.hypot(*(pts[i] - pts[j])) < near:
                gi, gj = group[i], group[j]
                group = [gj if g == gi else g for g in group]
    out = {}
    for i, g in enumerate(group):
        out.setdefault(g, []).append(i)
    return sorted(out.values())


def label_box(x, y, position, size, gap):
    """(x0, y0, x1, y1) px (y up) of a label of ``size`` placed at ``position`` beside the point (x, y), ``gap``
    px from it (plotly: about the marker's radius)."""
    w, h = size
    v, hz = position.split()
    x0 = {"right": x + gap, "left": x - gap - w, "center": x - w / 2}[hz]
    y0 = {"top": y + gap, "bottom": y - gap - h, "middle": y - h / 2}[v]
    return x0, y0, x0 + w, y0 + h


def _area(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def _outside(box, w, h):
    return (box[2] - box[0]) * (box[3] - box[1]) - _area(box, (0.0, 0.0, w, h))


def place_labels(points, texts, plots, font=12, gap=8.0, prefer=None, pad=3.0):
    """Plotly textposition for each label: ``points`` (N, 2) positions in plot fractions (0..1 on both axes,
    y up), ``texts`` (N,) the labels, ``plots`` the (width, height) px of plots to hold for, ``gap`` px between a
    point and its label (one for all, or (N,): about each marker's radius), ``prefer`` (N,) each label's own
    position (default "top right"), ``pad`` px kept clear around the labels already placed."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    gaps = np.broadcast_to(np.asarray(gap, dtype=np.float64), (len(pts),))
    prefer = list(prefer) if prefer is not None else ["top right"] * len(pts)
    chosen, boxes = [], {plot: [] for plot in plots}
    for i, (p, text) in enumerate(zip(pts, texts)):
        best, best_cost = prefer[i], None
        order = [prefer[i]] + [q for q in POSITIONS if q != prefer[i]]
        for rank, pos in enumerate(order):
            cost = 0.01 * rank                               # ties: the run's own position, then POSITIONS' order
            for w, h in plots:
                x, y = p[0] * w, p[1] * h
                box = label_box(x, y, pos, text_size(text, font), gaps[i])
                cost += 10.0 * _outside(box, w, h)
                cost += 10.0 * sum(_area(box, (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad))
                                   for b in boxes[(w, h)])
                for j, q in enumerate(pts):                   # the other markers
                    if j != i:
                        qx, qy, g = q[0] * w, q[1] * h, gaps[j]
                        cost += 2.0 * _area(box, (qx - g, qy - g, qx + g, qy + g))
            if best_cost is None or cost < best_cost:
                best, best_cost = pos, cost
        chosen.append(best)
        for w, h in plots:
            boxes[(w, h)].append(label_box(pts[i][0] * w, pts[i][1] * h, best, text_size(text, font), gaps[i]))
    return chosen


def stack_apart(ys, gap, top=None):
    """Shifts (px, up positive) for labels at heights ``ys`` (px, up) so consecutive ones are at least ``gap``
    apart; with ``top``, none goes above it (the stack then moves down as one)."""
    ys = np.asarray(ys, dtype=np.float64)
    order = np.argsort(ys, kind="stable")
    new = ys.copy()
    for a, b in zip(order, order[1:]):
        new[b] = max(new[b], new[a] + gap)
    if top is not None and len(ys) and new[order[-1]] > top:
        new[order[-1]] = top
        for a, b in zip(order[::-1][1:], order[::-1]):
            new[a] = min(new[a], new[b] - gap)
    return new - ys
