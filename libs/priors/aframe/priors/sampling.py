"""Reproducible draws from a ``Prior``, in both mass frames."""

from __future__ import annotations

import numpy as np
from bilby.core.prior import Constraint
from bilby.core.utils import random as bilby_random

from aframe.priors.cosmology import redshift_to_distance
from aframe.priors.prior import Prior


def sample(prior: Prior, n: int, seed: int) -> dict[str, np.ndarray]:
    """Draw ``n`` binaries; the same seed gives bit-for-bit the same draws.

    bilby draws from one module-level generator; it is replaced by
    ``numpy.random.default_rng(seed)`` for this call and restored after, so
    the result does not depend on earlier bilby use (not thread-safe: do not
    sample from two threads of one process at once).

    Args:
        prior: the population
        n: number of draws
        seed: random seed

    Returns:
        float64 arrays of length ``n``: ``mass_1``, ``mass_2`` (detector
        frame, M☉), ``mass_1_source``, ``mass_2_source`` (M☉), ``redshift``,
        ``luminosity_distance`` (Mpc, Planck15), ``a_1``, ``a_2`` (spin
        magnitudes), ``tilt_1``, ``tilt_2``, ``phi_12``, ``phi_jl``,
        ``theta_jn``, ``phase``, ``ra``, ``dec``, ``psi`` (rad), and any
        other key of the prior. Spin angles are defined at the waveform's
        reference frequency (the generator converts them there).
    """
    if n < 0:
        raise ValueError(f"number of draws must be >= 0, got {n}")
    previous = bilby_random.Generator.rng
    bilby_random.Generator.rng = np.random.default_rng(seed)
    try:
        if n == 0:
            keys = [
                k for k, v in prior.prior_dict.items() if not isinstance(v, Constraint)
            ]
            draws = {k: np.zeros(0) for k in keys}
        else:
            draws = prior.prior_dict.sample(n)
    finally:
        bilby_random.Generator.rng = previous
    out = {
        k: np.asarray(v, dtype=float)
        for k, v in draws.items()
        if not isinstance(prior.prior_dict.get(k), Constraint)
    }
    zp1 = 1 + out["redshift"]
    if prior.detector_frame:
        out["mass_1_source"] = out["mass_1"] / zp1
        out["mass_2_source"] = out["mass_2"] / zp1
    else:
        out["mass_1_source"] = out["mass_1"]
        out["mass_2_source"] = out["mass_2"]
        out["mass_1"] = out["mass_1_source"] * zp1
        out["mass_2"] = out["mass_2_source"] * zp1
    out["luminosity_distance"] = redshift_to_distance(out["redshift"])
    return out
