"""A configurable 1D residual network over whitened multi-detector kernels.

ml4gw's ``ResNet1D`` fixes the stage widths at 64-128-256-512; here widths,
depths, kernel size, stem stride and normalisation are all arguments, so one
class serves both the small CPU default (≈ 177 k parameters) and aframe's
[3, 4, 6, 3] × 64–512 network (≈ 7.2 M parameters) for GPUs.

Layout: a stem (convolution with ``stem_kernel_size``, norm, ReLU, and a
stride-2 max-pool when ``stem_stride`` is even), then one stage of basic residual
blocks per entry of ``layers``; every stage after the first halves the time
resolution. Global average pooling and a linear layer give one logit per kernel.
The network holds no preprocessing: its input is already whitened.

Normalisation decides whether the output can follow a signal's loudness
(``docs/architecture.md``). A per-sample norm (``group``) right after the
bias-free stem makes the logits exactly invariant to the input's scale, so a
loud signal scores no higher than a faint one of the same shape. ``batch``
(statistics of the training batch, running statistics once trained) and
``affine`` (a learnt per-channel scale and shift, no statistics at all) are
fixed affine maps at inference, so the network is piecewise linear in its
input and a signal's logit keeps growing with its amplitude.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn


class ArchitectureError(ValueError):
    """Network hyper-parameters that do not describe a valid network."""


NORMS = ("affine", "batch", "group")
Norm = Literal["affine", "batch", "group"]


class ChannelAffine(nn.Module):
    """A learnt scale and shift per channel, with no statistics of the data.

    Args:
        channels: feature channels
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:  # (batch, channel, time)
        return x * self.weight[:, None] + self.bias[:, None]


