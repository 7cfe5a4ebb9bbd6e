"""No text on another, none cut (issue 16, "Panels that read"): on the default preset at 1,400 and 1,024 px, every
SVG text of every graph (titles, axis titles, tick labels, colour bars, annotations, legend items, the contour's end
labels) is measured in real Chromium (getBoundingClientRect, one box per line of a multi-line text) and

- no two boxes overlap (the lines of one title included: a title's step must not run into its subtitle); tick
  labels of one axis may touch by up to 1 px (their font boxes include the glyphs' empty ascent and descent);
- every box lies inside its graph's div, and a label drawn in a plot area (the contour's end labels) inside
  that plot area (plotly clips it there: "LR annealing" was cut at the right edge);
- no line of the plot (a trace or a line shape) crosses an annotation (a threshold value crossed by a dashed line).

Not checked here: the 3D scene's axis titles and tick labels, drawn in WebGL, not the DOM (tests/visualizer/figures/
test_legible_figures.py checks their layout instead); hover labels (transient). Run with --headless;
LLN_SHOTS=<folder> saves a screenshot of each graph there.
"""
import os

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from visualizer.app.factory import create_app

GRAPHS = ("graph-landscape-3d", "graph-contour", "graph-curves", "graph-sharpness", "graph-slices")
SHOTS = os.environ.get("LLN_SHOTS")

# [{graph, kind, group, text, box: [l, t, r, b], area: [l, t, r, b] | null}] of every shown text of the graphs
TEXTS_JS = """
function shown(el, gd) {
    for (var e = el; e && e !== gd; e = e.parentNode) {
        var cs = window.getComputedStyle(e);
        if (cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) { return false; }
    }
    return true;
}
function rect(r) { return [r.left, r.top, r.right, r.bottom]; }
var KINDS = [['.gtitle', 'title'], ['.g-xtitle, .g-x2title, .g-x3title', 'axis title'],
             ['.g-ytitle, .g-y2title, .g-y3title', 'axis title'], ['.cbtitle', 'colour bar title'],
             ['.cbaxis', 'colour bar tick'], ['.xtick', 'tick'], ['.ytick', 'tick'], ['.annotation', 'annotation'],
             ['.legendtext', 'legend'], ['.textpoint', 'label in plot'], ['.updatemenu-container', 'menu'],
             ['.slider-container', 'slider']];
var out = [];
arguments[0].forEach(function (id) {
    var gd = document.querySelector('#' + id + ' .js-plotly-plot');
    if (!gd || !gd.offsetParent) { return; }
    gd.querySelectorAll('svg text').forEach(function (el, n) {
        if (el.closest('.hoverlayer') || !el.textContent.trim() || !shown(el, gd)) { return; }
        var kind = 'other', group = '';
        for (var i = 0; i < KINDS.length; i++) {
            var k = el.closest(KINDS[i][0]);
            if (k) { kind = KINDS[i][1]; group = k.getAttribute('class'); break; }
        }
        if (kind === 'tick') {            // one group per axis: ".xtick" under "xaxislayer-above" of subplot x2y2
            var sub = el.closest('.subplot');
            group = (sub ? sub.getAttribute('class') : '') + ' ' + (el.closest('.xtick') ? 'x' : 'y');
        }
        if (kind === 'colour bar tick') { group = el.closest('.colorbar').getAttribute('class'); }
        var area = null;
        if (kind === 'label in plot') {   // plotly clips a data label to its plot area
            var sp = el.closest('.subplot').getAttribute('class').split(' ')[1];
            area = rect(gd.querySelector('.draglayer .' + sp + ' .nsewdrag').getBoundingClientRect());
        }
        var lines = el.querySelectorAll('tspan.line');
        var parts = lines.length ? Array.from(lines) : [el];
        parts.forEach(function (p, j) {
            var r = p.getBoundingClientRect();
            if (r.width === 0 || !p.textContent.trim()) { return; }
            out.push({graph: id, kind: kind, group: group, el: n, line: j, text: p.textContent.slice(0, 60),
                      box: rect(r), area: area});
        });
    });
});
return out;
"""

