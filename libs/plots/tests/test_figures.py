"""The shared Bokeh figures, built from hand-made results."""

import numpy as np
import pytest
from bokeh.models import GlyphRenderer, Span

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
    assert p.legend[0].items[0].label.value == "FAR 1 per day"


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
        "threshold at FAR 1/hour": 3.0,
    }
    p = figures.statistic_figure(statistic)
    assert p.legend[0] in p.right


def test_survival_curve_and_figure():
    stats = np.array([1.0, 3.0, 2.0, 5.0])
    x, y = figures.survival_curve(stats, tb=DAY)
    np.testing.assert_array_equal(x, [5.0, 3.0, 2.0, 1.0])
    np.testing.assert_array_equal(y, [1.0, 2.0, 3.0, 4.0])
    marks = {"1 per day": 5.0, "unresolved": np.inf}
    p = figures.survival_figure(stats, DAY, zero_lag=np.array([4.0]), marks=marks)
    labels = [item.label.value for item in p.legend[0].items]
    assert labels == ["background", "zero-lag events"]
    spans = [m for m in p.center if isinstance(m, Span)]
    assert [s.location for s in spans] == [5.0]
