"""Sensitive volume and efficiency on synthetic campaigns with known answers."""

import numpy as np
import pytest

from aframe.ledger import RecoveredInjectionSet, RejectedParameterSet
from aframe.ledger.injections import EXTRINSIC_PARAMETERS
from aframe.ledger.sensitive_volume import (
    SensitiveVolumeError,
    campaign,
    efficiency_vs_snr,
    log_weights,
    sensitive_distance,
    sensitive_volume,
)
from aframe.ledger.waveforms import SOURCE_PARAMETERS


def draws(rng, n):
    params = {name: rng.uniform(0.1, 1.0, n) for name in SOURCE_PARAMETERS}
    params.update({name: rng.uniform(0.1, 1.0, n) for name in EXTRINSIC_PARAMETERS})
    params["mass_1_source"] = rng.uniform(5, 100, n)
    params["mass_2_source"] = rng.uniform(5, 100, n)
    params["redshift"] = rng.uniform(0, 2, n)
    return params


def foreground(rng, stats, num_injections):
    n = len(stats)
    params = draws(rng, n)
    stats = np.asarray(stats, dtype=float)
    params.update(
        injection_time=np.arange(n) * 24.0 + 1e9,
        shift=np.tile([0.0, 1.0], (n, 1)),
        snr=rng.uniform(4, 40, n),
        H1_snr=rng.uniform(2, 30, n),
        L1_snr=rng.uniform(2, 30, n),
        detection_statistic=stats,
        detection_time=np.where(np.isfinite(stats), np.arange(n) * 24.0 + 1e9, np.nan),
        recovered=np.isfinite(stats),
    )
    attrs = {
        "Tb": 1e5,
        "num_injections": num_injections,
        "ifos": ["H1", "L1"],
        "match_window": 1.0,
    }
    return RecoveredInjectionSet(params, attrs=attrs)


def rejected(rng, n, num_injections):
    params = draws(rng, n)
    params["snr"] = rng.uniform(0, 4, n)
    attrs = {"num_injections": num_injections, "snr_threshold": 4.0, "prior": "test"}
    return RejectedParameterSet(params, attrs=attrs)


def flat(parameters):
    return np.zeros(len(parameters["redshift"]))


def test_all_found_gives_the_prior_volume():
    rng = np.random.default_rng(1)
    fg = foreground(rng, rng.uniform(5, 10, 50), num_injections=50)
    c = campaign(fg, rejected(rng, 0, 50))
    # any weights: if every draw is found, V = V0 exactly, with no MC error
    logw = rng.normal(size=len(c))
    curve = sensitive_volume(c.statistic, logw, v0=3.7, thresholds=[0.0, 5.0])
    np.testing.assert_allclose(curve.volume, 3.7)
    np.testing.assert_allclose(curve.error, 0.0, atol=1e-12)


def test_target_equal_to_injection_prior_gives_unit_weights():
    rng = np.random.default_rng(2)
    fg = foreground(rng, rng.uniform(5, 10, 20), num_injections=30)
    c = campaign(fg, rejected(rng, 10, 30))

    def density(p):
        return -np.log(p["mass_1_source"]) - 2 * np.log1p(p["redshift"])

    np.testing.assert_array_equal(log_weights(c.parameters, density, density), 0.0)
    curve = sensitive_volume(c.statistic, np.zeros(len(c)), v0=2.0, thresholds=7.5)
    found = (fg.parameters["detection_statistic"] >= 7.5).sum()
    # unit weights: V = V0 · n_found / N, binomial error
    mu = found / 30
    assert curve.volume[0] == pytest.approx(2.0 * mu)
    assert curve.error[0] == pytest.approx(2.0 * np.sqrt(mu * (1 - mu) / 30))
    assert curve.effective_samples == pytest.approx(30)


def test_rejected_draws_lower_the_volume_proportionally():
    rng = np.random.default_rng(3)
    stats = np.where(np.arange(100) % 2 == 0, 8.0, -np.inf)  # half found
    fg = foreground(rng, stats, num_injections=100)
    c = campaign(fg, rejected(rng, 0, 100))
    v_acc = sensitive_volume(c.statistic, flat(c.parameters), 1.0, 5.0).volume[0]
    assert v_acc == pytest.approx(0.5)
    # the same accepted draws out of 300 draws in all
    fg = foreground(rng, stats, num_injections=300)
    c = campaign(fg, rejected(rng, 200, 300))
    v_all = sensitive_volume(c.statistic, flat(c.parameters), 1.0, 5.0).volume[0]
    assert v_all == pytest.approx(v_acc * 100 / 300)


def test_missing_draws_are_an_error():
    rng = np.random.default_rng(4)
    fg = foreground(rng, np.ones(10), num_injections=25)
    with pytest.raises(SensitiveVolumeError, match="num_injections = 25"):
        campaign(fg, rejected(rng, 10, 25))
    with pytest.raises(SensitiveVolumeError, match="not the same campaign"):
        campaign(fg, rejected(rng, 15, 26))


