import numpy as np
import pytest
import torch
from scipy import signal

from aframe.architectures.snr import (
    background_psd,
    counted_frequencies,
    ifo_snr,
    network_snr,
)

FS = 512.0


def chirp(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / FS
    f = 40 + 60 * t / t[-1]
    envelope = np.exp(-(((t - t[-1] / 2) / 0.5) ** 2))
    return envelope * np.sin(2 * np.pi * np.cumsum(f) / FS) * 1e-21


def test_counted_frequencies_run_from_highpass_to_below_nyquist():
    mask = counted_frequencies(1024, FS, 32.0)
    frequencies = np.fft.rfftfreq(1024, 1 / FS)
    np.testing.assert_array_equal(
        mask.numpy(), (frequencies >= 32) & (frequencies < FS / 2)
    )
    assert counted_frequencies(1024, FS, None).sum() == 512


def test_snr_of_white_noise_psd_is_parseval():
    # white PSD S: ρ² = 4/(fs N) Σ |rfft h|² / S over the counted bins, which
    # for a band-limited signal is 2 Σ h² / (fs S) (Parseval)
    rng = np.random.default_rng(0)
    n = 4096
    h = chirp(n, rng)
    level = 1e-44
    psd = np.full((1, n // 2 + 1), level)
    expected = np.sqrt(2 * np.sum(h**2) / (FS * level))
    assert ifo_snr(h[None], psd, FS, None)[0] == pytest.approx(expected, rel=1e-3)


def test_numpy_and_torch_agree_and_psd_is_resampled():
    rng = np.random.default_rng(1)
    h = np.stack([chirp(2048, rng), 0.5 * chirp(2048, rng)])[None]  # (1, ifo, T)
    fine = np.full((2, 1025), 2e-46)
    coarse = np.full((2, 65), 2e-46)  # another grid from 0 to Nyquist
    a = network_snr(h, fine, FS, 20.0)
    b = network_snr(torch.from_numpy(h).float(), torch.from_numpy(coarse), FS, 20.0)
    assert isinstance(a, np.ndarray) and isinstance(b, torch.Tensor)
    np.testing.assert_allclose(a, b.numpy(), rtol=1e-5)


def test_psd_outside_the_band_may_be_undefined_but_not_inside():
    h = chirp(2048, np.random.default_rng(2))[None]
    psd = np.full((1, 1025), 1e-46)
    psd[0, 0] = np.inf
    psd[0, 1] = 0.0
    assert np.isfinite(ifo_snr(h, psd, FS, 20.0)).all()
    psd[0, 100] = 0.0  # 25 Hz
    with pytest.raises(ValueError, match="positive and finite"):
        ifo_snr(h, psd, FS, 20.0)
    with pytest.raises(ValueError, match="does not match"):
        ifo_snr(h, np.ones((2, 1025)), FS, 20.0)


def test_background_psd_is_scipy_median_welch():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, int(120 * FS))) * 1e-21
    ours = background_psd(x, FS, 4.0)
    _, theirs = signal.welch(
        x, fs=FS, nperseg=int(4 * FS), noverlap=int(2 * FS), average="median"
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    with pytest.raises(ValueError, match="shorter than one 4 s FFT segment"):
        background_psd(x[:, :100], FS, 4.0)


def test_agrees_with_ml4gw_compute_ifo_snr():
    from ml4gw.gw import compute_ifo_snr

    rng = np.random.default_rng(5)
    h = torch.from_numpy(
        np.stack([[chirp(4096, rng), 0.3 * chirp(4096, rng)] for _ in range(3)])
    )
    psd = torch.from_numpy(rng.uniform(1, 3, size=(3, 2, 2049)) * 1e-46)
    mask = counted_frequencies(4096, FS, 25.0)
    theirs = compute_ifo_snr(h, psd, FS, highpass=mask)
    for x in (h, h.float()):
        torch.testing.assert_close(
            ifo_snr(x, psd, FS, 25.0), theirs.float(), rtol=1e-4, atol=0
        )
