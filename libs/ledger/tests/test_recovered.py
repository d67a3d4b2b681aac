"""RecoveredInjectionSet.recover: matching injections to events."""

from __future__ import annotations

import numpy as np
import pytest

from aframe.ledger import EventSet, LedgerError, RecoveredInjectionSet


def test_window(make_injections, make_events):
    inj = make_injections([100.0, 200.0])
    events = make_events([100.5, 203.0], stats=[7.0, 9.0], Tb=50.0)
    rec = RecoveredInjectionSet.recover(events, inj, match_window=1.0)
    np.testing.assert_array_equal(rec.recovered, [True, False])
    assert rec.parameters["detection_statistic"][0] == 7.0
    assert rec.parameters["detection_time"][0] == 100.5
    assert rec.parameters["detection_statistic"][1] == -np.inf
    assert np.isnan(rec.parameters["detection_time"][1])
    assert rec.Tb == 50.0 and rec.attrs["match_window"] == 1.0
    assert rec.attrs["num_injections"] == inj.attrs["num_injections"]
    narrow = RecoveredInjectionSet.recover(events, inj, match_window=0.25)
    assert not narrow.recovered.any()


def test_per_shift(make_injections, make_events):
    inj = make_injections([100.0, 100.0], shifts=[[0, 1], [0, 2]])
    events = make_events([100.0, 100.3], stats=[50.0, 3.0], shifts=[[0, 2], [0, 1]])
    rec = RecoveredInjectionSet.recover(events, inj, match_window=1.0)
    np.testing.assert_array_equal(rec.parameters["detection_statistic"], [3.0, 50.0])
    np.testing.assert_array_equal(rec.parameters["detection_time"], [100.3, 100.0])


def test_loudest_in_window(make_injections, make_events):
    inj = make_injections([100.0])
    events = make_events([99.8, 100.4, 100.9, 103.0], stats=[3.0, 5.0, 1.0, 99.0])
    rec = RecoveredInjectionSet.recover(events, inj, match_window=1.0)
    assert rec.parameters["detection_statistic"][0] == 5.0
    assert rec.parameters["detection_time"][0] == 100.4


def test_no_double_claims(make_injections, make_events):
    # injection times given out of order: records keep the injections' order
    inj = make_injections([101.0, 100.0])
    events = make_events([100.6], stats=[4.0])
    rec = RecoveredInjectionSet.recover(events, inj, match_window=1.0)
    np.testing.assert_array_equal(rec.recovered, [True, False])
    np.testing.assert_array_equal(rec.parameters["injection_time"], [101.0, 100.0])
    assert int(rec.recovered.sum()) <= len(events)


def test_each_injection_its_own_event(make_injections, make_events):
    inj = make_injections([100.0, 110.0, 120.0])
    events = make_events([100.1, 109.5, 120.2, 115.0], stats=[1.0, 2.0, 3.0, 10.0])
    rec = RecoveredInjectionSet.recover(events, inj, match_window=1.0)
    np.testing.assert_array_equal(
        rec.parameters["detection_statistic"], [1.0, 2.0, 3.0]
    )


def test_window_must_be_finite(make_injections, make_events):
    inj, events = make_injections([1.0]), make_events([1.0])
    for bad in (np.inf, 0.0, -1.0, np.nan):
        with pytest.raises(LedgerError, match="match_window"):
            RecoveredInjectionSet.recover(events, inj, match_window=bad)


def test_parameters_mapping_and_round_trip(tmp_path, make_injections, make_events):
    inj = make_injections([100.0, 200.0])
    events = make_events([200.2], stats=[6.0], Tb=10.0)
    with pytest.raises(LedgerError, match="num_injections"):
        RecoveredInjectionSet.recover(events, inj.parameters, 1.0)
    rec = RecoveredInjectionSet.recover(events, inj.parameters, 1.0, num_injections=9)
    assert rec.attrs["num_injections"] == 9
    back = RecoveredInjectionSet.read(rec.write(tmp_path / "foreground.hdf5"))
    np.testing.assert_array_equal(back.recovered, [False, True])
    assert back.parameters["recovered"].dtype == bool
    assert back.Tb == 10.0
    other = RecoveredInjectionSet.recover(
        make_events([], Tb=5.0), inj.parameters, 1.0, num_injections=3
    )
    back.append(other)
    assert back.Tb == 15.0 and back.attrs["num_injections"] == 12


def test_ifos_must_match(make_injections):
    inj = make_injections([1.0])
    events = EventSet(
        {"detection_statistic": [1.0], "detection_time": [1.0], "shift": [[0.0, 0.0]]},
        attrs={"Tb": 1.0, "ifos": ["H1", "V1"]},
    )
    with pytest.raises(LedgerError, match="ifos"):
        RecoveredInjectionSet.recover(events, inj, 1.0)
