"""The app's page: two tabs (``tabs``: "landscape", "sweep"), each with controls on the left and pictures on the
right. The tabs only switch which of ``tab-landscape`` / ``tab-sweep`` is displayed (a clientside callback),
so both stay mounted: the 3D figure is not redrawn on every switch, and a running sweep keeps polling while
the Landscape tab shows one of its runs.

Component ids that matter (tests and callbacks use them), Landscape tab:
  graph-landscape-3d, graph-contour, graph-curves, graph-sharpness, graph-slices, summary-table, step-slider
  sharpness-box / slices-box (hidden, with sharpness-message / slices-message saying why, when a run has no
  curvature / no training data), show-min-eig (the sharpness panel's bottom eigenvalue), slice-optimizer
  preset, dataset, csv-target (a CSV's target column), hidden, seed, steps, batch-size, record-every, target-loss,
  {"type": "opt_enabled"|"opt_name"|"opt_label"|"opt_lr"|"opt_momentum"|"opt_schedule", "index": 0..7},
  plane-method, grid-resolution, grid-range, moving, curvature, curvature-stride, height-scale, clip-percentile,
  exaggerate, surface-colour (loss | sharpness | convexity: the landscape's colour, visualizer.plotdata.surface_colour),
  upload, download-npz-btn / download-npz, download-spec-btn / download-spec, download-html-btn / download-html,
  alert-error (spec and upload messages), alert-view (view option messages), run-status (progress, then
  what was computed), progress-tick (polls progress: every 0.5 s while the main callback runs, else 5 s),
  spec-store ({key, spec, source}: results stay on the server), spec-base (the loaded spec + hidden extras),
  session-id (a random id per page load: a newer request of the same page cancels its older computation),
  one step for every panel (assets/app.js, visualizer.app.step_state): step-play (Play / Pause), step-slider,
  step-input (a step, applied on Enter or when it loses focus), step-store ({step, k, key, id, n, fresh}: the
  step every panel shows), step-table (frame steps, titles and marker updates of the shown result), step-key
  (keys from app.js), step-tick (Play's clock, every PLAY_MS), slices-step (the step the slices panel drew),
  frames-request (set by app.js once the 3D figure is drawn without its frames), landscape-frames (they:
  {id, frames}), frames-echo (the id of the frames attached),
  focus-run (a run singled out: the others fade in every panel; assets/focus.js; FOCUS_ALL: none), focus-echo,
  help-<graph id> (each panel's "What am I looking at?" sentence behind a (?) button: HELP)
Sweep tab (visualizer.app.sweep_callbacks):
  graph-sweep-heatmap (the map; a click opens a cell's run), sweep-preset (the sweep's source: a preset,
  "custom" or "upload"), sweep-optimizer, sweep-lr-min, sweep-lr-max, sweep-lr-points, sweep-momentum-min,
  sweep-momentum-max, sweep-momentum-points, sweep-seeds (the custom sweep), sweep-upload, sweep-run-btn,
  sweep-stop-btn, sweep-download-btn / sweep-download, sweep-status (progress), sweep-alert (messages),
  sweep-summary (the compact table), sweep-tick (polls a running sweep every second: the partial map and
  the page's heartbeat), sweep-spec-store (the uploaded sweep spec), sweep-shown (which version of the map
  the page shows), sweep-open (a clicked cell's run, an input of the main callback)
"""
from __future__ import annotations

import uuid

from dash import dash_table, dcc, html
from dash.dash_table.Format import Format, Scheme

import core
from core.model import optimizers as _opt
from core.model import schedules as _sched
from core.experiment.spec import CONSTRAINTS as SPEC

from visualizer import figures
from visualizer.plotdata.view import VIEW_CONSTRAINTS as VIEW
from visualizer.app.controls import DATASETS, DEFAULT_PRESET, N_ROWS, controls_from_spec
from visualizer.plotdata.view import DEFAULT_SCALE
from visualizer.serving.cache import spec_key
from visualizer.app.spec_callbacks import MAX_UPLOAD_BYTES
from visualizer.app.progress_callbacks import IDLE_POLL_MS
from visualizer.plotdata.surface_colour import COLOUR_LABELS
from visualizer.app import sweep_callbacks as SC

