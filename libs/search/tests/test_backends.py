"""The local backend runs the exported network as torch does; the triton backend
names what it cannot reach (against a real server: infer's tests)."""

import numpy as np
import pytest
import torch

from aframe.search.backends import LocalBackend, ServerUnavailableError, make_backend


def kernels(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 2, 512)).astype(np.float32)


def test_local_backend_matches_torch_for_any_count(resnet, resnet_model, kit):
    backend = make_backend("local", resnet_model)
    assert isinstance(backend, LocalBackend)
    assert backend.batch_size == kit.BATCH_SIZE
    for n in (1, kit.BATCH_SIZE, 2 * kit.BATCH_SIZE + 5):
        x = kernels(n, seed=n)
        with torch.no_grad():
            expected = resnet(torch.from_numpy(x)).numpy()[:, 0]
        np.testing.assert_allclose(backend(x), expected, rtol=0, atol=1e-5)


def test_partial_batches_do_not_change_real_outputs(resnet_model):
    backend = make_backend("local", resnet_model)
    x = kernels(20)
    full = backend(x)
    np.testing.assert_array_equal(backend(x[:3]), full[:3])
    np.testing.assert_array_equal(backend(x[16:]), full[16:])


def test_wrong_kernel_shape(resnet_model):
    with pytest.raises(ValueError, match="the network takes \\(N, 2, 512\\)"):
        make_backend("local", resnet_model)(np.zeros((4, 2, 100), np.float32))


def test_unreachable_server_names_the_url(endpower_model):
    with pytest.raises(ServerUnavailableError, match="127.0.0.1:9 is unreachable"):
        make_backend("triton", endpower_model, server_url="127.0.0.1:9")


def test_unknown_backend(endpower_model):
    with pytest.raises(ValueError, match="backend 'gpu'"):
        make_backend("gpu", endpower_model)
