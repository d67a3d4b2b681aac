"""The one preprocessing module: PSD estimate and whitening.

Training, export and inference all use ``Preprocessor`` unchanged, built from the
``PreprocessingConfig`` saved with the model. A training sample is
``psd_length`` s of strain followed by one ``window_length`` s window; the
window is whitened with the PSD of the strain right before it and cropped by
``fduration / 2`` on each side to a ``kernel_length`` s kernel. ``stream`` does
exactly that for every kernel of a contiguous stretch, so what the network sees
at inference is what it saw in training (reference §12.1).
"""

from __future__ import annotations

import math

import torch
from ml4gw.transforms import Whiten
from torch import Tensor

from aframe.architectures.config import PreprocessingConfig
from aframe.architectures.spectral import (
    WelchWindow,
    average_segments,
    interpolate_psd,
    num_segments,
    periodograms,
    series_scale,
    to_density,
    welch,
)


class Preprocessor(torch.nn.Module):
    """Estimate each sample's PSD and whiten its window with it.

    Args:
        config: the preprocessing parameters
    """

    def __init__(self, config: PreprocessingConfig) -> None:
        super().__init__()
        self.config = config
        # periodic Hann, as scipy.signal.welch's default window
        window = torch.hann_window(config.fft_size, periodic=True, dtype=torch.float64)
        self.taper = WelchWindow(window, config.sample_rate)
        self.whitener = Whiten(config.fduration, config.sample_rate, config.highpass)
        self.num_psd_segments = num_segments(
            config.psd_size, config.fft_size, config.fft_stride
        )

    def _check(self, x: Tensor, size: int, what: str) -> None:
        if x.ndim != 3:
            raise ValueError(
                f"{what}: expected (batch, ifo, time), got {tuple(x.shape)}"
            )
        if x.shape[1] != len(self.config.ifos):
            raise ValueError(
                f"{what}: expected {len(self.config.ifos)} channels "
                f"({', '.join(self.config.ifos)}), got {x.shape[1]}"
            )
        if x.shape[-1] != size:
            raise ValueError(f"{what}: expected {size} samples, got {x.shape[-1]}")

    def psd(self, background: Tensor) -> Tensor:
        """Welch PSD of each channel (fftlength segments, 50 % overlap, Hann).

        Args:
            background: (batch, ifo, psd_size) strain

        Returns:
            (batch, ifo, num_freqs) float64 one-sided PSD, strain² / Hz, on the
            frequency grid ``0, 1/fftlength, …, sample_rate/2``
        """
        self._check(background, self.config.psd_size, "psd")
        c = self.config
        return welch(background, self.taper, c.fft_stride, c.psd_average)

    def whiten(self, x: Tensor, psd: Tensor) -> Tensor:
        """Whiten windows with ml4gw's ``Whiten`` and crop them to kernels.

        The PSD is resampled onto the window's frequency grid, its inverse
        amplitude truncated to an ``fduration`` s impulse response with a highpass
        at ``highpass`` Hz, and ``fduration / 2`` s is cropped from each side.

        Args:
            x: (batch, ifo, window_size) strain
            psd: (batch, ifo, F) or (ifo, F) PSD on a grid from 0 to Nyquist

        Returns:
            (batch, ifo, kernel_size) float32 whitened kernels, ≈ zero mean and
            unit variance for Gaussian noise of that PSD
        """
        self._check(x, self.config.window_size, "whiten")
        psd = interpolate_psd(psd.double(), self.config.window_size // 2 + 1)
        return self.whitener(x, psd)

    def forward(self, x: Tensor) -> Tensor:
        """Whiten each sample's window with the PSD of the strain before it.

        Args:
            x: (batch, ifo, psd_size + window_size) strain

        Returns:
            (batch, ifo, kernel_size) float32 whitened kernels
        """
        self._check(x, self.config.sample_size, "forward")
        split = self.config.psd_size
        psd = self.psd(x[..., :split])
        return self.whiten(x[..., split:], psd)

    def num_kernels(self, size: int, inference_sampling_rate: float) -> int:
        """Kernels ``stream`` makes from ``size`` samples.

        Args:
            size: samples of the stretch
            inference_sampling_rate: kernels per second, Hz

        Returns:
            ``(size - psd_size - window_size) // stride + 1`` (0 if too short)
        """
        stride = self.stride(inference_sampling_rate)
        extra = size - self.config.sample_size
        return 0 if extra < 0 else extra // stride + 1

    def stride(self, inference_sampling_rate: float) -> int:
        """Samples between consecutive kernels at ``inference_sampling_rate`` Hz."""
        value = self.config.sample_rate / inference_sampling_rate
        stride = round(value)
        if stride < 1 or abs(value - stride) > 1e-6:
            raise ValueError(
                f"inference_sampling_rate = {inference_sampling_rate} Hz does not "
                f"divide sample_rate = {self.config.sample_rate} Hz"
            )
        return stride

    def stream(
        self, x: Tensor, inference_sampling_rate: float, chunk_size: int = 256
    ) -> Tensor:
        """Whitened kernels ending every ``1 / inference_sampling_rate`` s.

        Kernel ``i`` is ``forward`` applied to
        ``x[:, i·stride : i·stride + psd_size + window_size]``: its window is
        whitened with the PSD of the ``psd_length`` s immediately preceding it,
        exactly as in training. Kernels share the Welch segments they have in
        common: periodograms are computed once on a grid of
        ``gcd(stride, fft_stride)`` samples (``num_segments`` times less FFT
        work when the kernel stride divides the Welch stride), unless that
        grid is finer than computing each kernel's own.

        Args:
            x: (ifo, T) contiguous strain
            inference_sampling_rate: kernels per second, Hz
            chunk_size: kernels processed at once (bounds memory)

        Returns:
            (N, ifo, kernel_size) float32 kernels,
            ``N = (T - psd_size - window_size) // stride + 1``
        """
        c = self.config
        if x.ndim != 2 or x.shape[0] != len(c.ifos):
            raise ValueError(
                f"stream: expected ({len(c.ifos)}, time) strain, got {tuple(x.shape)}"
            )
        stride = self.stride(inference_sampling_rate)
        n = self.num_kernels(x.shape[-1], inference_sampling_rate)
        if n < 1:
            raise ValueError(
                f"stream: {x.shape[-1]} samples are fewer than one sample of "
                f"{c.sample_size} (psd_length + kernel_length + fduration)"
            )
        windows = x[:, c.psd_size :].unfold(-1, c.window_size, stride)  # (ifo, n, W)
        outputs = []
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            psd = self._stream_psd(x, start, stop, stride)
            window = windows[:, start:stop].transpose(0, 1)
            outputs.append(self.whiten(window, psd))
        return torch.cat(outputs, dim=0)

    def _stream_psd(self, x: Tensor, start: int, stop: int, stride: int) -> Tensor:
        """(stop - start, ifo, F) PSDs of kernels ``start … stop - 1``.

        Segment ``k`` of kernel ``i`` starts at ``i·stride + k·fft_stride``;
        every such start is a multiple of ``g = gcd(stride, fft_stride)``, so
        the periodograms are computed once on a grid of ``g`` samples and each
        kernel gathers its own.
        """
        c = self.config
        step = math.gcd(stride, c.fft_stride)
        kernel_step, segment_step = stride // step, c.fft_stride // step
        span_kernels = stop - start
        count = (
            (span_kernels - 1) * kernel_step
            + (self.num_psd_segments - 1) * segment_step
            + 1
        )
        if count > span_kernels * self.num_psd_segments:
            # sharing would compute more periodograms than it saves
            samples = x.unfold(-1, c.psd_size, stride)[:, start:stop]
            return self.psd(samples.transpose(0, 1))
        first = start * stride
        span = x[:, first : first + (count - 1) * step + c.fft_size]
        # one scale per detector for the whole span, so segments can be shared
        scale = series_scale(span)[:, None]  # (ifo, 1, 1)
        segments = span.unfold(-1, c.fft_size, step)  # (ifo, count, fft_size)
        power = periodograms(segments, self.taper, scale)
        index = kernel_step * torch.arange(span_kernels, device=x.device)[
            :, None
        ] + segment_step * torch.arange(self.num_psd_segments, device=x.device)
        gathered = power[:, index]  # (ifo, kernels, segments, F)
        psd = to_density(
            average_segments(gathered, c.psd_average, dim=-2), scale, self.taper
        )
        return psd.transpose(0, 1)
