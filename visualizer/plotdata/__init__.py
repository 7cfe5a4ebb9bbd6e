"""What every picture shows, as plain arrays (no plotly, no Dash, no matplotlib): computed once, drawn by both
the plotly figures and the matplotlib exporter, so the app and the exports show the same numbers.

view: ViewOptions (height scale, clipping, shown runs); frames: the frame model (per frame the surface and
each run's point, height and true loss); panels: curves and sharpness; slices: 1-D slices; sweep_map: a sweep's
map; surface_colour: colouring a landscape by curvature.
"""
