"""Sensitive volume and efficiency on synthetic campaigns with known answers."""

import numpy as np
import pytest

from aframe.ledger import RecoveredInjectionSet, RejectedParameterSet
from aframe.ledger.injections import EXTRINSIC_PARAMETERS
from aframe.ledger.sensitive_volume import (
    ONE_SIGMA,
    SensitiveVolumeError,
    campaign,
    efficiency_vs_snr,
    log_weights,
    pooled_edges,
    sensitive_distance,
    sensitive_volume,
    snr_at_efficiency,
    wilson_interval,
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
    # Wilson intervals bracket the efficiency, about ±sqrt(p(1-p)/n) when n is large
    assert curve.level == ONE_SIGMA
    assert (curve.lower <= curve.efficiency).all()
    assert (curve.efficiency <= curve.upper).all()
    normal = np.sqrt(curve.efficiency * (1 - curve.efficiency) / curve.counts)
    middle = (curve.efficiency > 0.2) & (curve.efficiency < 0.8)
    np.testing.assert_allclose(
        (curve.upper - curve.lower)[middle] / 2, normal[middle], rtol=0.05
    )
    np.testing.assert_allclose(curve.yerr[0], curve.efficiency - curve.lower)
    # each bin sits at its draws' geometric mean SNR, inside the bin
    inside = snr[(snr >= edges[3]) & (snr < edges[4])]
    assert curve.snr_mean[3] == pytest.approx(np.exp(np.log(inside).mean()))
    assert (curve.snr_edges[:-1] < curve.snr_mean).all()
    assert (curve.snr_mean < curve.snr_edges[1:]).all()
    # a threshold above every statistic finds nothing
    none = efficiency_vs_snr(snr, stats, threshold=6.0, snr_edges=edges)
    assert none.found.sum() == 0 and none.snr_at(0.5) is None
    with pytest.raises(SensitiveVolumeError, match="increase"):
        efficiency_vs_snr(snr, stats, 1.0, np.array([3.0, 2.0]))


def test_wilson_interval_is_honest_at_zero_and_one():
    lower, upper = wilson_interval(np.array([0, 10, 5, 0]), np.array([10, 10, 10, 0]))
    # none found of 10: [0, z²/(n + z²)], not the binomial ±0
    z2 = 1.0  # one sigma
    assert lower[0] == 0.0 and upper[0] == pytest.approx(z2 / (10 + z2), rel=1e-3)
    assert upper[1] == 1.0 and lower[1] == pytest.approx(10 / (10 + z2), rel=1e-3)
    # symmetric about 1/2 for half found
    assert lower[2] + upper[2] == pytest.approx(1.0)
    assert np.isnan(lower[3]) and np.isnan(upper[3])
    # a wider interval at a higher level
    wide_lo, wide_hi = wilson_interval(np.array([5]), np.array([10]), level=0.95)
    assert wide_lo[0] < lower[2] and wide_hi[0] > upper[2]
    with pytest.raises(SensitiveVolumeError, match="level"):
        wilson_interval(np.array([1]), np.array([2]), level=1.0)


def test_wilson_interval_covers_at_its_level():
    # efficiencies spread over (0, 1), ten injections a bin: the Wilson
    # interval covers ~68%, also near 0 where p ± sqrt(p(1-p)/n) fails
    rng = np.random.default_rng(10)
    n = 10
    p = rng.uniform(0.01, 0.99, 50_000)
    k = rng.binomial(n, p)
    lower, upper = wilson_interval(k, np.full(k.shape, n))
    covered = (lower <= p) & (p <= upper)
    assert covered.mean() == pytest.approx(ONE_SIGMA, abs=0.02)
    small = p < 0.1
    assert covered[small].mean() > 0.65
    phat = k / n
    normal = np.abs(phat - p) <= np.sqrt(phat * (1 - phat) / n)
    assert normal[small].mean() < 0.45


def test_pooled_edges_merge_until_every_bin_is_full():
    edges = np.array([4.0, 5, 6, 8, 10, 20, 50, 100])
    # 30 draws in [4, 5), 10 in [5, 6), 10 in [6, 8), 40 in [8, 10), 3 above
    snr = np.concatenate(
        [
            np.full(30, 4.5),
            np.full(10, 5.5),
            np.full(10, 7.0),
            np.full(40, 9.0),
            [25.0, 60.0, 99.0],
            [2.0, 150.0],  # outside: not counted
        ]
    )
    pooled = pooled_edges(snr, edges, min_count=20)
    counts, _ = np.histogram(snr, bins=pooled)
    assert (counts >= 20).all()
    assert pooled[0] == 4.0 and pooled[-1] == 100.0
    assert set(pooled) <= set(edges)
    # [4, 5) full; [5, 8) reaches 20; [8, 10) full; the 3 loud ones join it
    np.testing.assert_array_equal(pooled, [4.0, 5.0, 8.0, 100.0])
    # bins already full are kept; the empty [10, 20) joins [20, 50)
    np.testing.assert_array_equal(
        pooled_edges(snr, edges, 1), [4.0, 5, 6, 8, 10, 50, 100]
    )
    # too few draws for even one full bin: one bin
    np.testing.assert_array_equal(pooled_edges(snr, edges, 1000), [4.0, 100.0])
    with pytest.raises(SensitiveVolumeError, match="increase"):
        pooled_edges(snr, edges[::-1], 5)


def logistic_draws(seed, n=3000, snr50=10.0, width=1.0, high=40.0):
    rng = np.random.default_rng(seed)
    snr = rng.uniform(4, high, n)
    p = 1 / (1 + np.exp(-(snr - snr50) / width))
    stats = np.where(rng.uniform(size=n) < p, 5.0, -np.inf)
    return snr, stats


EDGES = np.array([4.0, 5, 6, 7, 8, 9, 10, 11, 12, 13.5, 15, 17.5, 20, 25, 30, 40])


def test_snr50_of_a_logistic_efficiency_with_its_interval():
    snr, stats = logistic_draws(11)
    edges = pooled_edges(snr, EDGES, 25)
    result = snr_at_efficiency(snr, stats, 1.0, edges)
    assert result.snr == pytest.approx(10.0, abs=0.4)
    assert result.lower < result.snr < result.upper
    assert result.upper - result.lower < 1.0
    assert result.replicates == 200 and result.unreached == 0
    assert result.interval == [result.lower, result.upper]
    # seeded: the same interval again; a wider one at 95%
    again = snr_at_efficiency(snr, stats, 1.0, edges)
    assert again == result
    wide = snr_at_efficiency(snr, stats, 1.0, edges, level=0.95)
    assert wide.lower < result.lower and wide.upper > result.upper


def test_snr50_interval_covers_the_truth():
    covered = 0
    trials = 40
    for seed in range(trials):
        snr, stats = logistic_draws(100 + seed, n=1500)
        result = snr_at_efficiency(
            snr, stats, 1.0, pooled_edges(snr, EDGES, 25), replicates=100, seed=seed
        )
        covered += result.lower <= 10.0 <= result.upper
    # a one-sigma interval: about 68% of the trials, binning bias allowed for
    assert 0.45 <= covered / trials <= 0.95


def test_snr50_unbounded_above_when_the_curve_barely_reaches_half():
    # half efficiency only at the top of the injected range
    snr, stats = logistic_draws(12, n=800, snr50=34.5, width=3.0, high=40.0)
    edges = pooled_edges(snr, EDGES, 25)
    result = snr_at_efficiency(snr, stats, 1.0, edges)
    # some replicates reach 50% in the top bin, more than 16% never do
    assert (1 - ONE_SIGMA) / 2 * result.replicates < result.unreached
    assert result.unreached < result.replicates
    assert result.upper is None and 30 < result.lower < np.sqrt(30 * 40)
    # never found: no estimate, unbounded above, every replicate unreached
    none = snr_at_efficiency(snr, stats, 6.0, edges)
    assert none.snr is None and none.upper is None
    assert none.unreached == none.replicates
    # …and the SNR50 lies above every bin: the top bin's SNR bounds it
    top = snr[snr >= edges[-2]]
    assert none.lower == pytest.approx(np.exp(np.log(top).mean()))


def test_a_wide_pooled_bin_is_placed_where_its_draws_are():
    # draws ∝ ρ⁻⁴ above 8: a pooled [10, 100] bin holds mostly ρ ≈ 10-15,
    # so its efficiency belongs near 13, not at the edges' centre 31.6
    rng = np.random.default_rng(13)
    snr = 8 * (1 - rng.uniform(size=4000)) ** (-1 / 3)
    found = snr >= 11.0  # a sharp efficiency step at 11
    stats = np.where(found, 5.0, -np.inf)
    curve = efficiency_vs_snr(snr, stats, 1.0, np.array([8.0, 10.0, 100.0]))
    assert 12 < curve.snr_mean[1] < 16
    assert curve.snr_at(0.5) < 13
    # inside the top bin but above its draws' mean: that bin's efficiency
    assert curve.at(50.0) == curve.efficiency[1]
    assert curve.at(101.0) is None


def test_chirp_mass():
    from aframe.ledger.sensitive_volume import chirp_mass

    assert chirp_mass(np.array([30.0]), np.array([30.0]))[0] == pytest.approx(
        30.0 * 2**-0.2
    )


def test_binned_views_restrict_to_each_bin():
    from aframe.ledger.sensitive_volume import binned_volume, efficiency_in_bins

    rng = np.random.default_rng(4)
    mc = rng.uniform(5, 45, 20_000)
    # heavier sources are found more often: P(found) = mc / 50
    statistic = np.where(rng.uniform(size=mc.size) < mc / 50, 10.0, -np.inf)
    edges = np.array([5.0, 15.0, 25.0, 35.0, 45.0])
    eff = efficiency_in_bins(mc, statistic, 5.0, edges)
    np.testing.assert_allclose(eff.efficiency, [0.2, 0.4, 0.6, 0.8], atol=0.02)
    assert (eff.lower < eff.efficiency).all() and (eff.efficiency < eff.upper).all()
    # equal weights: V0 times the found fraction of the bin
    vol = binned_volume(statistic, np.zeros(mc.size), 10.0, 5.0, mc, edges)
    np.testing.assert_allclose(vol.volume, 10.0 * eff.efficiency)
    np.testing.assert_allclose(
        vol.error, 10.0 * np.sqrt(eff.efficiency * (1 - eff.efficiency) / eff.counts)
    )
    # weights within a bin reweight it; an empty bin has no volume
    logw = np.where(mc > 40, np.log(3.0), 0.0)
    wide = np.array([5.0, 35.0, 45.0, 60.0])
    vol = binned_volume(statistic, logw, 10.0, 5.0, mc, wide)
    top = (mc >= 35) & (mc <= 45)
    w = np.where(mc[top] > 40, 3.0, 1.0)
    found = np.isfinite(statistic[top])
    assert vol.volume[1] == pytest.approx(10.0 * w[found].sum() / w.sum())
    assert np.isnan(vol.volume[2]) and np.isnan(vol.error[2])
