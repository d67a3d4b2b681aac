import pytest
import torch

from aframe.architectures import ArchitectureError, ResNet1D
from aframe.architectures.resnet import (
    AmplitudeTerm,
    BasicBlock,
    ChannelAffine,
    group_norm,
    norm_layer,
)


def num_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_default_is_the_small_cpu_network():
    model = ResNet1D(num_ifos=2)
    assert 170_000 < num_params(model) < 190_000
    out = model(torch.randn(3, 2, 3072))
    assert out.shape == (3, 1)


def test_aframe_layout_is_the_large_gpu_network():
    model = ResNet1D(
        2, [3, 4, 6, 3], [64, 128, 256, 512], kernel_size=3, norm_groups=16
    )
    assert 7.0e6 < num_params(model) < 7.4e6
    assert model(torch.randn(2, 2, 768)).shape == (2, 1)


@pytest.mark.parametrize("stem_stride", [4, 2, 3, 1])
def test_stem_downsamples_by_stem_stride(stem_stride):
    model = ResNet1D(2, [1], [8], stem_stride=stem_stride)
    stem = model.stem(model.stem_conv(torch.randn(1, 2, 1024)))
    assert stem.shape[-1] == -(-1024 // stem_stride)


def test_block_shapes_and_strides():
    block = BasicBlock(8, 16, kernel_size=5, stride=2, norm="group", norm_groups=4)
    assert block(torch.randn(2, 8, 100)).shape == (2, 16, 50)
    same = BasicBlock(8, 8, kernel_size=3, stride=1, norm="batch", norm_groups=4)
    assert isinstance(same.shortcut, torch.nn.Identity)
    assert same(torch.randn(2, 8, 100)).shape == (2, 8, 100)


def test_group_norm_groups_divide_channels():
    assert group_norm(16, 8).num_groups == 8
    assert group_norm(4, 16).num_groups == 4
    assert group_norm(12, 8).num_groups == 6


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kernel_size": 4}, "odd"),
        ({"stem_kernel_size": 6}, "odd"),
        ({"layers": [1, 1], "widths": [8]}, "equal length"),
        ({"layers": [0], "widths": [8]}, "positive"),
        ({"stem_stride": 0}, "stem_stride"),
        ({"norm": "layer"}, "norm must be one of"),
        ({"amplitude_window": -1}, "amplitude_window"),
    ],
)
def test_bad_hyperparameters_raise(kwargs, message):
    with pytest.raises(ArchitectureError, match=message):
        ResNet1D(2, **kwargs)


def test_zero_init_residual_starts_blocks_as_identity_branches():
    model = ResNet1D(2, [1, 1], [8, 16], zero_init_residual=True)
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert all(torch.all(b.norm2.weight == 0) for b in blocks)


def test_learns_to_find_a_coherent_chirp():
    """A small network separates noise from noise plus a faint shared chirp."""
    torch.manual_seed(0)
    n, size = 768, 256
    t = torch.arange(size) / 256
    chirp = torch.sin(2 * torch.pi * (20 + 40 * t) * t) * torch.hann_window(size)
    y = (torch.rand(n) < 0.5).float()
    x = torch.randn(n, 2, size) + 1.0 * y[:, None, None] * chirp
    model = ResNet1D(2, [1, 1], [8, 16], kernel_size=5, stem_stride=2, norm_groups=4)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for _ in range(6):
        for i in range(0, n, 64):
            optimiser.zero_grad()
            loss = loss_fn(model(x[i : i + 64])[:, 0], y[i : i + 64])
            loss.backward()
            optimiser.step()
    model.eval()
    xt = torch.randn(n, 2, size)
    yt = (torch.rand(n) < 0.5).float()
    xt += 1.0 * yt[:, None, None] * chirp
    with torch.no_grad():
        accuracy = ((model(xt)[:, 0] > 0).float() == yt).float().mean()
    assert accuracy > 0.9


def test_norm_layers():
    assert isinstance(norm_layer("affine", 8, 4), ChannelAffine)
    assert isinstance(norm_layer("batch", 8, 4), torch.nn.BatchNorm1d)
    assert norm_layer("group", 8, 4).num_groups == 4
    with pytest.raises(ArchitectureError, match="norm must be one of"):
        norm_layer("instance", 8, 4)


def test_group_norm_network_without_amplitude_term_is_scale_invariant():
    """The failure mode the amplitude term fixes: loud looks like faint."""
    torch.manual_seed(1)
    model = ResNet1D(2, amplitude_window=0).eval()
    x = torch.randn(2, 2, 3072)
    with torch.no_grad():
        base = model(x)
        for scale in (3.0, 10.0, 100.0):
            torch.testing.assert_close(model(scale * x), base, rtol=1e-4, atol=1e-4)


def chirp_in_noise(amplitude: float, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(3072) / 2048
    f = 40 + 200 * (t / 1.5) ** 3
    envelope = torch.exp(-(((t - 1.1) / 0.08) ** 2))
    signal = envelope * torch.sin(2 * torch.pi * torch.cumsum(f, 0) / 2048)
    noise = torch.randn(1, 2, 3072, generator=gen)
    return noise + amplitude * torch.stack([signal, 0.7 * signal])[None]


@pytest.mark.parametrize("norm", ["group", "batch", "affine"])
def test_statistic_of_a_fixed_signal_keeps_growing_with_its_amplitude(norm):
    """From 10× to 100× a signal's amplitude, the output rises at every step.

    Structural, so it holds for any weights: the amplitude term grows with
    the input's scale, and the gate never closes completely.
    """
    torch.manual_seed(2)
    model = ResNet1D(2, norm=norm).eval()
    with torch.no_grad():
        outputs = [float(model(chirp_in_noise(a))) for a in torch.linspace(10, 100, 10)]
    assert all(b > a for a, b in zip(outputs, outputs[1:])), outputs
    # and the growth is substantial, not a plateau
    assert outputs[-1] - outputs[0] > 0.5 * abs(outputs[0]) + 0.1


def test_amplitude_term_is_degree_one_in_scale_and_gated_by_the_logit():
    term = AmplitudeTerm(window=8, weight=0.5)
    h = torch.randn(3, 4, 200)
    h[:, :, 100:110] += 10
    a = term.amplitude(h)
    assert (a > 0).all()
    torch.testing.assert_close(term.amplitude(5 * h), 5 * a)
    # stationary input has almost no excess amplitude
    flat = torch.ones(1, 4, 200)
    assert float(term.amplitude(flat)) == pytest.approx(0.0, abs=1e-6)
    # a closed gate (very negative logit) adds nothing; an open one adds 0.5·a
    low = term(torch.full((3, 1), -50.0), h)
    high = term(torch.full((3, 1), 50.0), h)
    torch.testing.assert_close(low, torch.full((3, 1), -50.0))
    torch.testing.assert_close(high, 50.0 + 0.5 * a)
