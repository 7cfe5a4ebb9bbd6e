/* Plotly rejects the promise of an animation that another animation interrupts (a newer step while a
   frame is still drawing, a new figure), with no reason: the browser would report "Uncaught (in promise)".
   Swallow exactly those (reason undefined); every other rejection is reported. */
window.addEventListener("unhandledrejection", function (event) {
    if (event.reason === undefined) { event.preventDefault(); }
});

/* One step state for every panel (visualizer/app/step_state.py builds the table, wiring.py connects these):

     step-table (server: frame steps, titles, per-step marker updates)
       --stepper--> step-store {step, k, key, n}  <-- Play / Pause (step-play, step-tick), the slider, the
                                                       step box (Enter or leaving it), keys (step-key)
       --showStep--> the 3D frame and title (Plotly.animate, duration 0), Patches of the contour, curves and
                     sharpness markers and titles (no figure resent, no server round trip)
       --server--> the slices panel, which reports the step it drew (slices-step); Play advances only once
                   the slices show the current step, so every panel's title shows the same step.
   Frames of the 3D figure are named by their training step. The figure comes without them (the first draw is
   sooner): once it is drawn, the page asks for them (frames-request -> render_callbacks.landscape_frames ->
   landscape-frames -> attachFrames: Plotly.addFrames, then the 3D shows the current step). Until then the 3D
   stays at the step it was drawn at and Play waits; the step table's ``landscape.id`` names the figure.
   A new step table (a new figure, drawn at the table's start step) moves nothing: the figures already show it. */
