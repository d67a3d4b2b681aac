import numpy as np
import pytest
import torch

from aframe.architectures import Preprocessor
from train.injection import SignalInjector
from train.inputs import Segment
from train.validation import (
    ValidationBatches,
    ValidationData,
    build_validation,
    plan_timeslides,
)


def test_plan_timeslides_cycles_shifts_over_segments():
    runs = plan_timeslides([10, 6], num_ifos=2, step=2, num_windows=20)
    # k=1: 10-2=8, 6-2=4; k=2: 10-4=6, 6-4=2 (cut to 20 in all)
    assert runs.tolist() == [[0, 1, 8], [1, 1, 4], [0, 2, 6], [1, 2, 2]]
    short = plan_timeslides([3], num_ifos=2, step=1, num_windows=100)
    assert short.tolist() == [[0, 1, 2], [0, 2, 1]]
    assert plan_timeslides([1], 2, 1, 10).shape == (0, 3)


def test_batches_pair_shifted_kernels_and_serve_views():
    # kernel value = 100·segment + index, negated for the second detector
    background = [
        torch.stack(
            [
                torch.full((2, 4), 100.0 * s + i) * torch.tensor([[1.0], [-1.0]])
                for i in range(n)
            ]
        )
        for s, n in enumerate([10, 6])
    ]
    runs = plan_timeslides([10, 6], 2, step=2, num_windows=20)
    foreground = (
        torch.arange(3 * 2, dtype=torch.float32).reshape(3, 2, 1, 1).expand(3, 2, 2, 4)
    )
    data = ValidationData(background, runs, 2, foreground.clone(), torch.ones(3), 0.5)
    assert data.num_background == 20 and data.livetime == 10.0
    batches = ValidationBatches(data, batch_size=7)
    assert len(batches) == 4  # 26 items
    x = torch.cat([batches[i]["X"] for i in range(len(batches))])
    ids = torch.cat([batches[i]["ids"] for i in range(len(batches))])
    assert ids.tolist() == list(range(26))
    expected = []
    for segment, k, count in runs.tolist():
        for i in range(count):
            expected.append((100 * segment + i, -(100 * segment + i + k * 2)))
    got = [(float(x[q, 0, 0]), float(x[q, 1, 0])) for q in range(20)]
    assert got == expected
    # then the foreground views, signal-major
    assert x[20:, 0, 0].tolist() == [0, 1, 2, 3, 4, 5]


def test_build_validation_whitens_and_injects(config, writers):
    rng = np.random.default_rng(4)
    fs = config.sample_rate
    segments = [
        Segment(
            0.0, writers["noise"](rng, (2, int(60 * fs)), fs).astype(np.float32), "a"
        ),
        Segment(
            70.0, writers["noise"](rng, (2, int(30 * fs)), fs).astype(np.float32), "b"
        ),
    ]
    cross, plus = writers["chirps"](rng, 6, fs, 4.0, 3.0)
    waveforms = np.stack([cross, plus], axis=1)
    pre = Preprocessor(config)
    injector = SignalInjector(config, 768, 0.25, 0.05)
    data = build_validation(
        segments,
        waveforms,
        pre,
        injector,
        stride=1.0,
        shift=2.0,
        livetime=300.0,
        snr_range=(8.0, 30.0),
        num_views=3,
        seed=1,
    )
    sample = config.sample_size / fs
    assert [len(b) for b in data.background] == [
        int(60 - sample) + 1,
        int(30 - sample) + 1,
    ]
    assert data.livetime == 300.0
    assert data.foreground.shape == (6, 3, 2, config.kernel_size)
    assert ((data.snr >= 8) & (data.snr <= 30)).all()
    # background kernels are whitened; the loud injections stand out in power
    bg_power = float(data.background[0].square().mean())
    assert 0.6 < bg_power < 1.6
    assert float(data.foreground.square().mean()) > bg_power
    again = build_validation(
        segments, waveforms, pre, injector, 1.0, 2.0, 300.0, (8.0, 30.0), 3, seed=1
    )
    torch.testing.assert_close(again.foreground, data.foreground)
    with pytest.raises(ValueError, match="multiple"):
        build_validation(
            segments, waveforms, pre, injector, 1.0, 1.5, 300.0, (8, 30), 3, 1
        )
