"""Loss Landscape Navigator visualizer: plotly figures, the Dash app, serving, exporters.

    import core, visualizer
    result = core.run_experiment(core.ExperimentSpec.preset("four_optimizers"))
    visualizer.landscape_figure(result).show()        # any figure function: go.Figure out (visualizer.figures)

Subpackages: plotdata (what every picture shows, as plain arrays: view options, the frame model, panels,
slices, sweep maps), figures (plotly), app (Dash: factory, layout, callbacks), serving (waitress, worker
processes, jobs, caches, uploads, Dask), export (GIF, MP4, HTML, PNG). python -m visualizer serve | export.
"""
from visualizer.figures import (ViewOptions, animated_landscape, contour_figure, curves_figure, landscape_figure,
                                sharpness_figure, slices_figure, summary_records, sweep_heatmap)

__all__ = ["landscape_figure", "animated_landscape", "contour_figure", "curves_figure", "sharpness_figure",
           "slices_figure", "sweep_heatmap", "summary_records", "ViewOptions"]
