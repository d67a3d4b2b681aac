"""Where the network runs: one interface, two backends.

Both run only the network, on batches of whitened kernels; the stream state
and the whitening stay in the client (``aframe.search.stream``).

- ``local``: an onnxruntime ``InferenceSession`` in this process, on the
  exported ONNX file.
- ``triton``: a KServe-V2 inference server (Triton on GPU clusters; MLServer
  here) reached over gRPC with ``tritonclient.grpc``.

The exported network has a fixed batch size. A call with fewer kernels fills
the batch with zero *kernels* (already whitened inputs, never raw strain):
every kernel is processed independently, so the fill cannot change a real
kernel's output, and its outputs are dropped.
"""

from __future__ import annotations

import abc
import logging
from typing import Literal, Protocol

import numpy as np

from aframe.search.repository import ExportedModel, RepositoryError
from aframe.utils.offline import disable_network_features

# before onnxruntime loads: its telemetry reads the environment only then
disable_network_features()
import onnxruntime as ort  # noqa: E402

logger = logging.getLogger(__name__)

BackendName = Literal["local", "triton"]


class ServerUnavailableError(ConnectionError):
    """The inference server cannot be reached or does not serve the model."""


class Backend(Protocol):
    """Runs the network on batches of whitened kernels."""

    batch_size: int

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Network outputs for kernels ``x`` of shape (N, n_ifo, kernel_size)."""

    def close(self) -> None:
        """Release the session or connection."""


def _fill(x: np.ndarray, batch_size: int) -> np.ndarray:
    n = len(x)
    if n == batch_size:
        return x
    pad = np.zeros((batch_size - n, *x.shape[1:]), dtype=x.dtype)
    return np.concatenate([x, pad])


class _Batched(abc.ABC):
    """Split any number of kernels into fixed-size network calls."""

    batch_size: int
    input_shape: tuple[int, int, int]

    @abc.abstractmethod
    def _run(self, batch: np.ndarray) -> np.ndarray:
        """Outputs of one full batch, shape (batch_size, ...)."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Network outputs for ``x``.

        Args:
            x: whitened kernels, shape (N, n_ifo, kernel_size)

        Returns:
            shape (N,) float32: the network's single output per kernel
        """
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 3 or x.shape[1:] != self.input_shape[1:]:
            raise ValueError(
                f"kernels of shape {x.shape}, the network takes "
                f"(N, {self.input_shape[1]}, {self.input_shape[2]})"
            )
        out = np.empty(len(x), dtype=np.float32)
        for start in range(0, len(x), self.batch_size):
            chunk = x[start : start + self.batch_size]
            y = self._run(_fill(chunk, self.batch_size))
            out[start : start + len(chunk)] = y.reshape(self.batch_size, -1)[
                : len(chunk), 0
            ]
        return out


class LocalBackend(_Batched):
    """The exported ONNX network in an in-process onnxruntime session.

    Args:
        model: the exported model
        intra_op_threads: threads onnxruntime uses within one call (0: its
            default, one per core)
    """

    def __init__(self, model: ExportedModel, intra_op_threads: int = 1):
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(intra_op_threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(model.onnx_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime's own types (InvalidProtobuf, Fail, ...)
            # a truncated or foreign file: one line naming it, no traceback
            reason = str(err).strip().splitlines()[0] if str(err).strip() else err
            raise RepositoryError(
                f"{model.onnx_path}: onnxruntime cannot load it "
                f"({type(err).__name__}: {reason}); export the model again"
            ) from err
        self.input_name = model.input_name
        self.output_name = model.output_name
        self.input_shape = model.input_shape
        self.batch_size = model.batch_size

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run([self.output_name], {self.input_name: batch})[0]

    def close(self) -> None:
        """Nothing to release: the session goes with the object."""


class TritonBackend(_Batched):
    """The network served by a KServe-V2 (Triton or MLServer) server, over gRPC.

    Args:
        model: the exported model (names and shapes of its tensors)
        server_url: ``host:port`` of the server's gRPC endpoint
        model_name: the model's name on the server (default: the exported name)
        model_version: the version on the server ("" for the server's choice)
        timeout: seconds to wait for the server to be ready

    Raises:
        ServerUnavailableError: the server is unreachable or the model is not
            ready on it
    """

    def __init__(
        self,
        model: ExportedModel,
        server_url: str,
        model_name: str | None = None,
        model_version: str = "",
        timeout: float = 10.0,
    ):
        import tritonclient.grpc as grpcclient
        from tritonclient.utils import InferenceServerException

        self._grpc = grpcclient
        self._error = InferenceServerException
        self.server_url = server_url
        self.model_name = model_name or model.name
        self.model_version = model_version
        self.input_name = model.input_name
        self.output_name = model.output_name
        self.input_shape = model.input_shape
        self.batch_size = model.batch_size
        try:
            self.client = grpcclient.InferenceServerClient(url=server_url)
        except Exception as err:  # tritonclient raises bare exceptions on bad URLs
            raise ServerUnavailableError(
                f"inference server at {server_url}: cannot connect ({err})"
            ) from err
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        try:
            ready = self.client.is_server_ready(client_timeout=timeout)
        except self._error as err:
            raise ServerUnavailableError(
                f"inference server at {self.server_url} is unreachable ({err})"
            ) from err
        if not ready:
            raise ServerUnavailableError(
                f"inference server at {self.server_url} is not ready"
            )
        try:
            model_ready = self.client.is_model_ready(
                self.model_name, self.model_version, client_timeout=timeout
            )
        except self._error as err:
            raise ServerUnavailableError(
                f"inference server at {self.server_url}: model "
                f"{self.model_name!r} unavailable ({err})"
            ) from err
        if not model_ready:
            raise ServerUnavailableError(
                f"inference server at {self.server_url} does not serve a ready "
                f"model {self.model_name!r}"
            )

    def _run(self, batch: np.ndarray) -> np.ndarray:
        inputs = self._grpc.InferInput(self.input_name, list(batch.shape), "FP32")
        inputs.set_data_from_numpy(batch)
        outputs = self._grpc.InferRequestedOutput(self.output_name)
        try:
            result = self.client.infer(
                self.model_name,
                [inputs],
                model_version=self.model_version,
                outputs=[outputs],
            )
        except self._error as err:
            raise ServerUnavailableError(
                f"inference server at {self.server_url}: request to model "
                f"{self.model_name!r} failed ({err})"
            ) from err
        return result.as_numpy(self.output_name)

    def close(self) -> None:
        """Close the gRPC channel."""
        self.client.close()


def make_backend(
    backend: BackendName,
    model: ExportedModel,
    intra_op_threads: int = 1,
    server_url: str = "127.0.0.1:8001",
    model_name: str | None = None,
) -> Backend:
    """The named backend for an exported model.

    Args:
        backend: ``local`` (onnxruntime in-process) or ``triton`` (gRPC server)
        model: the exported model
        intra_op_threads: onnxruntime threads per call (``local`` only)
        server_url: ``host:port`` of the gRPC server (``triton`` only)
        model_name: the model's name on the server (``triton`` only)

    Returns:
        the backend
    """
    if backend == "local":
        return LocalBackend(model, intra_op_threads=intra_op_threads)
    if backend == "triton":
        return TritonBackend(model, server_url, model_name=model_name)
    raise ValueError(f"backend {backend!r}: expected 'local' or 'triton'")
