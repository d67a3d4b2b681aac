"""The online stream and events against the offline ones on the same data."""

import numpy as np
import pytest

from aframe.architectures import Preprocessor
from aframe.search.backends import LocalBackend
from aframe.search.online import OnlineEvents, OnlineStream
from aframe.search.postprocess import find_events
from aframe.search.stream import StreamGeometry, run_streams


def pieces(total: int, sizes: list[int]) -> list[tuple[int, int]]:
    """Consecutive ``[i0, i1)`` pieces of ``total`` samples, sizes cycling."""
    bounds, k = [0], 0
    while bounds[-1] < total:
        bounds.append(min(total, bounds[-1] + sizes[k % len(sizes)]))
        k += 1
    return list(zip(bounds[:-1], bounds[1:]))


def test_the_stream_in_pieces_gives_the_outputs_of_the_whole(
    config, endpower_model, kit
):
    rng = np.random.default_rng(4)
    fs = int(config.sample_rate)
    x = kit.SIGMA * rng.standard_normal((2, 40 * fs))
    preprocessor = Preprocessor(config)
    backend = LocalBackend(endpower_model)
    whole = run_streams(
        lambda a, b: x[:, a:b], x.shape[1], 100.0, preprocessor, backend, kit.ISR
    )["background"]

    stream = OnlineStream(preprocessor, backend, kit.ISR, start=100.0)
    outputs = []
    # 1-s frames, then frames of 2, 3 and 4 s, and a ragged piece
    for i0, i1 in pieces(x.shape[1], [fs] * 6 + [2 * fs, 3 * fs, 4 * fs, 777]):
        y = stream.update(x[:, i0:i1])
        assert stream.num_kernels == sum(map(len, outputs)) + len(y)
        outputs.append(y)
    online = np.concatenate(outputs)
    assert stream.t_first == StreamGeometry.of(preprocessor, kit.ISR).kernel_end(100)
    assert stream.end == 140.0
    assert len(online) == len(whole)
    np.testing.assert_allclose(online, whole, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sizes", [[1], [4], [3, 1, 7], [64]])
def test_online_events_are_the_events_of_the_whole_stream(sizes):
    rng = np.random.default_rng(len(sizes))
    isr, integration, window = 4.0, 1.0, 2.0
    y = rng.normal(size=400)
    y[100:104] += 8.0  # a loud bump and a plateau, where ties matter
    y[250:262] = 3.0
    stats, times, livetime = find_events(y, 1000.0, isr, integration, window)

    events = OnlineEvents(1000.0, isr, integration, window)
    got_stats, got_times, got_index, integrated = [], [], [], []
    for i0, i1 in pieces(len(y), sizes):
        update = events.update(y[i0:i1])
        got_stats.append(update.statistic)
        got_times.append(update.event_times)
        got_index.append(update.event_index)
        integrated.append(update.integrated)
        # only what undecided events need is kept
        assert len(events._y) <= 2 * events.h + events.n + max(sizes)
    update = events.finish()
    got_stats.append(update.statistic)
    got_times.append(update.event_times)
    got_index.append(update.event_index)
    index = np.concatenate(got_index)
    assert np.all(np.diff(index) > events.h)  # each event once, in order
    np.testing.assert_array_equal(np.concatenate(got_stats), stats)
    np.testing.assert_allclose(np.concatenate(got_times), times, rtol=0, atol=1e-9)
    assert events.livetime == livetime
    z = np.convolve(y, np.full(4, 0.25), mode="valid")
    np.testing.assert_allclose(np.concatenate(integrated), z)


def test_left_maxima_and_times():
    events = OnlineEvents(10.0, 2.0, 0.5, 2.0)  # n = 1, h = 2
    update = events.update(np.array([1.0, 3.0, 2.0, 2.5, 5.0, 1.0]))
    np.testing.assert_array_equal(update.index, np.arange(6))
    np.testing.assert_array_equal(
        update.left_max, [True, True, False, False, True, False]
    )
    np.testing.assert_allclose(update.times, 10.0 + np.arange(6) / 2)
    # index 1 (3.0) has index 2 and 3 after it; index 4 needs index 6 too
    np.testing.assert_array_equal(update.event_index, [1])
    update = events.update(np.array([0.0]))
    np.testing.assert_array_equal(update.event_index, [4])
    assert update.statistic[0] == 5.0
    with pytest.raises(RuntimeError):
        events.finish()
        events.update(np.zeros(1))
