"""The named populations."""

from __future__ import annotations

import numpy as np
import pytest
from bilby.core.prior import PriorDict
from bilby.gw.prior import UniformComovingVolume, UniformSourceFrame

from aframe.priors import PRIORS, Prior, get_prior, log_normal_masses

SPIN_AND_ANGLES = {
    "ra",
    "dec",
    "theta_jn",
    "phase",
    "psi",
    "a_1",
    "a_2",
    "tilt_1",
    "tilt_2",
    "phi_12",
    "phi_jl",
}


def test_unknown_name_lists_known():
    with pytest.raises(
        ValueError, match="unknown prior 'nope'.*end_o3_ratesandpops.*uniform_masses"
    ):
        get_prior("nope")


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_every_prior_is_complete(name):
    prior = get_prior(name)
    assert isinstance(prior, Prior) and prior.name == name
    assert isinstance(prior.prior_dict, PriorDict)
    assert {"mass_1", "mass_2", "redshift"} | SPIN_AND_ANGLES <= set(prior.prior_dict)
    assert prior.description and "M☉" in prior.description
    assert prior.prior_dict["a_1"].maximum == 0.998
    assert prior.prior_dict["psi"].maximum == pytest.approx(np.pi)
    assert prior.prior_dict["redshift"].maximum == 2


def test_frames_and_redshift_priors():
    o3 = get_prior("end_o3_ratesandpops")
    assert not o3.detector_frame
    assert type(o3.prior_dict["redshift"]) is UniformComovingVolume
    assert o3.prior_dict["mass_1"].alpha == -2.35
    assert (o3.prior_dict["mass_1"].minimum, o3.prior_dict["mass_1"].maximum) == (
        5,
        100,
    )
    ln = get_prior("log_normal_35_20")
    assert not ln.detector_frame
    assert type(ln.prior_dict["redshift"]) is UniformSourceFrame
    assert ln.prior_dict["mass_1"].mu == pytest.approx(np.log(35))
    assert ln.prior_dict["mass_2"].mu == pytest.approx(np.log(20))
    assert ln.prior_dict["mass_1"].sigma == 0.1
    assert get_prior("uniform_masses").detector_frame


def test_mass_supports():
    o3 = get_prior("end_o3_ratesandpops")
    assert np.isneginf(
        o3.mass_log_prob(np.array([30.0, 4.0, 101.0]), np.array([31.0, 4.5, 10.0]))
    ).all()
    ln = get_prior("log_normal_35_35")
    # q = 1.01 and q = 0.01 are outside [0.02, 1]
    assert np.isneginf(
        ln.mass_log_prob(np.array([35.0, 50.0]), np.array([35.35, 0.5]))
    ).all()
    uni = get_prior("uniform_masses")
    assert np.isneginf(
        uni.mass_log_prob(np.array([20.0, 51.0, 20.0]), np.array([21.0, 10.0, 6.0]))
    ).all()
    assert np.isfinite(uni.mass_log_prob(20.0, 20.0))


def test_custom_log_normal_name():
    assert log_normal_masses(30, 30, name="x").name == "x"
    assert log_normal_masses(30, 25).name == "log_normal_30_25"


def test_fresh_objects():
    assert (
        get_prior("uniform_masses").prior_dict
        is not get_prior("uniform_masses").prior_dict
    )
