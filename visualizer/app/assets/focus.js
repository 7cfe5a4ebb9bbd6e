/* Focus on one run (the "focus" menu, focus-run): every other run fades in every panel together (3D, contour,
   curves, sharpness, slices), in the browser: nothing is recomputed. Traces of one run share its label as
   legendgroup in every figure (the slices' (a) and (b) panels use "a" and "b": the run they show is the
   slices' run, which the focus also selects). The focus is kept here and applied to each graph after it
   draws (a new figure from the server, or a Patch of the step markers, starts at full opacity); each apply
   restyles only traces whose opacity differs. wiring.py connects dash_clientside.llnFocus. */
(function () {
    var GRAPHS = ["graph-landscape-3d", "graph-contour", "graph-curves", "graph-sharpness", "graph-slices"];
    var ALL = "all";                 // layout.FOCUS_ALL
    var FADE = 0.15;                 // a faded run's opacity, times its own
    var focus = null;                // the run's label, or null: every run at its own opacity
    var runs = {};                   // label -> true: the legendgroups that are runs

    function graphs() {
        return GRAPHS.map(function (id) { return document.querySelector("#" + id + " .js-plotly-plot"); })
            .filter(function (gd) { return gd && gd.data && window.Plotly; });
    }

    function applyTo(gd) {
        var idx = [], op = [];
        (gd.data || []).forEach(function (t, i) {
            var g = t.legendgroup;
            if (!g || !runs[g]) { return; }
            if (t._llnOpacity === undefined) { t._llnOpacity = t.opacity === undefined ? 1 : t.opacity; }
            var want = focus !== null && g !== focus ? t._llnOpacity * FADE : t._llnOpacity;
            var now = t.opacity === undefined ? 1 : t.opacity;
            if (Math.abs(now - want) > 1e-9) { idx.push(i); op.push(want); }
        });
        if (idx.length) { window.Plotly.restyle(gd, {opacity: op}, idx); }
    }

    function applyAll() { graphs().forEach(applyTo); }

    function labelsOf(options) {
        return (options || []).map(function (o) { return (o && typeof o === "object") ? o.value : o; });
    }

    function setRuns(labels) {
        runs = {};
        labels.forEach(function (l) { runs[l] = true; });
    }

    function attach() {
        graphs().forEach(function (gd) {
            if (gd._llnFocus || typeof gd.on !== "function") { return; }
            gd._llnFocus = true;
            /* right after the draw (before the browser paints), so a faded run does not flash back */
            gd.on("plotly_afterplot", function () { Promise.resolve().then(function () { applyTo(gd); }); });
            applyTo(gd);
        });
    }

    new MutationObserver(attach).observe(document.documentElement, {childList: true, subtree: true});

    var dc = window.dash_clientside = window.dash_clientside || {};
    dc.llnFocus = {
        /* the runs of the shown result (slice-optimizer's options) -> [focus-run options, focus-run value]:
           the focus stays on a run the new result has, else "all" */
        options: function (sliceOptions, current) {
            var labels = labelsOf(sliceOptions);
            setRuns(labels);
            var value = labels.indexOf(current) >= 0 ? current : ALL;
            focus = value === ALL ? null : value;
            var opts = [{label: "all runs", value: ALL}].concat(labels.map(function (l) {
                return {label: l, value: l};
            }));
            applyAll();
            return [opts, value];
        },

        /* focus-run -> [focus-echo, slice-optimizer value]: fade the other runs; the slices show the focused run */
        choose: function (value, sliceOptions, sliceValue) {
            var none = window.dash_clientside.no_update;
            var labels = labelsOf(sliceOptions);
            setRuns(labels);
            focus = (value && value !== ALL && labels.indexOf(value) >= 0) ? value : null;
            applyAll();
            return [focus === null ? ALL : focus, focus !== null && focus !== sliceValue ? focus : none];
        }
    };
})();