def test_volume_is_monotone_in_far():
    rng = np.random.default_rng(5)
    n = 2000
    stats = np.where(rng.uniform(size=n) < 0.7, rng.normal(size=n), -np.inf)
    logw = rng.normal(scale=0.5, size=n)
    thresholds = np.linspace(3, -3, 50)  # decreasing threshold = increasing FAR
    curve = sensitive_volume(stats, logw, 1.0, thresholds)
    assert (np.diff(curve.volume) >= 0).all()
    assert curve.volume[-1] < 0.7 + 0.05 and curve.volume[0] < 0.01


def test_importance_weights_recover_a_known_volume():
    # injections uniform in x on [0, 1]; detection probability x; the target
    # density 2x gives E_target[P_det] = ∫ 2x·x dx = 2/3 (1/2 unweighted)
    rng = np.random.default_rng(6)
    n = 100_000
    x = rng.uniform(size=n)
    stats = np.where(rng.uniform(size=n) < x, 1.0, -np.inf)
    params = {"x": x}
    logw = log_weights(params, lambda p: np.log(2 * p["x"]), lambda p: np.zeros(n))
    curve = sensitive_volume(stats, logw, v0=1.0, thresholds=0.0)
    assert abs(curve.volume[0] - 2 / 3) < 4 * curve.error[0]
    assert curve.error[0] < 0.005
    plain = sensitive_volume(stats, np.zeros(n), v0=1.0, thresholds=0.0)
    assert abs(plain.volume[0] - 0.5) < 4 * plain.error[0]


def test_error_estimate_matches_the_scatter():
    rng = np.random.default_rng(7)
    estimates, errors = [], []
    for _ in range(300):
        x = rng.uniform(size=400)
        stats = np.where(rng.uniform(size=400) < x**2, 1.0, -np.inf)
        logw = np.log(3 * x**2)
        curve = sensitive_volume(stats, logw, 1.0, 0.0)
        estimates.append(curve.volume[0])
        errors.append(curve.error[0])
    # E_target[x²] under 3x² is 3/5
    assert np.mean(estimates) == pytest.approx(0.6, abs=0.01)
    assert np.std(estimates) == pytest.approx(np.mean(errors), rel=0.15)


def test_target_outside_the_draws_is_an_error():
    with pytest.raises(SensitiveVolumeError, match="do not cover"):
        sensitive_volume(np.ones(3), np.full(3, -np.inf), 1.0, 0.0)
    with pytest.raises(SensitiveVolumeError, match="injection prior"):
        log_weights({"redshift": np.ones(2)}, flat, lambda p: np.array([0.0, -np.inf]))


def test_sensitive_distance():
    assert sensitive_distance(4 / 3 * np.pi) == pytest.approx(1000.0)
    np.testing.assert_allclose(
        sensitive_distance(np.array([4 / 3 * np.pi * 0.008, 0.0])), [200.0, 0.0]
    )


def test_vetoed_injections_count_as_missed():
    rng = np.random.default_rng(8)
    fg = foreground(rng, np.full(10, 5.0), num_injections=10)
    keep = np.arange(10) >= 4
    c = campaign(fg, rejected(rng, 0, 10), found=keep)
    assert sensitive_volume(c.statistic, flat(c.parameters), 1.0, 0.0).volume[0] == (
        pytest.approx(0.6)
    )


def test_efficiency_vs_snr():
    rng = np.random.default_rng(9)
    snr = rng.uniform(2, 40, 20_000)
    # found with probability rising through 1/2 at SNR 10
    p = 1 / (1 + np.exp(-(snr - 10)))
    stats = np.where(rng.uniform(size=snr.size) < p, 5.0, -np.inf)
    edges = np.geomspace(2, 40, 25)
    curve = efficiency_vs_snr(snr, stats, threshold=1.0, snr_edges=edges)
    assert curve.counts.sum() == snr.size
    assert curve.efficiency[0] < 0.05 and curve.efficiency[-1] > 0.95
    assert curve.snr_at(0.5) == pytest.approx(10.0, abs=0.5)
    assert curve.at(10.0) == pytest.approx(0.5, abs=0.07)
    assert curve.at(100.0) is None
    np.testing.assert_allclose(
        curve.error, np.sqrt(curve.efficiency * (1 - curve.efficiency) / curve.counts)
    )
    # a threshold above every statistic finds nothing
    none = efficiency_vs_snr(snr, stats, threshold=6.0, snr_edges=edges)
    assert none.found.sum() == 0 and none.snr_at(0.5) is None
    with pytest.raises(SensitiveVolumeError, match="increase"):
        efficiency_vs_snr(snr, stats, 1.0, np.array([3.0, 2.0]))
