"""An MLServer runtime that serves the exported ONNX network with onnxruntime.

MLServer speaks the KServe-V2 protocol (the one Triton speaks), so the
``triton`` backend talks to it unchanged. This is the server of the tests and
the laptop; GPU clusters serve the same model repository with Triton.

``model-settings.json`` (see ``infer.serve.write_model_settings``)::

    {"name": "aframe", "implementation": "infer.mlserver_runtime.OnnxModel",
     "parameters": {"uri": "/path/to/model.onnx",
                    "extra": {"intra_op_threads": 1}}}
"""

from __future__ import annotations

import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.errors import MLServerError
from mlserver.types import InferenceRequest, InferenceResponse

from aframe.utils.offline import disable_network_features

# before onnxruntime loads: its telemetry reads the environment only then
disable_network_features()
import onnxruntime as ort  # noqa: E402


class OnnxModel(MLModel):
    """Runs one ONNX network on each request's inputs, by name."""

    async def load(self) -> bool:
        """Open the onnxruntime session on ``parameters.uri``."""
        params = self.settings.parameters
        if params is None or not params.uri:
            raise MLServerError(
                f"model {self.name}: parameters.uri (ONNX file) missing"
            )
        extra = getattr(params, "extra", None) or {}
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(extra.get("intra_op_threads", 1))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            params.uri, options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._outputs = [o.name for o in self._session.get_outputs()]
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        """Decode the inputs, run the network, encode every output."""
        feeds = {}
        for request_input in payload.inputs:
            if request_input.name not in self._inputs:
                raise MLServerError(
                    f"model {self.name}: unknown input {request_input.name!r} "
                    f"(expected {self._inputs})"
                )
            array = NumpyCodec.decode_input(request_input)
            feeds[request_input.name] = np.ascontiguousarray(array, dtype=np.float32)
        wanted = [o.name for o in payload.outputs or []] or self._outputs
        results = self._session.run(wanted, feeds)
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            outputs=[
                NumpyCodec.encode_output(name, value)
                for name, value in zip(wanted, results)
            ],
        )
