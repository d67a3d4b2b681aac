import numpy as np
import pytest
import torch
import torch.nn.functional as F

from aframe.architectures import Preprocessor, ResNet1D
from train.augment import Augmentor
from train.curriculum import SnrSchedule
from train.injection import SignalInjector
from train.model import DetectorModule, detection_loss


def _augmentor(config, writers, rng):
    cross, plus = writers["chirps"](rng, 16, config.sample_rate, 4.0, 3.0)
    freqs = np.fft.rfftfreq(1024, 1 / config.sample_rate)
    reference = torch.as_tensor(writers["psd"](freqs)).expand(1, 2, -1)
    return Augmentor(
        Preprocessor(config),
        SignalInjector(config, 768, 0.25, 0.05),
        np.stack([cross, plus], axis=1),
        SnrSchedule(20.0, 20.0, 40.0, decay_steps=0),
        reference,
        waveform_prob=0.5,
        swap_prob=0.0,
        mute_prob=0.0,
        invert_prob=0.5,
        reverse_prob=0.5,
        seed=0,
    )


def test_detection_loss_without_a_margin_is_binary_cross_entropy():
    logits = torch.tensor([[-2.0], [0.5], [3.0], [1.0]])
    labels = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    snr = torch.tensor([[0.0], [9.0], [40.0], [0.0]])
    torch.testing.assert_close(
        detection_loss(logits, labels, snr, slope=0.0, snr0=8.0),
        F.binary_cross_entropy_with_logits(logits, labels),
    )
    # by hand: mean of log(1 + e^z) for negatives and log(1 + e^-z) for positives
    expected = (
        np.log1p(np.exp(-2.0))
        + np.log1p(np.exp(-0.5))
        + np.log1p(np.exp(-3.0))
        + np.log1p(np.exp(1.0))
    ) / 4
    loss = float(detection_loss(logits, labels, snr, 0.0, 8.0))
    assert loss == pytest.approx(expected, rel=1e-6)


def test_a_louder_signal_must_clear_a_higher_logit():
    logit = torch.full((3, 1), 2.0)
    positive = torch.ones(3, 1)
    snr = torch.tensor([[6.0], [8.0], [30.0]])
    per_sample = [
        float(detection_loss(logit[i : i + 1], positive[:1], snr[i : i + 1], 0.2, 8.0))
        for i in range(3)
    ]
    # same logit: at and below snr0 plain BCE, above it the louder the
    # positive, the larger its loss
    plain = F.binary_cross_entropy_with_logits(logit[:1], positive[:1]).item()
    assert per_sample[0] == per_sample[1] == plain
    assert per_sample[2] > per_sample[1]
    # above snr0 the margin is linear in SNR: BCE of z - slope (ρ - ρ0)
    assert per_sample[2] == pytest.approx(
        float(np.log1p(np.exp(-(2.0 - 0.2 * 22.0)))), rel=1e-6
    )
    # negatives carry no margin, whatever SNR field they come with
    negative = torch.zeros(3, 1)
    torch.testing.assert_close(
        detection_loss(logit, negative, snr, 0.2, 8.0),
        F.binary_cross_entropy_with_logits(logit, negative),
    )


def test_module_augments_training_batches_on_the_device(config, writers):
    augmentor = _augmentor(config, writers, np.random.default_rng(0))
    module = DetectorModule(
        ResNet1D(2, [1], [8], norm_groups=4),
        augmentor,
        None,
        lr=1e-3,
        weight_decay=0.0,
        lr_ramp=0.1,
        margin_slope=0.1,
        margin_snr=8.0,
        total_steps=10,
        valid_snr_range=(4.0, 30.0),
        valid_loud_snr=12.0,
        max_fpr=0.1,
        seed=0,
    )
    rng = np.random.default_rng(1)
    raw = torch.as_tensor(
        writers["noise"](rng, (8, 2, config.sample_size), config.sample_rate),
        dtype=torch.float32,
    )
    segment = torch.zeros(8, 2, dtype=torch.int64)
    batch = {"X": raw, "segment": segment, "index": torch.tensor(3)}
    out = module.on_after_batch_transfer(batch, 0)
    x, y, snr = augmentor(raw, segment, 3)
    assert set(out) == {"X", "y", "snr"}
    torch.testing.assert_close(out["X"], x)
    torch.testing.assert_close(out["y"], y)
    torch.testing.assert_close(out["snr"], snr)
    # validation batches (no index) pass through untouched
    valid = {"X": x, "ids": torch.arange(8)}
    assert module.on_after_batch_transfer(valid, 0) is valid


def test_a_tiny_network_overfits_a_tiny_problem(config, writers):
    """The whitened, augmented batches carry a learnable signal: a tiny network
    drives the loss on a fixed batch of loud injections towards zero."""
    rng = np.random.default_rng(0)
    augmentor = _augmentor(config, writers, rng)
    raw = writers["noise"](rng, (64, 2, config.sample_size), config.sample_rate)
    segment = torch.zeros(64, 2, dtype=torch.int64)
    x, y, snr = augmentor(torch.as_tensor(raw, dtype=torch.float32), segment, step=0)
    assert ((snr >= 20) == (y == 1)).all()
    torch.manual_seed(0)
    model = ResNet1D(2, [1, 1], [8, 16], norm_groups=4)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        optimiser.zero_grad()
        loss = detection_loss(model(x), y, snr, slope=0.0, snr0=8.0)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[0] > 0.5
    assert losses[-1] < 0.05
    with torch.no_grad():
        assert ((model(x) > 0).float() == y).all()
