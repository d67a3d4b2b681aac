"""The results file round trip and FAR labels."""

import numpy as np
import pytest

from aframe.ledger.sensitive_volume import EfficiencyCurve
from analysis.results import (
    AnalysisResults,
    AnalysisResultsError,
    EfficiencyResult,
    PopulationResult,
    far_label,
    read_results,
)


def test_far_labels():
    assert far_label(24.0) == "1 per hour"
    assert far_label(48.0) == "2 per hour"
    assert far_label(1.0) == "1 per day"
    assert far_label(12 / 365.25) == "1 per month"
    assert far_label(0.5) == "0.5 per day"


def test_round_trip(tmp_path):
    curve = EfficiencyCurve(
        snr_edges=np.array([2.0, 4.0, 8.0]),
        counts=np.array([10, 4]),
        found=np.array([1, 4]),
        efficiency=np.array([0.1, 1.0]),
        error=np.array([0.09, 0.0]),
        threshold=3.5,
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
    )
    path = results.write(tmp_path / "sv.hdf5")
    back = read_results(path)
    np.testing.assert_array_equal(back.fars, results.fars)
    np.testing.assert_array_equal(back.populations["a"].error, [0.1, 0.2])
    assert back.populations["a"].distance[0] == pytest.approx(
        1000 * (3 / (4 * np.pi)) ** (1 / 3)
    )
    assert back.efficiencies[0].label == "1 per day"
    assert back.efficiencies[0].curve.threshold == 3.5
    assert back.attrs["ifos"] == ["H1", "L1"] and back.attrs["far_unit"] == "1/year"


def test_bad_files(tmp_path):
    with pytest.raises(AnalysisResultsError, match="no such file"):
        read_results(tmp_path / "missing.hdf5")
    (tmp_path / "junk.hdf5").write_text("not hdf5")
    with pytest.raises(AnalysisResultsError, match="junk.hdf5"):
        read_results(tmp_path / "junk.hdf5")
