"""How a run is drawn, the same in every panel and export (no plotly, no Dash, no matplotlib).

    st = run_style(k)          # the k-th run in spec order: colour, dash, end-marker symbol (plotly and matplotlib)
    st.color, st.dash, st.symbol, st.mpl_dash, st.mpl_marker

Colours: Paul Tol's "bright" scheme (colour-blind safe), ordered so that the first five runs have five
different hues (blue, red, green, yellow, purple); grey, cyan and black follow. Okabe-Ito's orange and
vermillion, or its two blues, read as one colour on a small line: two runs never share a colour family
among the first five. Each run also has its own dash (the first solid) and end-marker symbol, so runs stay
apart in grey print and for every kind of colour vision; the k-th symbol is one that both plotly's 2-D and
3-D markers draw.
"""
from __future__ import annotations

from dataclasses import dataclass

PALETTE = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#AA3377", "#BBBBBB", "#66CCEE", "#000000")
HUES = ("blue", "red", "green", "yellow", "purple", "grey", "cyan", "black")   # PALETTE's colour families
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")        # plotly line dashes
MPL_DASHES = ("-", (0, (5, 2.5)), (0, (1.2, 1.8)), (0, (5, 2, 1.2, 2)), (0, (9, 3)), (0, (9, 3, 1.2, 3)))
SYMBOLS = ("circle", "square", "diamond", "cross", "x", "circle-open", "square-open", "diamond-open")
MPL_MARKERS = ("o", "s", "D", "P", "X", "o", "s", "D")
TEXT_POSITIONS = ("top right", "bottom right", "top left", "bottom left")   # end labels of close runs fan out


@dataclass(frozen=True)
class RunStyle:
    index: int            # the run's position in spec order
    color: str            # "#RRGGBB"
    dash: str             # plotly line dash
    symbol: str           # plotly marker symbol (2-D and 3-D)
    mpl_dash: object      # matplotlib linestyle
    mpl_marker: str       # matplotlib marker
    text_position: str    # plotly textposition of the run's end label
    size: float           # end-marker size (px); later runs smaller, so coinciding markers nest as rings


def run_style(k):
    """The style of the k-th run (0-based, spec order); cycles past the palette's length."""
    k = int(k)
    return RunStyle(index=k, color=PALETTE[k % len(PALETTE)], dash=DASHES[k % len(DASHES)],
                    symbol=SYMBOLS[k % len(SYMBOLS)], mpl_dash=MPL_DASHES[k % len(MPL_DASHES)],
                    mpl_marker=MPL_MARKERS[k % len(MPL_MARKERS)], text_position=TEXT_POSITIONS[k % 4],
                    size=max(7.0, 14.0 - 2.0 * (k % len(PALETTE))))


def legend_name(label, notes=()):
    """A run's name in every legend: its label, then its notes in parentheses ("SGD (preconditioned)").
    The one place legend text is built: add what a legend should say about a run as a note."""
    notes = [n for n in notes if n]
    return f"{label} ({'; '.join(notes)})" if notes else str(label)
