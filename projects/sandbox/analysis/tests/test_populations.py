"""Importance-weight densities built from the priors."""

import numpy as np
import pytest

from aframe.ledger.sensitive_volume import log_weights
from aframe.priors import get_prior, prior_volume, sample
from analysis.populations import injection_density, target_population


def test_target_equal_to_a_source_frame_injection_prior_has_unit_weights():
    # the log-normal priors draw redshifts uniform in source-frame volume, so
    # as both injection prior and target every weight is the same
    prior = get_prior("log_normal_35_20")
    draws = sample(prior, 2000, seed=1)
    logw = log_weights(
        draws, target_population(prior, prior).log_prob, injection_density(prior)
    )
    np.testing.assert_allclose(logw, 0.0, atol=1e-9)


def test_comoving_volume_injections_are_reweighted_by_time_dilation():
    # end_o3_ratesandpops draws z ∝ dVc/dz; the sensitive volume counts
    # sources at a constant source-frame rate, ∝ dVc/dz / (1+z)
    prior = get_prior("end_o3_ratesandpops")
    draws = sample(prior, 2000, seed=2)
    logw = log_weights(
        draws, target_population(prior, prior).log_prob, injection_density(prior)
    )
    offset = logw + np.log1p(draws["redshift"])
    np.testing.assert_allclose(offset, offset[0], atol=1e-9)
    # normalised densities: the weights average to one over the draws
    assert np.exp(logw).mean() == pytest.approx(1.0, abs=0.03)


def test_log_normal_target_weights_are_the_mass_and_redshift_ratio():
    injection, target = get_prior("end_o3_ratesandpops"), get_prior("log_normal_20_10")
    draws = sample(injection, 5000, seed=3)
    pop = target_population(target, injection)
    logw = log_weights(draws, pop.log_prob, injection_density(injection))
    m1, m2 = draws["mass_1_source"], draws["mass_2_source"]
    expected = (
        target.mass_log_prob(m1, m2)
        - injection.mass_log_prob(m1, m2)
        - np.log1p(draws["redshift"])
    )
    finite = np.isfinite(expected)
    offset = logw[finite] - expected[finite]
    np.testing.assert_allclose(offset, offset[0], atol=1e-9)
    assert (np.isfinite(logw) == finite).all()
    # a normalised target: weights average to one up to Monte Carlo noise
    assert np.exp(logw).mean() == pytest.approx(1.0, rel=0.3)
    assert pop.v0 == pytest.approx(prior_volume(0, 2))
