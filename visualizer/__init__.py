"""Loss Landscape Navigator visualizer: Dash app, plotly figures, exporters."""
