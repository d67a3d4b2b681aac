"""Optimal matched-filter SNR: the one definition every stage uses.

Test injections (datagen), the glitch population (datagen), training and
validation signals (train) and every analysis of them measure loudness with
these functions, so "SNR 12" means the same everywhere:

    ρ² = 4 Σ_{highpass ≤ f < f_Nyquist} |h̃(f)|² / S(f) · df,
    h̃ = rfft(h) / sample_rate,  df = sample_rate / N,

for a time series ``h`` of ``N`` samples, with the one-sided PSD ``S`` on the
frequency grid of its rFFT (a PSD on another grid from 0 to Nyquist is
resampled linearly onto it). The network SNR is the quadrature sum over
detectors. The sum is ``ml4gw.gw.compute_ifo_snr``'s; here the PSD is
resampled with its end points on 0 Hz and Nyquist and the Nyquist bin is
left out, for every caller alike.

Which PSD: the noise the signal sits in, as well as it is known: datagen
and train use the median-Welch PSD of the whole background segment (Welch
segments as long as the waveform), so a training signal "at SNR 12" is as
loud as a test injection "at SNR 12". A PSD estimated from a few seconds is
noisy, and ``E[1/Ŝ] > 1/S`` makes SNRs against it too large.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from aframe.architectures.spectral import WelchWindow, interpolate_psd, welch

ArrayLike = np.ndarray | Tensor


def _tensor(x: ArrayLike) -> Tensor:
    return torch.as_tensor(x) if isinstance(x, np.ndarray) else x


def counted_frequencies(
    num_samples: int, sample_rate: float, highpass: float | None
) -> Tensor:
    """The rFFT bins that count towards the SNR: ``highpass ≤ f < f_Nyquist``.

    Args:
        num_samples: samples of the time series
        sample_rate: Hz
        highpass: lowest frequency counted, Hz (None: from 0 Hz)

    Returns:
        (num_samples // 2 + 1,) bool mask
    """
    frequencies = torch.fft.rfftfreq(num_samples, 1 / sample_rate, dtype=torch.float64)
    mask = frequencies < sample_rate / 2
    if highpass is not None:
        mask &= frequencies >= highpass
    return mask


def ifo_snr(
    responses: ArrayLike,
    psd: ArrayLike,
    sample_rate: float,
    highpass: float | None,
) -> ArrayLike:
    """Optimal SNR of each detector's response.

    Args:
        responses: (..., ifo, N) strain of the signal alone in each detector
            (any leading batch shape; numpy or torch)
        psd: (..., ifo, F) or (ifo, F) one-sided noise PSD in 1/Hz on a grid
            from 0 Hz to Nyquist (``F = N // 2 + 1`` avoids resampling)
        sample_rate: Hz
        highpass: lowest frequency counted, Hz (None: from 0 Hz)

    Returns:
        (..., ifo) SNRs, numpy if ``responses`` is numpy (float64), else a
        float32 tensor on its device
    """
    as_numpy = isinstance(responses, np.ndarray)
    h = _tensor(responses)
    s = _tensor(psd).to(h.device, torch.float64)
    if h.ndim < 2:
        raise ValueError(f"responses: expected (..., ifo, time), got {tuple(h.shape)}")
    if s.ndim < 2 or s.shape[-2] != h.shape[-2]:
        raise ValueError(
            f"psd of shape {tuple(s.shape)} does not match responses of shape "
            f"{tuple(h.shape)} (expected (..., ifo, frequency))"
        )
    size = h.shape[-1]
    s = interpolate_psd(s, size // 2 + 1)
    counted = counted_frequencies(size, sample_rate, highpass).to(s.device)
    usable = (s > 0) & torch.isfinite(s)
    if not (usable | ~counted).all():
        raise ValueError(
            "psd must be positive and finite at every frequency from "
            f"{highpass or 0:g} Hz to Nyquist"
        )
    # the FFT runs in the input's precision on strain divided by its peak
    # (|h| ~ 1e-21 would make |h̃|² underflow float32); the scale comes back
    # through the weights, computed in float64
    if not h.is_floating_point():
        h = h.double()
    scale = h.abs().amax(dim=-1, keepdim=True)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    spectrum = torch.fft.rfft(h / scale, dim=-1)
    power = spectrum.real.square() + spectrum.imag.square()
    # bins that do not count may hold anything (0 or inf at 0 Hz): weight 0
    weights = torch.where(counted, scale.double().square() / s, 0.0)
    # ρ² = 4 Σ |h̃|²/S df with h̃ = rfft/fs and df = fs/N
    rho2 = 4 / (sample_rate * size) * (power * weights.to(power.dtype)).sum(dim=-1)
    snr = rho2.clamp_min(0).sqrt()
    return snr.double().cpu().numpy() if as_numpy else snr.float()


def network_snr(
    responses: ArrayLike,
    psd: ArrayLike,
    sample_rate: float,
    highpass: float | None,
) -> ArrayLike:
    """Network SNR: the quadrature sum of ``ifo_snr`` over detectors.

    Args:
        responses: (..., ifo, N) strain of the signal alone in each detector
        psd: (..., ifo, F) or (ifo, F) one-sided PSD in 1/Hz, 0 Hz to Nyquist
        sample_rate: Hz
        highpass: lowest frequency counted, Hz (None: from 0 Hz)

    Returns:
        (...,) network SNRs (numpy for numpy input, else a float32 tensor)
    """
    snr = ifo_snr(responses, psd, sample_rate, highpass)
    if isinstance(snr, np.ndarray):
        return np.sqrt(np.sum(snr**2, axis=-1))
    return snr.square().sum(dim=-1).sqrt()


def background_psd(
    strain: ArrayLike, sample_rate: float, fftlength: float
) -> ArrayLike:
    """The PSD that SNRs are measured against: median Welch over a segment.

    Hann window, 50 % overlap, scipy's median bias correction
    (``aframe.architectures.spectral.welch``); with ``fftlength`` equal to the
    waveforms' duration its bins are those of their rFFT.

    Args:
        strain: (..., T) background strain of one segment per detector
        sample_rate: Hz
        fftlength: seconds per Welch segment

    Returns:
        (..., fftlength·sample_rate // 2 + 1) float64 PSD in 1/Hz (numpy for
        numpy input)
    """
    as_numpy = isinstance(strain, np.ndarray)
    x = _tensor(strain)
    size = int(round(fftlength * sample_rate))
    if x.shape[-1] < size:
        raise ValueError(
            f"{x.shape[-1] / sample_rate:g} s of strain is shorter than one "
            f"{fftlength:g} s FFT segment: cannot estimate a PSD"
        )
    window = torch.hann_window(size, periodic=True, dtype=torch.float64)
    psd = welch(x, WelchWindow(window, sample_rate), size - size // 2, "median")
    return psd.numpy() if as_numpy else psd
