import numpy as np
import pytest

from datagen.waveform_generation import WaveformError, generate_polarizations

FS, DURATION, TC, FMIN, FREF, TAPER = 2048.0, 8.0, 7.5, 20.0, 50.0, 0.25

# a light system longer than the window, a GW150914-like one, a heavy one
PARAMETERS = {
    "mass_1": np.array([12.0, 36.0, 180.0]),
    "mass_2": np.array([9.0, 29.0, 150.0]),
    "luminosity_distance": np.array([300.0, 500.0, 4000.0]),
    "theta_jn": np.array([1.0, 0.4, 2.0]),
    "phase": np.array([4.0, 0.3, 1.0]),
    "a_1": np.array([0.8, 0.5, 0.1]),
    "a_2": np.array([0.2, 0.3, 0.7]),
    "tilt_1": np.array([1.0, 0.5, 2.0]),
    "tilt_2": np.array([2.5, 1.0, 0.3]),
    "phi_12": np.array([1.0, 2.0, 4.0]),
    "phi_jl": np.array([3.0, 1.0, 5.0]),
}


def test_coalescence_at_documented_sample_and_start_tapered():
    cross, plus = generate_polarizations(PARAMETERS, FS, DURATION, TC, FMIN, FREF)
    power = cross**2 + plus**2
    peaks = power.argmax(axis=1)
    coalescence = int(TC * FS)
    # the peak of |h|^2 is within a few tens of ms before t = 0
    assert np.all(peaks <= coalescence + 0.01 * FS)
    assert np.all(peaks >= coalescence - 0.1 * FS)
    # the light system is longer than the window: cut, then tapered to zero
    assert cross[0, 0] == plus[0, 0] == 0.0
    assert np.abs(plus[0, int(TAPER * FS) :]).max() > 0
    # nothing beyond the ringdown: the last 0.25 s are (numerically) zero
    tail = np.abs(plus[:, -int(0.25 * FS) :]).max(axis=1)
    assert np.all(tail < 1e-3 * np.abs(plus).max(axis=1))


def test_amplitude_scales_inversely_with_distance():
    far = dict(PARAMETERS, luminosity_distance=2 * PARAMETERS["luminosity_distance"])
    near_cross, _ = generate_polarizations(PARAMETERS, FS, DURATION, TC, FMIN, FREF)
    far_cross, _ = generate_polarizations(far, FS, DURATION, TC, FMIN, FREF)
    np.testing.assert_allclose(far_cross * 2, near_cross, rtol=1e-10, atol=1e-30)


def test_ml4gw_generator_matches_lalsimulation():
    lal_waves = generate_polarizations(PARAMETERS, FS, DURATION, TC, FMIN, FREF)
    torch_waves = generate_polarizations(
        PARAMETERS, FS, DURATION, TC, FMIN, FREF, generator="ml4gw", device="cpu"
    )
    for a, b in zip(lal_waves, torch_waves):
        overlap = np.sum(a * b, axis=1) / np.sqrt(
            np.sum(a * a, axis=1) * np.sum(b * b, axis=1)
        )
        assert np.all(overlap > 0.999), overlap


def test_bad_settings_are_clear_errors():
    with pytest.raises(WaveformError, match="approximant 'NotAModel'"):
        generate_polarizations(
            PARAMETERS, FS, DURATION, TC, FMIN, FREF, approximant="NotAModel"
        )
    with pytest.raises(WaveformError, match="luminosity_distance"):
        partial = {k: v for k, v in PARAMETERS.items() if k != "luminosity_distance"}
        generate_polarizations(partial, FS, DURATION, TC, FMIN, FREF)
    with pytest.raises(WaveformError, match="coalescence_time 9"):
        generate_polarizations(PARAMETERS, FS, DURATION, 9.0, FMIN, FREF)
    with pytest.raises(WaveformError, match="unknown waveform generator"):
        generate_polarizations(
            PARAMETERS, FS, DURATION, TC, FMIN, FREF, generator="pycbc"
        )
