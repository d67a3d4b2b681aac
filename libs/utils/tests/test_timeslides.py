import numpy as np
import pytest

from aframe.utils.timeslides import (
    livetime_for_shifts,
    num_shifts_for_livetime,
    shift_livetime,
    shift_vectors,
)


def test_shift_livetime_loses_shift_and_burn_in():
    assert shift_livetime(100.0, 3.0, 8.0) == 89.0
    # the sign of the shift does not matter: |shift| is lost either way
    assert shift_livetime(100.0, -3.0, 8.0) == 89.0
    assert shift_livetime(10.0, 2.0, 8.0) == 0.0
    assert shift_livetime(10.0, 5.0, 8.0) == 0.0


def test_livetime_for_shifts_by_hand():
    # one 60 s segment, 1 s steps, no burn-in: 59 + 58 + 57
    assert livetime_for_shifts([60.0], 3, 1.0, 0.0) == 174.0
    # two segments with 8 s burn-in and 2 s steps:
    # 100: 90 + 88 ; 12: 2 + 0
    assert livetime_for_shifts([100.0, 12.0], 2, 2.0, 8.0) == 180.0
    assert livetime_for_shifts([60.0], 0, 1.0, 0.0) == 0.0


def test_livetime_matches_shift_livetime_sum():
    durations = [37.5, 128.0, 9.0, 400.25]
    step, burn_in, k_max = 1.5, 8.0, 40
    expected = sum(
        shift_livetime(d, k * step, burn_in)
        for d in durations
        for k in range(1, k_max + 1)
    )
    assert livetime_for_shifts(durations, k_max, step, burn_in) == pytest.approx(
        expected
    )


def test_num_shifts_known_answers():
    # cumulative livetime of [60], step 1, no burn-in: 59, 117, 174, 230
    assert num_shifts_for_livetime([60.0], 117.0, 1.0, 0.0) == 2
    assert num_shifts_for_livetime([60.0], 117.5, 1.0, 0.0) == 3
    assert num_shifts_for_livetime([60.0], 174.0, 1.0, 0.0) == 3
    assert num_shifts_for_livetime([60.0], 1.0, 1.0, 0.0) == 1


def test_zero_livetime_needs_no_shifts():
    assert num_shifts_for_livetime([60.0], 0.0, 1.0, 0.0) == 0
    assert num_shifts_for_livetime([], 0.0, 1.0, 0.0) == 0


def test_unreachable_livetime_names_the_maximum():
    # [60] with step 1: shifts 1..59 give 59 * 60 / 2 = 1770 s in all
    with pytest.raises(ValueError, match="at most 1770.0 s"):
        num_shifts_for_livetime([60.0], 1771.0, 1.0, 0.0)
    assert num_shifts_for_livetime([60.0], 1770.0, 1.0, 0.0) == 59
    with pytest.raises(ValueError, match="cannot be reached"):
        num_shifts_for_livetime([60.0], 100.0, 1.0, 0.0, max_shifts=1)


def test_short_segments_contribute_nothing():
    # 8 s of burn-in eats a 9 s segment after one 1 s shift, and all of an 8 s one
    assert livetime_for_shifts([8.0], 5, 1.0, 8.0) == 0.0
    assert livetime_for_shifts([9.0], 5, 1.0, 8.0) == 0.0
    assert livetime_for_shifts([9.5], 5, 1.0, 8.0) == 0.5
    long_only = num_shifts_for_livetime([100.0], 500.0, 1.0, 8.0)
    assert num_shifts_for_livetime([100.0, 8.0, 9.0], 500.0, 1.0, 8.0) == long_only
    with pytest.raises(ValueError, match="at most 0.0 s"):
        num_shifts_for_livetime([8.0, 5.0], 1.0, 1.0, 8.0)


def test_num_shifts_is_minimal_and_monotone_in_Tb():
    durations = [3600.0, 1024.0, 200.0]
    step, burn_in = 1.0, 64.0
    previous = 0
    for Tb in np.linspace(0.0, 2.0e5, 41):
        k = num_shifts_for_livetime(durations, Tb, step, burn_in)
        assert k >= previous
        assert livetime_for_shifts(durations, k, step, burn_in) >= Tb
        if k > 0:
            assert livetime_for_shifts(durations, k - 1, step, burn_in) < Tb
        previous = k


def test_one_year_is_a_few_thousand_shifts_of_two_days():
    # two days of data in 4 segments, 64 s burn-in: one year of background
    # needs roughly Tb / T shifts, slightly more because each shift loses time
    durations = [43200.0] * 4
    Tb = 365.25 * 86400
    k = num_shifts_for_livetime(durations, Tb, 1.0, 64.0)
    assert Tb / sum(durations) < k < 1.01 * Tb / sum(durations)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="shift_step"):
        livetime_for_shifts([60.0], 1, 0.0, 0.0)
    with pytest.raises(ValueError, match="burn_in"):
        num_shifts_for_livetime([60.0], 1.0, 1.0, -1.0)
    with pytest.raises(ValueError, match="Tb"):
        num_shifts_for_livetime([60.0], -1.0, 1.0, 0.0)


def test_shift_vectors():
    shifts = shift_vectors(3, 1.0)
    np.testing.assert_array_equal(shifts, [[0, 1], [0, 2], [0, 3]])
    with_zero = shift_vectors(2, 0.5, zero_lag=True)
    np.testing.assert_array_equal(with_zero, [[0, 0], [0, 0.5], [0, 1.0]])
    three = shift_vectors(2, 1.0, num_ifos=3)
    np.testing.assert_array_equal(three, [[0, 1, 2], [0, 2, 4]])
    assert shift_vectors(0, 1.0).shape == (0, 2)
    assert shift_vectors(0, 1.0, zero_lag=True).shape == (1, 2)


def test_one_burn_in_for_every_stage():
    from aframe.utils.timeslides import burn_in

    # PSD, then a whitening window (kernel + filter), then a full boxcar
    assert burn_in(8.0, 1.5, 1.0, 1.0) == 11.5
    assert burn_in(8.0, 1.5, 1.0, 0.0) == 10.5
    with pytest.raises(ValueError, match="integration_length must not be negative"):
        burn_in(8.0, 1.5, 1.0, -1.0)
