import numpy as np
import pytest

from datagen.glitch_population import SINE_GAUSSIAN, inject_glitches
from datagen.psd import load_psd
from datagen.qscan import QScanner, cluster, find_triggers
from datagen.simulate import noise_rng, simulate_noise

PSD = load_psd("aLIGO_O4_high_asd.txt")
FS = 1024
T0 = 1_000_000_000


def glitch_table(times, snrs, frequencies, qualities):
    n = len(times)
    return {
        "time": np.asarray(times, float),
        "snr": np.asarray(snrs, float),
        "frequency": np.asarray(frequencies, float),
        "quality": np.asarray(qualities, float),
        "kind": np.full(n, SINE_GAUSSIAN),
        "phase": np.zeros(n),
    }


def test_cluster_keeps_loudest_per_group():
    tiles = {
        "time": np.array([10.0, 10.3, 10.6, 20.0, 12.0]),
        "snr": np.array([7.0, 9.0, 8.0, 6.5, 7.5]),
        "frequency": np.array([100.0, 110.0, 120.0, 50.0, 60.0]),
        "quality": np.array([5.0, 6.0, 7.0, 8.0, 9.0]),
    }
    out = cluster(tiles, cluster_dt=0.5)
    np.testing.assert_array_equal(out["time"], [10.3, 12.0, 20.0])
    np.testing.assert_array_equal(out["snr"], [9.0, 7.5, 6.5])
    np.testing.assert_array_equal(out["quality"], [6.0, 9.0, 8.0])
    empty = cluster({k: np.zeros(0) for k in tiles}, 0.5)
    assert all(len(v) == 0 for v in empty.values())


def test_tiling_respects_ranges():
    scanner = QScanner(64, FS, (3.3166, 108), (32, 0.9 * FS / 2))
    assert scanner.frange[0] >= 32 and scanner.frange[1] <= 0.9 * FS / 2
    assert min(scanner.qs) >= 3.3166 and max(scanner.qs) <= 108
    assert len(scanner.qs) > 3


def test_recovers_time_frequency_q_and_snr():
    duration = 160
    strain = simulate_noise(PSD, duration * FS, FS, noise_rng(1, "H1", T0))
    # one at a chunk boundary (chunks of 64 s with 4 s pads step by 56 s)
    table = glitch_table(
        [T0 + 30.2, T0 + 60.0, T0 + 95.55, T0 + 130.7],
        [12, 20, 30, 15],
        [60, 150, 300, 90],
        [6, 20, 10, 40],
    )
    recorded = inject_glitches(strain, T0, FS, table, PSD, 32.0)
    found = find_triggers(strain, T0, FS, 6.0, (32, 0.9 * FS / 2), chunk_duration=64)
    assert len(found["time"]) == 4
    np.testing.assert_allclose(found["time"], recorded["time"], atol=0.05)
    np.testing.assert_allclose(found["frequency"], recorded["frequency"], rtol=0.15)
    # tile SNR is a little below the optimal SNR (mismatch) and noisy
    assert np.all(found["snr"] > 0.7 * recorded["snr"] - 1.5)
    assert np.all(found["snr"] < 1.2 * recorded["snr"] + 1.5)
    # the loudest tile's Q is in the neighbourhood of the glitch's
    ratio = found["quality"] / recorded["quality"]
    assert np.all((ratio > 0.3) & (ratio < 3)), found["quality"]


def test_clean_noise_has_few_triggers():
    duration = 600
    strain = simulate_noise(PSD, duration * FS, FS, noise_rng(2, "L1", T0))
    found = find_triggers(strain, T0, FS, 6.0, (32, 0.9 * FS / 2))
    assert len(found["time"]) <= 1


def test_too_short_returns_nothing():
    strain = simulate_noise(PSD, 8 * FS, FS, noise_rng(2, "L1", T0))
    found = find_triggers(strain, T0, FS, 6.0, (32, 400))
    assert all(len(v) == 0 for v in found.values())


@pytest.mark.parametrize("sample_rate", [512, 2048])
def test_other_sample_rates(sample_rate):
    strain = simulate_noise(PSD, 96 * sample_rate, sample_rate, noise_rng(3, "H1", T0))
    table = glitch_table([T0 + 40.0], [15], [100], [8])
    inject_glitches(strain, T0, sample_rate, table, PSD, 32.0)
    found = find_triggers(
        strain, T0, sample_rate, 6.0, (32, 0.9 * sample_rate / 2), chunk_duration=96
    )
    assert len(found["time"]) == 1 and abs(found["time"][0] - (T0 + 40)) < 0.05