CUSTOM_PRESET = "custom (not a preset)"   # the preset menu once the spec is no preset's (spec_callbacks.preset_of)
PLAY_MS = 250           # Play: at most four frames a second; a frame waits until the slices show its step

EXPLAIN = """
**What is this picture?** The network (the article's 2-layer net: ReLU, then sigmoid) is trained
from one set of initial weights by each optimizer. Every recorded step is a point in weight space.
The surface is the training loss on a *plane* through that space, θ(α, β) = c + α·d₁ + β·d₂ (c: the centre, one run's
initial or final weights: `plane.center`),
evaluated exactly on a grid of (α, β).

- **pca**: d₁, d₂ are the two directions along which all the paths move most (top singular vectors of the
  stacked displacements θₜ − c); **random**: two filter-normalized Gaussian directions (Li et al. 2018);
  **interpolation**: d₁ runs from the centre to the other end of its run (α = 1), d₂ is a filter-normalized random
  direction orthogonal to it.
  **hessian**: d₁, d₂ are the top two unit eigenvectors of the Hessian at the centre, the directions the loss curves up
  fastest (PyHessian's 1-D plots, here in 2-D); their eigenvalues λ₁, λ₂ are in the title, and the grid spans where
  the quadratic 0.5·λ₁·α² makes a visible change.
- A path is drawn at its *projection* onto the plane. The part of the displacement the plane misses is the
  **residual**; the legend's and table's **in plane** is the share of the path's squared displacement from the
  centre the plane holds (a run under 25% gets a warning next to the surface). The ball sits on the drawn surface
  (the loss at the projected point); where the **true loss** of the weights differs by more than 25%, a hollow
  marker on a dotted stalk shows it too, because the real weights are off the plane. Valleys you see are valleys
  *of this slice*, not necessarily of the whole space. The loss curves are drawn from every step (dots: the
  recorded frames the landscape shows), so a spike between two frames is visible there.
- The height may be scaled (log, sqrt, clipped, exaggerated): the axis and colour-bar titles always say so.
- **Moving landscape**: each frame re-centres the plane on one run's current weights (directions re-normalized),
  so the surface changes with the frame and only the current positions are drawn.

**The network** (one column per example, as in the article; m examples, η the learning rate):

```
Z1 = W1·X + b1        A1 = ReLU(Z1)
Z2 = W2·A1 + b2       A2 = σ(Z2) = 1 / (1 + exp(−Z2))
L  = −(1/m) Σ [ y·log(A2) + (1 − y)·log(1 − A2) ]

dZ2 = A2 − Y          dW2 = (1/m)·dZ2·A1ᵀ      db2 = (1/m)·Σ dZ2
dZ1 = W2ᵀ·dZ2 ⊙ [Z1 > 0]   dW1 = (1/m)·dZ1·Xᵀ   db1 = (1/m)·Σ dZ1
W ← W − η·dW,  b ← b − η·db
```
Momentum, learning-rate annealing and a large learning rate are the article's variations of that last line.

**Sharpness and the stability threshold.** Near the weights, along its sharpest direction, the loss is a parabola
0.5·λ·x², where λ, the *sharpness*, is the top eigenvalue of the Hessian. One gradient-descent step there maps
x to x − η·λ·x = (1 − η·λ)·x: the distance to the bottom shrinks while η·λ < 2, and once η·λ > 2 every step
overshoots to the other side, further out than it started. So λ = 2/η is gradient descent's **stability
threshold**; momentum μ moves it to (2 + 2μ)/η, Nesterov to (2 + 2μ)/((1 + 2μ)·η), and Adam, judged on the
*preconditioned* Hessian P^-1/2·H·P^-1/2 (P: what its step divides by), to (2 + 2β₁)/((1 − β₁)·η). The sharpness
panel draws each run's sharpness (solid) against its threshold (dashed, same colour): far below, the step is
small for this curvature; above, the step overshoots along the sharpest direction.

**Why a path can sit above it (the edge of stability).** The parabola is only the local picture. Above the
threshold the loss goes up along the sharpest direction and the run is thrown somewhere flatter, where the step
fits again; then training makes the valley sharper again. Full-batch gradient descent with a large rate hovers
around 2/η this way (Cohen et al. 2021), its loss going up on many single steps yet down over many. The 1-D slices
show where the quadratic model (dashed) still matches the loss (solid) and where it breaks.
"""


