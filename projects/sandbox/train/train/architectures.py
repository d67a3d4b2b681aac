"""Architecture subcommands of ``train``: each builds the network it names.

``train … resnet --layers [3,4,6,3] --widths [64,128,256,512]`` selects the
1D ResNet of ``aframe.architectures``; its arguments are saved in ``model.pt``
so that export and inference rebuild the same network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass
class ResNet:
    """A 1D ResNet (``aframe.architectures.ResNet1D``).

    The defaults are the small CPU network (≈ 177 k parameters); aframe's GPU
    network is ``layers [3,4,6,3]``, ``widths [64,128,256,512]``,
    ``kernel_size 3``, ``norm_groups 16`` (≈ 7.2 M parameters).

    Args:
        layers: residual blocks per stage
        widths: channels per stage (one per entry of ``layers``)
        kernel_size: odd convolution length of the stages, in samples
        stem_kernel_size: odd convolution length of the stem, in samples
        stem_stride: time downsampling of the stem (stride-2 max-pool included
            when even)
        norm_groups: GroupNorm groups per layer (at most the channels)
        zero_init_residual: start each residual branch at zero
    """

    name: ClassVar[str] = "resnet"

    layers: list[int] = field(default_factory=lambda: [1, 1, 1, 1])
    widths: list[int] = field(default_factory=lambda: [16, 32, 64, 128])
    kernel_size: int = 5
    stem_kernel_size: int = 7
    stem_stride: int = 4
    norm_groups: int = 8
    zero_init_residual: bool = False

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``build_model(name, num_ifos, **kwargs)``."""
        return {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()
        }
