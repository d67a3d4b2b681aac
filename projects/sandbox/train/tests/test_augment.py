import numpy as np
import pytest
import torch

from aframe.architectures import Preprocessor
from aframe.architectures.snr import network_snr
from train.augment import Augmentor, injection_probability
from train.curriculum import SnrSchedule
from train.injection import SignalInjector

WAVEFORM_SIZE = 1024  # 4 s at 256 Hz, coalescence at 3 s
COALESCENCE = 768
#: reference PSD of (segment, ifo), in units of the conftest noise curve:
#: three training segments, the detectors' noise scaled independently
PSD_SCALE = torch.tensor([[1.0, 1.0], [2.0, 0.5], [4.0, 4.0]], dtype=torch.float64)


@pytest.fixture
def raw(config, writers):
    rng = np.random.default_rng(1)
    x = writers["noise"](rng, (64, 2, config.sample_size), config.sample_rate)
    return torch.as_tensor(x, dtype=torch.float32)


@pytest.fixture
def segment():
    """(64, ifo) the training segment each channel of ``raw`` came from."""
    return torch.randint(
        len(PSD_SCALE), (64, 2), generator=torch.Generator().manual_seed(0)
    )


@pytest.fixture
def reference_psd(config, writers):
    """(segments, ifo, F) reference PSDs on the waveforms' rFFT grid."""
    freqs = np.fft.rfftfreq(WAVEFORM_SIZE, 1 / config.sample_rate)
    curve = torch.as_tensor(writers["psd"](freqs))
    return PSD_SCALE[..., None] * curve


@pytest.fixture
def waveforms(config, writers):
    rng = np.random.default_rng(2)
    cross, plus = writers["chirps"](rng, 32, config.sample_rate, 4.0, 3.0)
    return np.stack([cross, plus], axis=1)


@pytest.fixture
def make(config, waveforms, reference_psd):
    def build(waveform_prob=0.5, swap_prob=0.0, mute_prob=0.0, invert=0.5, reverse=0.5):
        return Augmentor(
            Preprocessor(config),
            SignalInjector(config, COALESCENCE, left_pad=0.25, right_pad=0.05),
            waveforms,
            SnrSchedule(30.0, 10.0, 100.0, decay_steps=0),
            reference_psd,
            waveform_prob,
            swap_prob,
            mute_prob,
            invert,
            reverse,
            seed=3,
        )

    return build


def test_injection_probability_algebra():
    assert injection_probability(0.277, 0.0, 0.0) == 0.277
    # the positive fraction p (1 - s)(1 - m) is waveform_prob
    p = injection_probability(0.277, 0.014, 0.055)
    assert p * (1 - 0.014) * (1 - 0.055) == pytest.approx(0.277)
    with pytest.raises(ValueError, match="cannot be reached"):
        injection_probability(0.9, 0.2, 0.2)
    with pytest.raises(ValueError, match="swap_prob"):
        injection_probability(0.3, 1.0, 0.0)


def test_realised_positive_fraction_is_waveform_prob(make, raw, segment):
    augmentor = make(waveform_prob=0.3, swap_prob=0.2, mute_prob=0.25)
    labels = torch.cat([augmentor(raw, segment, step)[1] for step in range(100)])
    n = labels.numel()
    assert set(labels.unique().tolist()) <= {0.0, 1.0}
    assert abs(float(labels.mean()) - 0.3) < 4 * (0.3 * 0.7 / n) ** 0.5


def _background_kernels(augmentor, raw):
    """The kernels ``raw`` gives without any signal (no inversion or reversal)."""
    config = augmentor.preprocessor.config
    psd = augmentor.preprocessor.psd(raw[..., : config.psd_size])
    return augmentor.preprocessor.whiten(raw[..., config.psd_size :], psd)


def _signal_per_channel(augmentor, raw, segment, step):
    """Whitened injected signal: augmented kernels minus the same background."""
    kernels, labels, snr = augmentor(raw, segment, step)
    power = (kernels - _background_kernels(augmentor, raw)).square().sum(dim=-1)
    return power, labels[:, 0], snr[:, 0]


def test_muted_samples_carry_the_signal_in_one_detector_and_are_negative(
    make, raw, segment
):
    # every sample injected, 99 % of them muted
    augmentor = make(waveform_prob=0.01, mute_prob=0.99, invert=0, reverse=0)
    power, labels, snr = _signal_per_channel(augmentor, raw, segment, step=0)
    # signal power is ~ρ² in whitened units; float rounding leaves ~1e-12
    present = power > 1e-6
    muted = labels == 0
    assert muted.sum() > 50
    assert (present[muted].sum(dim=1) == 1).all()
    assert (present[~muted].sum(dim=1) == 2).all()
    # a muted sample's signal has no network SNR to speak of: its SNR is 0
    assert (snr[muted] == 0).all() and (snr[~muted] >= 10).all()


def test_swapped_samples_are_negative_with_signal_in_both_detectors(make, raw, segment):
    augmentor = make(waveform_prob=0.01, swap_prob=0.99, invert=0, reverse=0)
    power, labels, snr = _signal_per_channel(augmentor, raw, segment, step=0)
    assert (labels == 0).sum() > 50
    assert (power > 1e-6).all()
    assert (snr[labels == 0] == 0).all()


