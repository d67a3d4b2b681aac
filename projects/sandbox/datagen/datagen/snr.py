"""Noise PSDs of strain and optimal matched-filter SNRs against them.

The PSD is a Welch median estimate (Hann window, 50 % overlap, scipy's median
bias correction). With ``fftlength`` equal to the waveform duration its
frequency bins are those of the waveform's FFT, so no interpolation is needed:

    rho^2 = 4 df sum_{highpass <= f < nyquist} |h(f)|^2 / S(f),
    h(f) = rfft(h) / sample_rate,  df = 1 / duration.
"""

from __future__ import annotations

import numpy as np
from scipy import signal


def welch_psd(strain: np.ndarray, sample_rate: float, fftlength: float) -> np.ndarray:
    """One-sided median-Welch PSD along the last axis.

    Args:
        strain: (..., T) strain
        sample_rate: Hz
        fftlength: seconds per Welch segment

    Returns:
        (..., fftlength * sample_rate // 2 + 1) PSD in 1/Hz, frequencies
        ``rfftfreq(fftlength * sample_rate, 1 / sample_rate)``
    """
    nperseg = int(round(fftlength * sample_rate))
    if strain.shape[-1] < nperseg:
        raise ValueError(
            f"{strain.shape[-1] / sample_rate:g} s of strain is shorter than "
            f"one {fftlength:g} s FFT segment: cannot estimate a PSD"
        )
    _, psd = signal.welch(
        strain,
        fs=sample_rate,
        nperseg=nperseg,
        noverlap=nperseg // 2,
        window="hann",
        average="median",
        axis=-1,
    )
    return psd


def snr_mask(num_samples: int, sample_rate: float, highpass: float) -> np.ndarray:
    """The frequency bins that count towards the SNR.

    Args:
        num_samples: samples of the time series
        sample_rate: Hz
        highpass: Hz; lower bins are excluded

    Returns:
        boolean mask over ``rfftfreq(num_samples, 1 / sample_rate)``
    """
    frequencies = np.fft.rfftfreq(num_samples, 1 / sample_rate)
    return (frequencies >= highpass) & (frequencies < sample_rate / 2)


def snr_weights(
    psd: np.ndarray, sample_rate: float, num_samples: int, highpass: float
) -> tuple[np.ndarray, np.ndarray]:
    """The bins and weights of the SNR inner product.

    ``rho^2 = sum(|rfft(h)[mask]|^2 * weights)``.

    Args:
        psd: (..., F) one-sided PSD in 1/Hz on ``rfftfreq(num_samples)``
        sample_rate: Hz
        num_samples: samples of the time-domain signals
        highpass: Hz; lower bins are excluded

    Returns:
        the (F,) boolean mask of bins that count and the (..., M) weights
        ``4 df / (sample_rate^2 S(f))`` of those bins
    """
    mask = snr_mask(num_samples, sample_rate, highpass)
    df = sample_rate / num_samples
    return mask, 4 * df / (sample_rate**2 * psd[..., mask])


def snr_from_spectrum(
    spectrum: np.ndarray,
    psd: np.ndarray,
    sample_rate: float,
    num_samples: int,
    highpass: float,
) -> np.ndarray:
    """Optimal SNR of signals given by their unnormalised rFFT.

    Args:
        spectrum: (..., F) ``rfft`` of the time-domain signals
        psd: (F,) or broadcastable one-sided PSD in 1/Hz on the same bins
        sample_rate: Hz
        num_samples: samples of the time-domain signals
        highpass: Hz; lower bins are excluded

    Returns:
        (...,) SNRs
    """
    mask, weights = snr_weights(psd, sample_rate, num_samples, highpass)
    return weighted_snr(spectrum[..., mask], weights)


def weighted_snr(spectrum: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Optimal SNR from the counted bins of an rFFT and their weights.

    Args:
        spectrum: (..., M) ``rfft`` of the signals at the bins of the mask
            from ``snr_weights``
        weights: (..., M) weights from ``snr_weights``

    Returns:
        (...,) SNRs
    """
    return np.sqrt(np.sum(np.abs(spectrum) ** 2 * weights, axis=-1))


def optimal_snr(
    strain: np.ndarray, psd: np.ndarray, sample_rate: float, highpass: float
) -> np.ndarray:
    """Optimal SNR of time-domain signals against a PSD on their FFT bins.

    Args:
        strain: (..., T) signals
        psd: (T // 2 + 1,) one-sided PSD in 1/Hz at ``rfftfreq(T, 1/fs)``
        sample_rate: Hz
        highpass: Hz; lower frequencies are excluded

    Returns:
        (...,) SNRs
    """
    n = strain.shape[-1]
    if psd.shape[-1] != n // 2 + 1:
        raise ValueError(
            f"PSD has {psd.shape[-1]} bins, expected {n // 2 + 1} for {n} samples"
        )
    return snr_from_spectrum(np.fft.rfft(strain), psd, sample_rate, n, highpass)
