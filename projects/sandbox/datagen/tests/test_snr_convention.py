"""datagen measures loudness with the one SNR of ``aframe.architectures.snr``.

These tests hold that SNR against bilby's ``optimal_snr_squared`` on real
waveforms and a design curve, and check the segment PSD it is measured
against.
"""

import bilby
import numpy as np
import pytest

from aframe.architectures.snr import background_psd, ifo_snr, network_snr
from datagen.psd import load_psd
from datagen.simulate import simulate_noise
from datagen.waveform_generation import generate_polarizations

FS, DURATION = 2048.0, 8.0
CURVE = "aLIGO_O4_high_asd.txt"
SIGNAL = {
    "mass_1": np.array([36.0, 14.0]),
    "mass_2": np.array([29.0, 11.0]),
    "luminosity_distance": np.array([800.0, 300.0]),
    "theta_jn": np.array([0.4, 1.9]),
    "phase": np.array([0.3, 2.0]),
    "a_1": np.array([0.5, 0.1]),
    "a_2": np.array([0.3, 0.6]),
    "tilt_1": np.array([0.5, 2.0]),
    "tilt_2": np.array([1.0, 0.4]),
    "phi_12": np.array([2.0, 5.0]),
    "phi_jl": np.array([1.0, 3.0]),
}


def test_background_psd_recovers_the_noise_psd():
    rng = np.random.default_rng(3)
    curve = load_psd(CURVE)
    noise = simulate_noise(curve, int(256 * FS), FS, rng)
    psd = background_psd(noise, FS, DURATION)
    frequencies = np.fft.rfftfreq(int(DURATION * FS), 1 / FS)
    band = (frequencies > 30) & (frequencies < 900)
    ratio = psd[band] / curve(frequencies[band])
    # the median estimate is unbiased (scipy's bias correction) ...
    assert np.median(ratio) == pytest.approx(1.0, abs=0.03)
    # ... and each bin of 63 median-averaged segments is within ~30 %
    assert np.percentile(np.abs(ratio - 1), 90) < 0.35


def test_snr_matches_bilby_optimal_snr_squared():
    cross, plus = generate_polarizations(SIGNAL, FS, DURATION, 7.5, 20.0, 50.0)
    frequencies = np.fft.rfftfreq(plus.shape[1], 1 / FS)
    curve = load_psd(CURVE)
    psd = curve(frequencies)[None]
    ours = ifo_snr(plus[:, None], psd, FS, highpass=32.0)[:, 0]

    ifo = bilby.gw.detector.InterferometerList(["H1"])[0]
    ifo.minimum_frequency, ifo.maximum_frequency = 32.0, FS / 2
    # another grid, which bilby interpolates linearly onto the waveform's bins
    coarse = np.linspace(5.03, FS / 2, 20011)
    ifo.power_spectral_density = bilby.gw.detector.PowerSpectralDensity(
        frequency_array=coarse, psd_array=curve(coarse)
    )
    ifo.set_strain_data_from_zero_noise(FS, DURATION, start_time=0)
    for i in range(2):
        signal = np.fft.rfft(plus[i]) / FS
        expected = np.sqrt(np.real(ifo.optimal_snr_squared(signal)))
        assert ours[i] == pytest.approx(expected, rel=0.01)
        assert ours[i] > 5  # a loud enough signal to mean something

    # the network SNR is the quadrature sum over detectors
    both = np.stack([plus, cross], axis=1)
    network = network_snr(both, np.concatenate([psd, psd]), FS, 32.0)
    single = ifo_snr(both, np.concatenate([psd, psd]), FS, 32.0)
    np.testing.assert_allclose(network, np.sqrt((single**2).sum(-1)))


def test_snr_is_inverse_in_distance_and_ignores_low_frequencies():
    plus = generate_polarizations(SIGNAL, FS, DURATION, 7.5, 20.0, 50.0)[1][:, None]
    psd = load_psd(CURVE)(np.fft.rfftfreq(plus.shape[-1], 1 / FS))[None]
    np.testing.assert_allclose(
        ifo_snr(plus / 3, psd, FS, 32.0), ifo_snr(plus, psd, FS, 32.0) / 3
    )
    assert np.all(ifo_snr(plus, psd, FS, 100.0) < ifo_snr(plus, psd, FS, 32.0))