# "What am I looking at?": one sentence per panel, opened by its (?) button (help-<graph id>)
HELP = {
    "graph-landscape-3d": "The training loss (height and colour) on a 2-D plane through the network's weight space, "
                          "with each run's path projected onto that plane and a ball at the run's projected "
                          "position at the current step.",
    "graph-contour": "The same plane seen from above: contour lines of the training loss, each run's projected path "
                     "and a marker where the run is at the current step.",
    "graph-curves": "Each run's training loss at every step (left, log axis; dots: the recorded frames the "
                    "landscape shows) and its train and test accuracy (right); the vertical line is the current "
                    "step.",
    "graph-sharpness": "Each run's sharpness (solid: the largest eigenvalue of the loss's Hessian, preconditioned "
                       "for Adam and RMSProp) against its optimizer's stability threshold (dashed, same colour): "
                       "above the dashed line a step overshoots along the sharpest direction.",
    "graph-slices": "The training loss along three lines through weight space (solid) beside its quadratic model "
                    "from the Hessian (dashed): (a) the sharpest direction and (b) the gradient step of the chosen "
                    "run at the current step, (c) each run's straight line from its initial to its final weights.",
}
FOCUS_ALL = "all"       # the focus menu's value when no run is singled out (assets/focus.js)


def help_line(graph_id):
    """The (?) button of a panel: a one-sentence "What am I looking at?" that opens below it."""
    return html.Details([html.Summary([html.Span("?", className="help-q"), " what am I looking at?"],
                                      title="What am I looking at?"),
                         html.Div(HELP[graph_id], className="help-text")],
                        id=f"help-{graph_id}", className="help")


FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'    # as assets/app.css (the table would be monospace)
# short headers; the note under the table says more
TABLE_HEADERS = {"in_plane": "in plane", "sharpness_ratio": "final / threshold",
                 "above_threshold": "frames ≥ threshold", "plane_curvature": "along d₁, d₂ vs λmax",
                 "top_in_plane": "top eigvec in plane"}


# fixed decimals per table column (integers and text columns have none); shares as percentages
DECIMALS = {"final_loss": 4, "train_acc": 3, "test_acc": 3, "path_length": 2, "peak_sharpness": 3,
            "sharpness_ratio": 2, "peak_loss": 3}
PERCENT = {"above_threshold": 0, "in_plane": 1, "top_in_plane": 1}
TABLE_NOTE = ("The target loss is the spec's training.target_loss; blank cells: never reached / never diverged / "
              "never failed / no curvature. Failed at (rows in red): the first step from which the run is judged "
              "failed: it diverged, a hidden layer has no unit alive on the training data, or its final loss is at "
              "or above min(initial loss, the constant predictor's loss). Live units: the fewest units alive on "
              "the training data in any hidden layer, at the end; peak loss: the largest per-step loss. "
              "In plane: the share of the path's squared displacement from the plane's centre that "
              "the plane holds (100%: the path lies in the plane; under 25% the picture warns that the ball shows the "
              "plane's loss, not the run's). "
              "Sharpness: the top Hessian eigenvalue, for Adam and RMSProp that of the preconditioned Hessian "
              "P^-1/2 H P^-1/2; final / threshold: the last sharpness over its stability threshold (the largest "
              "curvature at which the optimizer is stable at its learning rate, see Explain); frames ≥ threshold: "
              "the share of recorded frames at or above it. Along d₁, d₂ vs λmax: at each run's last weights, the "
              "loss's curvature along the plane's two unit axes beside the Hessian's top eigenvalue (plain Hessian, "
              "also for Adam); top eigvec in plane: the share of the top eigenvector inside the plane. Stability is "
              "decided along that eigenvector, which the surface mostly does not show.")
PLANE_LABELS = {"hessian": "hessian (top 2 eigenvectors)", "pca_balanced": "pca, balanced (runs weighted equally)",
                "pca_per_run": "pca per run (small multiples)"}
