import numpy as np
import pytest
import torch

from aframe.architectures import Preprocessor
from train.augment import Augmentor, injection_probability
from train.curriculum import SnrSchedule
from train.injection import SignalInjector


@pytest.fixture
def raw(config, writers):
    rng = np.random.default_rng(1)
    x = writers["noise"](rng, (64, 2, config.sample_size), config.sample_rate)
    return torch.as_tensor(x, dtype=torch.float32)


@pytest.fixture
def make(config, writers):
    rng = np.random.default_rng(2)
    cross, plus = writers["chirps"](rng, 32, config.sample_rate, 4.0, 3.0)
    waveforms = np.stack([cross, plus], axis=1)

    def build(waveform_prob=0.5, swap_prob=0.0, mute_prob=0.0, invert=0.5, reverse=0.5):
        return Augmentor(
            Preprocessor(config),
            SignalInjector(config, 768, left_pad=0.25, right_pad=0.05),
            waveforms,
            SnrSchedule(30.0, 10.0, 100.0, decay_steps=0),
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


def test_realised_positive_fraction_is_waveform_prob(make, raw):
    augmentor = make(waveform_prob=0.3, swap_prob=0.2, mute_prob=0.25)
    labels = torch.cat([augmentor(raw, step)[1] for step in range(100)])
    n = labels.numel()
    assert set(labels.unique().tolist()) <= {0.0, 1.0}
    assert abs(float(labels.mean()) - 0.3) < 4 * (0.3 * 0.7 / n) ** 0.5


def _signal_per_channel(augmentor, raw, step):
    """Whitened injected signal: augmented kernels minus the same background."""
    kernels, labels = augmentor(raw, step)
    config = augmentor.preprocessor.config
    psd = augmentor.preprocessor.psd(raw[..., : config.psd_size])
    background = augmentor.preprocessor.whiten(raw[..., config.psd_size :], psd)
    power = (kernels - background).square().sum(dim=-1)  # (B, ifo)
    return power, labels[:, 0]


def test_muted_samples_carry_the_signal_in_one_detector_and_are_negative(make, raw):
    # every sample injected, 99 % of them muted
    augmentor = make(waveform_prob=0.01, mute_prob=0.99, invert=0, reverse=0)
    power, labels = _signal_per_channel(augmentor, raw, step=0)
    present = power > 1e-3 * power.max()
    muted = labels == 0
    assert muted.sum() > 50
    assert (present[muted].sum(dim=1) == 1).all()
    assert (present[~muted].sum(dim=1) == 2).all()


def test_swapped_samples_are_negative_with_signal_in_both_detectors(make, raw):
    augmentor = make(waveform_prob=0.01, swap_prob=0.99, invert=0, reverse=0)
    power, labels = _signal_per_channel(augmentor, raw, step=0)
    assert (labels == 0).sum() > 50
    assert (power > 1e-3 * power.max()).all()


def test_signals_are_scaled_against_each_samples_own_psd(make, raw, monkeypatch):
    augmentor = make(waveform_prob=0.5, invert=0, reverse=0)
    calls = []
    original = augmentor.injector.inject

    def spy(polarizations, sky, psd, target, positions):
        calls.append((psd.clone(), target.clone()))
        return original(polarizations, sky, psd, target, positions)

    monkeypatch.setattr(augmentor.injector, "inject", spy)
    _, labels = augmentor(raw, step=4)
    ((psd, target),) = calls
    config = augmentor.preprocessor.config
    own = augmentor.preprocessor.psd(raw[..., : config.psd_size])[labels[:, 0] == 1]
    torch.testing.assert_close(psd, own)
    assert target.min() >= 10.0 and target.max() <= 100.0
    # without swaps or mutes, exactly the positives carry a signal
    power, _ = _signal_per_channel(augmentor, raw, step=4)
    assert (power[labels[:, 0] == 1] > 0).all() and (
        power[labels[:, 0] == 0] == 0
    ).all()


def test_same_step_same_batch_other_step_other_batch(make, raw):
    augmentor = make(waveform_prob=0.5, swap_prob=0.1, mute_prob=0.1)
    a, ya = augmentor(raw, 11)
    b, yb = augmentor(raw, 11)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(ya, yb)
    c, _ = augmentor(raw, 12)
    assert not torch.allclose(a, c)
    d, _ = augmentor(raw, 11, rank=1)
    assert not torch.allclose(a, d)


def test_background_only_kernels_are_whitened(make, raw, config):
    augmentor = make(waveform_prob=0.0)
    kernels, labels = augmentor(raw, 0)
    assert kernels.shape == (64, 2, config.kernel_size)
    assert (labels == 0).all()
    assert abs(float(kernels.mean())) < 0.05
    kept = 1 - config.highpass / (config.sample_rate / 2)
    assert 0.8 * kept < float(kernels.var()) < 1.5 * kept
