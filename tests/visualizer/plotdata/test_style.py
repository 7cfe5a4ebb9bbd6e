"""visualizer.plotdata.style and ticks: one hue, dash and symbol per run; log ticks that read."""
import pytest

from visualizer.plotdata import style
from visualizer.plotdata.ticks import log_ticks


def test_the_first_five_runs_have_five_hues_dashes_and_symbols():
    styles = [style.run_style(k) for k in range(5)]
    assert len({s.color for s in styles}) == 5 and len({style.HUES[k] for k in range(5)}) == 5
    assert len({s.dash for s in styles}) == 5 and len({s.symbol for s in styles}) == 5
    assert styles[0].dash == "solid" and styles[0].mpl_dash == "-"
    assert all(a.size > b.size for a, b in zip(styles, styles[1:]))     # later balls smaller: they nest
    assert style.run_style(len(style.PALETTE)).color == style.PALETTE[0]  # cycles


def test_legend_names_are_built_in_one_place():
    assert style.legend_name("SGD") == "SGD"
    assert style.legend_name("Adam", ["preconditioned", ""]) == "Adam (preconditioned)"
    assert style.legend_name("Adam", ["a", "b"]) == "Adam (a; b)"


def test_log_ticks_label_1_2_5_within_two_decades():
    vals, texts = log_ticks(0.8, 60)
    assert vals == [1, 2, 5, 10, 20, 50, 100] and texts == ["1", "2", "5", "10", "20", "50", "100"]


def test_log_ticks_label_only_decades_when_crowded_and_never_si_prefixes():
    vals, texts = log_ticks(1e-6, 100)
    labelled = [t for t in texts if t]
    assert labelled == ["1e-6", "1e-5", "1e-4", "0.001", "0.01", "0.1", "1", "10", "100"]
    assert 2e-6 in vals and "µ" not in "".join(texts)
    vals, texts = log_ticks(1e-12, 1e6)                                  # 18 decades: every 3rd decade
    assert len(vals) == len(texts) <= 8 and all(texts)


@pytest.mark.parametrize("lo,hi", [(30, 55), (0, 10), (5, 1), (float("nan"), 1)])
def test_narrow_or_bad_ranges_leave_ticks_to_plotly(lo, hi):
    assert log_ticks(lo, hi) == ([], [])
