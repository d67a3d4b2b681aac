"""Streaming inference equals the torch model run window by window."""

import numpy as np
import torch

from aframe.architectures import Preprocessor
from aframe.search.backends import make_backend
from aframe.search.stream import StreamGeometry, run_streams


def reference(net, preprocessor, data, stride, span):
    """Each kernel on its own: Preprocessor.forward on its window, then torch."""
    n = (data.shape[1] - span) // stride + 1
    windows = np.stack([data[:, j * stride : j * stride + span] for j in range(n)])
    with torch.no_grad():
        kernels = preprocessor(torch.from_numpy(windows))
        return net(kernels).numpy()[:, 0]


def test_stream_matches_torch_window_by_window(config, kit, resnet, resnet_model):
    ISR = kit.ISR
    rng = np.random.default_rng(7)
    data = kit.SIGMA * rng.standard_normal((2, int(31.3 * config.sample_rate)))
    preprocessor = Preprocessor(config)
    geometry = StreamGeometry.of(preprocessor, ISR)
    reads = []

    def read(i0, i1):
        reads.append((i0, i1))
        return data[:, i0:i1]

    backend = make_backend("local", resnet_model)
    y = run_streams(read, data.shape[1], 0.0, preprocessor, backend, ISR)["background"]
    expected = reference(resnet, preprocessor, data, geometry.stride, geometry.span)

    # a partial final batch, never padded strain: every read lies in the data,
    # the reads tile it exactly, and every kernel is there
    assert len(y) == len(expected) == geometry.num_kernels(data.shape[1])
    assert len(y) % kit.BATCH_SIZE != 0
    assert reads[0][0] == 0 and reads[-1][1] == data.shape[1]
    assert all(a[1] == b[0] for a, b in zip(reads, reads[1:]))
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-4)
    # the network is not constant, so the comparison means something
    assert np.std(expected) > 1e-3


def test_injected_stream_is_whitened_with_its_own_psd(
    config, kit, endpower, endpower_model
):
    ISR = kit.ISR
    rng = np.random.default_rng(8)
    duration = 40.0
    data = kit.SIGMA * rng.standard_normal((2, int(duration * config.sample_rate)))
    t0 = 1_000_000_000.0
    injections = kit.make_injections(
        np.array([t0 + 20.3]), np.array([[0.0, 0.0]]), snr=30.0, seed=1
    )
    preprocessor = Preprocessor(config)
    geometry = StreamGeometry.of(preprocessor, ISR)
    backend = make_backend("local", endpower_model)
    out = run_streams(
        lambda i0, i1: data[:, i0:i1],
        data.shape[1],
        t0,
        preprocessor,
        backend,
        ISR,
        injections=injections,
    )
    injected = injections.inject(data, t0, config.sample_rate)
    own = reference(endpower, preprocessor, injected, geometry.stride, geometry.span)
    plain = reference(endpower, preprocessor, data, geometry.stride, geometry.span)
    np.testing.assert_allclose(out["foreground"], own, rtol=0, atol=1e-4)
    np.testing.assert_allclose(out["background"], plain, rtol=0, atol=1e-4)

    # whitening the injected windows with the background's PSD instead gives
    # different kernels wherever the signal sits in the PSD segment
    n = len(own)
    spans = np.stack(
        [
            np.arange(j * geometry.stride, j * geometry.stride + geometry.span)
            for j in range(n)
        ]
    )
    with torch.no_grad():
        psd = preprocessor.psd(
            torch.from_numpy(data[:, spans].transpose(1, 0, 2)[..., : config.psd_size])
        )
        windows = torch.from_numpy(
            injected[:, spans].transpose(1, 0, 2)[..., config.psd_size :]
        )
        borrowed = endpower(preprocessor.whiten(windows, psd)).numpy()[:, 0]
    assert np.max(np.abs(borrowed - own)) > 1e-3

    # the loud signal shows up where its kernel ends just after the merger
    t_end = geometry.kernel_end(t0) + np.arange(n) / ISR
    peak = t_end[np.argmax(out["foreground"])]
    assert 20.3 + t0 < peak < 20.3 + t0 + config.kernel_length
    assert out["foreground"].max() > out["background"].max() + 0.5
