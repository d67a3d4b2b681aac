"""The results file round trip and FAR labels."""

import numpy as np
import pytest

from aframe.ledger.results import (
    AnalysisResults,
    AnalysisResultsError,
    EfficiencyResult,
    PopulationResult,
    StatisticVsSnr,
    far_label,
    read_results,
)
from aframe.ledger.sensitive_volume import efficiency_vs_snr


def test_far_labels():
    assert far_label(24.0) == "1 per hour"
    assert far_label(48.0) == "2 per hour"
    assert far_label(1.0) == "1 per day"
    assert far_label(12 / 365.25) == "1 per month"
    assert far_label(0.5) == "0.5 per day"


def test_round_trip(tmp_path):
    # 1 of 10 found in [2, 4), 4 of 4 in [4, 8]
    snr = np.array([3.0] * 10 + [5.0] * 4)
    stat = np.array([4.0] + [-np.inf] * 9 + [6.0] * 4)
    curve = efficiency_vs_snr(snr, stat, 3.5, np.array([2.0, 4.0, 8.0]))
    statistic = StatisticVsSnr(
        snr_edges=np.array([2.0, 4.0, 8.0]),
        snr_mean=np.array([3.0, 5.0]),
        counts=np.array([10, 4]),
        lower=np.array([-np.inf, 6.0]),
        median=np.array([-np.inf, 6.0]),
        upper=np.array([3.7, 6.0]),
        quantiles=(0.05, 0.95),
        loudest_background=5.5,
        threshold_at_1_per_hour=3.0,
        threshold_at_1_per_day=np.inf,
    )
    results = AnalysisResults(
        thresholds=np.array([5.0, 4.0]),
        fars=np.array([365.25, 730.5]),
        populations={
            "a": PopulationResult(
                "a", np.array([1.0, 2.0]), np.array([0.1, 0.2]), 10.0, 50.0
            )
        },
        efficiencies=[EfficiencyResult("1 per day", 1.0, curve)],
        attrs={"Tb": 86400.0, "ifos": ["H1", "L1"], "injection_prior": "p"},
        statistic=statistic,
    )
    path = results.write(tmp_path / "sv.hdf5")
    back = read_results(path)
    np.testing.assert_array_equal(back.fars, results.fars)
    np.testing.assert_array_equal(back.populations["a"].error, [0.1, 0.2])
    assert back.populations["a"].distance[0] == pytest.approx(
        1000 * (3 / (4 * np.pi)) ** (1 / 3)
    )
    assert back.efficiencies[0].label == "1 per day"
    back_curve = back.efficiencies[0].curve
    assert back_curve.threshold == 3.5 and back_curve.level == curve.level
    np.testing.assert_array_equal(back_curve.lower, curve.lower)
    np.testing.assert_array_equal(back_curve.upper, curve.upper)
    np.testing.assert_allclose(back_curve.snr_mean, [3.0, 5.0])
    # all found: the Wilson interval still has width below 1
    assert back_curve.upper[1] == 1.0 and 0.5 < back_curve.lower[1] < 1.0
    st = back.statistic
    np.testing.assert_array_equal(st.median, [-np.inf, 6.0])
    assert st.quantiles == (0.05, 0.95) and st.loudest_background == 5.5
    assert st.threshold_at_1_per_hour == 3.0 and np.isposinf(st.threshold_at_1_per_day)
    assert back.attrs["ifos"] == ["H1", "L1"] and back.attrs["far_unit"] == "1/year"


def test_bad_files(tmp_path):
    with pytest.raises(AnalysisResultsError, match="no such file"):
        read_results(tmp_path / "missing.hdf5")
    (tmp_path / "junk.hdf5").write_text("not hdf5")
    with pytest.raises(AnalysisResultsError, match="junk.hdf5"):
        read_results(tmp_path / "junk.hdf5")
