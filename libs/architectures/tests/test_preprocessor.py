import numpy as np
import pytest
import scipy.signal
import torch

from aframe.architectures import PreprocessingConfig, Preprocessor


def test_whitening_with_the_true_psd_gives_white_unit_noise(config, noise, true_psd):
    pre = Preprocessor(config)
    x = torch.as_tensor(noise((64, 2, config.window_size), config.sample_rate, seed=3))
    freqs = np.fft.rfftfreq(config.window_size, 1 / config.sample_rate)
    psd = torch.as_tensor(np.broadcast_to(true_psd(freqs), (2, len(freqs))).copy())
    white = pre.whiten(x, psd)
    assert white.shape == (64, 2, config.kernel_size)
    assert white.dtype == torch.float32
    # the highpass removes the band below 32 Hz of the 256 Hz Nyquist band
    kept = 1 - config.highpass / (config.sample_rate / 2)
    assert abs(float(white.mean())) < 0.02
    assert float(white.var()) == pytest.approx(kept, rel=0.05)
    # and what is left is flat: one-sided PSD 2 / fs for unit-variance white noise
    f, density = scipy.signal.welch(white.numpy(), fs=config.sample_rate, nperseg=256)
    band = (f > 48) & (f < 240)
    level = density.mean(axis=(0, 1))[band] * config.sample_rate / 2
    np.testing.assert_allclose(level, 1.0, rtol=0.12)


def test_forward_whitens_with_the_psd_of_the_preceding_strain(config, noise):
    pre = Preprocessor(config)
    x = torch.as_tensor(noise((64, 2, config.sample_size), config.sample_rate, seed=4))
    white = pre(x)
    assert white.shape == (64, 2, config.kernel_size)
    assert abs(float(white.mean())) < 0.03
    # a 5-segment median PSD is noisy; E[1 / Ŝ] > 1 / S inflates the variance
    kept = 1 - config.highpass / (config.sample_rate / 2)
    assert 0.9 * kept < float(white.var()) < 1.4 * kept
    # the same as doing the two steps by hand
    manual = pre.whiten(x[..., config.psd_size :], pre.psd(x[..., : config.psd_size]))
    torch.testing.assert_close(white, manual)


def test_output_does_not_depend_on_units(config, noise):
    pre = Preprocessor(config)
    x = torch.as_tensor(noise((4, 2, config.sample_size), config.sample_rate, seed=5))
    torch.testing.assert_close(pre(x * 1e21), pre(x), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    "inference_sampling_rate, chunk_size",
    [(4.0, 256), (8.0, 7), (512 / 96, 5)],  # 512 / 96: kernels not on the Welch grid
)
def test_stream_equals_forward_window_by_window(
    config, noise, inference_sampling_rate, chunk_size
):
    pre = Preprocessor(config)
    stride = pre.stride(inference_sampling_rate)
    size = config.sample_size + 23 * stride + 17
    x = torch.as_tensor(
        noise((2, size), config.sample_rate, seed=6), dtype=torch.float32
    )
    kernels = pre.stream(x, inference_sampling_rate, chunk_size=chunk_size)
    n = (size - config.psd_size - config.window_size) // stride + 1
    assert n == 24 == pre.num_kernels(size, inference_sampling_rate)
    assert kernels.shape == (n, 2, config.kernel_size)
    samples = torch.stack(
        [x[:, i * stride : i * stride + config.sample_size] for i in range(n)]
    )
    torch.testing.assert_close(kernels, pre(samples), rtol=1e-4, atol=1e-4)


def test_mean_average_and_no_highpass(noise):
    config = PreprocessingConfig(
        256, 1.0, 0.5, 4.0, 1.0, highpass=None, psd_average="mean"
    )
    pre = Preprocessor(config)
    x = torch.as_tensor(noise((8, 2, config.sample_size), 256, seed=7))
    white = pre(x)
    assert white.shape == (8, 2, 256)
    assert torch.isfinite(white).all()
    stream = pre.stream(x[0].float(), 256 / 32)
    assert stream.shape == (1, 2, 256)


def test_bad_shapes_raise(config):
    pre = Preprocessor(config)
    with pytest.raises(ValueError, match="expected 2 channels"):
        pre(torch.zeros(1, 3, config.sample_size))
    with pytest.raises(ValueError, match=f"expected {config.sample_size} samples"):
        pre(torch.zeros(1, 2, 100))
    with pytest.raises(ValueError, match="fewer than one sample"):
        pre.stream(torch.zeros(2, 100), 4.0)
    with pytest.raises(ValueError, match="does not divide"):
        pre.stream(torch.zeros(2, config.sample_size), 3.0)