PLANE_OPTIONS = [{"label": PLANE_LABELS.get(m, m), "value": m} for m in core.experiment.spec.PLANES]


def _column(key, name):
    col = {"name": TABLE_HEADERS.get(key, name), "id": key, "type": "text" if key == "label" else "numeric"}
    if key in DECIMALS:
        col["format"] = Format(precision=DECIMALS[key], scheme=Scheme.fixed)
    if key in PERCENT:
        col["format"] = Format(precision=PERCENT[key], scheme=Scheme.percentage)
    return col


def _field(label, control, hint=None):
    return html.Label([html.Span(label, className="field-label"), control]
                      + ([html.Span(hint, className="field-hint")] if hint else []), className="field")


def _num(id_, value, step="any", **kw):
    return dcc.Input(id=id_, type="number", value=value, step=step, debounce=True, className="num", **kw)


def optimizer_rows(values):
    head = html.Div([html.Span(t) for t in ("on", "optimizer", "label", "lr", "momentum", "schedule")],
                    className="opt-row opt-head")
    rows = [head]
    for i in range(N_ROWS):
        def rid(t):
            return {"type": t, "index": i}
        rows.append(html.Div([
            dcc.Checklist(id=rid("opt_enabled"), options=[{"label": "", "value": "on"}],
                          value=values["opt_enabled"][i], className="opt-on"),
            dcc.Dropdown(id=rid("opt_name"), options=list(_opt.OPTIMIZERS), value=values["opt_name"][i],
                         clearable=False, className="opt-name"),
            dcc.Input(id=rid("opt_label"), type="text", value=values["opt_label"][i], debounce=True,
                      className="opt-label"),
            dcc.Input(id=rid("opt_lr"), type="number", value=values["opt_lr"][i], step="any", debounce=True,
                      className="num opt-lr"),
            dcc.Input(id=rid("opt_momentum"), type="number", value=values["opt_momentum"][i], step="any",
                      debounce=True, placeholder="—", className="num opt-momentum"),
            dcc.Dropdown(id=rid("opt_schedule"), options=list(_sched.SCHEDULES), value=values["opt_schedule"][i],
                         clearable=False, className="opt-schedule"),
        ], className="opt-row"))
    return html.Div(rows, className="opt-table")


def make_layout():
    spec_dict = core.ExperimentSpec.preset(DEFAULT_PRESET).to_dict()
    values, extras = controls_from_spec(spec_dict)
    controls = html.Div(_experiment_controls(values) + _plane_controls(values) + _view_controls()
                        + _file_controls(), className="controls")
    pictures = html.Div(_landscape_pictures(spec_dict) + _curvature_pictures() + _comparison_and_explain(),
                        className="pictures")
    return html.Div([
        html.Header([html.H1("Loss Landscape Navigator"),
                     html.Span("optimizers descending one loss landscape of a NumPy network", className="tagline"),
                     dcc.Tabs(id="tabs", value="landscape", className="tabs", parent_className="tabs-parent",
                              children=[dcc.Tab(label="Landscape", value="landscape", className="tab",
                                                selected_className="tab--selected"),
                                        dcc.Tab(label="Sweep", value="sweep", className="tab",
                                                selected_className="tab--selected")])]),
        html.Div([controls, pictures], id="tab-landscape", className="main"),
        html.Div(sweep_tab(), id="tab-sweep", className="main", style={"display": "none"}),
        dcc.Store(id="spec-base", data={"spec": spec_dict, "extras": extras}),
        dcc.Store(id="session-id", data=uuid.uuid4().hex),
        dcc.Store(id="invalid-field"), dcc.Store(id="invalid-echo"),   # the DOM id of the field an error names
        dcc.Store(id="sweep-spec-store"), dcc.Store(id="sweep-shown"), dcc.Store(id="sweep-open"),
    ], className="page")


