/* Plotly rejects the promise of an animation that another animation interrupts (Pause, the slider,
   a new figure), with no reason, and its play button does not catch it: the browser would report
   "Uncaught (in promise)". Swallow exactly those (reason undefined); every other rejection is reported. */
window.addEventListener("unhandledrejection", function (event) {
    if (event.reason === undefined) { event.preventDefault(); }
});

/* The step slider (contour and curves markers) follows the 3D figure's own animation, and the 3D
   figure jumps to the step slider's frame. Frames are named by their training step. */
(function () {
    var GRAPH = "#graph-landscape-3d .js-plotly-plot";
    var THROTTLE_MS = 200;          // at most ~5 marker updates a second while the 3D figure plays
    var fromPlot = null;            // the last step sent to the slider from the 3D figure
    var lastSent = 0, timer = null, pending = null;

    function graph() { return document.querySelector(GRAPH); }

    function stepOf(name) {
        var s = parseInt(name, 10);
        return isFinite(s) ? s : null;
    }

    function flush() {
        timer = null;
        var dc = window.dash_clientside;
        if (pending === null || !dc || typeof dc.set_props !== "function") { return; }
        lastSent = Date.now();
        fromPlot = pending;
        pending = null;
        try { dc.set_props("step-slider", {value: fromPlot}); } catch (e) { /* the page is re-rendering */ }
    }

    function follow(step) {
        if (step === null) { return; }
        pending = step;
        if (timer !== null) { return; }
        var wait = Math.max(0, THROTTLE_MS - (Date.now() - lastSent));
        timer = setTimeout(flush, wait);     // the last frame of a burst is always sent
    }

    function attach() {
        var gd = graph();
        if (!gd || gd._llnFollow || typeof gd.on !== "function") { return; }
        gd._llnFollow = true;                 // a re-rendered graph is a new div without this flag
        gd.on("plotly_animatingframe", function (e) { follow(stepOf(e && e.name)); });
        gd.on("plotly_sliderchange", function (e) { follow(stepOf(e && e.step && e.step.label)); });
    }

    new MutationObserver(attach).observe(document.documentElement, {childList: true, subtree: true});

    /* clientside callback: step-slider value -> show the 3D frame at or before that step */
    var dc = window.dash_clientside = window.dash_clientside || {};
    dc.lln = {
        /* the field an error message names gets the class "invalid" (outlined); "" clears every outline */
        markInvalid: function (id) {
            document.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
            var el = id ? document.getElementById(id) : null;
            if (el) { el.classList.add("invalid"); }
            return id || "";
        },
        jumpToStep: function (value) {
            var none = window.dash_clientside.no_update;
            var gd = graph();
            if (value === null || value === undefined || value === fromPlot || !gd || !window.Plotly) { return none; }
            var sl = gd._fullLayout && gd._fullLayout.sliders && gd._fullLayout.sliders[0];
            var frames = (gd._transitionData && gd._transitionData._frames) || [];
            var best = null;
            for (var i = 0; i < frames.length; i++) {
                var s = stepOf(frames[i].name);
                if (s !== null && s <= value && (best === null || s > stepOf(best))) { best = frames[i].name; }
            }
            if (best === null && frames.length) { best = frames[0].name; }
            if (best === null || (sl && sl.steps[sl.active] && sl.steps[sl.active].label === best)) { return none; }
            fromPlot = stepOf(best);         // the frame event it causes must not move the slider back
            window.Plotly.animate(gd, [best], {frame: {duration: 0, redraw: true}, transition: {duration: 0},
                                               mode: "immediate"});
            return none;
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
   below shows the same colours), its title keeps the first line, and the legend lies in one row. */
(function () {
    var NARROW = 640;
    function fit() {
        var gd = document.querySelector("#graph-landscape-3d .js-plotly-plot");
        if (!gd || !gd._fullData || !gd._fullData.length || !window.Plotly) { return; }
        if (gd.clientWidth >= NARROW || gd._fullData[0].showscale === false) { return; }
        var title = ((gd.layout.title && gd.layout.title.text) || "").split("<br>")[0];
        window.Plotly.restyle(gd, {showscale: false}, [0]);
        window.Plotly.relayout(gd, {"title.text": title, "title.font.size": 13, "legend.orientation": "h",
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