def group_norm(channels: int, norm_groups: int) -> nn.GroupNorm:
    """GroupNorm with ``min(channels, norm_groups)`` groups (dividing ``channels``).

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


def norm_layer(norm: str, channels: int, norm_groups: int) -> nn.Module:
    """The normalisation layer called ``norm``.

    Args:
        norm: ``affine`` (``ChannelAffine``), ``batch`` (``BatchNorm1d``) or
            ``group`` (``GroupNorm``, see ``group_norm``)
        channels: feature channels
        norm_groups: groups of a ``group`` norm

    Returns:
        the layer; each has a per-channel ``weight`` and ``bias``
    """
    if norm == "affine":
        return ChannelAffine(channels)
    if norm == "batch":
        return nn.BatchNorm1d(channels)
    if norm == "group":
        return group_norm(channels, norm_groups)
    raise ArchitectureError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")


class BasicBlock(nn.Module):
    """Two same-padded convolutions with a residual connection.

    Args:
        in_channels: input channels
        channels: output channels
        kernel_size: odd convolution length, in samples
        stride: stride of the first convolution (2 halves the resolution)
        norm: the normalisation (``norm_layer``)
        norm_groups: groups of a ``group`` norm
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        kernel_size: int,
        stride: int,
        norm: str,
        norm_groups: int,
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(
            in_channels, channels, kernel_size, stride=stride, padding=pad, bias=False
        )
        self.norm1 = norm_layer(norm, channels, norm_groups)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, padding=pad, bias=False)
        self.norm2 = norm_layer(norm, channels, norm_groups)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_channels, channels, 1, stride=stride, bias=False),
                norm_layer(norm, channels, norm_groups),
            )

    def forward(self, x: Tensor) -> Tensor:  # (batch, channel, time)
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class AmplitudeTerm(nn.Module):
    """A loudness term added to the network's logit, opened by the logit itself.

    ``z = g + softplus(w) · sigmoid(g - c) · a(h)``, where ``g`` is the
    network's logit, ``h = stem_conv(x)`` the stem's convolution of the
    whitened input (bias-free, so ``h(λx) = λ h(x)``) and

        a(h) = sqrt(max_t ē(t)) - sqrt(mean_t ē(t)),
        ē = the channel-mean of h² smoothed over ``window`` samples,

    a transient's excess amplitude over the rest of the kernel (≥ 0, zero for
    perfectly stationary input, degree 1 in the input's scale). It is the
    role the matched-filter SNR plays in a reweighted-SNR statistic, with the
    network as the signal-consistency test: the gate ``sigmoid(g - c)`` lets
    loudness count only for inputs the network already finds signal-like, so
    a loud glitch the network rejects gains little, while a signal's
    statistic keeps rising with its amplitude. With a scale-invariant ``g``
    (``group`` norm), ``z`` of a fixed input grows strictly with its scale.

    Args:
        window: smoothing of the energy envelope, in samples of ``h``
        weight: initial ``softplus(w)``
    """

    def __init__(self, window: int, weight: float = 0.1) -> None:
        super().__init__()
        if window < 1:
            raise ArchitectureError(f"amplitude window must be ≥ 1, got {window}")
        self.window = window
        self.weight = nn.Parameter(torch.tensor(math.log(math.expm1(weight))))
        self.offset = nn.Parameter(torch.tensor(0.0))

    def amplitude(self, h: Tensor) -> Tensor:
        """(batch, 1) excess amplitude of stem features ``h`` (batch, channel, time)."""
        energy = h.square().mean(dim=1, keepdim=True)
        window = min(self.window, energy.shape[-1])
        smooth = nn.functional.avg_pool1d(energy, window, stride=1)
        return smooth.amax(dim=-1).sqrt() - smooth.mean(dim=-1).sqrt()

    def forward(self, logit: Tensor, h: Tensor) -> Tensor:
        gate = torch.sigmoid(logit - self.offset)
        return logit + nn.functional.softplus(self.weight) * gate * self.amplitude(h)


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
        norm: normalisation after every convolution: ``affine`` (a learnt
            per-channel scale and shift), ``batch`` or ``group``; only
            ``affine`` and ``batch`` let the output grow with the input's
            amplitude (``group`` makes it scale-invariant)
        norm_groups: groups of a ``group`` norm (``min(channels, norm_groups)``
            per layer)
        zero_init_residual: start each block's last norm at zero, so every block
            begins as the identity (helps deep networks train, and keeps
            activations bounded at the start without normalising statistics)
        amplitude_window: add the gated loudness term ``AmplitudeTerm`` with
            this smoothing, in samples of the stem convolution's output
            (``stem_stride // 2`` input samples each when ``stem_stride`` is
            even); 0 leaves the logit as the network makes it
    """

    def __init__(
        self,
        num_ifos: int,
        layers: Sequence[int] = (1, 1, 1, 1),
        widths: Sequence[int] = (16, 32, 64, 128),
        kernel_size: int = 5,
        stem_kernel_size: int = 7,
        stem_stride: int = 4,
        norm: Norm = "group",
        norm_groups: int = 8,
        zero_init_residual: bool = False,
        amplitude_window: int = 64,
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
        if norm not in NORMS:
            raise ArchitectureError(
                f"norm must be one of {', '.join(NORMS)}, got {norm!r}"
            )
        if norm_groups < 1:
            raise ArchitectureError(f"norm_groups must be ≥ 1, got {norm_groups}")

        if amplitude_window < 0:
            raise ArchitectureError(
                f"amplitude_window must be ≥ 0, got {amplitude_window}"
            )

        pool = stem_stride % 2 == 0
        conv_stride = stem_stride // 2 if pool else stem_stride
        self.stem_conv = nn.Conv1d(
            num_ifos,
            widths[0],
            stem_kernel_size,
            stride=conv_stride,
            padding=stem_kernel_size // 2,
            bias=False,
        )
        stem: list[nn.Module] = [
            norm_layer(norm, widths[0], norm_groups),
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
                    BasicBlock(
                        in_channels, width, kernel_size, stride, norm, norm_groups
                    )
                )
                in_channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(in_channels, 1)
        self.amplitude = (
            AmplitudeTerm(amplitude_window) if amplitude_window > 0 else None
        )
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                nn.init.kaiming_normal_(
                    module.weight, mode="fan_out", nonlinearity="relu"
                )
            elif isinstance(module, (nn.GroupNorm, nn.BatchNorm1d, ChannelAffine)):
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
            (batch, 1) logits (with the loudness term when there is one)
        """
        h = self.stem_conv(x)
        y = self.stages(self.stem(h))
        logit = self.head(torch.flatten(self.pool(y), 1))
        if self.amplitude is not None:
            logit = self.amplitude(logit, h)
        return logit