SWEEP_NOTE = ("Each cell: every seed trained in full from its own initial weights (the same data), colour = the "
              "median final training loss over the seeds (log colour; blank until all its seeds are done), "
              "red x = some seed failed (it diverged, a hidden layer died, or its final loss is no better than the "
              "start or the constant predictor); dashed, a reference: the initial stability edge, the learning "
              "rate at which the largest initial sharpness λ₀ of the seeds meets the optimizer's stability "
              "threshold (2/λ₀ for gradient descent, (2 + 2μ)/λ₀ for heavy-ball momentum): it marks where the "
              "first steps stop decreasing monotonically, not where runs fail. Hover a cell for the median, "
              "min and max over the seeds; click it to open its median run in the Landscape tab (computed there "
              "like any experiment). Sweeps run on the server's Dask cluster, one per page: a newer Run, Stop, or "
              "closing the page cancels it; Run again after a stop computes only the missing runs.")


def sweep_tab():
    """The Sweep tab: its controls (source, the custom sweep, run / stop, files) and the map."""
    d = SC.CUSTOM_DEFAULTS
    opts = SC.source_options()
    controls = html.Div([
        html.H3("Sweep"),
        _field("sweep", dcc.Dropdown(id="sweep-preset", options=opts, value=opts[0]["value"], clearable=False),
               "a preset, the custom sweep below, or an uploaded sweep spec"),
        html.H4("Custom sweep of the Landscape tab's experiment"),
        html.Div([
            _field("optimizer", dcc.Dropdown(id="sweep-optimizer", options=list(_opt.OPTIMIZERS), value=d["optimizer"],
                                             clearable=False)),
            _field("seeds", _num("sweep-seeds", d["seeds"], step=1), "0 .. n-1 (1-20)"),
        ], className="grid2"),
        html.Div([
            _field("lr from", _num("sweep-lr-min", d["lr_min"])),
            _field("lr to", _num("sweep-lr-max", d["lr_max"]), "log axis"),
            _field("lr points", _num("sweep-lr-points", d["lr_points"], step=1), "1-200"),
        ], className="grid3"),
        html.Div([
            _field("momentum from", _num("sweep-momentum-min", d["momentum_min"])),
            _field("momentum to", _num("sweep-momentum-max", d["momentum_max"])),
            _field("momentum points", _num("sweep-momentum-points", d["momentum_points"], step=1),
                   "momentum, nesterov"),
        ], className="grid3"),
        html.Div("Its data, network and training (steps, batch size, target loss) are the Landscape tab's.",
                 className="note"),
        html.H4("Run"),
        html.Div([
            html.Button("Run sweep", id="sweep-run-btn", className="btn btn-primary"),
            html.Button("Stop", id="sweep-stop-btn", className="btn"),
            html.Button("sweep (.npz)", id="sweep-download-btn", className="btn"),
            dcc.Download(id="sweep-download"),
        ], className="buttons"),
        dcc.Upload(id="sweep-upload", children=html.Div(["Drop or ", html.A("choose"),
                                                         " a sweep spec (.json) or a sweep (.npz)"]),
                   accept=".npz,.json", max_size=MAX_UPLOAD_BYTES, className="upload"),
    ], className="controls")
    pictures = html.Div([
        html.Div(id="sweep-alert", className="alert", role="alert"),
        html.Div(id="sweep-status", className="status", role="status"),
        dcc.Interval(id="sweep-tick", interval=SC.SWEEP_POLL_MS, disabled=True),
        dcc.Graph(id="graph-sweep-heatmap", className="graph-3d", config={"displaylogo": False},
                  figure=SC.empty_figure()),
        html.Div([SWEEP_NOTE], className="note"),
        html.H3("Per optimizer"),
        html.Pre(id="sweep-summary", className="summary-pre"),
    ], className="pictures")
    return [controls, pictures]