def test_signals_are_scaled_against_the_reference_psd_of_their_segment(
    make, raw, segment, reference_psd, config, monkeypatch
):
    augmentor = make(waveform_prob=0.5, invert=0, reverse=0)
    injector = augmentor.injector
    calls = []
    original = injector.inject

    def spy(polarizations, sky, psd, target, positions, size=None):
        out = original(polarizations, sky, psd, target, positions, size)
        calls.append((polarizations, sky, positions, out))
        return out

    monkeypatch.setattr(injector, "inject", spy)
    kernels, labels, snr = augmentor(raw, segment, step=4)
    ((polarizations, sky, positions, signals),) = calls  # no swaps: one call
    positive = labels[:, 0] == 1
    assert len(signals) == int(positive.sum()) > 10
    # the injected strain is what the kernels carry on top of the background
    psd = augmentor.preprocessor.psd(raw[positive][..., : config.psd_size])
    torch.testing.assert_close(
        kernels[positive] - _background_kernels(augmentor, raw)[positive],
        augmentor.preprocessor.whiten(signals, psd),
        rtol=1e-3,
        atol=1e-3,
    )
    assert (kernels[~positive] == _background_kernels(augmentor, raw)[~positive]).all()

    # rebuild each whole projected waveform at the scale it was injected with
    # and measure its network SNR against its segment's reference PSD: it is
    # the returned SNR, from the curriculum
    window = injector.responses(polarizations, sky, positions).double()
    scale = (signals.double() * window).sum(dim=(1, 2)) / window.square().sum(
        dim=(1, 2)
    )
    margin = 16  # > any light-travel delay, in samples
    whole = injector.responses(
        polarizations,
        sky,
        torch.full_like(positions, COALESCENCE + margin),
        size=WAVEFORM_SIZE + 2 * margin,
    ).double()
    # nothing cut off: the delayed responses hold the projections' whole energy
    projected = torch.einsum(
        "npt,npi->nit", polarizations.double(), sky.antenna.double()
    )
    torch.testing.assert_close(
        whole.square().sum(-1), projected.square().sum(-1), rtol=1e-6, atol=0
    )
    ifo = torch.arange(2)
    psd_ref = reference_psd[segment[positive]][:, ifo, ifo]
    measured = network_snr(
        whole * scale[:, None, None], psd_ref, config.sample_rate, config.highpass
    )
    torch.testing.assert_close(measured, snr[positive, 0], rtol=1e-3, atol=0)
    assert snr[positive].min() >= 10 and snr[positive].max() <= 100
    assert (snr[~positive] == 0).all()
    # the check tells segments apart: against the next segment's PSDs the
    # same strain has other SNRs
    other = reference_psd[(segment[positive] + 1) % len(PSD_SCALE)][:, ifo, ifo]
    wrong = network_snr(
        whole * scale[:, None, None], other, config.sample_rate, config.highpass
    )
    assert float((wrong / measured - 1).abs().median()) > 0.1


def test_a_noisier_segment_gets_a_proportionally_louder_signal(make, raw):
    """The same draw in a segment whose reference PSD is 4× larger needs twice
    the strain for the same SNR; the kernels' own whitening is unchanged."""
    augmentor = make(waveform_prob=0.5, invert=0, reverse=0)
    background = _background_kernels(augmentor, raw)
    quiet = torch.zeros(64, 2, dtype=torch.int64)  # PSD scale 1 in both
    loud = torch.full((64, 2), 2, dtype=torch.int64)  # PSD scale 4 in both
    kernels_quiet, labels, snr = augmentor(raw, quiet, step=5)
    kernels_loud, labels_loud, snr_loud = augmentor(raw, loud, step=5)
    torch.testing.assert_close(labels, labels_loud)
    torch.testing.assert_close(snr, snr_loud)
    positive = labels[:, 0] == 1
    assert positive.sum() > 10
    torch.testing.assert_close(
        (kernels_loud - background)[positive],
        2 * (kernels_quiet - background)[positive],
        rtol=1e-3,
        atol=1e-4,
    )


def test_same_step_same_batch_other_step_other_batch(make, raw, segment):
    augmentor = make(waveform_prob=0.5, swap_prob=0.1, mute_prob=0.1)
    a, ya, sa = augmentor(raw, segment, 11)
    b, yb, sb = augmentor(raw, segment, 11)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(ya, yb)
    torch.testing.assert_close(sa, sb)
    assert sa.shape == (64, 1)
    c, _, _ = augmentor(raw, segment, 12)
    assert not torch.allclose(a, c)
    d, _, _ = augmentor(raw, segment, 11, rank=1)
    assert not torch.allclose(a, d)


def test_background_only_kernels_are_whitened(make, raw, segment, config):
    augmentor = make(waveform_prob=0.0)
    kernels, labels, snr = augmentor(raw, segment, 0)
    assert kernels.shape == (64, 2, config.kernel_size)
    assert (labels == 0).all() and (snr == 0).all()
    assert abs(float(kernels.mean())) < 0.05
    kept = 1 - config.highpass / (config.sample_rate / 2)
    assert 0.8 * kept < float(kernels.var()) < 1.5 * kept
