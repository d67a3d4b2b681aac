import numpy as np
import pytest
from scipy import signal

from datagen.psd import load_psd
from datagen.simulate import noise_rng, simulate_noise


def band_ratios(x, sample_rate, psd, fmin, fmax, width):
    """Welch band power over requested band power, in bands of ``width`` Hz."""
    # 16 s segments: shorter Hann windows leak the huge sub-10 Hz power of the
    # analytic curves into the lowest bands
    f, p = signal.welch(x, fs=sample_rate, nperseg=int(16 * sample_rate))
    fine = np.arange(fmin, fmax, 0.01)
    ratios = []
    for lo in np.arange(fmin, fmax - width / 2, width):
        hi = min(lo + width, fmax)
        band = psd(fine[(fine >= lo) & (fine < hi)])
        if band.max() > 10 * np.median(band):
            # a narrow line (violin mode) holds most of this band's power: its
            # estimate rests on a few bins and scatters by several percent
            continue
        sel = (f >= lo) & (f < hi)
        measured = p[sel].sum() * (f[1] - f[0])
        requested = np.trapezoid(psd(fine[(fine >= lo) & (fine < hi)]), dx=0.01)
        ratios.append(measured / requested)
    return np.array(ratios)


@pytest.mark.parametrize(
    "name, sample_rate",
    [
        ("aLIGO_O4_high_asd.txt", 2048),
        ("aLIGO_O4_high_asd.txt", 512),
        ("aLIGOZeroDetHighPower", 1024),
    ],
)
def test_welch_psd_matches_requested(name, sample_rate):
    psd = load_psd(name)
    duration = 1024
    x = simulate_noise(psd, duration * sample_rate, sample_rate, noise_rng(3, "H1", 0))
    assert x.dtype == np.float64 and x.shape == (duration * sample_rate,)
    fmax = min(1000.0, 0.9 * sample_rate / 2)
    ratios = band_ratios(x, sample_rate, psd, 25.0, fmax, width=20.0)
    # 320 Welch bins x ~127 averages per band: ~0.5% scatter; band edges sit
    # between the curve's narrow lines (60 Hz and harmonics)
    assert np.all(np.abs(ratios - 1) < 0.03), ratios
    assert abs(np.mean(ratios) - 1) < 0.01


def test_stationary_across_the_segment():
    # no taper or edge transient: the first, middle and last minutes have the
    # same power in band
    psd = load_psd("aLIGO_O4_high_asd.txt")
    fs = 512
    x = simulate_noise(psd, 600 * fs, fs, noise_rng(0, "L1", 100))
    sos = signal.butter(8, [30, 200], btype="band", fs=fs, output="sos")
    y = signal.sosfiltfilt(sos, x)
    powers = [np.var(y[i * 60 * fs : (i + 1) * 60 * fs]) for i in (1, 5, 8)]
    assert np.ptp(powers) / np.mean(powers) < 0.05
    assert abs(x.mean()) < 1e-3 * x.std()


def test_reproducible_and_independent():
    psd = load_psd("aLIGO_O4_high_asd.txt")
    fs, n = 512, 512 * 64

    def draw(seed, ifo, t0):
        return simulate_noise(psd, n, fs, noise_rng(seed, ifo, t0))

    a = draw(1, "H1", 1000)
    np.testing.assert_array_equal(a, draw(1, "H1", 1000))
    for other in (draw(2, "H1", 1000), draw(1, "L1", 1000), draw(1, "H1", 1064)):
        assert abs(np.corrcoef(a, other)[0, 1]) < 0.05
    glitch_stream = noise_rng(1, "H1", 1000, stream=1).standard_normal(4)
    assert not np.allclose(glitch_stream, noise_rng(1, "H1", 1000).standard_normal(4))