def _experiment_controls(values):
    return [
        html.H3("Experiment"),
        _field("preset", dcc.Dropdown(id="preset", options=core.ExperimentSpec.presets(), value=DEFAULT_PRESET,
                                      clearable=False, placeholder=CUSTOM_PRESET)),
        html.Div([
            _field("dataset", dcc.Dropdown(id="dataset", options=list(DATASETS), value=values["dataset"],
                                           clearable=False)),
            _field("target column", dcc.Dropdown(id="csv-target", options=[], value=values["csv_target"],
                                                 clearable=False, placeholder="CSV data only"), "CSV data: the label"),
            _field("hidden units", dcc.Input(id="hidden", type="text", value=values["hidden"], debounce=True,
                                             className="num"), "e.g. 15 or 16, 16"),
            _field("seed", _num("seed", values["seed"], step=1)),
        ], className="grid4"),
        html.Div([
            _field("steps", _num("steps", values["steps"], step=1)),
            _field("batch size", _num("batch-size", values["batch_size"], step=1, placeholder="full")),
            _field("record every", _num("record-every", values["record_every"], step=1)),
            _field("target loss", _num("target-loss", values["target_loss"])),
        ], className="grid4"),
        html.H4("Optimizers"),
        optimizer_rows(values),
    ]


def _plane_controls(values):
    return [
        html.H4("Plane and grid"),
        html.Div([
            _field("plane", dcc.Dropdown(id="plane-method", options=PLANE_OPTIONS, value=values["plane_method"],
                                         clearable=False)),
            _field("grid points", _num("grid-resolution", values["grid_resolution"], step=1),
                   f"{SPEC['grid.resolution'].hint()} per axis"),
            _field("grid range", _num("grid-range", values["grid_range"], placeholder="fit paths"), "± half-width"),
        ], className="grid3"),
        dcc.Checklist(id="moving", options=[{"label": " moving landscape (the surface follows the weights)",
                                             "value": "on"}], value=values["moving"], className="moving"),
        html.H4("Curvature"),
        html.Div([
            dcc.Checklist(id="curvature", options=[{"label": " sharpness along every run (Hessian eigenvalues "
                                                             "at the recorded frames)", "value": "on"}],
                          value=values["curvature"], className="moving"),
            _field("stride", _num("curvature-stride", values["curvature_stride"], step=1, placeholder="auto"),
                   f"{SPEC['curvature.stride'].hint()}: every k-th recorded frame; empty: auto (about a second)"),
        ], className="grid2"),
    ]


def _view_controls():
    return [
        html.H4("Height scale"),
        html.Div([
            _field("scale", dcc.RadioItems(id="height-scale", options=["linear", "log", "sqrt"],
                                           value=DEFAULT_SCALE, inline=True)),
            _field("clip at percentile", _num("clip-percentile", 100), VIEW["clip_percentile"].hint()),
            _field("vertical exaggeration", _num("exaggerate", 1.0), VIEW["exaggerate"].hint()),
        ], className="grid3"),
        _field("surface colour", dcc.RadioItems(id="surface-colour", value="loss", inline=True,
                                                options=[{"label": v, "value": k} for k, v in COLOUR_LABELS.items()]),
               "the Hessian's top eigenvalue, or |λmin/λmax| (0: locally convex), at up to 31 × 31 points "
               "of the plane (a second or two)"),
    ]


def _file_controls():
    return [
        html.H4("Files"),
        html.Div([
            html.Button("run (.npz)", id="download-npz-btn", className="btn"),
            html.Button("spec (.json)", id="download-spec-btn", className="btn"),
            html.Button("animation (.html)", id="download-html-btn", className="btn"),
            dcc.Download(id="download-npz"), dcc.Download(id="download-spec"), dcc.Download(id="download-html"),
        ], className="buttons"),
        dcc.Upload(id="upload", children=html.Div(["Drop or ", html.A("choose"),
                                                   " a run (.npz), a spec (.json) or data (.csv, binary target)"]),
                   accept=".npz,.json,.csv", max_size=MAX_UPLOAD_BYTES, className="upload"),
    ]


