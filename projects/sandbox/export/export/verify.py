"""Check an exported ONNX network against the torch model it came from."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch

from aframe.utils.io import ArtifactError
from aframe.utils.offline import disable_network_features

# before onnxruntime loads: its telemetry reads the environment only then
disable_network_features()
import onnxruntime as ort  # noqa: E402


class VerificationError(ArtifactError):
    """The exported network does not reproduce the torch model."""


def read_saved_batch(path: str | Path) -> np.ndarray:
    """The whitened batch training saved, ``X`` of shape (B, n_ifo, kernel_size).

    Args:
        path: ``BASE_DIR/training/batch.hdf5``

    Returns:
        float32 array
    """
    path = Path(path)
    if not path.is_file():
        raise VerificationError(f"{path}: no such file (saved by train)")
    try:
        with h5py.File(path, "r") as f:
            if "X" not in f:
                raise VerificationError(f"{path}: dataset X missing")
            x = f["X"][()]
    except OSError as err:
        raise VerificationError(f"{path}: not a readable HDF5 file ({err})") from err
    if x.ndim != 3 or len(x) == 0:
        raise VerificationError(
            f"{path}: X has shape {x.shape}, expected (batch, ifo, kernel_size)"
        )
    return x.astype(np.float32)


def run_onnx(
    session: ort.InferenceSession, x: np.ndarray, batch_size: int
) -> np.ndarray:
    """Run a fixed-batch ONNX network on any number of inputs.

    The last call is filled up with zero kernels whose outputs are dropped;
    each kernel is processed independently, so the fill never changes a real
    kernel's output.

    Args:
        session: the onnxruntime session; one input, one output
        x: inputs, shape (N, n_ifo, kernel_size)
        batch_size: the network's fixed batch size

    Returns:
        outputs, shape (N, ...) as the network returns them
    """
    name = session.get_inputs()[0].name
    outputs = []
    for start in range(0, len(x), batch_size):
        chunk = x[start : start + batch_size]
        n = len(chunk)
        if n < batch_size:
            chunk = np.concatenate(
                [chunk, np.zeros((batch_size - n, *chunk.shape[1:]), chunk.dtype)]
            )
        outputs.append(session.run(None, {name: chunk})[0][:n])
    return np.concatenate(outputs)


def max_abs_difference(
    model: torch.nn.Module, onnx_path: str | Path, x: np.ndarray, batch_size: int
) -> float:
    """Largest absolute difference between torch and onnxruntime outputs.

    Args:
        model: the torch network (evaluated in eval mode on the CPU)
        onnx_path: its exported ONNX file
        x: inputs, shape (N, n_ifo, kernel_size)
        batch_size: the ONNX network's fixed batch size

    Returns:
        ``max |torch(x) - onnx(x)|`` over every output
    """
    model = model.eval().to("cpu")
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        str(onnx_path), options, providers=["CPUExecutionProvider"]
    )
    got = run_onnx(session, x, batch_size)
    if got.shape != expected.shape:
        raise VerificationError(
            f"{onnx_path}: outputs of shape {got.shape}, torch gives {expected.shape}"
        )
    if not np.isfinite(got).all():
        raise VerificationError(f"{onnx_path}: non-finite outputs on the saved batch")
    return float(np.max(np.abs(got.astype(np.float64) - expected)))
