"""Reproducible sampling and the distributions it draws from."""

from __future__ import annotations

import numpy as np
import pytest
from bilby.core.utils import random as bilby_random
from scipy.integrate import quad

from aframe.priors import get_prior, redshift_to_distance, sample, volume_element

EXPECTED_KEYS = {
    "mass_1",
    "mass_2",
    "mass_1_source",
    "mass_2_source",
    "redshift",
    "luminosity_distance",
    "a_1",
    "a_2",
    "tilt_1",
    "tilt_2",
    "phi_12",
    "phi_jl",
    "theta_jn",
    "phase",
    "ra",
    "dec",
    "psi",
}


@pytest.mark.parametrize(
    "name", ["end_o3_ratesandpops", "log_normal_35_20", "uniform_masses"]
)
def test_same_seed_same_samples(name):
    prior = get_prior(name)
    a = sample(prior, 100, seed=7)
    bilby_random.seed(123)  # unrelated bilby use in between changes nothing
    b = sample(get_prior(name), 100, seed=7)
    c = sample(prior, 100, seed=8)
    assert set(a) == EXPECTED_KEYS
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
        assert a[key].shape == (100,) and a[key].dtype == np.float64
    assert not np.array_equal(a["mass_1"], c["mass_1"])


@pytest.mark.parametrize(
    "name", ["end_o3_ratesandpops", "log_normal_20_10", "uniform_masses"]
)
def test_frames_and_ranges(name):
    d = sample(get_prior(name), 2000, seed=1)
    zp1 = 1 + d["redshift"]
    np.testing.assert_allclose(d["mass_1"], d["mass_1_source"] * zp1, rtol=1e-12)
    np.testing.assert_allclose(d["mass_2"], d["mass_2_source"] * zp1, rtol=1e-12)
    np.testing.assert_allclose(
        d["luminosity_distance"], redshift_to_distance(d["redshift"])
    )
    assert np.all(d["mass_2"] <= d["mass_1"])
    assert np.all((d["redshift"] >= 0) & (d["redshift"] <= 2))
    assert np.all((d["a_1"] >= 0) & (d["a_1"] <= 0.998))
    assert np.all(np.abs(d["dec"]) <= np.pi / 2)
    assert np.all((d["psi"] >= 0) & (d["psi"] <= np.pi))
    # isotropic: sin(dec) and cos(theta_jn) are uniform on [-1, 1]
    assert abs(np.mean(np.sin(d["dec"]))) < 0.06
    assert np.mean(np.cos(d["theta_jn"]) ** 2) == pytest.approx(1 / 3, abs=0.03)


def test_zero_draws():
    d = sample(get_prior("log_normal_35_35"), 0, seed=0)
    assert set(d) == EXPECTED_KEYS
    assert all(len(v) == 0 for v in d.values())
    with pytest.raises(ValueError):
        sample(get_prior("log_normal_35_35"), -1, seed=0)


def _chi2(samples: np.ndarray, density, edges: np.ndarray) -> float:
    norm = quad(density, edges[0], edges[-1])[0]
    expected = (
        np.array([quad(density, a, b)[0] for a, b in zip(edges[:-1], edges[1:])]) / norm
    )
    counts, _ = np.histogram(samples, edges)
    expected *= len(samples)
    return float(np.sum((counts - expected) ** 2 / expected))


def test_uniform_comoving_volume_follows_volume_element():
    # p(z) ∝ dVc/dz = (1+z) × volume_element(z)
    z = sample(get_prior("end_o3_ratesandpops"), 20_000, seed=11)["redshift"]
    edges = np.linspace(0, 2, 21)
    chi2 = _chi2(z, lambda x: (1 + x) * float(volume_element(x)), edges)
    assert chi2 < 45  # 19 degrees of freedom: p ≈ 1e-3
    # and the time-dilated element alone is clearly rejected
    assert _chi2(z, lambda x: float(volume_element(x)), edges) > 100


def test_uniform_source_frame_follows_volume_element():
    z = sample(get_prior("log_normal_35_35"), 20_000, seed=12)["redshift"]
    edges = np.linspace(0, 2, 21)
    assert _chi2(z, lambda x: float(volume_element(x)), edges) < 45


def test_power_law_primary_distribution():
    m1 = sample(get_prior("end_o3_ratesandpops"), 20_000, seed=5)["mass_1_source"]
    edges = np.geomspace(5, 100, 16)
    assert _chi2(m1, lambda m: m**-2.35, edges) < 40
