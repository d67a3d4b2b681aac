"""The shared Bokeh figures, built from hand-made results."""

import numpy as np
import pytest
from bokeh.models import GlyphRenderer, HoverTool, Whisker

from aframe.ledger.results import (
    AnalysisResults,
    EfficiencyResult,
    PopulationResult,
    StatisticVsSnr,
)
from aframe.ledger.sensitive_volume import efficiency_vs_snr
from aframe.plots import figures
from aframe.plots.figures import DAY


@pytest.fixture
def statistic():
    # bin 0: every quantile among the missed (-inf); bin 2: empty
    return StatisticVsSnr(
        snr_edges=np.array([4.0, 8.0, 16.0, 100.0]),
        snr_mean=np.array([5.0, 11.0, 40.0]),
        counts=np.array([10, 6, 0]),
        lower=np.array([-np.inf, 2.0, np.nan]),
        median=np.array([-np.inf, 4.0, np.nan]),
        upper=np.array([-np.inf, 7.0, np.nan]),
        quantiles=(0.05, 0.95),
        loudest_background=5.0,
        threshold_at_1_per_hour=3.0,
        threshold_at_1_per_day=np.inf,
    )


@pytest.fixture
def results(statistic):
    rng = np.random.default_rng(1)
    snr = rng.uniform(4, 100, 200)
    found = np.where(snr > 10, snr, -np.inf)
    curve = efficiency_vs_snr(snr, found, 10.0, np.array([4.0, 8.0, 16.0, 100.0]))
    volume = np.array([0.5, 1.0, 2.0])
    return AnalysisResults(
        thresholds=np.array([9.0, 8.0, 7.0]),
        fars=np.array([1.0, 10.0, 100.0]),
        populations={
            name: PopulationResult(name, scale * volume, 0.1 * volume, 10.0, 50.0)
            for name, scale in (("a", 1.0), ("b", 0.5))
        },
        efficiencies=[EfficiencyResult("1 per day", 1.0, curve)],
        statistic=statistic,
    )


def renderers(p):
    return [r for r in p.renderers if isinstance(r, GlyphRenderer)]


def test_snr_ticks_are_the_plain_numbers_in_range():
    assert figures.snr_ticks(4.0, 100.0) == [5, 10, 20, 50, 100]
    assert figures.snr_ticks(1000.0, 2000.0) == [2, 3, 5, 10, 20, 50, 100, 200]


def test_sensitive_volume_has_a_line_and_band_per_population(results):
    p = figures.sensitive_volume_figure(results, width=300)
    assert p.width == 300
    assert [item.label.value for item in p.legend[0].items] == ["a", "b"]
    assert len(renderers(p)) == 4  # a band and a line each
    np.testing.assert_array_equal(renderers(p)[1].data_source.data["far"], [1, 10, 100])


def test_efficiency_axis_spans_the_bins_with_plain_ticks(results):
    p = figures.efficiency_figure(results)
    assert (p.x_range.start, p.x_range.end) == (4.0, 100.0)
    assert list(p.xaxis[0].ticker.ticks) == [5, 10, 20, 50, 100]
    # the FAR per year, the legend beside the data
    assert p.legend[0].items[0].label.value == "FAR 365/yr"
    assert p.legend[0] in p.right and p.legend[0] not in p.center


def test_statistic_band_draws_missed_quantiles_from_the_floor(statistic):
    floor = figures.statistic_floor(statistic)
    # finite values span 2 … 7: 5% of that below the lowest
    assert floor == pytest.approx(2.0 - 0.05 * 5.0)
    lower, upper = figures.statistic_band(statistic)
    # only the populated bins; a bin whose upper quantile is -inf has no band
    assert np.isnan(lower[0]) and np.isnan(upper[0])
    np.testing.assert_array_equal([lower[1], upper[1]], [2.0, 7.0])
    # an unresolved 1/day threshold is not drawn
    assert figures.statistic_marks(statistic) == {
        "loudest background event": 5.0,
        "threshold at FAR 8,766/yr": 3.0,
    }
    p = figures.statistic_figure(statistic)
    assert p.legend[0] in p.right


def test_survival_curve_and_figure():
    stats = np.array([1.0, 3.0, 2.0, 5.0])
    x, y = figures.survival_curve(stats, tb=DAY)
    np.testing.assert_array_equal(x, [5.0, 3.0, 2.0, 1.0])
    # per year: one event in a day is 365.25 per year
    np.testing.assert_allclose(y, np.array([1.0, 2.0, 3.0, 4.0]) * 365.25)
    marks = {"FAR 365/yr": 5.0, "unresolved": np.inf}
    p = figures.survival_figure(stats, DAY, zero_lag=np.array([4.0]), marks=marks)
    labels = [item.label.value for item in p.legend[0].items]
    assert labels == ["background", "zero-lag events", "FAR 365/yr (5)"]
    assert p.yaxis[0].axis_label == "False-alarm rate (per year)"
    assert p.legend[0] in p.right


def hover_text(p):
    return " ".join(
        f"{k} {v}" for h in p.select({"type": HoverTool}) for k, v in h.tooltips
    )


def test_sensitive_volume_hover_shows_the_error_not_the_upper_end(results):
    p = figures.sensitive_volume_figure(results)
    assert "@sv{0.0000} ± @err{0.0000}" in hover_text(p)
    source = renderers(p)[1].data_source.data
    np.testing.assert_allclose(source["err"], [0.05, 0.1, 0.2])
    assert "FAR (per year)" in hover_text(p)


def test_far_text_is_per_year():
    assert figures.far_text(365.25) == "365/yr"
    assert figures.far_text(8766.0) == "8,766/yr"
    assert figures.far_text(0.5) == "0.5/yr"
    assert figures.far_of_label(1.0) == "365/yr"


