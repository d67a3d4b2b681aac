"""Simulated glitch populations: sine-Gaussians and blips added to noise.

Glitches arrive as a Poisson process at ``rate`` per hour in each ifo
independently. Their optimal SNR, measured against the PSD the noise was
simulated with over ``[fmin, Nyquist)``, follows a power law between
``snr_min`` and ``snr_max``. Two morphologies:

- sine-Gaussian (kind 0): ``exp(-(t/tau)^2) sin(2 pi f t + phi)`` with
  ``tau = Q / (sqrt(2) pi f)``, the shape Q-transform tiles are matched to;
- blip (kind 1): a Ricker wavelet ``(1 - (t/s)^2) exp(-(t/s)^2 / 2)`` whose
  spectrum peaks at ``f = 1 / (sqrt(2) pi s)``: a short, broadband transient
  like the blip glitches of LIGO data. Its recorded quality is the effective Q
  of its energy spectrum (``f_c / (sqrt(2) sigma_f)``, which is Q for a
  sine-Gaussian).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy import fft

from aframe.architectures.snr import ifo_snr

SINE_GAUSSIAN = 0
BLIP = 1

# waveforms are evaluated to this many envelope widths, beyond which they are
# below 1e-7 of their peak
_SG_WIDTHS = 4.0
_BLIP_WIDTHS = 7.0


class GlitchPopulationError(ValueError):
    """Glitch population parameters that cannot be simulated."""


@dataclass(frozen=True)
class GlitchPopulation:
    """Parameters of a simulated glitch population.

    Attributes:
        rate: glitches per hour in each ifo
        snr_min: smallest optimal SNR
        snr_max: largest optimal SNR
        snr_power: power-law index: ``p(snr) ∝ snr ** snr_power``
        frequency_range: ``(low, high)`` central (sine-Gaussian) or peak (blip)
            frequency in Hz, drawn log-uniformly; the high end is capped at
            0.4 × the sample rate
        q_range: ``(low, high)`` sine-Gaussian quality factor, log-uniform
        blip_fraction: fraction of glitches that are blips
        fmin: lowest frequency of the SNR integral, in Hz (the highpass)
        min_separation: smallest time between glitches of one ifo, in seconds
        edge: glitches are kept this far from the segment's ends, in seconds
    """

    rate: float
    snr_min: float = 6.0
    snr_max: float = 100.0
    snr_power: float = -2.0
    frequency_range: tuple[float, float] = (32.0, 512.0)
    q_range: tuple[float, float] = (3.3166, 30.0)
    blip_fraction: float = 0.25
    fmin: float = 32.0
    min_separation: float = 2.0
    edge: float = 1.0

    def __post_init__(self) -> None:
        def check(ok: bool, message: str) -> None:
            if not ok:
                raise GlitchPopulationError(f"glitch population: {message}")

        check(self.rate >= 0, f"rate {self.rate} must be >= 0 per hour")
        check(
            0 < self.snr_min <= self.snr_max,
            f"SNR range ({self.snr_min}, {self.snr_max}) must be positive, low <= high",
        )
        low, high = self.frequency_range
        check(0 < low <= high, f"frequency range {self.frequency_range} invalid")
        qlow, qhigh = self.q_range
        check(0 < qlow <= qhigh, f"Q range {self.q_range} invalid")
        check(0 <= self.blip_fraction <= 1, "blip_fraction must be in [0, 1]")

    def describe(self) -> dict:
        """The parameters as a plain dict (for file attributes)."""
        return asdict(self)


def _power_law(rng: np.random.Generator, n: int, low: float, high: float, power: float):
    u = rng.uniform(size=n)
    if low == high:
        return np.full(n, low)
    if np.isclose(power, -1.0):
        return low * (high / low) ** u
    a = power + 1
    return (low**a + u * (high**a - low**a)) ** (1 / a)


def _log_uniform(rng: np.random.Generator, n: int, low: float, high: float):
    return np.exp(rng.uniform(np.log(low), np.log(high), size=n))


def sample_glitches(
    population: GlitchPopulation,
    t0: float,
    duration: float,
    sample_rate: float,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Draw the glitches of one ifo's segment.

    Args:
        population: the population
        t0: GPS start of the segment, in seconds
        duration: length of the segment, in seconds
        sample_rate: sample rate of the strain, in Hz
        rng: the segment's glitch random generator

    Returns:
        ``time`` (GPS of the peak), ``snr``, ``frequency`` (Hz), ``quality``
        (sine-Gaussian Q; NaN for blips until injected), ``kind``, ``phase``
        arrays, sorted by time
    """
    span = duration - 2 * population.edge
    expected = population.rate * max(span, 0.0) / 3600.0
    n = int(rng.poisson(expected)) if expected > 0 else 0
    times = np.sort(
        rng.uniform(t0 + population.edge, t0 + duration - population.edge, n)
    )
    # thinning keeps the Poisson draw reproducible while honouring the spacing
    keep = []
    last = -np.inf
    for i, t in enumerate(times):
        if t - last >= population.min_separation:
            keep.append(i)
            last = t
    times = times[keep]
    n = len(times)
    low, high = population.frequency_range
    high = min(high, 0.4 * sample_rate)
    low = min(low, high)
    kind = np.where(rng.uniform(size=n) < population.blip_fraction, BLIP, SINE_GAUSSIAN)
    snr = _power_law(
        rng, n, population.snr_min, population.snr_max, population.snr_power
    )
    frequency = _log_uniform(rng, n, low, high)
    quality = _log_uniform(rng, n, *population.q_range)
    quality[kind == BLIP] = np.nan
    phase = rng.uniform(0, 2 * np.pi, size=n)
    return {
        "time": times,
        "snr": snr,
        "frequency": frequency,
        "quality": quality,
        "kind": kind.astype(np.int64),
        "phase": phase,
    }


