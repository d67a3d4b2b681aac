"""bilby prior dictionaries and cosmology for aframe.

``get_prior(name)`` gives a ``Prior``; ``sample(prior, n, seed)`` draws
binaries in both mass frames; ``source_mass_log_prob`` and
``redshift_log_prob`` are the normalised densities importance weighting
needs; ``cosmology`` holds Planck15 distances and volumes.
"""

from aframe.priors.cosmology import (
    distance_to_redshift,
    get_cosmology,
    prior_volume,
    redshift_to_distance,
    volume_element,
)
from aframe.priors.densities import redshift_log_prob, source_mass_log_prob
from aframe.priors.populations import PRIORS, get_prior, log_normal_masses
from aframe.priors.prior import Prior
from aframe.priors.sampling import sample

__all__ = [
    "PRIORS",
    "Prior",
    "distance_to_redshift",
    "get_cosmology",
    "get_prior",
    "log_normal_masses",
    "prior_volume",
    "redshift_log_prob",
    "redshift_to_distance",
    "sample",
    "source_mass_log_prob",
    "volume_element",
]
