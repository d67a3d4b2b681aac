import bilby
import numpy as np
import pytest

from datagen.projection import (
    ProjectionError,
    antenna_response,
    geocenter_delay,
    project,
)
from datagen.waveform_generation import generate_polarizations

FS, DURATION, TC = 2048.0, 8.0, 7.5

SKY = {
    "ra": np.array([0.3, 2.1, 4.4, 5.9]),
    "dec": np.array([-1.1, 0.2, 0.9, -0.4]),
    "psi": np.array([0.1, 1.3, 2.8, 0.7]),
    "gps": np.array([1240579783.0, 1240600000.5, 1241000123.25, 1243000000.0]),
}
SIGNAL = {
    "mass_1": np.full(4, 36.0),
    "mass_2": np.full(4, 29.0),
    "luminosity_distance": np.full(4, 400.0),
    "theta_jn": np.array([0.4, 1.2, 2.0, 2.9]),
    "phase": np.array([0.3, 2.0, 4.0, 6.0]),
    "a_1": np.full(4, 0.5),
    "a_2": np.full(4, 0.3),
    "tilt_1": np.full(4, 0.5),
    "tilt_2": np.full(4, 1.0),
    "phi_12": np.full(4, 2.0),
    "phi_jl": np.full(4, 1.0),
}


def bilby_ifo(name: str) -> bilby.gw.detector.Interferometer:
    return bilby.gw.detector.InterferometerList([name])[0]


@pytest.mark.parametrize("ifo", ["H1", "L1"])
def test_antenna_patterns_and_delays_match_bilby(ifo):
    fplus, fcross = antenna_response(ifo, SKY["ra"], SKY["dec"], SKY["psi"], SKY["gps"])
    delay = geocenter_delay(ifo, SKY["ra"], SKY["dec"], SKY["gps"])
    det = bilby_ifo(ifo)
    for i in range(4):
        args = (SKY["ra"][i], SKY["dec"][i], SKY["gps"][i], SKY["psi"][i])
        assert fplus[i] == pytest.approx(det.antenna_response(*args, "plus"), abs=1e-4)
        assert fcross[i] == pytest.approx(
            det.antenna_response(*args, "cross"), abs=1e-4
        )
        expected = det.time_delay_from_geocenter(
            SKY["ra"][i], SKY["dec"][i], SKY["gps"][i]
        )
        assert delay[i] == pytest.approx(expected, abs=1e-7)
    # a true right ascension: the response changes with sidereal time
    later = antenna_response(
        ifo, SKY["ra"], SKY["dec"], SKY["psi"], SKY["gps"] + 6 * 3600
    )
    assert np.abs(later[0] - fplus).max() > 0.1


@pytest.mark.parametrize("ifo", ["H1", "L1"])
def test_response_matches_bilby_detector_response(ifo):
    cross, plus = generate_polarizations(SIGNAL, FS, DURATION, TC, 20.0, 50.0)
    ours = project(
        cross, plus, [ifo], SKY["ra"], SKY["dec"], SKY["psi"], SKY["gps"], FS
    )[0]
    det = bilby_ifo(ifo)
    for i in range(4):
        # bilby shifts by (delay + geocent_time - start_time): start the data
        # at the geocentre time so that only the light travel delay remains
        det.set_strain_data_from_zero_noise(FS, DURATION, start_time=SKY["gps"][i])
        polarizations = {
            "plus": np.fft.rfft(plus[i]) / FS,
            "cross": np.fft.rfft(cross[i]) / FS,
        }
        parameters = {k: SKY[k][i] for k in ("ra", "dec", "psi")}
        parameters["geocent_time"] = SKY["gps"][i]
        spectrum = det.get_detector_response(polarizations, parameters)
        # bilby zeroes bins outside its band (above 0.875 Nyquist by default)
        band = det.strain_data.frequency_mask
        expected = np.fft.irfft(spectrum * FS, n=plus.shape[1])
        ours_band = np.fft.irfft(np.fft.rfft(ours[i]) * band, n=plus.shape[1])
        scale = np.abs(expected).max()
        np.testing.assert_allclose(ours_band, expected, rtol=0, atol=1e-4 * scale)


def test_subsample_delay_is_exact():
    # a delay of a quarter sample moves a band-limited pulse by exactly that
    t = np.arange(4096) / FS
    pulse = np.exp(-(((t - 1.0) / 0.005) ** 2)) * np.sin(2 * np.pi * 100 * t)
    from datagen.projection import delay_phase

    frequencies = np.fft.rfftfreq(len(t), 1 / FS)
    shifted = np.fft.irfft(
        np.fft.rfft(pulse) * delay_phase(frequencies, 0.25 / FS), n=len(t)
    )
    expected = np.exp(-(((t - 1.0 - 0.25 / FS) / 0.005) ** 2)) * np.sin(
        2 * np.pi * 100 * (t - 0.25 / FS)
    )
    np.testing.assert_allclose(shifted, expected, atol=1e-9)


def test_unknown_interferometer():
    with pytest.raises(ProjectionError, match="unknown interferometer 'Q7'"):
        antenna_response("Q7", 0.0, 0.0, 0.0, 1240579783.0)