# [{graph, text, box}] of every annotation, and [{graph, what, points: [[x, y], ...]}] of every drawn line, in
# page pixels: visible line traces (calcdata through the axes' c2p) and straight line shapes
LINES_JS = """
var notes = [], lines = [];
arguments[0].forEach(function (id) {
    var gd = document.querySelector('#' + id + ' .js-plotly-plot');
    if (!gd || !gd.offsetParent || !gd.calcdata || !gd._fullLayout) { return; }
    var box = gd.getBoundingClientRect(), fl = gd._fullLayout;
    gd.querySelectorAll('.annotation-text').forEach(function (el) {
        var r = el.getBoundingClientRect();
        if (r.width > 0 && el.textContent.trim()) {
            notes.push({graph: id, text: el.textContent.slice(0, 60), box: [r.left, r.top, r.right, r.bottom]});
        }
    });
    gd._fullData.forEach(function (t, i) {
        if (t.visible !== true || t.type !== 'scatter' || (t.mode || '').indexOf('lines') < 0) { return; }
        var xa = fl[t.xaxis.replace('x', 'xaxis')], ya = fl[t.yaxis.replace('y', 'yaxis')];
        var pts = [];
        (gd.calcdata[i] || []).forEach(function (c) {
            var px = xa.c2p(c.x), py = ya.c2p(c.y);
            pts.push(isFinite(px) && isFinite(py) ? [box.left + xa._offset + px, box.top + ya._offset + py] : null);
        });
        lines.push({graph: id, what: 'trace ' + (t.name || i), points: pts});
    });
    gd.querySelectorAll('.shapelayer path').forEach(function (el, j) {
        var r = el.getBoundingClientRect();
        if (r.width > 2 && r.height > 2) { return; }          // only straight lines: their box is the line
        lines.push({graph: id, what: 'shape ' + j, points: [[r.left, r.top], [r.right, r.bottom]]});
    });
});
return {notes: notes, lines: lines};
"""

# {graph: [[l, t, r, b], ...]} of every 2-D plot area (where the data is drawn)
AREAS_JS = """
return Object.fromEntries(arguments[0].map(function (id) {
    return [id, Array.from(document.querySelectorAll('#' + id + ' .draglayer .nsewdrag')).map(function (el) {
        var r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })];
}));
"""
FRAME_TEXT = ("title", "axis title", "colour bar title", "colour bar tick", "tick", "legend")   # around the data

TOUCH = 1.0          # px two tick labels of one axis may overlap (font boxes include empty ascent / descent)
SLACK = 0.5          # px of sub-pixel rounding allowed everywhere else


def _start(dash_duo, shared_cache, width, height=1000):
    dash_duo.driver.set_window_size(width, height)
    dash_duo.start_server(create_app(cache=shared_cache))
    for g in GRAPHS:
        dash_duo.wait_for_element(f"#{g} .js-plotly-plot", timeout=90)
    # every panel drawn with its runs (the contour's end labels are the last thing to come; runs that end
    # together share one)
    until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('#graph-contour .textpoint text').length") >= 2, timeout=60)
    until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('#graph-sharpness .annotation-text').length") >= 4, timeout=60)


def _overlap(a, b):
    """Width and height of the intersection of two [l, t, r, b] boxes (<= 0: apart)."""
    return min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])


def overlaps(texts):
    """Pairs of texts of one graph whose boxes overlap, beyond TOUCH for ticks of one axis, SLACK otherwise."""
    bad = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if a["graph"] != b["graph"]:
                continue
            same_axis = a["kind"] == b["kind"] and a["kind"] in ("tick", "colour bar tick") \
                and a["group"] == b["group"]
            tol = TOUCH if same_axis else SLACK
            w, h = _overlap(a["box"], b["box"])
            if w > tol and h > tol:
                bad.append((a["graph"], a["text"], b["text"], round(w, 1), round(h, 1)))
    return bad


def outside(texts, graphs):
    """Texts not inside their graph's div, or (labels drawn in a plot area) not inside that plot area."""
    bad = []
    for t in texts:
        for what, edge in (("graph", graphs[t["graph"]]), ("plot area", t["area"])):
            if edge is None:
                continue
            (l, top, r, b), (bl, bt, br, bb) = edge, t["box"]
            if bl < l - SLACK or bt < top - SLACK or br > r + SLACK or bb > b + SLACK:
                bad.append((t["graph"], t["text"], what, [round(v) for v in t["box"]], [round(v) for v in edge]))
    return bad


def in_plot_area(texts, areas):
    """Titles, axis titles, tick labels, colour bars and legends that enter a plot area (they frame the data;
    the contour's "step N" ran into its plot)."""
    bad = []
    for t in texts:
        if t["kind"] not in FRAME_TEXT:
            continue
        for a in areas[t["graph"]]:
            w, h = _overlap(t["box"], a)
            if w > SLACK and h > SLACK:
                bad.append((t["graph"], t["kind"], t["text"], round(w, 1), round(h, 1)))
    return bad


def _clip(p, q, box):
    """Whether the segment p-q passes through the box [l, t, r, b] (Liang-Barsky)."""
    (x0, y0), (x1, y1) = p, q
    dx, dy = x1 - x0, y1 - y0
    lo, hi = 0.0, 1.0
    for d, v in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if d == 0:
            if v < 0:
                return False
            continue
        if d < 0:
            lo = max(lo, v / d)
        else:
            hi = min(hi, v / d)
        if lo > hi:
            return False
    return True


def crossed(notes, lines):
    """(graph, annotation, line) of every annotation that a drawn line passes through (its box shrunk by 1 px)."""
    bad = []
    for n in notes:
        box = [n["box"][0] + 1, n["box"][1] + 1, n["box"][2] - 1, n["box"][3] - 1]
        for ln in lines:
            if ln["graph"] != n["graph"]:
                continue
            pts = ln["points"]
            if any(p is not None and q is not None and _clip(p, q, box) for p, q in zip(pts, pts[1:])):
                bad.append((n["graph"], n["text"], ln["what"]))
    return bad


