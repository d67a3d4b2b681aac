"""Planck15 distances, volume elements and prior volumes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from aframe.priors.cosmology import (
    comoving_distance,
    distance_to_redshift,
    get_cosmology,
    prior_volume,
    redshift_to_distance,
    solid_angle,
    volume_element,
)

Z = np.array([0.0, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0])


def test_get_cosmology_is_planck15():
    cosmo = get_cosmology()
    assert cosmo.name == "Planck15"
    assert cosmo.Ok0 == 0


def test_distances_match_astropy():
    cosmo = get_cosmology()
    np.testing.assert_allclose(
        redshift_to_distance(Z),
        cosmo.luminosity_distance(Z).to_value("Mpc"),
        rtol=1e-7,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        comoving_distance(Z),
        cosmo.comoving_distance(Z).to_value("Mpc"),
        rtol=1e-7,
        atol=1e-6,
    )


def test_distance_to_redshift_inverts():
    z = np.array([0.0, 1e-3, 0.2, 1.3, 2.0, 7.5])
    np.testing.assert_allclose(
        distance_to_redshift(redshift_to_distance(z)), z, atol=1e-10
    )
    assert float(redshift_to_distance(distance_to_redshift(1000.0))) == pytest.approx(
        1000.0, rel=1e-10
    )
    with pytest.raises(ValueError, match="luminosity distance"):
        distance_to_redshift(-1.0)
    with pytest.raises(ValueError, match="redshift"):
        redshift_to_distance(11.0)


def test_volume_element_matches_astropy():
    cosmo = get_cosmology()
    expected = cosmo.differential_comoving_volume(Z).to_value("Gpc3 / sr") / (1 + Z)
    np.testing.assert_allclose(volume_element(Z), expected, rtol=1e-6, atol=1e-12)


def test_full_sky_is_twice_half_sky():
    full = prior_volume(0.0, 1.0)
    north = prior_volume(0.0, 1.0, dec_min=0.0)
    south = prior_volume(0.0, 1.0, dec_max=0.0)
    assert full == pytest.approx(2 * north, rel=1e-12)
    assert north == pytest.approx(south, rel=1e-12)
    assert solid_angle() == pytest.approx(4 * np.pi)


def test_zero_redshift_range_is_zero():
    assert prior_volume(0.5, 0.5) == 0.0
    assert prior_volume(0.0, 0.0) == 0.0


def test_prior_volume_matches_astropy_integral():
    cosmo = get_cosmology()

    def integrand(z):
        return cosmo.differential_comoving_volume(z).to_value("Gpc3 / sr") / (1 + z)

    expected = 4 * np.pi * quad(integrand, 0.0, 2.0, epsrel=1e-10)[0]
    assert prior_volume(0.0, 2.0) == pytest.approx(expected, rel=1e-6)
    # volumes add over adjacent shells
    assert prior_volume(0, 1) + prior_volume(1, 2) == pytest.approx(
        prior_volume(0, 2), rel=1e-9
    )


def test_bad_ranges():
    with pytest.raises(ValueError, match="redshift range"):
        prior_volume(1.0, 0.5)
    with pytest.raises(ValueError, match="declination"):
        prior_volume(0, 1, dec_min=0.5, dec_max=0.1)
