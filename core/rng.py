"""One seed, independent random streams: every purpose draws from its own child of ``SeedSequence(seed)``.

    rng = rng_for(seed, "init")        # a numpy Generator; the same (seed, purpose) always gives the same stream

Before this, one integer started several ``default_rng(seed)`` streams in the same state (the split, the
initial weights, the mini-batch order and the plane's random directions), so the "random" first direction
of a plane centred on the initial weights was those weights' own direction. Now child ``i`` of
``SeedSequence(seed).spawn(...)`` serves purpose ``PURPOSES[i]``:

  data        synthetic points, then the random (stratified) train / test split, in that order
  init        initial weights of scheme "default" (the article's scheme keeps its own RandomState(seed))
  batches     mini-batch order
  directions  random plane directions (random planes, the second axis of interpolation and pca+random)
  lanczos     Lanczos start vectors (core.curvature: hessian_eigs above the dense cap, curvature "lanczos")

The order of PURPOSES is part of the result format: changing it changes every result (new purposes go at the
end; bump
core.experiment.result.VERSION). A Generator passed in is used as it is: its owner chose the stream, as with
scikit-learn's ``check_random_state``.
"""
from __future__ import annotations

import numpy as np

from core.errors import quote

PURPOSES = ("data", "init", "batches", "directions", "lanczos")


def rng_for(seed, purpose):
    """The Generator of ``purpose`` for ``seed`` (a non-negative integer), or ``seed`` itself if it is one."""
    if isinstance(seed, np.random.Generator):
        return seed
    if purpose not in PURPOSES:
        raise ValueError(f"purpose={quote(purpose)}: allowed are {', '.join(PURPOSES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={quote(seed)}: must be a non-negative integer or a numpy.random.Generator")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(PURPOSES.index(purpose),)))
