import numpy as np
import pytest
import torch

from aframe.architectures import Preprocessor
from aframe.architectures.snr import network_snr
from aframe.search import PostprocessError, find_events
from train.injection import SignalInjector
from train.inputs import Segment, attach_reference_psds
from train.validation import (
    LEAD,
    SearchSettings,
    ValidationBatches,
    ValidationData,
    build_validation,
    evaluate,
    inject_foreground,
    plan_timeslides,
    split_outputs,
    validation_results,
)

COALESCENCE = 768  # of the conftest's 4 s waveforms


def test_plan_timeslides_cycles_shifts_over_segments():
    runs = plan_timeslides([10, 6], num_ifos=2, step=2, num_windows=20)
    # k=1: 10-2=8, 6-2=4; k=2: 10-4=6, 6-4=2 (cut to 20 in all)
    assert runs.tolist() == [[0, 1, 8], [1, 1, 4], [0, 2, 6], [1, 2, 2]]
    short = plan_timeslides([3], num_ifos=2, step=1, num_windows=100)
    assert short.tolist() == [[0, 1, 2], [0, 2, 1]]
    assert plan_timeslides([1], 2, 1, 10).shape == (0, 3)


def test_search_settings_in_outputs_of_the_inference_grid():
    search = SearchSettings(4.0, 0.5, 1.0)
    assert search.stride == 0.25
    assert search.integration_samples == 2
    assert search.cluster_half_width == 2
    # LEAD + one stride of phase + kernel + integration, in strides, + kernel 0
    assert search.num_kernels(1.0) == int(np.ceil((0.25 + 0.25 + 1 + 0.5) * 4)) + 1
    assert SearchSettings(1.0, 1.0, 8.0).num_kernels(1.5) == 5  # ceil(3.75) + 1
    with pytest.raises(PostprocessError, match="integration_length"):
        SearchSettings(4.0, 0.3, 1.0).integration_samples  # noqa: B018
    with pytest.raises(PostprocessError, match="cluster_window_length"):
        SearchSettings(4.0, 0.5, 0.25).cluster_half_width  # noqa: B018


def _kernel_data(search=None):
    """Validation data whose kernels name themselves.

    Background kernel value: 100·segment + index, negated for the second
    detector; foreground: 1000 + 10·signal + kernel.
    """
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
        1000
        + 10 * torch.arange(3.0)[:, None, None, None]
        + torch.arange(2.0)[None, :, None, None]
    ).expand(3, 2, 2, 4)
    return ValidationData(
        background,
        runs,
        2,
        foreground.clone(),
        torch.tensor([10.0, 20.0, 30.0]),
        search or SearchSettings(1.0, 1.0, 2.0),
        [100.0, 300.0],
        2.0,
        (4.0, 30.0),
    )


def test_batches_pair_shifted_kernels_then_serve_signal_kernels():
    data = _kernel_data()
    assert data.num_background == 20 and data.num_kernels == 2
    assert data.num_items == 26
    batches = ValidationBatches(data, batch_size=7)
    assert len(batches) == 4  # 26 items
    x = torch.cat([batches[i]["X"] for i in range(len(batches))])
    ids = torch.cat([batches[i]["ids"] for i in range(len(batches))])
    assert ids.tolist() == list(range(26))
    # detector 1's kernel is k·step later than detector 0's
    expected = []
    for segment, k, count in data.runs.tolist():
        for i in range(count):
            expected.append((100 * segment + i, -(100 * segment + i + k * 2)))
    got = [(float(x[q, 0, 0]), float(x[q, 1, 0])) for q in range(20)]
    assert got == expected
    # then the foreground kernels, signal-major, in grid order
    assert x[20:, 0, 0].tolist() == [1000, 1001, 1010, 1011, 1020, 1021]
    background, foreground = split_outputs(x[:, 0, 0], data)
    assert background.tolist() == [a for a, _ in expected]
    assert foreground.tolist() == [[1000, 1001], [1010, 1011], [1020, 1021]]


