"""False-alarm rates, significance and vetoes with known answers."""

import numpy as np
import pytest

from aframe.ledger.events import EventSet
from aframe.ledger.far import (
    SECONDS_PER_UNIT,
    FarError,
    apply_vetoes,
    far,
    far_grid,
    nb,
    significance,
    threshold_at_far,
    veto_mask,
)
from aframe.utils.segments import SegmentError

YEAR = SECONDS_PER_UNIT["year"]


def events(stats, tb, times=None, shifts=None):
    stats = np.asarray(stats, dtype=float)
    n = len(stats)
    times = np.arange(n, dtype=float) * 10 + 1e9 if times is None else times
    shifts = np.zeros((n, 2)) if shifts is None else np.asarray(shifts, float)
    return EventSet(
        {
            "detection_statistic": stats,
            "detection_time": np.asarray(times, float),
            "shift": shifts,
        },
        attrs={"Tb": tb, "ifos": ["H1", "L1"]},
    )


def test_nb_counts_ties_as_louder():
    bg = events([1, 2, 2, 3, 5], tb=100)
    assert nb(bg, 2) == 4  # ≥ semantics: both 2s count
    assert nb(bg, 2.0001) == 2
    assert nb(bg, 6) == 0
    assert nb(bg, -10) == 5
    np.testing.assert_array_equal(nb(bg, np.array([0, 2, 3, 5, 6])), [5, 4, 2, 1, 0])


def test_far_is_count_over_livetime():
    # 10 events over 2 years: each is as loud as k events, FAR = k / 2 per year
    stats = np.arange(10.0)
    bg = events(stats, tb=2 * YEAR)
    np.testing.assert_allclose(far(bg, stats), np.arange(10, 0, -1) / 2)
    assert far(bg, 0.0) == pytest.approx(5.0)
    # 10 events in 2 years = 10/730.5 per day
    assert far(bg, -1, unit="day") == pytest.approx(10 / (2 * 365.25))
    assert far(bg, -1, unit="hour") == pytest.approx(10 / (2 * YEAR / 3600))


def test_far_floor_is_one_over_tb():
    bg = events([1.0, 2.0], tb=86400.0)
    # louder than every background event: the 1/Tb upper limit, never 0
    assert far(bg, 100.0, unit="day") == pytest.approx(1.0)
    assert far(bg, 2.0, unit="day") == pytest.approx(1.0)


def test_threshold_at_far_inverts_far():
    rng = np.random.default_rng(0)
    stats = rng.normal(size=1000)
    tb = 100 * 86400.0  # ten events per day
    bg = events(stats, tb=tb)
    for rate in (0.01, 1.0, 5.0):
        theta = threshold_at_far(bg, rate, unit="day")
        k = int(rate * tb / 86400)
        assert nb(bg, theta) == k
        assert far(bg, theta, unit="day") == pytest.approx(rate, rel=1e-12)
        # the next quieter background event has a higher rate
        assert far(bg, np.sort(stats)[::-1][k], unit="day") > rate
    # unreachable rates: below 1/Tb nothing passes; above all events, the quietest
    assert threshold_at_far(bg, 0.1 / (tb / 86400), unit="day") == np.inf
    assert threshold_at_far(bg, 1e6, unit="day") == stats.min()
    out = threshold_at_far(bg, np.array([1.0, 10.0]), unit="day")
    assert out.shape == (2,) and out[0] > out[1]


def test_significance():
    bg = events([1.0, 2.0, 3.0], tb=1000.0)
    # nb(2.5) = 1, so the rate is 2/Tb
    assert significance(bg, 2.5, T=500.0) == pytest.approx(1 - np.exp(-1.0))
    assert significance(bg, 10.0, T=0.0) == 0.0
    assert significance(bg, 10.0, T=1e6) == pytest.approx(1.0)


