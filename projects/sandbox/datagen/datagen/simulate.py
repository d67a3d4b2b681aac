"""Stationary coloured Gaussian noise with a given PSD.

Each segment is drawn in the frequency domain with one FFT as long as the
segment: every positive-frequency bin gets an independent complex Gaussian
amplitude whose variance gives exactly the requested one-sided PSD, and one
inverse real FFT turns it into strain. The noise is stationary (circulant) over
the whole segment, needs no taper, and resolves narrow spectral lines down to
``1 / duration``. Segments are simulated independently, so the noise is
continuous within a file and independent between files.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import fft

from aframe.utils.seeds import job_seed


def noise_rng(seed: int, ifo: str, t0: float, stream: int = 0) -> np.random.Generator:
    """The random generator of one ifo's segment.

    Seeded by (seed, ifo, t0, stream) so that every segment is reproducible on
    its own and independent of the others; ``stream`` separates independent
    uses of one segment (0 noise, 1 glitches).

    Args:
        seed: the run's seed
        ifo: the ifo name
        t0: GPS start of the segment, in seconds
        stream: which random stream of the segment

    Returns:
        a numpy Generator
    """
    return np.random.default_rng(job_seed(seed, "noise", ifo, int(t0), int(stream)))


def simulate_noise(
    psd: Callable[[np.ndarray], np.ndarray],
    num_samples: int,
    sample_rate: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Simulate stationary Gaussian noise with a one-sided PSD.

    With the unnormalised DFT ``X_k`` of ``N`` samples, a one-sided PSD ``S``
    means ``E|X_k|^2 = S(f_k) * sample_rate * N / 2``; each bin's real and
    imaginary parts therefore get variance ``S * sample_rate * N / 4``. The DC
    and Nyquist bins are zero (strain has no mean; the Nyquist bin is real).

    Args:
        psd: one-sided PSD in 1/Hz as a function of frequency in Hz
        num_samples: number of samples to produce
        sample_rate: sample rate in Hz
        rng: the random generator

    Returns:
        float64 noise of shape ``(num_samples,)``
    """
    n = int(num_samples)
    frequencies = fft.rfftfreq(n, 1 / sample_rate)
    scale = np.sqrt(psd(frequencies) * sample_rate * n / 4)
    scale[0] = 0.0
    if n % 2 == 0:
        scale[-1] = 0.0
    spectrum = rng.standard_normal((len(frequencies), 2)).view(np.complex128)[:, 0]
    spectrum *= scale
    return fft.irfft(spectrum, n=n, overwrite_x=True)
