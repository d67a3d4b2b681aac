"""Planck15 cosmology: distances, volume elements and prior volumes.

Everything here uses astropy's built-in Planck15 parameters (no download).
Distances come from a cached table of the comoving distance, integrated once
from ``efunc`` on a fine redshift grid, so converting 10⁵ redshifts costs a
single interpolation rather than 10⁵ quadratures.
"""

from __future__ import annotations

import functools

import numpy as np
from astropy.cosmology import FLRW, Planck15
from scipy.integrate import cumulative_trapezoid, quad

#: redshifts covered by the distance table
Z_MAX = 10.0
_GRID_SIZE = 200_001
_MPC3_PER_GPC3 = 1e9


def get_cosmology() -> FLRW:
    """The cosmology of every aframe prior: astropy's Planck15 (flat ΛCDM)."""
    return Planck15


@functools.cache
def _table() -> tuple[np.ndarray, np.ndarray, float]:
    """(z grid, comoving distance in Mpc, Hubble distance in Mpc)."""
    cosmo = get_cosmology()
    z = np.linspace(0.0, Z_MAX, _GRID_SIZE)
    hubble_distance = cosmo.hubble_distance.to_value("Mpc")
    inv_e = cosmo.inv_efunc(z)
    comoving = hubble_distance * cumulative_trapezoid(inv_e, z, initial=0.0)
    return z, comoving, hubble_distance


def _check_range(z: np.ndarray) -> None:
    if np.any(z < 0) or np.any(z > Z_MAX):
        raise ValueError(
            f"redshift outside [0, {Z_MAX}]: {z[(z < 0) | (z > Z_MAX)][:3]}"
        )


def comoving_distance(z: np.ndarray | float) -> np.ndarray:
    """Line-of-sight comoving distance, Mpc.

    Args:
        z: redshift(s) in [0, ``Z_MAX``]
    """
    z = np.asarray(z, dtype=float)
    _check_range(z)
    grid, comoving, _ = _table()
    return np.interp(z, grid, comoving)


def redshift_to_distance(z: np.ndarray | float) -> np.ndarray:
    """Luminosity distance of a redshift (flat universe), Mpc.

    Args:
        z: redshift(s) in [0, ``Z_MAX``]
    """
    z = np.asarray(z, dtype=float)
    return (1 + z) * comoving_distance(z)


def distance_to_redshift(distance: np.ndarray | float) -> np.ndarray:
    """Redshift of a luminosity distance (inverse of ``redshift_to_distance``).

    Args:
        distance: luminosity distance(s), Mpc

    Returns:
        redshift(s), accurate to ~1e-10
    """
    distance = np.asarray(distance, dtype=float)
    grid, comoving, hubble_distance = _table()
    luminosity = (1 + grid) * comoving
    if np.any(distance < 0) or np.any(distance > luminosity[-1]):
        raise ValueError(f"luminosity distance outside [0, {luminosity[-1]:.0f}] Mpc")
    z = np.interp(distance, luminosity, grid)
    cosmo = get_cosmology()
    # Newton steps on d_L(z) = d: the table guess is already within 1e-8
    for _ in range(2):
        dc = comoving_distance(z)
        slope = dc + (1 + z) * hubble_distance * cosmo.inv_efunc(z)
        z = np.clip(z - ((1 + z) * dc - distance) / slope, 0.0, Z_MAX)
    return z


def volume_element(z: np.ndarray | float) -> np.ndarray:
    """dVc/dz / (1+z) per steradian, Gpc³ sr⁻¹.

    The comoving volume per unit redshift, with 1/(1+z) for the slower clock
    of a source at redshift z: a population of constant source-frame rate
    density has redshifts distributed ∝ this.

    Args:
        z: redshift(s) in [0, ``Z_MAX``]
    """
    z = np.asarray(z, dtype=float)
    _, _, hubble_distance = _table()
    dc = comoving_distance(z)
    dvc_dz = hubble_distance * dc**2 * get_cosmology().inv_efunc(z)
    return dvc_dz / (1 + z) / _MPC3_PER_GPC3


def solid_angle(dec_min: float = -np.pi / 2, dec_max: float = np.pi / 2) -> float:
    """Solid angle of the declination band [dec_min, dec_max], sr."""
    if not -np.pi / 2 <= dec_min <= dec_max <= np.pi / 2:
        raise ValueError(f"declination band [{dec_min}, {dec_max}] is not within ±π/2")
    return 2 * np.pi * (np.sin(dec_max) - np.sin(dec_min))


def prior_volume(
    zmin: float,
    zmax: float,
    dec_min: float = -np.pi / 2,
    dec_max: float = np.pi / 2,
) -> float:
    """V0 = Ω ∫ dVc/dz / (1+z) dz: the time-dilated comoving volume, Gpc³.

    The sensitive volume of a perfect search over sources with redshifts in
    [zmin, zmax] and declinations in [dec_min, dec_max].

    Args:
        zmin: lowest redshift
        zmax: highest redshift (≤ ``Z_MAX``)
        dec_min: lowest declination, rad
        dec_max: highest declination, rad
    """
    if not 0 <= zmin <= zmax <= Z_MAX:
        raise ValueError(f"redshift range [{zmin}, {zmax}] is not within [0, {Z_MAX}]")
    if zmin == zmax:
        return 0.0
    integral, _ = quad(lambda z: float(volume_element(z)), zmin, zmax, epsrel=1e-10)
    return solid_angle(dec_min, dec_max) * integral