(function () {
    var GRAPH = "#graph-landscape-3d .js-plotly-plot";
    var PLAY = "▶ Play", PAUSE = "❚❚ Pause";
    var keyCount = 0;

    var frameAsks = 0;

    function graph() { return document.querySelector(GRAPH); }

    function frames3d(gd) { return (gd && gd._transitionData && gd._transitionData._frames) || []; }

    /* the 3D figure is drawn but its frames are not there yet (it always has some once they come) */
    function waitingForFrames(table) {
        var gd = graph();
        return !!(table && table.landscape && gd && gd._fullData && gd._fullData.length && !frames3d(gd).length);
    }

    /* the 3D figure at the store's step: its frame and title (nothing when it shows that step already, or when
       its frames have not come yet: attachFrames calls this again) */
    function show3d(store, table) {
        var gd = graph();
        if (!gd || !window.Plotly || !table.titles.fig3d || !gd.layout) { return; }
        var s = store.step, want = title(table.titles.fig3d, s);
        if (gd.layout.title && gd.layout.title.text === want) { return; }
        var name = String(s), frames = frames3d(gd);
        for (var i = 0; i < frames.length; i++) {
            if (frames[i].name === name) {
                window.Plotly.animate(gd, [name], {frame: {duration: 0, redraw: true}, transition: {duration: 0},
                                                   mode: "immediate"});
                window.Plotly.relayout(gd, {"title.text": want});
                return;
            }
        }
    }

    /* once the 3D figure is drawn without frames, ask the server for them (once per figure: Plotly.react gives
       gd.layout a new object, a relayout keeps it) */
    function askFrames(gd) {
        if (frames3d(gd).length || !gd.layout || gd._llnAsked === gd.layout || !gd._fullData || !gd._fullData.length) {
            return;
        }
        var dc = window.dash_clientside;
        if (!dc || typeof dc.set_props !== "function") { return; }
        gd._llnAsked = gd.layout;
        frameAsks += 1;
        dc.set_props("frames-request", {data: {n: frameAsks}});
    }

    new MutationObserver(function () {
        var gd = graph();
        if (!gd || gd._llnFrames || typeof gd.on !== "function") { return; }
        gd._llnFrames = true;
        gd.on("plotly_afterplot", function () { askFrames(gd); });
        askFrames(gd);
    }).observe(document.documentElement, {childList: true, subtree: true});

    function nearest(steps, value) {
        /* index of the frame step nearest to value (ties: the earlier frame) */
        var best = 0;
        for (var i = 1; i < steps.length; i++) {
            if (Math.abs(steps[i] - value) < Math.abs(steps[best] - value)) { best = i; }
        }
        return best;
    }

    function title(base, step) { return base + " · step " + step; }

    function patch(ops) {
        return ops.length ? {__dash_patch_update: "__dash_patch_update", operations: ops} : null;
    }

    function assign(location, value) { return {operation: "Assign", location: location, params: {value: value}}; }

    /* keyboard: left / right one frame, Home / End, space play / pause (not while typing or on a control) */
    document.addEventListener("keydown", function (e) {
        var keys = {ArrowLeft: 1, ArrowRight: 1, Home: 1, End: 1, " ": 1};
        if (!keys[e.key] || e.ctrlKey || e.metaKey || e.altKey) { return; }
        var t = e.target, tag = t && t.tagName ? t.tagName.toLowerCase() : "";
        if (tag === "input" || tag === "textarea" || tag === "select" || tag === "button" ||
            (t && (t.isContentEditable || (t.getAttribute && t.getAttribute("role") === "slider")))) { return; }
        var tab = document.getElementById("tab-landscape");
        var dc = window.dash_clientside;
        if ((tab && tab.style.display === "none") || !dc || typeof dc.set_props !== "function") { return; }
        if (!document.getElementById("step-row")) { return; }
        e.preventDefault();
        keyCount += 1;
        dc.set_props("step-key", {data: {key: e.key, n: keyCount}});
    });

    function figureId(table) { return table && table.landscape ? table.landscape.id : null; }

    var dc = window.dash_clientside = window.dash_clientside || {};
    dc.lln = {
        /* the field an error message names gets the class "invalid" (outlined); "" clears every outline */
        markInvalid: function (id) {
            document.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
            var el = id ? document.getElementById(id) : null;
            if (el) { el.classList.add("invalid"); }
            return id || "";
        },

        /* every way of moving the step -> [step-store, slider value, step box value, tick disabled, play label] */
        stepper: function (table, sliderValue, typed, nPlay, nTick, key, store, tickDisabled, slicesStep) {
            var none = window.dash_clientside.no_update;
            var ctx = window.dash_clientside.callback_context;
            /* the inputs that changed since the last call: more than one when a click and a Play tick come
               together (the tick's entry may be first); the user's action wins over the clock */
            var fired = (ctx && ctx.triggered) ? ctx.triggered.map(function (t) { return t.prop_id; }) : [];
            var order = ["step-table.", "step-play.", "step-key.", "step-slider.", "step-input.", "step-tick."];
            var trig = "";
            for (var i = 0; i < order.length && !trig; i++) {
                for (var j = 0; j < fired.length; j++) {
                    if (fired[j].indexOf(order[i]) === 0) { trig = fired[j]; break; }
                }
            }
            if (!table || !table.steps || !table.steps.length) { return [none, none, none, none, none]; }
            var steps = table.steps, last = steps.length - 1;
            var fresh = !store || store.key !== table.key || store.id !== figureId(table) ||
                trig.indexOf("step-table.") === 0;
            var k = fresh ? table.start : store.k;
            var playing = tickDisabled === false;
            if (fresh) {
                playing = false;
            } else if (trig.indexOf("step-slider.") === 0) {
                if (sliderValue === null || sliderValue === undefined) { return [none, none, none, none, none]; }
                k = nearest(steps, sliderValue);
            } else if (trig.indexOf("step-input.") === 0) {
                var v = parseFloat(typed);
                if (isFinite(v)) { k = nearest(steps, v); }        /* else: the box shows the current step again */
            } else if (trig.indexOf("step-play.") === 0) {
                playing = !playing;
                if (playing && k >= last) { k = 0; }                /* Play at the end starts over */
            } else if (trig.indexOf("step-tick.") === 0) {
                if (!playing) { return [none, none, none, none, none]; }
                if (slicesStep !== null && slicesStep !== undefined && slicesStep !== steps[k]) {
                    return [none, none, none, none, none];          /* wait for the slices to show this step */
                }
                if (waitingForFrames(table)) { return [none, none, none, none, none]; }   /* and for the 3D's */
                if (k >= last) { playing = false; } else { k += 1; }
                if (k >= last) { playing = false; }
            } else if (trig.indexOf("step-key.") === 0 && key) {
                if (key.key === "ArrowLeft") { k = Math.max(0, k - 1); }
                else if (key.key === "ArrowRight") { k = Math.min(last, k + 1); }
                else if (key.key === "Home") { k = 0; }
                else if (key.key === "End") { k = last; }
                else if (key.key === " ") {
                    playing = !playing;
                    if (playing && k >= last) { k = 0; }
                }
            }
            var n = (store && store.n ? store.n : 0) + 1;
            var s = steps[k];
            return [{step: s, k: k, key: table.key, id: figureId(table), n: n, fresh: fresh}, s, s, !playing,
                    playing ? PAUSE : PLAY];
        },

        /* step-store -> the 3D frame and title, and Patches of the contour, curves and sharpness panels */
        showStep: function (store, table) {
            var none = window.dash_clientside.no_update;
            if (!store || !table || store.key !== table.key || !table.steps) { return [none, none, none]; }
            if (store.fresh) { return [none, none, none]; }    /* a new figure: drawn at this step already */
            var k = store.k, s = store.step;
            show3d(store, table);
            var out = [];
            ["contour", "curves", "sharpness"].forEach(function (fig) {
                var ops = [];
                (table.patches[fig] || []).forEach(function (p) { ops.push(assign(p[0], p[1][k])); });
                if (table.titles[fig]) { ops.push(assign(["layout", "title", "text"], title(table.titles[fig], s))); }
                var pt = patch(ops);
                out.push(pt === null ? none : pt);
            });
            return out;
        },

        /* landscape-frames (render_callbacks.landscape_frames) -> the 3D figure's frames, when they belong to the
           figure shown (the step table's landscape.id); then the 3D moves to the current step */
        attachFrames: function (data, store, table) {
            var none = window.dash_clientside.no_update;
            var gd = graph();
            if (!data || !data.frames || !table || figureId(table) !== data.id || !gd || !window.Plotly) {
                return none;
            }
            if (!frames3d(gd).length) {
                window.Plotly.addFrames(gd, data.frames).then(function () {
                    if (store && store.key === table.key && store.id === data.id) { show3d(store, table); }
                });
            }
            return data.id;
        }
    };
})();

