"""Analysed time under each shift and the deadtime vetoes take out of it."""

import numpy as np
import pytest

from aframe.ledger import EventSet
from aframe.ledger.far import far, veto_mask
from aframe.ledger.livetime import (
    LivetimeError,
    analysed_segments,
    analysed_span,
    deadtime,
    overlap,
    shifted_vetoes,
    vetoed_livetime,
    with_deadtime,
)

IFOS = ["H1", "L1"]


def test_analysed_span_needs_every_detector():
    assert analysed_span(100.0, 50.0, [0.0, 3.0]) == (100.0, 147.0)
    assert analysed_span(100.0, 50.0, [0.0, -2.0]) == (102.0, 150.0)
    assert analysed_span(100.0, 50.0, [0.0, 0.0]) == (100.0, 150.0)


def test_analysed_segments_drop_the_burn_in_and_empty_jobs():
    files = [(100.0, 50.0), (200.0, 12.0)]
    segments = analysed_segments(files, [0.0, 3.0], burn_in=10.0)
    np.testing.assert_array_equal(segments, [[110.0, 147.0]])
    with pytest.raises(LivetimeError):
        analysed_segments(files, [0.0, 0.0], burn_in=-1.0)


def test_overlap_of_unsorted_overlapping_lists():
    a = np.array([[10.0, 20.0], [0.0, 5.0], [15.0, 30.0]])  # = [0,5) ∪ [10,30)
    b = np.array([[4.0, 12.0], [25.0, 40.0], [100.0, 101.0]])
    assert overlap(a, b) == pytest.approx(1.0 + 2.0 + 5.0)
    assert overlap(a, np.zeros((0, 2))) == 0.0
    # brute force on a fine grid
    rng = np.random.default_rng(0)
    a = np.sort(rng.uniform(0, 100, (20, 2)), axis=1)
    b = np.sort(rng.uniform(0, 100, (30, 2)), axis=1)
    t = np.arange(0, 100, 1e-3) + 5e-4

    def inside(s):
        return ((t[:, None] >= s[:, 0]) & (t[:, None] < s[:, 1])).any(1)

    assert overlap(a, b) == pytest.approx(
        1e-3 * (inside(a) & inside(b)).sum(), abs=0.02
    )


def test_a_veto_removes_its_shifted_overlap_under_each_shift():
    files = [(1000.0, 100.0)]
    vetoes = {"H1": np.array([[1050.0, 1060.0]]), "L1": np.array([[1095.0, 1100.0]])}
    # zero-lag: H1 removes [1050, 1060), L1 [1095, 1100): 15 s of [1010, 1100)
    live = vetoed_livetime(files, np.zeros((1, 2)), 10.0, IFOS, vetoes)
    assert live.total_analysed == 90.0 and live.total_deadtime == 15.0
    # L1 shifted by +20 s: its veto covers H1 times [1075, 1080); the span is
    # [1010, 1080), so H1's 10 s and L1's 5 s
    live = vetoed_livetime(files, np.array([[0.0, 20.0]]), 10.0, IFOS, vetoes)
    assert live.total_analysed == 70.0 and live.total_deadtime == 15.0
    # shifted by +45 s the L1 veto lands on H1's: [1050, 1055) counted once
    np.testing.assert_array_equal(
        shifted_vetoes(vetoes, [0.0, 45.0], IFOS), [[1050.0, 1060.0]]
    )
    live = vetoed_livetime(files, np.array([[0.0, 45.0]]), 10.0, IFOS, vetoes)
    assert live.total_analysed == 45.0 and live.total_deadtime == 5.0
    assert live.livetime == 40.0


def test_deadtime_is_where_veto_mask_removes_events():
    """The deadtime is the share of uniformly spread events the mask removes."""
    rng = np.random.default_rng(1)
    files = [(0.0, 1000.0), (2000.0, 500.0)]
    vetoes = {ifo: np.sort(rng.uniform(0, 2600, (40, 2)), axis=1) for ifo in IFOS}
    for shift in ([0.0, 0.0], [0.0, 37.0], [0.0, 210.0]):
        segments = analysed_segments(files, shift, burn_in=16.0)
        # events spread uniformly over the analysed time
        lengths = segments[:, 1] - segments[:, 0]
        pick = rng.choice(len(segments), 200_000, p=lengths / lengths.sum())
        times = segments[pick, 0] + rng.uniform(0, 1, len(pick)) * lengths[pick]
        mask = veto_mask(times, np.tile(shift, (len(times), 1)), IFOS, vetoes)
        dead = deadtime(segments, shift, IFOS, vetoes)
        assert mask.mean() == pytest.approx(dead / lengths.sum(), abs=0.005)


def test_vetoes_from_segment_files(tmp_path):
    path = tmp_path / "H1-veto.txt"
    path.write_text("1050 1060\n")
    live = vetoed_livetime([(1000.0, 100.0)], np.zeros((1, 2)), 0.0, IFOS, {"H1": path})
    assert live.total_deadtime == 10.0
    with pytest.raises(LivetimeError, match="V1"):
        shifted_vetoes({"V1": path}, [0.0, 0.0], IFOS)


def test_with_deadtime_reduces_tb_and_the_rate():
    events = EventSet(
        {
            "detection_statistic": np.array([1.0, 2.0]),
            "detection_time": np.array([10.0, 20.0]),
            "shift": np.zeros((2, 2)),
        },
        attrs={"Tb": 100.0, "ifos": IFOS},
    )
    after = with_deadtime(events, 20.0)
    assert after.Tb == 80.0 and after.attrs["vetoed_deadtime"] == 20.0
    assert events.Tb == 100.0  # the original is untouched
    assert far(after, 1.5, "second") == pytest.approx(1 / 80.0)
    with pytest.raises(LivetimeError, match="within the livetime"):
        with_deadtime(events, 200.0)
