"""The stream state: the samples a stream keeps between updates.

Every kernel the network sees is whitened with the PSD of the ``psd_length``
seconds right before its window, so kernel ``j`` of a stream needs the samples
``[j·stride, j·stride + psd_size + window_size)``. The snapshotter holds the
tail of the data that the next kernel still needs, appends each update, and
hands back a buffer from which every complete kernel can be cut.

Unlike a zero-initialised state, the buffer starts empty: the first kernel is
produced only once ``psd_size + window_size`` real samples have arrived, so no
PSD ever contains pre-start zeros and no output has to be thrown away for
burn-in. The first complete kernel ends ``psd_length + kernel_length +
fduration/2`` seconds after the stream's start; that delay is the burn-in.
"""

from __future__ import annotations

import numpy as np


class Snapshotter:
    """Keep the samples of a stream that future kernels still need.

    Args:
        span: samples each kernel's input spans (``psd_size + window_size``)
        stride: samples between consecutive kernels (``sample_rate / isr``)
        num_channels: channels (ifos) of the stream
        dtype: dtype the state is kept in (that of the strain)
    """

    def __init__(
        self, span: int, stride: int, num_channels: int, dtype: type = np.float64
    ):
        if span <= 0 or stride <= 0:
            raise ValueError(f"span ({span}) and stride ({stride}) must be positive")
        self.span = span
        self.stride = stride
        self.state = np.zeros((num_channels, 0), dtype=dtype)
        self.num_kernels = 0  # kernels produced so far

    def num_complete(self, length: int) -> int:
        """Complete kernels in a buffer of ``length`` samples.

        Args:
            length: buffer length, in samples

        Returns:
            ``floor((length - span)/stride) + 1``, or 0 if shorter than a span
        """
        if length < self.span:
            return 0
        return (length - self.span) // self.stride + 1

    def update(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        """Append an update and return the buffer to cut kernels from.

        Args:
            x: the new samples, shape (num_channels, U)

        Returns:
            the buffer ``[state, x]`` and the number of complete kernels it
            holds; kernel ``k`` of the buffer is global kernel
            ``num_kernels_before + k``. The state keeps the samples from the
            first incomplete kernel on (``span - stride`` samples when the
            buffer's length minus ``span`` is a multiple of the stride).
        """
        if x.ndim != 2 or x.shape[0] != self.state.shape[0]:
            raise ValueError(
                f"update of shape {x.shape}, expected ({self.state.shape[0]}, samples)"
            )
        buffer = np.concatenate(
            [self.state, x.astype(self.state.dtype, copy=False)], axis=1
        )
        n = self.num_complete(buffer.shape[1])
        self.state = buffer[:, n * self.stride :]
        self.num_kernels += n
        return buffer, n