def test_the_overlap_checks_catch_what_they_claim():
    """The helpers themselves: boxes that overlap, cut text and a crossing line are reported; neighbours are not."""
    t = lambda text, box, kind="title", group="", area=None: dict(graph="g", kind=kind, group=group, text=text,
                                                                   box=box, area=area)
    assert overlaps([t("a", [0, 0, 10, 10]), t("b", [9, 9, 20, 20])]) == [("g", "a", "b", 1, 1)]
    assert overlaps([t("a", [0, 0, 10, 10]), t("b", [10, 0, 20, 10])]) == []              # side by side
    ticks = [t("1", [0, 0, 10, 10], "tick", "xy x"), t("2", [0, 9.2, 10, 20], "tick", "xy x")]
    assert overlaps(ticks) == []                                                         # touching by 0.8 px
    assert overlaps([dict(ticks[0], group="xy y"), ticks[1]]) != []                      # not of one axis
    graphs = {"g": [0, 0, 100, 100]}
    assert outside([t("in", [1, 1, 99, 99])], graphs) == []
    assert outside([t("cut", [90, 1, 104, 10])], graphs) != []
    assert outside([t("end", [80, 1, 99, 10], "label in plot", area=[10, 0, 90, 90])], graphs) != []
    note = {"graph": "g", "text": "66.7", "box": [10, 10, 40, 24]}
    assert crossed([note], [{"graph": "g", "what": "dash", "points": [[0, 30], [50, 5]]}]) == [("g", "66.7", "dash")]
    assert crossed([note], [{"graph": "g", "what": "below", "points": [[0, 30], [50, 30], None, [60, 0]]}]) == []
    assert crossed([note], [{"graph": "g", "what": "v", "points": [[25, 0], [25, 100]]}]) != []
    areas = {"g": [[10, 30, 90, 90]]}
    assert in_plot_area([t("step 2000", [40, 20, 80, 35])], areas) == [("g", "title", "step 2000", 40, 5)]
    assert in_plot_area([t("title", [40, 10, 80, 29])], areas) == []
    assert in_plot_area([t("end", [40, 40, 80, 50], "label in plot")], areas) == []   # data labels belong there


def _problems(drv, width, when):
    """Every overlap, cut text, text in a plot area and crossed annotation of the graphs as they are drawn now."""
    if SHOTS:
        for g in GRAPHS:
            drv.execute_script("document.getElementById(arguments[0]).scrollIntoView()", g)
            drv.find_element("id", g).screenshot(os.path.join(SHOTS, f"{g}-{width}-{when}.png"))
    texts = drv.execute_script(TEXTS_JS, list(GRAPHS))
    graphs = drv.execute_script("""return Object.fromEntries(arguments[0].map(id => { var r = document
        .querySelector('#' + id + ' .js-plotly-plot').getBoundingClientRect(); return [id, [r.left, r.top,
        r.right, r.bottom]]; }))""", list(GRAPHS))
    areas = drv.execute_script(AREAS_JS, list(GRAPHS))
    kinds = {(t["graph"], t["kind"]) for t in texts}
    for g in GRAPHS:                                  # the check saw every graph's texts
        assert (g, "title") in kinds, g
    assert {("graph-contour", "label in plot"), ("graph-sharpness", "annotation"), ("graph-curves", "tick"),
            ("graph-landscape-3d", "legend")} <= kinds
    drawn = drv.execute_script(LINES_JS, list(GRAPHS))
    assert len(drawn["notes"]) >= 4 and len(drawn["lines"]) >= 8
    return {"overlap": overlaps(texts), "outside": outside(texts, graphs),
            "crossed": crossed(drawn["notes"], drawn["lines"]), "in a plot area": in_plot_area(texts, areas)}


TITLES_JS = """return arguments[0].map(function (id) { var g = document.querySelector('#' + id + ' .js-plotly-plot');
    return g && g._fullLayout && g._fullLayout.title ? g._fullLayout.title.text : ''; })"""


@pytest.mark.parametrize("width", [1400, 1024])
def test_no_text_overlaps_another_or_leaves_its_graph(dash_duo, shared_cache, width):
    """At the last step (the page's first view), then at step 0 (every run at one point: the contour's end labels
    fan out, moved by the step's patch)."""
    _start(dash_duo, shared_cache, width)
    drv = dash_duo.driver
    problems = _problems(drv, width, "last")
    assert problems == {k: [] for k in problems}, "\n".join(map(str, problems.items()))
    box = dash_duo.find_element("#step-input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("0", Keys.ENTER)
    until(lambda: all(t.endswith("· step 0") or "at step 0 of" in t
                      for t in drv.execute_script(TITLES_JS, list(GRAPHS))), timeout=30)
    problems = _problems(drv, width, "step0")
    assert problems == {k: [] for k in problems}, "\n".join(map(str, problems.items()))
    assert dash_duo.get_logs() == []