def half_width(kind: int, frequency: float, quality: float) -> float:
    """Half the time span over which a glitch is non-negligible, in seconds.

    Args:
        kind: ``SINE_GAUSSIAN`` or ``BLIP``
        frequency: central or peak frequency, in Hz
        quality: sine-Gaussian Q (ignored for blips)

    Returns:
        the half-width in seconds
    """
    if kind == BLIP:
        return _BLIP_WIDTHS / (np.sqrt(2) * np.pi * frequency)
    return _SG_WIDTHS * quality / (np.sqrt(2) * np.pi * frequency)


def glitch_shape(
    kind: int, frequency: float, quality: float, phase: float, t: np.ndarray
) -> np.ndarray:
    """A unit-peak glitch evaluated at times relative to its peak.

    Args:
        kind: ``SINE_GAUSSIAN`` or ``BLIP``
        frequency: central (sine-Gaussian) or peak (blip) frequency, in Hz
        quality: sine-Gaussian Q (ignored for blips)
        phase: sine-Gaussian phase, in radians (ignored for blips)
        t: times relative to the peak, in seconds

    Returns:
        the waveform at ``t``
    """
    if kind == BLIP:
        s = 1.0 / (np.sqrt(2) * np.pi * frequency)
        x = (t / s) ** 2
        return (1 - x) * np.exp(-x / 2)
    tau = quality / (np.sqrt(2) * np.pi * frequency)
    return np.exp(-((t / tau) ** 2)) * np.sin(2 * np.pi * frequency * t + phase)


def optimal_snr(
    waveform: np.ndarray,
    sample_rate: float,
    psd: Callable[[np.ndarray], np.ndarray],
    fmin: float,
    min_duration: float = 4.0,
) -> float:
    """Optimal SNR (``aframe.architectures.snr``) of a short waveform.

    Args:
        waveform: strain samples
        sample_rate: sample rate, in Hz
        psd: one-sided PSD in 1/Hz as a function of frequency in Hz
        fmin: lowest frequency counted, in Hz
        min_duration: zero-pad to at least this long for frequency resolution,
            in seconds

    Returns:
        the SNR
    """
    n = max(len(waveform), int(min_duration * sample_rate))
    n = fft.next_fast_len(n, real=True)
    padded = np.zeros((1, n))
    padded[0, : len(waveform)] = waveform
    frequencies = fft.rfftfreq(n, 1.0 / sample_rate)
    band = frequencies >= fmin
    # the PSD only matters where it counts; a curve may be undefined at 0 Hz
    values = np.ones_like(frequencies)
    values[band] = psd(frequencies[band])
    return float(ifo_snr(padded, values[None], sample_rate, fmin)[0])


def effective_quality(waveform: np.ndarray, sample_rate: float) -> tuple[float, float]:
    """Central frequency and Q of a waveform's energy spectrum.

    Args:
        waveform: strain samples
        sample_rate: sample rate, in Hz

    Returns:
        ``(f_c, f_c / (sqrt(2) sigma_f))``: the energy-weighted mean frequency
        in Hz and the quality factor (Q for a sine-Gaussian)
    """
    n = fft.next_fast_len(max(len(waveform), int(4 * sample_rate)), real=True)
    power = np.abs(fft.rfft(waveform, n=n)) ** 2
    frequencies = fft.rfftfreq(n, 1 / sample_rate)
    weights = power / power.sum()
    centre = float((frequencies * weights).sum())
    sigma = float(np.sqrt((((frequencies - centre) ** 2) * weights).sum()))
    return centre, centre / (np.sqrt(2) * sigma)


def inject_glitches(
    strain: np.ndarray,
    t0: float,
    sample_rate: float,
    glitches: dict[str, np.ndarray],
    psd: Callable[[np.ndarray], np.ndarray],
    fmin: float,
) -> dict[str, np.ndarray]:
    """Add glitches to strain in place, scaled to their optimal SNR.

    Args:
        strain: one ifo's strain, modified in place
        t0: GPS time of ``strain[0]``, in seconds
        sample_rate: sample rate, in Hz
        glitches: a table from ``sample_glitches``
        psd: the PSD that defines the SNR, in 1/Hz as a function of Hz
        fmin: lowest frequency of the SNR integral, in Hz

    Returns:
        the recorded table: ``time``, ``snr``, ``frequency``, ``quality``,
        ``kind`` (blips get their effective Q)
    """
    quality = glitches["quality"].copy()
    n = len(strain)
    for i in range(len(glitches["time"])):
        kind = int(glitches["kind"][i])
        frequency = float(glitches["frequency"][i])
        time = float(glitches["time"][i])
        width = half_width(kind, frequency, quality[i])
        first = max(int(np.floor((time - width - t0) * sample_rate)), 0)
        last = min(int(np.ceil((time + width - t0) * sample_rate)) + 1, n)
        # evaluated on the strain's own sample grid so the peak keeps its
        # sub-sample time
        t = t0 + np.arange(first, last) / sample_rate - time
        shape = glitch_shape(kind, frequency, quality[i], glitches["phase"][i], t)
        scale = glitches["snr"][i] / optimal_snr(shape, sample_rate, psd, fmin)
        strain[first:last] += scale * shape
        if kind == BLIP:
            quality[i] = effective_quality(shape, sample_rate)[1]
    return {
        "time": glitches["time"].astype(np.float64),
        "snr": glitches["snr"].astype(np.float64),
        "frequency": glitches["frequency"].astype(np.float64),
        "quality": quality.astype(np.float64),
        "kind": glitches["kind"].astype(np.int64),
    }
