"""The Dash app: create_app() builds the page and wires its callbacks; each callback is a thin wrapper around a
plain function of one of the *_callbacks modules (tested directly); heavy work goes to visualizer.serving.

    from visualizer.app import create_app
    app = create_app(); app.run(host="127.0.0.1", port=8050)      # or: python -m visualizer serve
"""
from visualizer.app.factory import create_app

__all__ = ["create_app"]