/* Legends act on every panel together: a click on a run in any legend hides it (a double click isolates it)
   in the 3D figure, the contour, the curves, the sharpness and the slices at once. Traces of one run share
   its label as legendgroup in every figure; the hidden runs are kept here, applied to each graph after it
   draws (a new figure from the server keeps them), and each apply changes only traces that differ, so the
   restyle events it causes change nothing more. */
(function () {
    var GRAPHS = ["graph-landscape-3d", "graph-contour", "graph-curves", "graph-sharpness", "graph-slices"];
    var hidden = {};                 // legendgroup -> true while hidden

    function graphs() {
        return GRAPHS.map(function (id) { return document.querySelector("#" + id + " .js-plotly-plot"); })
            .filter(function (gd) { return gd && gd._fullData && window.Plotly; });
    }

    function readFrom(gd) {          // a group is hidden when its traces in this graph are legend-only
        var seen = {};
        gd._fullData.forEach(function (t) {
            var g = t.legendgroup;
            if (!g || t.visible === false) { return; }
            seen[g] = seen[g] || t.visible === "legendonly";
        });
        Object.keys(seen).forEach(function (g) { if (seen[g]) { hidden[g] = true; } else { delete hidden[g]; } });
    }

    function applyTo(gd) {
        var idx = [], vis = [];
        (gd.data || []).forEach(function (t, i) {
            var g = t.legendgroup;
            if (!g || t.visible === false) { return; }
            var want = hidden[g] ? "legendonly" : true;
            if ((t.visible === undefined ? true : t.visible) !== want) { idx.push(i); vis.push(want); }
        });
        if (idx.length) { window.Plotly.restyle(gd, {visible: vis}, idx); }
    }

    function attach() {
        graphs().forEach(function (gd) {
            if (gd._llnLegend || typeof gd.on !== "function") { return; }
            gd._llnLegend = true;
            gd.on("plotly_restyle", function () {
                readFrom(gd);
                graphs().forEach(function (other) { if (other !== gd) { applyTo(other); } });
            });
            /* after the restyle event of the same draw (a promise later): a legend click is read first */
            gd.on("plotly_afterplot", function () { setTimeout(function () { applyTo(gd); }, 60); });
            applyTo(gd);
        });
    }

    new MutationObserver(attach).observe(document.documentElement, {childList: true, subtree: true});
})();

/* A narrow window (a phone): the 3D figure gives its width to the scene. Its colour bar goes (the contour
   below shows the same colours), its title keeps the first line (no subtitle), and the legend lies in one row. */
(function () {
    var NARROW = 640;
    function fit() {
        var gd = document.querySelector("#graph-landscape-3d .js-plotly-plot");
        if (!gd || !gd._fullData || !gd._fullData.length || !window.Plotly) { return; }
        if (gd.clientWidth >= NARROW || gd._fullData[0].showscale === false) { return; }
        var title = ((gd.layout.title && gd.layout.title.text) || "").split("<br>")[0];
        window.Plotly.restyle(gd, {showscale: false}, [0]);
        window.Plotly.relayout(gd, {"title.text": title, "title.subtitle.text": "", "title.font.size": 13,
                                    "legend.orientation": "h",
                                    "legend.x": 0, "legend.y": 1, "legend.yanchor": "top",
                                    "scene.domain.y": [0, 0.84]});
    }
    function attach() {
        var gd = document.querySelector("#graph-landscape-3d .js-plotly-plot");
        if (!gd || gd._llnNarrow || typeof gd.on !== "function") { return; }
        gd._llnNarrow = true;
        gd.on("plotly_afterplot", fit);
        fit();
    }
    new MutationObserver(attach).observe(document.documentElement, {childList: true, subtree: true});
})();