def _landscape_pictures(spec_dict):
    return [
        html.Div(id="alert-error", className="alert", role="alert"),
        html.Div(id="alert-view", className="alert", role="alert"),
        html.Div(id="run-status", className="status", role="status"),
        dcc.Interval(id="progress-tick", interval=IDLE_POLL_MS),
        help_line("graph-landscape-3d"),
        dcc.Loading(id="loading", type="circle", delay_show=250,
                    overlay_style={"visibility": "visible", "opacity": 0.55}, children=[
            dcc.Store(id="spec-store", data={"key": spec_key(spec_dict), "spec": spec_dict, "source": "spec"}),
            dcc.Graph(id="graph-landscape-3d", className="graph-3d", config={"displaylogo": False},
                      style={"height": "640px"}),
        ]),
        html.Div([
            html.Button("▶ Play", id="step-play", n_clicks=0, className="step-play",
                        title="Play / pause every panel (space); ← → one frame, Home / End"),
            html.Div(dcc.Slider(id="step-slider", min=0, max=spec_dict["training"]["steps"],
                                value=spec_dict["training"]["steps"], step=1, marks=None, updatemode="mouseup",
                                allow_direct_input=False),      # one number box: step-input
                     className="step-slider"),
            html.Label(["step ", dcc.Input(id="step-input", type="number", value=spec_dict["training"]["steps"],
                                           step=1, debounce=True, className="num step-input")],
                       className="field-label"),
            html.Label(["focus ", dcc.Dropdown(id="focus-run", options=[{"label": "all runs", "value": FOCUS_ALL}],
                                               value=FOCUS_ALL, clearable=False, searchable=False,
                                               className="focus-run")],
                       className="field-label focus", title="Single out one run: the others fade in every panel"),
            dcc.Store(id="focus-echo"),
            dcc.Store(id="step-store"), dcc.Store(id="step-table"), dcc.Store(id="step-key"),
            dcc.Store(id="slices-step"),
            # the 3D figure's frames, asked for once it is drawn (outside the Loading: no spinner over the figure)
            dcc.Store(id="frames-request"), dcc.Store(id="landscape-frames"), dcc.Store(id="frames-echo"),
            dcc.Interval(id="step-tick", interval=PLAY_MS, disabled=True),
        ], className="step-row", id="step-row"),
        html.Div([
            html.Div([help_line("graph-contour"), dcc.Graph(id="graph-contour", config={"displaylogo": False})],
                     className="half"),
            html.Div([help_line("graph-curves"), dcc.Graph(id="graph-curves", config={"displaylogo": False})],
                     className="half"),
        ], className="row2"),
    ]


def _curvature_pictures():
    return [
        html.H3("Sharpness"),
        html.Div(id="sharpness-message", className="note"),
        html.Div(id="sharpness-box", className="panel", children=[
            dcc.Checklist(id="show-min-eig", options=[{"label": " bottom eigenvalue (|λmin|, dotted)", "value": "on"}],
                          value=[], className="panel-option"),
            help_line("graph-sharpness"),
            dcc.Graph(id="graph-sharpness", config={"displaylogo": False}),
        ]),
        html.H3("1-D slices"),
        html.Div([_field("run", dcc.Dropdown(id="slice-optimizer", options=[], clearable=False),
                         "(a) and (b) at this run's weights at the step")], className="grid3"),
        html.Div(id="slices-message", className="note"),
        html.Div(id="slices-box", className="panel", children=[
            help_line("graph-slices"),
            dcc.Graph(id="graph-slices", config={"displaylogo": False}),
        ]),
    ]


def _comparison_and_explain():
    return [
        html.H3("Comparison"),
        dash_table.DataTable(
            id="summary-table", columns=[_column(k, n) for k, n in figures.SUMMARY_COLUMNS],
            data=[], sort_action="native", style_as_list_view=True, style_table={"overflowX": "auto"},
            style_cell={"fontFamily": FONT, "fontSize": "13px", "padding": "5px 6px", "textAlign": "right",
                        "whiteSpace": "normal", "minWidth": "40px", "maxWidth": "92px"},
            style_cell_conditional=[{"if": {"column_id": "label"}, "textAlign": "left", "fontWeight": "600",
                                     "width": "112px", "maxWidth": "112px"}],
            style_data_conditional=[{"if": {"filter_query": "{failed_at} is num"}, "color": "#b91c1c"}],
            style_header={"fontWeight": "600", "backgroundColor": "#f3f4f6", "whiteSpace": "normal",
                          "height": "auto", "lineHeight": "1.2"}),
        html.Div([TABLE_NOTE], className="note"),
        html.H3("Explain"),
        dcc.Markdown(id="explain-numbers", className="explain"),
        dcc.Markdown(EXPLAIN, className="explain"),
    ]
