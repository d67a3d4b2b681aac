import numpy as np
import pytest
import torch
from ml4gw.gw import compute_network_snr, compute_observed_strain

from aframe.architectures.spectral import interpolate_psd
from train.injection import SignalInjector, Sky


@pytest.fixture
def injector(config):
    return SignalInjector(config, coalescence_sample=768, left_pad=0.25, right_pad=0.05)


@pytest.fixture
def chirp_batch(config, writers):
    rng = np.random.default_rng(0)
    cross, plus = writers["chirps"](rng, 16, config.sample_rate, 4.0, 3.0)
    return torch.as_tensor(np.stack([cross, plus], axis=1))


def test_signal_region(injector, config):
    fs = config.sample_rate
    assert injector.first == config.pad_size + 0.25 * fs
    assert injector.last == config.pad_size + config.kernel_size - 1 - round(0.05 * fs)
    positions = injector.draw_positions(10_000)
    assert positions.min() >= injector.first and positions.max() <= injector.last
    views = injector.view_positions(5)
    assert views[0] == injector.first and views[-1] == injector.last


def test_placement_puts_the_coalescence_at_the_position(injector, config):
    # plus only, no delays: each detector sees the plus polarisation
    sky = Sky(
        torch.tensor([[[0.0, 0.0], [1.0, 1.0]]]).expand(3, 2, 2),
        torch.zeros(3, 2).long(),
    )
    waveforms = torch.zeros(3, 2, 1024)
    waveforms[:, 1, 768] = 1.0  # the coalescence
    waveforms[:, 1, 0] = 5.0  # the waveform's first sample
    positions = torch.tensor([injector.first, 200, injector.last])
    placed = injector.responses(waveforms, sky, positions)
    assert placed.shape == (3, 2, config.window_size)
    for row, position in enumerate(positions.tolist()):
        expected = torch.zeros(config.window_size)
        expected[position] = 1.0
        if position - 768 >= 0:
            expected[position - 768] = 5.0
        torch.testing.assert_close(placed[row, 0], expected)
        torch.testing.assert_close(placed[row, 1], expected)
    # a delay moves each detector's copy by whole samples
    delayed = Sky(sky.antenna, torch.tensor([[2, -3]]).expand(3, 2))
    moved = injector.responses(waveforms, delayed, positions)
    assert moved[1, 0].argmax() == 202 and moved[1, 1].argmax() == 197


def test_bad_pads_raise(config):
    with pytest.raises(ValueError, match="no room"):
        SignalInjector(config, 10, left_pad=0.6, right_pad=0.5)
    with pytest.raises(ValueError):
        SignalInjector(config, 10, left_pad=-0.1, right_pad=0.1)


def test_window_responses_match_ml4gw_projection(injector, chirp_batch, config):
    torch.manual_seed(0)
    dec, psi, phi = injector.draw_sky(16)
    sky = injector.sky(dec, psi, phi)
    assert sky.antenna.shape == (16, 2, 2) and sky.delays.shape == (16, 2)
    # light travel time from the geocentre is < 21.3 ms (≤ 5 samples at 256 Hz)
    assert sky.delays.abs().max() <= 5 and (sky.delays[:, 0] != sky.delays[:, 1]).any()
    full = compute_observed_strain(
        dec,
        psi,
        phi,
        injector.tensors,
        injector.vertices,
        config.sample_rate,
        cross=chirp_batch[:, 0],
        plus=chirp_batch[:, 1],
    )
    positions = injector.draw_positions(16)
    window = injector.responses(chirp_batch, sky, positions)
    start = 768 - positions
    expected = torch.stack(
        [full[i, :, s : s + config.window_size] for i, s in enumerate(start.tolist())]
    )
    scale = expected.abs().max()
    torch.testing.assert_close(window / scale, expected / scale, rtol=0, atol=1e-6)


def test_snr_matches_ml4gw_and_injection_hits_the_target(
    injector, chirp_batch, config, writers
):
    torch.manual_seed(1)
    dec, psi, phi = injector.draw_sky(16)
    sky = injector.sky(dec, psi, phi)
    freqs = np.fft.rfftfreq(
        int(config.fftlength * config.sample_rate), 1 / config.sample_rate
    )
    psd = torch.as_tensor(writers["psd"](freqs)).expand(16, 2, -1).clone()
    psd = psd * torch.linspace(0.5, 2.0, 16)[:, None, None]  # every sample its own PSD
    full = compute_observed_strain(
        dec,
        psi,
        phi,
        injector.tensors,
        injector.vertices,
        config.sample_rate,
        cross=chirp_batch[:, 0],
        plus=chirp_batch[:, 1],
    )
    reference = compute_network_snr(
        full, interpolate_psd(psd, 513), config.sample_rate, config.highpass
    ).float()
    torch.testing.assert_close(
        injector.snr(chirp_batch, sky, psd), reference, rtol=1e-4, atol=0
    )

    target = torch.linspace(5, 50, 16)
    positions = torch.full((16,), injector.first)
    scaled = injector.inject(chirp_batch, sky, psd, target, positions)
    factor = scaled.abs().amax(dim=(1, 2)) / injector.responses(
        chirp_batch, sky, positions
    ).abs().amax(dim=(1, 2))
    rescaled = compute_network_snr(
        full * factor[:, None, None],
        interpolate_psd(psd, 513),
        config.sample_rate,
        16.0,
    )
    torch.testing.assert_close(rescaled.float(), target, rtol=1e-3, atol=0)