def test_far_grid():
    stats = np.arange(100.0)
    bg = events(stats, tb=10 * 86400.0)
    thresholds, fars = far_grid(bg, max_far=2.0, unit="day")
    np.testing.assert_array_equal(thresholds, stats[::-1][:20])
    np.testing.assert_allclose(fars, np.arange(1, 21) / 10)
    np.testing.assert_allclose(far(bg, thresholds, unit="day"), fars)
    thresholds, fars = far_grid(bg, max_far=0.05, unit="day")
    assert len(thresholds) == 0
    thresholds, fars = far_grid(bg, max_far=1e3, unit="day", max_points=10)
    assert len(fars) <= 10 and fars[0] == pytest.approx(0.1) and fars[-1] == 10.0


@pytest.mark.parametrize("tb", [0.0, -5.0])
def test_bad_livetime_is_a_clear_error(tb):
    bg = events([1.0], tb=tb)
    with pytest.raises(FarError, match="Tb"):
        far(bg, 0.5)
    with pytest.raises(FarError, match="Tb"):
        threshold_at_far(bg, 1.0)


def test_unknown_unit():
    with pytest.raises(FarError, match="fortnight"):
        far(events([1.0], tb=1.0), 0.5, unit="fortnight")


def test_vetoes_apply_per_ifo_shifts():
    t = np.array([100.0, 200.0, 300.0, 400.0])
    shifts = np.array([[0, 0], [0, 5], [0, 10], [0, 0]], dtype=float)
    bg = events([1, 2, 3, 4], tb=1000.0, times=t, shifts=shifts)
    # L1 sees the events at 100, 205, 310, 400; H1 at 100, 200, 300, 400
    vetoes = {"L1": np.array([[204.0, 206.0], [299.0, 301.0]])}
    kept = apply_vetoes(bg, vetoes)
    # event 1 (L1 at 205) is vetoed; event 2 (L1 at 310) is not, though its
    # unshifted time 300 lies in the segment
    np.testing.assert_array_equal(kept.parameters["detection_time"], [100, 300, 400])
    assert isinstance(kept, EventSet) and kept.Tb == 1000.0
    # the same segment in H1 vetoes event 2 instead
    kept = apply_vetoes(bg, {"H1": np.array([[299.0, 301.0]])})
    np.testing.assert_array_equal(kept.parameters["detection_time"], [100, 200, 400])
    # segments are half open [start, end)
    mask = veto_mask(t, shifts, ["H1", "L1"], {"H1": np.array([[100.0, 200.0]])})
    np.testing.assert_array_equal(mask, [True, False, False, False])


def test_veto_files(tmp_path):
    two = tmp_path / "h1.txt"
    two.write_text("# start end\n199 201\n\n399.5 400.5  # a gate\n")
    segwizard = tmp_path / "l1.txt"
    segwizard.write_text("# seg start stop duration\n0 204 206 2\n")
    t = np.array([100.0, 200.0, 300.0, 400.0])
    shifts = np.array([[0, 0], [0, 5], [0, 10], [0, 0]], dtype=float)
    bg = events([1, 2, 3, 4], tb=1000.0, times=t, shifts=shifts)
    kept = apply_vetoes(bg, {"H1": two, "L1": segwizard})
    np.testing.assert_array_equal(kept.parameters["detection_time"], [100, 300])


def test_bad_veto_input(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n")
    t, shifts = np.zeros(1), np.zeros((1, 2))
    with pytest.raises(SegmentError, match="bad.txt"):
        veto_mask(t, shifts, ["H1", "L1"], {"H1": bad})
    with pytest.raises(SegmentError, match="missing.txt"):
        veto_mask(t, shifts, ["H1", "L1"], {"H1": tmp_path / "missing.txt"})
    with pytest.raises(FarError, match="V1"):
        veto_mask(np.zeros(1), np.zeros((1, 2)), ["H1", "L1"], {"V1": np.zeros((0, 2))})