def test_every_far_axis_and_hover_is_per_year(results, statistic):
    """No figure a reader sees quotes a FAR per day or per hour."""
    stats = np.array([1.0, 3.0, 2.0, 5.0])
    built = [
        figures.sensitive_volume_figure(results),
        figures.efficiency_figure(results),
        figures.statistic_figure(statistic),
        figures.survival_figure(stats, DAY, np.array([4.0]), {"x": 2.0}),
    ]
    for p in built:
        words = " ".join(
            [hover_text(p), p.xaxis[0].axis_label or "", p.yaxis[0].axis_label or ""]
            + [item.label.value for item in p.legend[0].items]
        )
        assert "/day" not in words and "per day" not in words, words
        assert "/hour" not in words and "per hour" not in words, words
        # every legend beside the plot
        assert p.legend[0] in p.right


def test_poisson_quantiles():
    from aframe.plots.ifar import poisson_quantile

    # P(N <= 0) = e^-1 = 0.37 for mean 1: the 0.16 quantile is 0, 0.84 is 2
    np.testing.assert_array_equal(poisson_quantile(np.array([1.0]), 0.158655), [0])
    np.testing.assert_array_equal(poisson_quantile(np.array([1.0]), 0.841345), [2])
    # large means: close to the normal interval
    q = poisson_quantile(np.array([10_000.0]), 0.841345)
    assert q[0] == pytest.approx(10_100, abs=2)
    assert poisson_quantile(np.array([0.0]), 0.9)[0] == 0


def test_cumulative_ifar_counts_and_expectation():
    from aframe.plots.ifar import YEAR, cumulative_ifar

    rng = np.random.default_rng(0)
    tb = 10 * YEAR
    background = rng.exponential(1.0, 1000)
    zero_lag = np.concatenate([rng.exponential(1.0, 100), [50.0]])
    data = cumulative_ifar(background, tb, zero_lag, observing_time=YEAR)
    # the loudest zero-lag event is louder than every background event
    assert data.lower_limit[0] and not data.lower_limit[1:].any()
    assert data.ifar[0] == pytest.approx(10.0)
    np.testing.assert_array_equal(data.count, np.arange(1, 102))
    assert (np.diff(data.ifar) <= 0).all()
    # noise's expectation: T/IFAR, with bands around it
    np.testing.assert_allclose(data.expected, 1.0 / data.grid)
    assert data.grid[-1] == pytest.approx(10.0)
    lo1, hi1 = data.bands[1]
    lo2, hi2 = data.bands[2]
    assert (lo2 <= lo1).all() and (lo1 <= data.expected + 1).all()
    assert (hi1 <= hi2).all() and (hi1 >= data.expected - 1).all()
    p = figures.cumulative_ifar_figure(data)
    assert p.xaxis[0].axis_label == "Inverse false-alarm rate (years)"
    labels = [item.label.value for item in p.legend[0].items]
    assert "noise: 1σ Poisson interval" in labels
    assert "IFAR ≥ Tb (a lower limit)" in labels


def test_found_missed_and_binned_efficiency_figures():
    from aframe.ledger.sensitive_volume import efficiency_in_bins

    rng = np.random.default_rng(1)
    n = 300
    found = rng.uniform(size=n) < 0.4
    columns = {
        "index": np.arange(n),
        "chirp_mass": rng.uniform(5, 40, n),
        "distance": rng.uniform(100, 3000, n),
        "snr": rng.uniform(4, 30, n),
        "stat": np.where(found, 5.0, np.nan),
        "far": np.where(found, 10.0, np.nan),
    }
    p = figures.found_missed_figure(columns, found, 365.25)
    assert "365/yr" in p.title.text
    sizes = [len(r.data_source.data["index"]) for r in renderers(p)]
    assert sorted(sizes) == sorted([found.sum(), n - found.sum()])
    assert p.yaxis[0].axis_label == "Luminosity distance (Mpc)"

    stat = np.where(found, 5.0, -np.inf)
    curve = efficiency_in_bins(
        columns["chirp_mass"], stat, 1.0, np.array([5.0, 15.0, 25.0, 40.0])
    )
    p = figures.binned_efficiency_figure([("FAR 365/yr", curve)])
    whiskers = p.select({"type": Whisker})
    assert len(whiskers) == 1
    np.testing.assert_allclose(whiskers[0].source.data["lo"], curve.lower)
    assert p.legend[0] in p.right


def test_gps_to_utc():
    from aframe.plots.timeaxis import gps_to_utc_iso, gps_to_utc_ms

    # GPS 1e9 is 2011-09-14 01:46:25 UTC (15 leap seconds then)
    assert gps_to_utc_iso(1e9) == ["2011-09-14 01:46:25.000"]
    assert gps_to_utc_iso(np.array([1e9, np.nan]))[1] == ""
    ms = gps_to_utc_ms(np.array([1e9, 1e9 + 1.5]))
    assert ms[0] == pytest.approx(1315964785000.0)
    assert ms[1] - ms[0] == pytest.approx(1500.0)


def test_log_axes_over_few_decades_get_plain_labels(results):
    assert figures.log_ticks(np.array([180.0, 9000.0])) == [
        200.0,
        500.0,
        1000.0,
        2000.0,
        5000.0,
    ]
    p = figures.sensitive_volume_figure(results)
    # fars 1 … 100 per year: 1, 2, 5, 10, 20, 50, 100, not just 10⁰ 10¹ 10²
    assert list(p.xaxis[0].ticker.ticks) == [1, 2, 5, 10, 20, 50, 100]
    # many decades: Bokeh's own powers of ten
    wide = figures.survival_figure(np.arange(1.0, 1e5), DAY)
    assert type(wide.yaxis[0].ticker).__name__ == "LogTicker"
