"""The MLServer runtime runs the exported ONNX network on decoded requests.

mlserver and tritonclient register the same KServe-V2 protobuf messages, so
they cannot be imported into one process: the runtime is exercised inside a
real MLServer process, through gRPC.
"""

import numpy as np
import pytest
import torch
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException


def infer(url, name, x):
    client = grpcclient.InferenceServerClient(url=url)
    try:
        request = grpcclient.InferInput(name, list(x.shape), "FP32")
        request.set_data_from_numpy(x)
        return client.infer("aframe", [request]).as_numpy("discriminator")
    finally:
        client.close()


def test_predict_matches_torch(mlserver_url, endpower, endpower_model):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(endpower_model.input_shape).astype(np.float32)
    with torch.no_grad():
        expected = endpower(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(infer(mlserver_url, "whitened", x), expected, atol=1e-5)


def test_unknown_input_is_refused(mlserver_url, endpower_model):
    x = np.zeros(endpower_model.input_shape, dtype=np.float32)
    with pytest.raises(InferenceServerException, match="unknown input 'strain'"):
        infer(mlserver_url, "strain", x)
