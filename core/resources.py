"""Files bundled with the package (presets, the Wisconsin data, the app's CSS), found the same way in a checkout
and in an installed package: through importlib.resources, never through paths relative to the source tree.

    path = resource_path("core", "bundled", "presets")          # a real folder (pathlib.Path)
    names = bundled_names("presets", ".json")                   # ["article", "four_optimizers", ...]
"""
from __future__ import annotations

import pathlib
from importlib.resources import files

__all__ = ["resource_path", "bundled_names"]


def resource_path(package, *parts):
    """The folder or file ``parts`` inside ``package`` as a pathlib.Path (packages are installed unzipped)."""
    return pathlib.Path(str(files(package).joinpath(*parts)))


def bundled_names(folder, suffix):
    """Names (without ``suffix``) of the files in core/bundled/<folder>, sorted."""
    return sorted(p.name[:-len(suffix)] for p in resource_path("core", "bundled", folder).iterdir()
                  if p.name.endswith(suffix))
