"""The stream state keeps exactly what later kernels need."""

import numpy as np
import pytest

from aframe.search.snapshotter import Snapshotter


def test_state_and_kernel_counts():
    span, stride = 10, 3
    snap = Snapshotter(span, stride, num_channels=2)
    x = np.arange(40, dtype=float).reshape(2, 20)

    buffer, n = snap.update(x[:, :8])  # shorter than one span
    assert n == 0 and buffer.shape == (2, 8)
    buffer, n = snap.update(x[:, 8:17])
    # 17 samples: kernels start at 0, 3, 6 (6 + 10 <= 17)
    assert n == 3
    np.testing.assert_array_equal(buffer, x[:, :17])
    # the state starts at the first incomplete kernel (sample 9): span - stride
    # samples when the buffer's excess is a multiple of the stride
    np.testing.assert_array_equal(snap.state, x[:, 9:17])
    assert snap.state.shape[1] == span - stride + 1  # (17 - 10) % 3 == 1
    assert snap.num_kernels == 3


def test_chunked_updates_cover_every_kernel_once():
    span, stride = 12, 4
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 200))
    expected = [
        x[:, j * stride : j * stride + span] for j in range((200 - span) // stride + 1)
    ]
    snap = Snapshotter(span, stride, num_channels=2)
    got = []
    i = 0
    for size in (5, 17, 40, 3, 64, 71):
        buffer, n = snap.update(x[:, i : i + size])
        got.extend(buffer[:, k * stride : k * stride + span] for k in range(n))
        i += size
    assert i == 200
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_bad_updates_raise():
    snap = Snapshotter(10, 2, num_channels=2)
    with pytest.raises(ValueError, match="expected \\(2, samples\\)"):
        snap.update(np.zeros((3, 5)))
    with pytest.raises(ValueError):
        Snapshotter(0, 1, 2)
