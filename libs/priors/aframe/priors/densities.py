"""Normalised population densities, for importance weighting.

The sensitive-volume Monte Carlo reweights draws of one prior to another
population with ``p_target / p_source``; both densities must be normalised
over their full support, constraints included. Each named prior carries its
mass density in closed form (see ``populations``): a ``Constraint`` cuts the
support and its density is divided by the probability that an
unconstrained draw passes the cut, computed analytically.
"""

from __future__ import annotations

import functools

import numpy as np
from bilby.gw.prior import UniformComovingVolume, UniformSourceFrame
from scipy.integrate import quad
from scipy.special import log_ndtr, ndtr

from aframe.priors.cosmology import volume_element
from aframe.priors.prior import Prior


def power_law_log_pdf(
    x: np.ndarray, alpha: float, low: np.ndarray | float, high: np.ndarray | float
) -> np.ndarray:
    """Log density of p(x) ∝ x^alpha on [low, high] (-inf outside).

    Args:
        x: values
        alpha: power-law index
        low: lower bound(s) (> 0)
        high: upper bound(s), broadcast with ``x``
    """
    x, low, high = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (x, low, high))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        if alpha == -1:
            log_norm = -np.log(np.log(high / low))
        else:
            a1 = alpha + 1
            log_norm = np.log(np.abs(a1)) - np.log(np.abs(high**a1 - low**a1))
        out = log_norm + alpha * np.log(x)
    inside = (x >= low) & (x <= high) & (high > low)
    return np.where(inside, out, -np.inf)


def log_normal_log_pdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """Log density of a log-normal with ln x ~ N(mu, sigma²)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -0.5 * ((np.log(x) - mu) / sigma) ** 2 - np.log(
            x * sigma * np.sqrt(2 * np.pi)
        )
    return np.where(x > 0, out, -np.inf)


def log_normal_ratio_probability(
    mu_1: float, mu_2: float, sigma: float, q_min: float, q_max: float
) -> float:
    """P(q_min < m2/m1 < q_max) for independent log-normal masses.

    ln q = ln m2 - ln m1 is normal with mean mu_2 - mu_1 and variance 2σ².
    """
    mean, scale = mu_2 - mu_1, np.sqrt(2) * sigma
    return float(
        ndtr((np.log(q_max) - mean) / scale) - ndtr((np.log(q_min) - mean) / scale)
    )


def log_normal_ratio_log_probability(
    mu_1: float, mu_2: float, sigma: float, q_min: float, q_max: float
) -> float:
    """log of ``log_normal_ratio_probability``, accurate when it is tiny."""
    mean, scale = mu_2 - mu_1, np.sqrt(2) * sigma
    hi = log_ndtr((np.log(q_max) - mean) / scale)
    lo = log_ndtr((np.log(q_min) - mean) / scale)
    return float(hi + np.log1p(-np.exp(lo - hi)))


def source_mass_log_prob(
    prior: Prior,
    mass_1_source: np.ndarray,
    mass_2_source: np.ndarray,
    redshift: np.ndarray | None = None,
) -> np.ndarray:
    """Normalised log density of the source-frame component masses, ln(M☉⁻²).

    For a detector-frame prior the source-frame density depends on the
    redshift: p_s(m1s, m2s | z) = p_d(m1s(1+z), m2s(1+z)) (1+z)².

    Args:
        prior: the population
        mass_1_source: primary mass(es), source frame, M☉
        mass_2_source: secondary mass(es), source frame, M☉
        redshift: needed (and only used) when ``prior.detector_frame``

    Returns:
        log density, -inf outside the support
    """
    m1 = np.asarray(mass_1_source, dtype=float)
    m2 = np.asarray(mass_2_source, dtype=float)
    if not prior.detector_frame:
        return prior.mass_log_prob(m1, m2)
    if redshift is None:
        raise ValueError(
            f"prior {prior.name} has detector-frame masses: the source-frame "
            f"density needs the redshift"
        )
    zp1 = 1 + np.asarray(redshift, dtype=float)
    return prior.mass_log_prob(m1 * zp1, m2 * zp1) + 2 * np.log(zp1)


@functools.cache
def _redshift_normalization(kind: type, zmin: float, zmax: float) -> float:
    if kind is UniformSourceFrame:
        return quad(lambda z: float(volume_element(z)), zmin, zmax, epsrel=1e-10)[0]
    return quad(lambda z: float((1 + z) * volume_element(z)), zmin, zmax, epsrel=1e-10)[
        0
    ]


def redshift_log_prob(prior: Prior, redshift: np.ndarray) -> np.ndarray:
    """Normalised log density of the redshift prior.

    ``UniformSourceFrame``: p(z) ∝ dVc/dz / (1+z); ``UniformComovingVolume``:
    p(z) ∝ dVc/dz; both normalised over [minimum, maximum] with the Planck15
    volume element of ``cosmology``. Any other bilby prior: its own
    ``ln_prob``.

    Args:
        prior: the population
        redshift: redshift(s)

    Returns:
        log density, -inf outside the prior's range
    """
    z = np.asarray(redshift, dtype=float)
    z_prior = prior.prior_dict["redshift"]
    kind = type(z_prior)
    if kind not in (UniformSourceFrame, UniformComovingVolume):
        return np.asarray(z_prior.ln_prob(z), dtype=float)
    zmin, zmax = float(z_prior.minimum), float(z_prior.maximum)
    inside = (z >= zmin) & (z <= zmax)
    zc = np.clip(z, zmin, zmax)
    density = volume_element(zc)
    if kind is UniformComovingVolume:
        density = density * (1 + zc)
    log_norm = np.log(_redshift_normalization(kind, zmin, zmax))
    with np.errstate(divide="ignore"):
        return np.where(inside, np.log(density) - log_norm, -np.inf)
