"""The named populations: ``get_prior(name)``.

Every population shares isotropic sky positions and orientations and
isotropic precessing spins; they differ in masses and redshifts:

- ``end_o3_ratesandpops``: power-law primary, the default for training and
  test injections;
- ``log_normal_35_35`` … ``log_normal_20_10``: narrow mass bins, the targets
  the sensitive volume is reweighted to;
- ``uniform_masses``: MLGWSC-1-like uniform detector-frame masses.

Spins (``a_1``, ``a_2``, ``tilt_1``, ``tilt_2``, ``phi_12``, ``phi_jl``) are
bilby's precessing-spin parameters, defined at the reference frequency; the
waveform generator converts them to Cartesian spins at the
``reference_frequency`` it records in its output, never at a fixed value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from bilby.core.prior import (
    ConditionalPowerLaw,
    ConditionalPriorDict,
    Constraint,
    Cosine,
    LogNormal,
    PowerLaw,
    PriorDict,
    Sine,
    Uniform,
)
from bilby.gw.prior import UniformComovingVolume, UniformSourceFrame

from aframe.priors.cosmology import get_cosmology
from aframe.priors.densities import (
    log_normal_log_pdf,
    log_normal_ratio_log_probability,
    power_law_log_pdf,
)
from aframe.priors.prior import Prior

#: spins never reach 1: the waveform models are not calibrated there
MAX_SPIN = 0.998


def _angles_and_spins() -> dict:
    """Isotropic sky, orientation and spin directions; uniform spin magnitudes."""
    return {
        "ra": Uniform(0, 2 * np.pi, name="ra", boundary="periodic"),
        "dec": Cosine(name="dec"),
        "theta_jn": Sine(name="theta_jn"),
        "phase": Uniform(0, 2 * np.pi, name="phase", boundary="periodic"),
        "psi": Uniform(0, np.pi, name="psi", boundary="periodic"),
        "a_1": Uniform(0, MAX_SPIN, name="a_1"),
        "a_2": Uniform(0, MAX_SPIN, name="a_2"),
        "tilt_1": Sine(name="tilt_1"),
        "tilt_2": Sine(name="tilt_2"),
        "phi_12": Uniform(0, 2 * np.pi, name="phi_12", boundary="periodic"),
        "phi_jl": Uniform(0, 2 * np.pi, name="phi_jl", boundary="periodic"),
    }


def _add_mass_ratio(parameters: dict) -> dict:
    """bilby conversion function: the mass ratio the constraints act on."""
    out = dict(parameters)
    out["mass_ratio"] = parameters["mass_2"] / parameters["mass_1"]
    return out


def _secondary_below_primary(reference_parameters: dict, mass_1) -> dict:
    return {"maximum": mass_1}


# ---------------------------------------------------------------- populations
def end_o3_ratesandpops() -> Prior:
    """Power-law masses in the source frame, uniform in comoving volume.

    m1 ~ m^-2.35 on [5, 100] M☉; m2 | m1 ~ m (α = 1) on [5, m1] M☉, both
    source frame; z ~ uniform in comoving volume on [0, 2] (Planck15; no
    1/(1+z) time dilation); isotropic sky, orientation and spins, spin
    magnitudes uniform on [0, 0.998]. After the end-of-O3 rates-and-
    populations paper's power-law model (without its peak).
    """
    m_min, m_max, alpha_1, alpha_2 = 5.0, 100.0, -2.35, 1.0
    priors = ConditionalPriorDict(
        {
            "mass_1": PowerLaw(alpha_1, m_min, m_max, name="mass_1"),
            "mass_2": ConditionalPowerLaw(
                _secondary_below_primary,
                alpha=alpha_2,
                minimum=m_min,
                maximum=m_max,
                name="mass_2",
            ),
            "redshift": UniformComovingVolume(
                0, 2, cosmology=get_cosmology(), name="redshift"
            ),
            **_angles_and_spins(),
        }
    )

    def mass_log_prob(m1: np.ndarray, m2: np.ndarray) -> np.ndarray:
        return power_law_log_pdf(m1, alpha_1, m_min, m_max) + power_law_log_pdf(
            m2, alpha_2, m_min, m1
        )

    return Prior(
        "end_o3_ratesandpops", priors, False, mass_log_prob, end_o3_ratesandpops.__doc__
    )


def log_normal_masses(
    m1: float, m2: float, sigma: float = 0.1, name: str | None = None
) -> Prior:
    """Narrow log-normal component masses in the source frame.

    ln m_i ~ N(ln m_i0, σ²) independently, restricted to mass ratios
    m2/m1 in [0.02, 1] (the density is renormalised by the analytic
    probability of that cut); z ~ uniform in source-frame time and comoving
    volume (∝ dVc/dz / (1+z)) on [0, 2]; isotropic sky, orientation and
    spins. The target populations of the sensitive-volume estimate.

    Args:
        m1: median primary mass, M☉ (source frame)
        m2: median secondary mass, M☉ (source frame)
        sigma: width of ln m
        name: registry name (default ``log_normal_{m1}_{m2}``)
    """
    mu_1, mu_2 = np.log(m1), np.log(m2)
    q_min, q_max = 0.02, 1.0
    priors = PriorDict(
        {
            "mass_1": LogNormal(mu_1, sigma, name="mass_1"),
            "mass_2": LogNormal(mu_2, sigma, name="mass_2"),
            "mass_ratio": Constraint(q_min, q_max, name="mass_ratio"),
            "redshift": UniformSourceFrame(
                0, 2, cosmology=get_cosmology(), name="redshift"
            ),
            **_angles_and_spins(),
        },
        conversion_function=_add_mass_ratio,
    )
    log_pass = log_normal_ratio_log_probability(mu_1, mu_2, sigma, q_min, q_max)

    def mass_log_prob(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.asarray(x2, dtype=float) / np.asarray(x1, dtype=float)
        out = log_normal_log_pdf(x1, mu_1, sigma) + log_normal_log_pdf(x2, mu_2, sigma)
        return np.where((q >= q_min) & (q <= q_max), out - log_pass, -np.inf)

    name = name or f"log_normal_{m1:g}_{m2:g}"
    return Prior(name, priors, False, mass_log_prob, log_normal_masses.__doc__)


def uniform_masses() -> Prior:
    """MLGWSC-1-like uniform component masses in the detector frame.

    m1, m2 ~ U(7, 50) M☉ in the detector frame (as the MLGWSC-1 mock data
    challenge drew them) with m2 ≤ m1, i.e. uniform on that triangle;
    z ~ uniform in comoving volume on [0, 2] (Planck15) for the distance;
    isotropic sky, orientation and spins.
    """
    m_min, m_max = 7.0, 50.0
    priors = PriorDict(
        {
            "mass_1": Uniform(m_min, m_max, name="mass_1"),
            "mass_2": Uniform(m_min, m_max, name="mass_2"),
            "mass_ratio": Constraint(0.0, 1.0, name="mass_ratio"),
            "redshift": UniformComovingVolume(
                0, 2, cosmology=get_cosmology(), name="redshift"
            ),
            **_angles_and_spins(),
        },
        conversion_function=_add_mass_ratio,
    )
    # half of the square passes m2 <= m1
    log_density = np.log(2.0 / (m_max - m_min) ** 2)

    def mass_log_prob(m1: np.ndarray, m2: np.ndarray) -> np.ndarray:
        m1, m2 = np.broadcast_arrays(np.asarray(m1, float), np.asarray(m2, float))
        inside = (m_min <= m2) & (m2 <= m1) & (m1 <= m_max)
        return np.where(inside, log_density, -np.inf)

    return Prior("uniform_masses", priors, True, mass_log_prob, uniform_masses.__doc__)


#: name → builder of every known population
PRIORS: dict[str, Callable[[], Prior]] = {
    "end_o3_ratesandpops": end_o3_ratesandpops,
    "log_normal_35_35": lambda: log_normal_masses(35, 35),
    "log_normal_35_20": lambda: log_normal_masses(35, 20),
    "log_normal_20_20": lambda: log_normal_masses(20, 20),
    "log_normal_20_10": lambda: log_normal_masses(20, 10),
    "uniform_masses": uniform_masses,
}


def get_prior(name: str) -> Prior:
    """A fresh ``Prior`` for a population name.

    Args:
        name: one of ``PRIORS``

    Raises:
        ValueError: for an unknown name, listing the known ones
    """
    try:
        builder = PRIORS[name]
    except KeyError:
        raise ValueError(
            f"unknown prior {name!r}; known priors: {', '.join(sorted(PRIORS))}"
        ) from None
    return builder()
