"""MLServer is configured, started on loopback, and stopped; the triton backend
against it gives the local backend's answers."""

import dataclasses
import json

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

from aframe.ledger import EventSet, RecoveredInjectionSet
from aframe.search.backends import ServerUnavailableError, make_backend
from infer.serve import mlserver_server, write_model_settings


def kernels(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 2, 512)).astype(np.float32)


def test_settings_bind_loopback_without_metrics(tmp_path, endpower_model):
    write_model_settings(endpower_model, tmp_path, "127.0.0.1", 1234, 1235, 2)
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["host"] == "127.0.0.1"
    assert (settings["http_port"], settings["grpc_port"]) == (1234, 1235)
    assert settings["metrics_endpoint"] is None
    model = json.loads((tmp_path / "aframe" / "model-settings.json").read_text())
    assert model["implementation"] == "infer.mlserver_runtime.OnnxModel"
    assert model["parameters"]["uri"] == str(endpower_model.onnx_path.resolve())
    assert model["parameters"]["extra"]["intra_op_threads"] == 2


def test_served_model_answers_kserve_v2_grpc(mlserver_url, endpower_model):
    client = grpcclient.InferenceServerClient(url=mlserver_url)
    try:
        assert client.is_server_live() and client.is_model_ready("aframe")
        x = np.ones(endpower_model.input_shape, dtype=np.float32)
        request = grpcclient.InferInput("whitened", list(x.shape), "FP32")
        request.set_data_from_numpy(x)
        result = client.infer("aframe", [request])
        out = result.as_numpy("discriminator")
    finally:
        client.close()
    # EndPower of all-ones kernels: log(mean weighted power) = log(1) = 0
    assert out.shape == (endpower_model.batch_size, 1)
    np.testing.assert_allclose(out, 0.0, atol=1e-6)


@pytest.mark.slow
def test_a_server_that_cannot_load_the_model(tmp_path, endpower_model):
    missing = dataclasses.replace(endpower_model, onnx_path=tmp_path / "missing.onnx")
    with pytest.raises(ServerUnavailableError, match="before it was ready; see .*log"):
        with mlserver_server(missing, tmp_path / "bad", timeout=60):
            pass


def test_triton_backend_against_mlserver_equals_local(endpower_model, mlserver_url):
    local = make_backend("local", endpower_model)
    remote = make_backend("triton", endpower_model, server_url=mlserver_url)
    x = np.abs(kernels(37, seed=3)) + 0.1
    try:
        np.testing.assert_allclose(remote(x), local(x), rtol=1e-6, atol=1e-6)
    finally:
        remote.close()


@pytest.mark.slow
def test_triton_search_gives_the_same_events_as_local(
    local_run, tmp_path, sandbox, endpower_model, mlserver_url, run_infer
):
    _, local = local_run
    remote = run_infer(
        tmp_path,
        sandbox,
        endpower_model.repository,
        backend="triton",
        server_url=mlserver_url,
    )
    for name, kind in (
        ("background", EventSet),
        ("zero-lag", EventSet),
        ("foreground", RecoveredInjectionSet),
    ):
        a, b = kind.read(local[name]), kind.read(remote[name])
        assert len(a) == len(b) and a.attrs == b.attrs
        for key, value in a.parameters.items():
            np.testing.assert_allclose(b.parameters[key], value, rtol=0, atol=1e-6)


def test_server_without_the_model(endpower_model, mlserver_url):
    with pytest.raises(ServerUnavailableError, match="model 'nothing'"):
        make_backend(
            "triton", endpower_model, server_url=mlserver_url, model_name="nothing"
        )
