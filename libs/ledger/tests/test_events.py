"""EventSet: background and zero-lag events."""

from __future__ import annotations

import numpy as np
import pytest

from aframe.ledger import EventSet, LedgerError


def test_round_trip_metadata_only(tmp_path):
    events = EventSet(attrs={"Tb": 1234.5, "ifos": ["H1", "L1"]})
    back = EventSet.read(events.write(tmp_path / "background.hdf5"))
    assert len(back) == 0 and back.num_events == 0
    assert back.Tb == 1234.5
    assert back.ifos == ["H1", "L1"]
    assert back.parameters["shift"].shape == (0, 2)


def test_round_trip_with_events(tmp_path, make_events):
    events = make_events([3.0, 1.0, 2.0], stats=[0.5, 4.0, 1.0], shifts=[0.0, 1.0])
    back = EventSet.read(events.write(tmp_path / "background.hdf5"))
    assert back.num_events == 3
    np.testing.assert_array_equal(back.detection_statistic, [0.5, 4.0, 1.0])
    np.testing.assert_array_equal(back.parameters["shift"], [[0, 1]] * 3)
    assert back.attrs == {"Tb": 100.0, "ifos": ["H1", "L1"]}


def test_get_shift_keeps_Tb(make_events):  # noqa: N802
    events = make_events([1.0, 2.0], shifts=[[0, 1], [0, 2]], Tb=7.0)
    sub = events.get_shift(np.array([0.0, 2.0]))
    assert sub.num_events == 1 and sub.Tb == 7.0
    assert sub.detection_time[0] == 2.0


def test_bad_ifos_attr(make_events):
    params = make_events([1.0]).parameters
    with pytest.raises(LedgerError, match="attribute ifos"):
        EventSet(params, attrs={"Tb": 1.0, "ifos": []})
