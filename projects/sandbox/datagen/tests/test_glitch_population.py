import numpy as np
import pytest
from scipy import signal

from datagen.glitch_population import (
    BLIP,
    SINE_GAUSSIAN,
    GlitchPopulation,
    GlitchPopulationError,
    effective_quality,
    glitch_shape,
    inject_glitches,
    optimal_snr,
    sample_glitches,
)
from datagen.psd import load_psd
from datagen.simulate import noise_rng, simulate_noise

PSD = load_psd("aLIGO_O4_high_asd.txt")


def test_sampling_rate_ranges_and_separation():
    population = GlitchPopulation(
        rate=600, snr_min=8, snr_max=80, q_range=(4, 20), min_separation=2.0
    )
    counts, tables = [], []
    for i in range(20):
        table = sample_glitches(population, 1000, 3600, 2048, noise_rng(0, "H1", i, 1))
        counts.append(len(table["time"]))
        tables.append(table)
    # thinning at 2 s spacing removes ~1 - exp(-600 * 2 / 3600) ~ 28%
    assert 350 < np.mean(counts) < 500
    t = np.concatenate([x["snr"] for x in tables])
    assert t.min() >= 8 and t.max() <= 80
    # p(snr) ∝ snr^-2: median = 2 / (1/8 + 1/80) = 14.5
    assert abs(np.median(t) - 14.55) < 1.0
    table = tables[0]
    assert np.all(np.diff(table["time"]) >= 2.0)
    assert table["time"].min() >= 1001 and table["time"].max() <= 1000 + 3600 - 1
    sg = table["kind"] == SINE_GAUSSIAN
    assert 0.6 < sg.mean() < 0.9
    assert np.all((table["quality"][sg] >= 4) & (table["quality"][sg] <= 20))
    assert np.all(np.isnan(table["quality"][~sg]))
    assert np.all((table["frequency"] >= 32) & (table["frequency"] <= 512))


def test_frequency_capped_by_sample_rate():
    population = GlitchPopulation(rate=3600, frequency_range=(32, 1000))
    table = sample_glitches(population, 0, 600, 512, noise_rng(0, "L1", 0, 1))
    assert table["frequency"].max() <= 0.4 * 512


def test_zero_rate_and_bad_parameters():
    table = sample_glitches(
        GlitchPopulation(rate=0), 0, 600, 512, noise_rng(0, "H1", 0)
    )
    assert all(len(v) == 0 for v in table.values())
    with pytest.raises(GlitchPopulationError, match="SNR range"):
        GlitchPopulation(rate=1, snr_min=10, snr_max=5)
    with pytest.raises(GlitchPopulationError, match="rate"):
        GlitchPopulation(rate=-1)


def test_shapes_peak_where_recorded():
    t = np.linspace(-0.5, 0.5, 10001)
    blip = glitch_shape(BLIP, 100.0, np.nan, 0.0, t)
    assert np.argmax(np.abs(blip)) == 5000 and blip[5000] == 1.0
    sg = glitch_shape(SINE_GAUSSIAN, 100.0, 10.0, np.pi / 2, t)
    assert np.argmax(np.abs(sg)) == 5000
    f, p = signal.periodogram(np.pad(sg, 50000), fs=10000)
    assert abs(f[np.argmax(p)] - 100) < 1
    # the effective Q of a sine-Gaussian is its Q
    fs = 4096
    t = np.arange(-1, 1, 1 / fs)
    centre, q = effective_quality(glitch_shape(SINE_GAUSSIAN, 200.0, 12.0, 0.3, t), fs)
    assert abs(centre - 200) < 2 and abs(q - 12) < 0.5


def test_injected_snr_is_optimal_snr():
    fs, duration, t0 = 2048, 128, 1_000_000_000
    clean = simulate_noise(PSD, fs * duration, fs, noise_rng(5, "H1", t0))
    population = GlitchPopulation(rate=400, snr_min=10, snr_max=30, min_separation=4)
    table = sample_glitches(population, t0, duration, fs, noise_rng(5, "H1", t0, 1))
    assert len(table["time"]) >= 5
    glitchy = clean.copy()
    recorded = inject_glitches(glitchy, t0, fs, table, PSD, fmin=32.0)
    assert set(recorded) == {"time", "snr", "frequency", "quality", "kind"}
    assert np.all(np.isfinite(recorded["quality"]))
    difference = glitchy - clean

    # matched filtering with the exact template against a Welch PSD of the
    # data recovers the recorded SNR up to unit-variance noise
    freqs, welch = signal.welch(clean, fs=fs, nperseg=4 * fs)
    measured = []
    for i, time in enumerate(recorded["time"]):
        i0 = int((time - t0) * fs) - 2 * fs
        window = slice(i0, i0 + 4 * fs)
        template = difference[window]
        # the optimal SNR of what was added is the recorded SNR
        assert optimal_snr(template, fs, PSD, 32.0) == pytest.approx(
            recorded["snr"][i], rel=1e-6
        )
        spectrum = np.fft.rfft(glitchy[window] * signal.windows.tukey(4 * fs, 0.1)) / fs
        h = np.fft.rfft(template) / fs
        f = np.fft.rfftfreq(4 * fs, 1 / fs)
        band = f >= 32
        s = np.interp(f[band], freqs, welch)
        inner = 4 * np.real(np.sum(spectrum[band] * np.conj(h[band]) / s)) / 4
        norm = np.sqrt(4 * np.sum(np.abs(h[band]) ** 2 / s) / 4)
        measured.append(inner / norm)
    measured = np.array(measured)
    assert np.all(np.abs(measured - recorded["snr"]) < 4)
    assert abs(np.mean(measured - recorded["snr"])) < 1.5
