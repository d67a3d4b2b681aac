"""Comparing an ONNX network with torch on any number of kernels."""

import h5py
import numpy as np
import onnxruntime as ort
import pytest

from aframe.architectures import ResNet1D
from export.exporter import export_network
from export.verify import (
    VerificationError,
    max_abs_difference,
    read_saved_batch,
    run_onnx,
)


def test_fixed_batch_runs_any_count(tmp_path, config):
    config.save(tmp_path / "p.json")
    net = ResNet1D(2, layers=[1], widths=[4]).eval()
    x = (
        np.random.default_rng(0)
        .standard_normal((11, 2, config.kernel_size))
        .astype(np.float32)
    )
    vdir = export_network(net, tmp_path / "p.json", x, tmp_path / "repo", batch_size=4)
    session = ort.InferenceSession(
        str(vdir / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    out = run_onnx(session, x, 4)
    assert out.shape == (11, 1)
    # each kernel alone gives the same output as within any batch (to the
    # float32 rounding of a differently blocked convolution)
    np.testing.assert_allclose(
        run_onnx(session, x[5:6], 4), out[5:6], rtol=1e-5, atol=1e-6
    )
    assert max_abs_difference(net, vdir / "model.onnx", x, 4) <= 1e-5


def test_saved_batch_errors(tmp_path):
    with pytest.raises(VerificationError, match="no such file"):
        read_saved_batch(tmp_path / "batch.hdf5")
    with h5py.File(tmp_path / "batch.hdf5", "w") as f:
        f["y"] = np.zeros(3)
    with pytest.raises(VerificationError, match="dataset X missing"):
        read_saved_batch(tmp_path / "batch.hdf5")
    with h5py.File(tmp_path / "flat.hdf5", "w") as f:
        f["X"] = np.zeros((3, 4))
    with pytest.raises(
        VerificationError, match="expected \\(batch, ifo, kernel_size\\)"
    ):
        read_saved_batch(tmp_path / "flat.hdf5")
