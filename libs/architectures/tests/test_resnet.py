import pytest
import torch

from aframe.architectures import ArchitectureError, ResNet1D
from aframe.architectures.resnet import BasicBlock, group_norm


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
    stem = model.stem(torch.randn(1, 2, 1024))
    assert stem.shape[-1] == -(-1024 // stem_stride)


def test_block_shapes_and_strides():
    block = BasicBlock(8, 16, kernel_size=5, stride=2, norm_groups=4)
    assert block(torch.randn(2, 8, 100)).shape == (2, 16, 50)
    same = BasicBlock(8, 8, kernel_size=3, stride=1, norm_groups=4)
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
