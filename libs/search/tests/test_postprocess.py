"""Integration, clustering and peak timing against hand-computed values."""

import numpy as np
import pytest

from aframe.search.postprocess import (
    PostprocessError,
    cluster,
    find_events,
    find_window_events,
    integrate,
    kernel_windows,
    peak_centre,
    window_lengths,
    window_samples,
)


def test_integrate_is_a_causal_mean_over_complete_windows():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(integrate(y, 1), y)
    np.testing.assert_allclose(integrate(y, 2), [1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(integrate(y, 3), [2.0, 3.0, 4.0])
    np.testing.assert_allclose(integrate(y, 5), [3.0])
    assert len(integrate(y, 6)) == 0


def test_integrate_every_value_not_just_the_last():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(50)
    z = integrate(y, 4)
    expected = [y[k : k + 4].mean() for k in range(47)]
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-12)


def test_cluster_picks_maxima_over_the_window():
    z = np.array([0, 1, 3, 2, 5, 1, 1, 4, 0], dtype=float)
    np.testing.assert_array_equal(cluster(z, 2), [4, 7])
    # a wider window swallows the smaller peak
    np.testing.assert_array_equal(cluster(z, 3), [4])
    # h = 1: every strict local maximum
    np.testing.assert_array_equal(cluster(z, 1), [2, 4, 7])


def test_cluster_ties_go_to_the_earliest_and_events_are_separated():
    np.testing.assert_array_equal(cluster(np.array([2.0, 2.0, 1.0]), 1), [0])
    # a flat run is one peak, at its start
    np.testing.assert_array_equal(cluster(np.full(10, 1.0), 3), [0])
    rng = np.random.default_rng(1)
    z = rng.standard_normal(2000)
    events = cluster(z, 5)
    assert np.all(np.diff(events) > 5)
    for i in events:
        window = z[max(i - 5, 0) : i + 6]
        assert z[i] == window.max()


def test_peak_centre_of_symmetric_and_flat_peaks():
    triangle = np.array([0, 0, 1, 2, 3, 2, 1, 0, 0], dtype=float)
    assert peak_centre(triangle, 4, 4) == pytest.approx(4.0)
    plateau = np.array([0, 0, 0, 4, 4, 4, 4, 0, 0, 0], dtype=float)
    # median over [0, 7] is 2, half-maximum 3; crossings at 2.75 and 6.25
    assert peak_centre(plateau, 3, 4) == pytest.approx(4.5)


def test_peak_centre_tracks_sub_sample_shifts():
    # a Gaussian bump sampled on a grid: the centre estimate follows its true
    # position between samples
    grid = np.arange(40, dtype=float)
    for true in (20.0, 20.25, 20.5, 20.8):
        z = np.exp(-0.5 * ((grid - true) / 2.0) ** 2)
        i = int(np.argmax(z))
        assert peak_centre(z, i, 8) == pytest.approx(true, abs=0.05)


def test_find_events_times_and_livetime():
    isr = 4.0
    y = np.zeros(64)
    y[30:34] = 10.0  # outputs 30..33 respond
    stats, times, livetime = find_events(
        y, t_first=100.0, inference_sampling_rate=isr, integration_length=0.5,
        cluster_window_length=4.0,
    )  # fmt: skip
    # n = 2 outputs integrated; 63 complete windows
    assert livetime == pytest.approx(63 / isr)
    loud = np.argmax(stats)
    assert stats[loud] == pytest.approx(10.0)
    # the integrated plateau covers outputs 31..33 (z indices 30..32) fully and
    # 30 and 34 half: its centre is output 32, i.e. 100 + 32/4 s
    assert times[loud] == pytest.approx(100.0 + 32 / isr, abs=1e-9)


def test_window_lengths_must_be_whole_outputs():
    assert window_samples(1.0, 4.0, "integration_length") == 4
    with pytest.raises(PostprocessError, match="integration_length = 0.3 s"):
        window_samples(0.3, 4.0, "integration_length")
    with pytest.raises(PostprocessError):
        window_samples(0.0, 4.0, "integration_length")
    assert window_lengths(1.0, 8.0, 4.0) == (4, 16)
    with pytest.raises(PostprocessError, match="cluster_window_length/2"):
        window_lengths(1.0, 0.3, 4.0)


def test_window_events_are_the_stream_events_around_each_span():
    rng = np.random.default_rng(3)
    isr, n_kernels = 4.0, 600
    y = rng.standard_normal(n_kernels)
    y[[100, 101, 330, 590]] += 8.0  # some loud peaks, one at the stream's end
    settings = dict(
        t_first=50.0, inference_sampling_rate=isr, integration_length=0.75,
        cluster_window_length=3.0,
    )  # fmt: skip
    stats, times, _ = find_events(y, **settings)
    t_lo = np.array([60.0, 130.0, 131.0, 197.5])
    t_hi = t_lo + 2.0
    windows = kernel_windows(t_lo, t_hi, num_kernels=n_kernels, **settings)
    # sorted, disjoint, merged where they touch (the spans at 130 and 131)
    assert all(a[1] < b[0] for a, b in zip(windows, windows[1:]))
    assert len(windows) == 3 and windows[-1][1] == n_kernels
    w_stats, w_times = find_window_events(
        [y[a:b] for a, b in windows], windows, n_kernels, **settings
    )
    # every window event is a stream event, with the same statistic and time
    for s, t in zip(w_stats, w_times):
        k = np.flatnonzero(times == t)
        assert len(k) == 1 and stats[k[0]] == s
    # and every stream event peaking within a span is found
    inside = np.any((times[:, None] >= t_lo) & (times[:, None] <= t_hi), axis=1)
    assert inside.sum() >= 3
    assert set(times[inside]) <= set(w_times)
