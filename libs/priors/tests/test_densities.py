"""Normalised mass and redshift densities."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from aframe.priors import (
    PRIORS,
    get_prior,
    redshift_log_prob,
    sample,
    source_mass_log_prob,
)
from aframe.priors.densities import (
    log_normal_ratio_log_probability,
    log_normal_ratio_probability,
    power_law_log_pdf,
)


@pytest.mark.parametrize(
    "name",
    ["log_normal_35_35", "log_normal_35_20", "log_normal_20_20", "log_normal_20_10"],
)
def test_log_normal_mass_density_integrates_to_one(name, integrate_masses):
    prior = get_prior(name)
    mu_1 = prior.prior_dict["mass_1"].mu
    mu_2 = prior.prior_dict["mass_2"].mu

    def logp(m1, m2):
        return source_mass_log_prob(prior, m1, m2)

    total = integrate_masses(
        logp,
        np.exp(mu_1 - 1.2),
        np.exp(mu_1 + 1.2),
        lambda m1: np.maximum(0.02 * m1, np.exp(mu_2 - 1.2)),
        lambda m1: np.minimum(m1, np.exp(mu_2 + 1.2)),
    )
    assert total == pytest.approx(1.0, abs=1e-4)


def test_end_o3_mass_density_integrates_to_one(integrate_masses):
    prior = get_prior("end_o3_ratesandpops")
    total = integrate_masses(
        lambda m1, m2: source_mass_log_prob(prior, m1, m2),
        5.0,
        100.0,
        lambda m1: np.full_like(m1, 5.0),
        lambda m1: m1,
    )
    assert total == pytest.approx(1.0, abs=1e-6)


def test_end_o3_matches_bilby_ln_prob():
    prior = get_prior("end_o3_ratesandpops")
    draws = sample(prior, 50, seed=3)
    m1, m2 = draws["mass_1_source"], draws["mass_2_source"]
    bilby_value = prior.prior_dict["mass_1"].ln_prob(m1) + prior.prior_dict[
        "mass_2"
    ].ln_prob(m2, mass_1=m1)
    np.testing.assert_allclose(
        source_mass_log_prob(prior, m1, m2), bilby_value, rtol=1e-10
    )


@pytest.mark.parametrize("z", [0.0, 0.7, 1.5])
def test_uniform_masses_source_density_integrates_to_one(z, integrate_masses):
    prior = get_prior("uniform_masses")
    zp1 = 1 + z
    total = integrate_masses(
        lambda m1, m2: source_mass_log_prob(
            prior, m1, m2, redshift=np.full_like(m1, z)
        ),
        7.0 / zp1,
        50.0 / zp1,
        lambda m1: np.full_like(m1, 7.0 / zp1),
        lambda m1: m1,
    )
    assert total == pytest.approx(1.0, abs=1e-9)


def test_detector_frame_needs_redshift():
    with pytest.raises(ValueError, match="needs the redshift"):
        source_mass_log_prob(get_prior("uniform_masses"), 20.0, 10.0)


def test_constraint_probability_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mu_1, mu_2, sigma = np.log(20), np.log(20), 0.1
    m1 = np.exp(rng.normal(mu_1, sigma, 400_000))
    m2 = np.exp(rng.normal(mu_2, sigma, 400_000))
    q = m2 / m1
    fraction = np.mean((q > 0.02) & (q < 1))
    assert log_normal_ratio_probability(mu_1, mu_2, sigma, 0.02, 1) == pytest.approx(
        fraction, abs=3e-3
    )
    assert np.exp(
        log_normal_ratio_log_probability(mu_1, mu_2, sigma, 0.02, 1)
    ) == pytest.approx(
        log_normal_ratio_probability(mu_1, mu_2, sigma, 0.02, 1), rel=1e-12
    )


def test_power_law_log_pdf():
    x = np.linspace(1, 3, 20001)
    for alpha in (-2.35, -1.0, 0.0, 1.0):
        p = np.exp(power_law_log_pdf(x, alpha, 1.0, 3.0))
        assert np.trapezoid(p, x) == pytest.approx(1.0, rel=1e-6)
    assert np.isneginf(power_law_log_pdf(0.5, 1.0, 1.0, 3.0))


@pytest.mark.parametrize("name", ["end_o3_ratesandpops", "log_normal_20_20"])
def test_redshift_density_integrates_to_one_and_matches_bilby(name):
    prior = get_prior(name)
    total = quad(
        lambda z: float(np.exp(redshift_log_prob(prior, z))), 0, 2, epsrel=1e-10
    )[0]
    assert total == pytest.approx(1.0, abs=1e-8)
    z = np.array([0.05, 0.5, 1.0, 1.9])
    np.testing.assert_allclose(
        np.exp(redshift_log_prob(prior, z)),
        prior.prior_dict["redshift"].prob(z),
        rtol=2e-3,
    )
    assert np.isneginf(redshift_log_prob(prior, np.array([-0.1, 2.1]))).all()


def test_every_prior_density_is_finite_on_its_draws():
    for name in PRIORS:
        prior = get_prior(name)
        d = sample(prior, 200, seed=1)
        logp = source_mass_log_prob(
            prior, d["mass_1_source"], d["mass_2_source"], d["redshift"]
        )
        assert np.isfinite(logp).all(), name
        assert np.isfinite(redshift_log_prob(prior, d["redshift"])).all(), name
