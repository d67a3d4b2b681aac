import numpy as np
import pytest
import scipy.signal
import torch
from scipy.signal._spectral_py import _median_bias

from aframe.architectures.spectral import (
    WelchWindow,
    average_segments,
    interpolate_psd,
    median_bias,
    welch,
)


def hann(n: int, fs: float) -> WelchWindow:
    return WelchWindow(torch.hann_window(n, periodic=True, dtype=torch.float64), fs)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 9, 20])
def test_median_bias_matches_scipy(n):
    assert median_bias(n) == pytest.approx(_median_bias(n), rel=1e-12)


@pytest.mark.parametrize("average", ["median", "mean"])
@pytest.mark.parametrize("size", [4096, 4096 + 640, 2 * 4096])  # 5, 6 and 11 segments
def test_welch_matches_scipy(noise, average, size):
    fs, nperseg = 512.0, 1280
    x = noise((3, 2, size), fs, seed=size) + 3e-22  # a DC offset scipy detrends
    psd = welch(torch.as_tensor(x), hann(nperseg, fs), nperseg // 2, average)
    _, expected = scipy.signal.welch(x, fs=fs, nperseg=nperseg, average=average)
    assert psd.dtype == torch.float64
    assert psd.shape == expected.shape
    # float32 FFTs: rounding noise sits ~1e-7 below the loudest bins, so bins
    # 1e6 below the seismic wall of this PSD agree to a few parts in 1e4
    # (the statistical error of a 5-segment median is ~50 %)
    np.testing.assert_allclose(psd.numpy()[..., 1:], expected[..., 1:], rtol=1e-3)
    # bin 0 holds only what survives detrending: compare it on an absolute scale
    assert abs(psd[..., 0].numpy() - expected[..., 0]).max() < 1e-5 * expected.max()


@pytest.mark.parametrize("average", ["median", "mean"])
def test_welch_matches_scipy_closely_for_white_noise(average):
    fs, nperseg = 512.0, 1280
    x = np.random.default_rng(1).standard_normal((4, 2, 4096)) * 1e-21
    psd = welch(torch.as_tensor(x), hann(nperseg, fs), nperseg // 2, average)
    _, expected = scipy.signal.welch(x, fs=fs, nperseg=nperseg, average=average)
    np.testing.assert_allclose(psd.numpy()[..., 1:], expected[..., 1:], rtol=1e-5)


def test_welch_float32_input_and_any_units(noise):
    fs = 512.0
    x = noise((2, 4096), fs)
    taper = hann(1280, fs)
    reference = welch(torch.as_tensor(x), taper, 640)
    single = welch(torch.as_tensor(x, dtype=torch.float32), taper, 640)
    np.testing.assert_allclose(single.numpy(), reference.numpy(), rtol=1e-4)
    # the estimate scales with the square of the units, no under/overflow
    big = welch(torch.as_tensor(x * 1e30), taper, 640)
    np.testing.assert_allclose(big.numpy(), reference.numpy() * 1e60, rtol=1e-3)
    assert torch.all(welch(torch.zeros(2, 4096), taper, 640) == 0)


def test_median_of_even_count_is_numpy_median():
    values = torch.rand(4, 6, 33)
    expected = np.median(values.numpy(), axis=1) / _median_bias(6)
    np.testing.assert_allclose(
        average_segments(values, "median", dim=1), expected, rtol=1e-6
    )
    many = torch.rand(3, 17, 5)  # above the sorting network's size
    expected = np.median(many.numpy(), axis=1) / _median_bias(17)
    np.testing.assert_allclose(
        average_segments(many, "median", dim=1), expected, rtol=1e-6
    )


def test_interpolate_psd_is_exact_on_linear_spectra():
    coarse = torch.linspace(0, 256, 641, dtype=torch.float64) * 2 + 1
    fine = interpolate_psd(coarse[None, None], 2049)
    expected = torch.linspace(0, 256, 2049, dtype=torch.float64) * 2 + 1
    torch.testing.assert_close(fine[0, 0], expected)
    assert interpolate_psd(coarse, 641) is coarse


def test_too_short_raises():
    with pytest.raises(ValueError, match="fewer than one Welch segment"):
        welch(torch.zeros(2, 100), hann(1280, 512.0), 640)