class FirstSample(torch.nn.Module):
    """A 'network' whose output is the first sample of the first detector."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x[:, 0, :1] + 0 * self.unused


def test_evaluate_returns_every_items_output_in_item_order():
    data = _kernel_data()
    model = FirstSample().train()
    outputs = evaluate(model, data, batch_size=5)
    items = ValidationBatches(data, batch_size=26)[0]["X"][:, 0, 0]
    torch.testing.assert_close(outputs, items)
    assert model.training  # left as it was found


def test_validation_results_are_the_searchs_events_and_signal_statistics():
    # 2 outputs per second, integration over 1 s (2 outputs), half-width 1
    data = _kernel_data(SearchSettings(2.0, 1.0, 1.0))
    data.runs = torch.tensor([[0, 1, 5], [1, 2, 3]])
    data.foreground = data.foreground[:2]
    data.snr = data.snr[:2]
    background = [1.0, 5, 2, 0, 9, 3, 7, 8]
    foreground = [0.0, 4.0, 1.0, 1.0]
    events, signals = validation_results(
        torch.tensor(background + foreground), data, ["H1", "L1"]
    )
    # run 1 integrates to 3 3.5 1 4.5 (events 3.5, 4.5), run 2 to 5 7.5
    np.testing.assert_allclose(events.detection_statistic, [3.5, 4.5, 7.5])
    # times are the search's own (aframe.search.find_events: the peak centre
    # after kernel 0 of the run ends at kernel_ends[segment])
    expected = np.concatenate(
        [
            find_events(np.array(background[:5]), data.kernel_ends[0], 2.0, 1.0, 1.0)[
                1
            ],
            find_events(np.array(background[5:]), data.kernel_ends[1], 2.0, 1.0, 1.0)[
                1
            ],
        ]
    )
    np.testing.assert_allclose(events.detection_time, expected)
    # each within a stride of the end of the kernel that completes its window
    np.testing.assert_allclose(events.detection_time, [101.0, 102.0, 301.0], atol=0.5)
    # detector j is shifted by j·k·shift
    np.testing.assert_allclose(events.parameters["shift"], [[0, 2], [0, 2], [0, 4]])
    assert events.Tb == (4 + 2) / 2 and events.ifos == ["H1", "L1"]
    np.testing.assert_allclose(signals.snr, [10.0, 20.0])
    np.testing.assert_allclose(signals.detection_statistic, [2.0, 1.0])
    assert signals.attrs["inference_sampling_rate"] == 2.0
    assert signals.attrs["integration_length"] == 1.0
    assert list(signals.attrs["snr_range"]) == [4.0, 30.0]


@pytest.fixture
def segments(config, writers):
    rng = np.random.default_rng(4)
    fs = config.sample_rate
    out = [
        Segment(
            0.0, writers["noise"](rng, (2, int(60 * fs)), fs).astype(np.float32), "a"
        ),
        Segment(
            70.0, writers["noise"](rng, (2, int(30 * fs)), fs).astype(np.float32), "b"
        ),
    ]
    attach_reference_psds(out, fs, 4.0)
    return out


def test_build_validation_whitens_on_the_inference_grid_and_injects(
    config, writers, segments
):
    rng = np.random.default_rng(5)
    fs = config.sample_rate
    cross, plus = writers["chirps"](rng, 6, fs, 4.0, 3.0)
    waveforms = np.stack([cross, plus], axis=1)
    pre = Preprocessor(config)
    injector = SignalInjector(config, COALESCENCE, 0.25, 0.05)
    search = SearchSettings(2.0, 1.0, 2.0)

    def build(shift=2.0, seed=1, segments=segments):
        return build_validation(
            segments,
            waveforms,
            pre,
            injector,
            search,
            shift=shift,
            livetime=300.0,
            snr_range=(8.0, 30.0),
            seed=seed,
        )

    data = build()
    # background: every kernel of the inference grid, as inference whitens it
    assert [len(b) for b in data.background] == [
        (60 * 256 - config.sample_size) // 128 + 1,
        (30 * 256 - config.sample_size) // 128 + 1,
    ]
    for segment, kernels in zip(segments, data.background):
        torch.testing.assert_close(
            kernels, pre.stream(torch.from_numpy(segment.strain), 2.0)
        )
    end = (config.sample_size - config.pad_size) / fs
    assert data.kernel_ends == [0.0 + end, 70.0 + end]
    # shift 2 s is 4 kernels at 2 Hz; 300 s of pairs at 2 Hz
    assert data.step == 4 and data.num_background == 600
    assert (data.runs[:, 2] >= search.integration_samples).all()
    assert data.foreground.shape == (6, search.num_kernels(1.0), 2, config.kernel_size)
    assert ((data.snr >= 8) & (data.snr <= 30)).all()
    # background kernels are whitened; the injections stand out in power
    bg_power = float(data.background[0].square().mean())
    assert 0.6 < bg_power < 1.6
    assert float(data.foreground.square().mean()) > bg_power
    # the same seed gives the same data, another seed other signals
    again = build()
    torch.testing.assert_close(again.foreground, data.foreground)
    torch.testing.assert_close(again.snr, data.snr)
    assert not torch.equal(build(seed=2).snr, data.snr)
    with pytest.raises(ValueError, match="multiple"):
        build(shift=1.25)
    short = [Segment(0.0, s.strain[:, : 5 * 256], "c", s.psd) for s in segments]
    with pytest.raises(ValueError, match="valid_length"):
        build(segments=short)


def _impulses(n):
    """(n, 2, 1024) waveforms that are a single sample at the coalescence."""
    waveforms = np.zeros((n, 2, 1024), np.float32)
    waveforms[:, 0, COALESCENCE] = 1e-21
    waveforms[:, 1, COALESCENCE] = 2e-21
    return waveforms


def _inject(config, writers, search, n, monkeypatch, seed=3):
    """``inject_foreground`` into one stretch of exactly the size it needs,
    with what the injector placed."""
    fs = config.sample_rate
    pre = Preprocessor(config)
    stride = pre.stride(search.inference_sampling_rate)
    size = config.sample_size + (search.num_kernels(config.kernel_length) - 1) * stride
    rng = np.random.default_rng(seed)
    strain = writers["noise"](rng, (2, size), fs).astype(np.float32)
    psd = np.stack([writers["psd"](np.fft.rfftfreq(1024, 1 / fs))] * 2)
    segment = Segment(0.0, strain, "one stretch", psd)
    injector = SignalInjector(config, COALESCENCE, 0.25, 0.05)
    calls = []
    original = injector.inject

    def spy(polarizations, sky, psd, target, positions, size=None):
        out = original(polarizations, sky, psd, target, positions, size)
        calls.append((sky.delays, psd, positions, out))
        return out

    monkeypatch.setattr(injector, "inject", spy)
    kernels, snr = inject_foreground(
        [segment], _impulses(n), pre, injector, search, (8.0, 30.0), seed
    )
    delays, psds, positions, placed = (torch.cat(c) for c in zip(*calls))
    return segment, kernels, snr, delays, psds, positions, placed


def test_validation_places_signals_as_inference_sees_them(config, writers, monkeypatch):
    """Each signal's kernels are what inference computes on its injected
    stretch, and the merger sits where the search integrates it whole."""
    search = SearchSettings(4.0, 0.5, 1.0)
    fs = config.sample_rate
    segment, kernels, snr, delays, psds, positions, placed = _inject(
        config, writers, search, 12, monkeypatch
    )
    num_kernels = search.num_kernels(config.kernel_length)
    stride = int(fs * search.stride)
    assert kernels.shape == (12, num_kernels, 2, config.kernel_size)
    raw = torch.from_numpy(segment.strain)
    inference = Preprocessor(config)
    first_end = config.sample_size - config.pad_size  # kernel 0's end
    for i in range(12):
        data = raw + placed[i]
        # inference: one stream of the injected stretch at its sampling rate
        torch.testing.assert_close(
            kernels[i], inference.stream(data, 4.0), rtol=0, atol=0
        )
        # kernel j is the training sample ending j strides after kernel 0
        for j in (0, num_kernels // 2, num_kernels - 1):
            sample = data[None, :, j * stride : j * stride + config.sample_size]
            torch.testing.assert_close(
                kernels[i, j], inference(sample)[0], rtol=1e-4, atol=1e-4
            )
        # the impulse reaches each detector once, light-travel time from the
        # geocentre's merger
        for ifo in range(2):
            (where,) = torch.nonzero(placed[i, ifo], as_tuple=True)
            assert where.tolist() == [int(positions[i] + delays[i, ifo])]
    assert delays.abs().max() <= 6  # 21 ms at 256 Hz
    # the merger is LEAD plus less than one stride after the end of kernel 0
    after = positions - first_end
    assert (after >= LEAD * fs).all() and (after < LEAD * fs + stride).all()
    # the last kernel ends a kernel and an integration window after it, so
    # every kernel that sees the merger is integrated whole
    last_end = first_end + (num_kernels - 1) * stride
    reach = (config.kernel_length + search.integration_length) * fs
    assert (last_end - positions >= reach).all()
    # the loudness is the network SNR against the segment's reference PSD
    torch.testing.assert_close(psds, torch.as_tensor(segment.psd).expand(12, 2, -1))
    torch.testing.assert_close(
        network_snr(placed.double(), segment.psd, fs, config.highpass),
        snr,
        rtol=1e-4,
        atol=0,
    )
    assert ((snr >= 8) & (snr <= 30)).all()


def test_merger_phase_is_uniform_over_the_stride(config, writers, monkeypatch):
    search = SearchSettings(4.0, 0.5, 1.0)
    fs = config.sample_rate
    *_, positions, _ = _inject(config, writers, search, 512, monkeypatch)
    stride = int(fs * search.stride)
    phase = positions - (config.sample_size - config.pad_size) - int(LEAD * fs)
    assert phase.min() >= 0 and phase.max() < stride
    # both ends of the stride are reached, and each quarter holds ~1/4
    assert phase.min() < 4 and phase.max() >= stride - 4
    counts = torch.bincount(phase // (stride // 4), minlength=4)
    sigma = (512 * 0.25 * 0.75) ** 0.5
    assert ((counts - 128).abs() < 4 * sigma).all()
