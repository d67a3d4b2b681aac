"""Target populations and the injection density, from ``aframe.priors``.

Which densities enter the importance weights (derivation in
``aframe.ledger.sensitive_volume``):

- the injection density ``π`` of a draw is its prior's normalised density of
  the source-frame component masses (with the ``(1+z)²`` Jacobian for a
  detector-frame prior) times its redshift density (``UniformComovingVolume``
  for ``end_o3_ratesandpops``);
- a target population's density ``q`` is its own source-frame mass density
  times a redshift density uniform in source-frame comoving volume,
  ``(dVc/dz)/(1+z)`` normalised over its redshift range: the constant
  merger rate per comoving volume and source-frame time that defines a
  sensitive volume. Its ``V0`` is ``Ω∫(dVc/dz)/(1+z)dz`` over that range and
  the injections' declination band.

Spins, orientation, sky position and phase are drawn alike by both and cancel.
"""

from __future__ import annotations

import logging

import numpy as np

from aframe.ledger.sensitive_volume import LogDensity
from aframe.priors import get_prior
from aframe.priors.cosmology import prior_volume, solid_angle, volume_element
from aframe.priors.densities import redshift_log_prob, source_mass_log_prob
from aframe.priors.prior import Prior
from analysis.compute import Population

logger = logging.getLogger(__name__)

#: the log-normal mass bins (m1, m2 in M☉, σ = 0.1) of the aframe analysis
LOG_NORMAL_POPULATIONS = (
    "log_normal_35_35",
    "log_normal_35_20",
    "log_normal_20_20",
    "log_normal_20_10",
)


def _bounds(
    prior: Prior, key: str, default: tuple[float, float]
) -> tuple[float, float]:
    entry = prior.prior_dict.get(key)
    if entry is None or not hasattr(entry, "minimum"):
        return default
    return float(entry.minimum), float(entry.maximum)


def injection_density(prior: Prior) -> LogDensity:
    """Log density the injections were drawn from.

    Args:
        prior: the injection prior

    Returns:
        parameters → (N,) log density over source-frame masses and redshift
    """

    def log_prob(p):
        z = p["redshift"]
        return source_mass_log_prob(
            prior, p["mass_1_source"], p["mass_2_source"], z
        ) + redshift_log_prob(prior, z)

    return log_prob


def target_population(prior: Prior, injection: Prior) -> Population:
    """A population with ``prior``'s masses, uniform in source-frame volume.

    The redshift range is ``prior``'s, cut to the injections' (draws cover
    nothing beyond it); the sky is the injections' declination band.

    Args:
        prior: the target's prior (its masses and redshift range are used)
        injection: the injection prior

    Returns:
        the population
    """
    zmin, zmax = _bounds(prior, "redshift", (0.0, 0.0))
    izmin, izmax = _bounds(injection, "redshift", (zmin, zmax))
    lo, hi = max(zmin, izmin), min(zmax, izmax)
    if (lo, hi) != (zmin, zmax):
        logger.warning(
            "%s: redshift range [%g, %g] cut to the injections' [%g, %g]",
            prior.name,
            zmin,
            zmax,
            lo,
            hi,
        )
    if not hi > lo:
        raise ValueError(
            f"population {prior.name}: redshift range [{zmin}, {zmax}] does not "
            f"overlap the injections' [{izmin}, {izmax}]"
        )
    dec_min, dec_max = _bounds(injection, "dec", (-np.pi / 2, np.pi / 2))
    v0 = prior_volume(lo, hi, dec_min, dec_max)
    # p(z) = (dVc/dz)/(1+z) / ∫…dz; volume_element is per steradian
    log_norm = np.log(v0 / solid_angle(dec_min, dec_max))

    def log_prob(p):
        z = np.asarray(p["redshift"], dtype=float)
        inside = (z >= lo) & (z <= hi)
        with np.errstate(divide="ignore"):
            log_z = np.where(
                inside, np.log(volume_element(np.clip(z, lo, hi))) - log_norm, -np.inf
            )
        return (
            source_mass_log_prob(prior, p["mass_1_source"], p["mass_2_source"], z)
            + log_z
        )

    return Population(prior.name, log_prob, v0, prior.description)


def target_populations(names: list[str], injection: Prior) -> list[Population]:
    """The target populations, by prior name.

    Args:
        names: prior names known to ``aframe.priors.get_prior``
        injection: the injection prior

    Returns:
        one population per name, in order
    """
    return [target_population(get_prior(name), injection) for name in names]
