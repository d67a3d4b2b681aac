"""Tiny training inputs written by the tests themselves (docs/artifacts.md layout).

Background: coloured Gaussian noise at 256 Hz. Signals: analytic chirps
(frequency sweeping up to a coalescence, then a short ringdown) in the
``WaveformSet`` layout. Glitches: sine-Gaussians in noise, ``GlitchSet`` layout.
Preprocessing proportions follow the sandbox at a quarter of its sizes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aframe.architectures import PreprocessingConfig
from aframe.ledger import SOURCE_PARAMETERS, GlitchSet, WaveformSet
from aframe.utils.background import background_filename, write_background

# shared cores: OpenMP threads spinning against other processes are slow
torch.set_num_threads(1)

SAMPLE_RATE = 256.0
IFOS = ("H1", "L1")


def psd_curve(frequencies: np.ndarray) -> np.ndarray:
    f = np.maximum(frequencies, 4.0)
    return 1e-46 * ((16 / f) ** 4 + 1 + (f / 100) ** 2)


def coloured_noise(
    rng: np.random.Generator, shape: tuple[int, ...], fs: float
) -> np.ndarray:
    n = shape[-1]
    freqs = np.fft.rfftfreq(n, 1 / fs)
    amplitude = np.sqrt(psd_curve(freqs) * fs * n / 4)
    spectrum = rng.standard_normal(
        (*shape[:-1], len(freqs))
    ) + 1j * rng.standard_normal((*shape[:-1], len(freqs)))
    spectrum *= amplitude
    spectrum[..., 0] = 0
    return np.fft.irfft(spectrum, n=n, axis=-1)


def chirps(
    rng: np.random.Generator, n: int, fs: float, duration: float, coalescence: float
) -> tuple[np.ndarray, np.ndarray]:
    """(cross, plus), each (n, T): frequency rising as (tc - t)^(-3/8)."""
    t = np.arange(int(duration * fs)) / fs
    tau = np.clip(coalescence - t, 1 / fs, None)
    f0 = rng.uniform(20, 30, size=(n, 1))
    phase0 = rng.uniform(0, 2 * np.pi, size=(n, 1))
    # f = f0 (tau / 1 s)^(-3/8), capped at 100 Hz; phase integrates it
    freq = np.minimum(f0 * tau ** (-3 / 8), 100.0)
    phase = phase0 + 2 * np.pi * np.cumsum(freq, axis=1) / fs
    amplitude = (freq / 30.0) ** (2 / 3)
    ringdown = np.where(t > coalescence, np.exp(-(t - coalescence) / 0.02), 1.0)
    taper = np.clip((t - 0.1) / 0.4, 0, 1)  # smooth start
    envelope = 1e-22 * amplitude * ringdown * taper
    return (envelope * np.sin(phase)).astype(np.float32), (
        envelope * np.cos(phase)
    ).astype(np.float32)


def write_signals(
    path: Path,
    n: int,
    fs: float = SAMPLE_RATE,
    duration: float = 4.0,
    coalescence: float = 3.0,
    seed: int = 0,
) -> Path:
    rng = np.random.default_rng(seed)
    cross, plus = chirps(rng, n, fs, duration, coalescence)
    parameters = {name: rng.uniform(1, 2, n) for name in SOURCE_PARAMETERS}
    attrs = {
        "sample_rate": fs,
        "duration": duration,
        "coalescence_time": coalescence,
        "approximant": "chirp",
        "minimum_frequency": 20.0,
        "reference_frequency": 50.0,
        "prior": "test",
        "seed": seed,
    }
    WaveformSet(parameters, {"cross": cross, "plus": plus}, attrs).write(path)
    return path


def write_background_dir(
    directory: Path,
    durations: tuple[int, ...] = (300, 200),
    fs: float = SAMPLE_RATE,
    t0: int = 1_000_000_000,
    seed: int = 0,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for duration in durations:
        noise = coloured_noise(rng, (len(IFOS), int(duration * fs)), fs)
        write_background(
            directory / background_filename(t0, duration),
            dict(zip(IFOS, noise)),
            t0,
            fs,
            {"source": "simulated", "psd": "test", "seed": seed},
        )
        t0 += duration + 10
    return directory


def write_glitches(
    path: Path,
    n: int = 6,
    fs: float = SAMPLE_RATE,
    pad: tuple[float, float] = (5.0, 2.0),
    t0: float = 1_000_000_050.0,
    seed: int = 0,
    empty: bool = False,
) -> Path:
    rng = np.random.default_rng(seed)
    size = int(sum(pad) * fs)
    t = np.arange(size) / fs - pad[0]
    glitches = {}
    for ifo in IFOS:
        count = 0 if empty else n
        snippets = coloured_noise(rng, (count, size), fs)
        bump = 3e-21 * np.exp(-((t / 0.05) ** 2)) * np.cos(2 * np.pi * 60 * t)
        snippets += bump
        glitches[ifo] = {
            "snippets": snippets,
            "time": t0 + 20 * np.arange(count, dtype=float),
            "snr": np.full(count, 30.0),
            "frequency": np.full(count, 60.0),
            "quality": np.full(count, 6.0),
        }
    attrs = {
        "sample_rate": fs,
        "pad": list(pad),
        "snr_threshold": 5.0,
        "method": "qtransform",
    }
    GlitchSet(glitches, attrs).write(path)
    return path


@pytest.fixture
def config() -> PreprocessingConfig:
    """Quarter-size sandbox preprocessing at 256 Hz (sample: 3.5 s)."""
    return PreprocessingConfig(
        sample_rate=SAMPLE_RATE,
        kernel_length=1.0,
        fduration=0.5,
        psd_length=2.0,
        fftlength=0.5,
        highpass=16.0,
        ifos=IFOS,
    )


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """Background, signals and glitches for a tiny training."""
    return {
        "background_dir": write_background_dir(tmp_path / "background"),
        "signals": write_signals(tmp_path / "signals.hdf5", 48),
        "glitches": write_glitches(tmp_path / "glitches.hdf5"),
    }


@pytest.fixture
def tiny_args(inputs: dict[str, Path], tmp_path: Path) -> dict:
    """Arguments of a tiny ``train`` run (a few seconds)."""
    return {
        **inputs,
        "outdir": tmp_path / "training",
        "sample_rate": SAMPLE_RATE,
        "kernel_length": 1.0,
        "fduration": 0.5,
        "psd_length": 2.0,
        "fftlength": 0.5,
        "highpass": 16.0,
        "max_min_snr": 20.0,
        "min_snr": 10.0,
        "snr_decay_steps": 4,
        "valid_length": 100.0,
        "valid_livetime": 400.0,
        "valid_shift": 1.0,
        "num_valid_waveforms": 8,
        "inference_sampling_rate": 2.0,
        "integration_length": 1.0,
        "cluster_window_length": 2.0,
        "margin_slope": 0.1,
        "valid_batch_size": 128,
        "batch_size": 16,
        "batches_per_epoch": 3,
        "max_epochs": 2,
        "max_time": None,
        "progress_bar": False,
        "seed": 7,
    }


@pytest.fixture
def writers():
    """The data writers, for tests that need variants."""
    return {
        "signals": write_signals,
        "background": write_background_dir,
        "glitches": write_glitches,
        "noise": coloured_noise,
        "psd": psd_curve,
        "chirps": chirps,
    }
