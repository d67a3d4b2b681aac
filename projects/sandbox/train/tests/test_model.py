import numpy as np
import torch

from aframe.architectures import Preprocessor, ResNet1D
from train.augment import Augmentor
from train.curriculum import SnrSchedule
from train.injection import SignalInjector


def test_a_tiny_network_overfits_a_tiny_problem(config, writers):
    """The whitened, augmented batches carry a learnable signal: a tiny network
    drives the loss on a fixed batch of loud injections towards zero."""
    rng = np.random.default_rng(0)
    cross, plus = writers["chirps"](rng, 16, config.sample_rate, 4.0, 3.0)
    augmentor = Augmentor(
        Preprocessor(config),
        SignalInjector(config, 768, 0.25, 0.05),
        np.stack([cross, plus], axis=1),
        SnrSchedule(20.0, 20.0, 40.0, decay_steps=0),
        waveform_prob=0.5,
        swap_prob=0.0,
        mute_prob=0.0,
        invert_prob=0.5,
        reverse_prob=0.5,
        seed=0,
    )
    raw = writers["noise"](rng, (64, 2, config.sample_size), config.sample_rate)
    x, y = augmentor(torch.as_tensor(raw, dtype=torch.float32), step=0)
    torch.manual_seed(0)
    model = ResNet1D(2, [1, 1], [8, 16], norm_groups=4)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(60):
        optimiser.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[0] > 0.5
    assert losses[-1] < 0.05
    with torch.no_grad():
        assert ((model(x) > 0).float() == y).all()
