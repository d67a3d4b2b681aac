"""Shared fixtures: coloured Gaussian noise of a known PSD, a small config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aframe.architectures import PreprocessingConfig

# The test machine's cores are shared: OpenMP threads spinning against other
# processes slow small ops down tenfold, one thread does not
torch.set_num_threads(1)


def design_psd(frequencies: np.ndarray) -> np.ndarray:
    """A smooth, aLIGO-like one-sided PSD (strain² / Hz): seismic wall, bucket,
    shot-noise rise."""
    f = np.maximum(frequencies, 5.0)
    return 1e-47 * ((30 / f) ** 8 + 1 + (f / 300) ** 2)


def coloured_noise(
    rng: np.random.Generator, shape: tuple[int, ...], sample_rate: float
) -> np.ndarray:
    """Gaussian strain whose one-sided PSD is ``design_psd``.

    With numpy's unnormalised rfft, E|X_k|² = S(f_k) · fs · N / 2.
    """
    n = shape[-1]
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    amplitude = np.sqrt(design_psd(freqs) * sample_rate * n / 4)
    spectrum = rng.standard_normal(
        (*shape[:-1], len(freqs))
    ) + 1j * rng.standard_normal((*shape[:-1], len(freqs)))
    spectrum *= amplitude
    spectrum[..., 0] = 0
    return np.fft.irfft(spectrum, n=n, axis=-1)


@pytest.fixture
def config() -> PreprocessingConfig:
    # 512 Hz keeps the tests fast; the proportions are the sandbox's
    return PreprocessingConfig(
        sample_rate=512, kernel_length=1.5, fduration=1.0, psd_length=8.0, fftlength=2.5
    )


@pytest.fixture
def noise():
    """``noise(shape, sample_rate, seed)``: coloured Gaussian strain (float64)."""

    def make(shape: tuple[int, ...], sample_rate: float, seed: int = 0) -> np.ndarray:
        return coloured_noise(np.random.default_rng(seed), shape, sample_rate)

    return make


@pytest.fixture
def true_psd():
    """``true_psd(frequencies)``: the PSD ``noise`` is drawn from."""
    return design_psd
