"""A configurable 1D residual network over whitened multi-detector kernels.

ml4gw's ``ResNet1D`` fixes the stage widths at 64-128-256-512; here widths,
depths, kernel size, stem stride and norm groups are all arguments, so one class
serves both the small CPU default (≈ 177 k parameters) and aframe's
[3, 4, 6, 3] × 64–512 network (≈ 7.2 M parameters) for GPUs.

Layout: a stem (convolution with ``stem_kernel_size``, GroupNorm, ReLU, and a
stride-2 max-pool when ``stem_stride`` is even), then one stage of basic residual
blocks per entry of ``layers``; every stage after the first halves the time
resolution. Global average pooling and a linear layer give one logit per kernel.
The network holds no preprocessing: its input is already whitened.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class ArchitectureError(ValueError):
    """Network hyper-parameters that do not describe a valid network."""


def group_norm(channels: int, norm_groups: int) -> nn.GroupNorm:
    """GroupNorm with ``min(channels, norm_groups)`` groups.

    GroupNorm, not BatchNorm: its statistics are per sample, so training and
    inference normalise alike.

    Args:
        channels: feature channels
        norm_groups: the most groups to use

    Returns:
        the norm layer
    """
    groups = min(channels, norm_groups)
    while channels % groups:
        groups -= 1
    return nn.GroupNorm(groups, channels)


class BasicBlock(nn.Module):
    """Two same-padded convolutions with a residual connection.

    Args:
        in_channels: input channels
        channels: output channels
        kernel_size: odd convolution length, in samples
        stride: stride of the first convolution (2 halves the resolution)
        norm_groups: GroupNorm groups
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        kernel_size: int,
        stride: int,
        norm_groups: int,
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(
            in_channels, channels, kernel_size, stride=stride, padding=pad, bias=False
        )
        self.norm1 = group_norm(channels, norm_groups)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, padding=pad, bias=False)
        self.norm2 = group_norm(channels, norm_groups)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_channels, channels, 1, stride=stride, bias=False),
                group_norm(channels, norm_groups),
            )

    def forward(self, x: Tensor) -> Tensor:  # (batch, channel, time)
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet1D(nn.Module):
    """1D ResNet classifier: whitened (batch, ifo, kernel_size) → logit (batch, 1).

    Args:
        num_ifos: input channels, one per detector
        layers: residual blocks per stage, e.g. ``[3, 4, 6, 3]``
        widths: channels per stage, one per entry of ``layers``
        kernel_size: odd length of the stage convolutions, in samples
        stem_kernel_size: odd length of the stem convolution, in samples
        stem_stride: total downsampling of the stem: the convolution's stride is
            ``stem_stride // 2`` followed by a stride-2 max-pool when
            ``stem_stride`` is even, else ``stem_stride`` with no pool
        norm_groups: GroupNorm groups (``min(channels, norm_groups)`` per layer)
        zero_init_residual: start each block's last norm at zero, so every block
            begins as the identity (helps deep networks train)
    """

    def __init__(
        self,
        num_ifos: int,
        layers: Sequence[int] = (1, 1, 1, 1),
        widths: Sequence[int] = (16, 32, 64, 128),
        kernel_size: int = 5,
        stem_kernel_size: int = 7,
        stem_stride: int = 4,
        norm_groups: int = 8,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        layers, widths = list(layers), list(widths)
        if num_ifos < 1:
            raise ArchitectureError(f"num_ifos must be ≥ 1, got {num_ifos}")
        if not layers or len(layers) != len(widths):
            raise ArchitectureError(
                f"layers {layers} and widths {widths} must be non-empty and of "
                "equal length (one width per stage)"
            )
        if any(n < 1 for n in layers) or any(w < 1 for w in widths):
            raise ArchitectureError(
                f"layers {layers} and widths {widths} must be positive"
            )
        for name, k in (
            ("kernel_size", kernel_size),
            ("stem_kernel_size", stem_kernel_size),
        ):
            if k < 1 or k % 2 == 0:
                raise ArchitectureError(
                    f"{name} must be odd and positive (same padding), got {k}"
                )
        if stem_stride < 1:
            raise ArchitectureError(f"stem_stride must be ≥ 1, got {stem_stride}")
        if norm_groups < 1:
            raise ArchitectureError(f"norm_groups must be ≥ 1, got {norm_groups}")

        pool = stem_stride % 2 == 0
        conv_stride = stem_stride // 2 if pool else stem_stride
        stem: list[nn.Module] = [
            nn.Conv1d(
                num_ifos,
                widths[0],
                stem_kernel_size,
                stride=conv_stride,
                padding=stem_kernel_size // 2,
                bias=False,
            ),
            group_norm(widths[0], norm_groups),
            nn.ReLU(inplace=True),
        ]
        if pool:
            stem.append(nn.MaxPool1d(3, stride=2, padding=1))
        self.stem = nn.Sequential(*stem)

        stages = []
        in_channels = widths[0]
        for i, (depth, width) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(depth):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(
                    BasicBlock(in_channels, width, kernel_size, stride, norm_groups)
                )
                in_channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(in_channels, 1)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                nn.init.kaiming_normal_(
                    module.weight, mode="fan_out", nonlinearity="relu"
                )
            elif isinstance(module, nn.GroupNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, BasicBlock):
                    nn.init.zeros_(module.norm2.weight)

    def forward(self, x: Tensor) -> Tensor:
        """Logits of whitened kernels.

        Args:
            x: (batch, ifo, kernel_size) whitened strain

        Returns:
            (batch, 1) logits; sigmoid gives the signal probability
        """
        x = self.stages(self.stem(x))
        return self.head(torch.flatten(self.pool(x), 1))
