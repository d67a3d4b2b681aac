"""CandidateSet: zero-lag events ranked against a background."""

from __future__ import annotations

import numpy as np
import pytest

from aframe.ledger import CandidateSet, EventSet, LedgerError, read_any
from aframe.ledger.far import far


def events(stats, times, shift, tb=86400.0):
    n = len(stats)
    return EventSet(
        {
            "detection_statistic": np.asarray(stats, dtype=float),
            "detection_time": np.asarray(times, dtype=float),
            "shift": np.tile(np.asarray(shift, dtype=float), (n, 1)),
        },
        attrs={"Tb": tb, "ifos": ["H1", "L1"]},
    )


def test_ranked_against_the_background(tmp_path):
    background = events(np.arange(10.0), np.arange(10.0), [0, 1], tb=2 * 86400.0)
    zero_lag = events([3.5, 20.0, 8.0], [100.0, 200.0, 300.0], [0, 0])
    candidates = CandidateSet.from_events(
        zero_lag, background, "aframe-v1-abc", attrs={"integration_length": 1.0}
    )
    np.testing.assert_array_equal(candidates.detection_statistic, [20.0, 8.0, 3.5])
    np.testing.assert_array_equal(candidates.detection_time, [200.0, 300.0, 100.0])
    # 0, 2 and 6 louder background events in 2 days; 0 counts as the limit 1/Tb
    per_year = 365.25 / 2
    np.testing.assert_allclose(candidates.far, [per_year, 2 * per_year, 6 * per_year])
    np.testing.assert_allclose(candidates.far, far(background, [20.0, 8.0, 3.5]))
    np.testing.assert_allclose(candidates.ifar, 1 / candidates.far)
    ifo_time = candidates.parameters["ifo_time"]
    np.testing.assert_array_equal(ifo_time[:, 1], [200, 300, 100])
    assert candidates.attrs["Tb"] == 2 * 86400.0
    assert candidates.attrs["num_background_events"] == 10
    assert candidates.attrs["integration_length"] == 1.0

    back = read_any(candidates.write(tmp_path / "candidates.hdf5"))
    assert isinstance(back, CandidateSet)
    assert back.attrs == candidates.attrs
    np.testing.assert_array_equal(back.far, candidates.far)


def test_empty_and_bad_shapes(tmp_path):
    background = events([1.0], [1.0], [0, 1])
    empty = CandidateSet.from_events(events([], [], [0, 0]), background, "m")
    assert len(empty) == 0
    back = CandidateSet.read(empty.write(tmp_path / "candidates.hdf5"))
    assert back.parameters["ifo_time"].shape == (0, 2)
    params = dict(empty.parameters)
    params["ifo_time"] = np.zeros((0, 3))
    with pytest.raises(LedgerError, match="ifo_time has shape"):
        CandidateSet(params, attrs=empty.attrs)
