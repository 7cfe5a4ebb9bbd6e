"""Plotly figures of results and sweeps: pure functions (result + ViewOptions in, ``go.Figure`` out), no Dash.

    fig = visualizer.figures.landscape_figure(result)      # the animated 3D landscape (alias animated_landscape;
                                                           # small multiples when spec.plane.method is pca_per_run)
    landscape_frames(result)                               # its frames alone, JSON-ready (the app sends them apart)
    contour_figure(result), curves_figure(result), sharpness_figure(result), slices_figure(result)
    sweep_heatmap(sweep_result)

landscape: the 3D animation, contour, curves, comparison table; curvature: sharpness and 1-D slices; sweep: the
sweep's heat map. The app, the HTML exporter, notebooks and the tests all draw with these.
"""
from visualizer.figures.curvature import min_eig_patch, sharpness_figure, sharpness_patch, slices_figure
from visualizer.figures.landscape import (SUMMARY_COLUMNS, contour_figure, curves_figure,
                                          figure_json_size, marker_patch, step_grid, summary_records, to_html)
from visualizer.figures.per_run import landscape as animated_landscape    # small multiples for per-run planes
from visualizer.figures.per_run import landscape_frames, per_run_landscape
from visualizer.figures.sweep import sweep_heatmap
from visualizer.plotdata.view import ViewOptions

landscape_figure = animated_landscape

__all__ = ["landscape_figure", "animated_landscape", "contour_figure", "curves_figure", "sharpness_figure",
           "slices_figure", "per_run_landscape", "landscape_frames",
           "sweep_heatmap", "marker_patch", "sharpness_patch", "min_eig_patch", "step_grid",
           "summary_records", "SUMMARY_COLUMNS", "figure_json_size", "to_html", "ViewOptions"]
