"""The one export path: verification gates the version, failures leave nothing."""

import numpy as np
import pytest
import torch

from aframe.architectures import Preprocessor
from aframe.search.repository import RepositoryError, read_exported_model
from export.exporter import ExportError, export_network, remove_incomplete
from export.verify import VerificationError


class Branchy(torch.nn.Module):
    """Takes a Python branch on the input's size: tracing freezes one branch."""

    def forward(self, x):
        out = x.square().mean(dim=(1, 2)).unsqueeze(-1)
        if float(x.abs().max()) > 50:
            return -out
        return out


def batch(config, n=12, scale=1.0):
    rng = np.random.default_rng(0)
    return (scale * rng.standard_normal((n, 2, config.kernel_size))).astype(np.float32)


@pytest.fixture
def preprocessing(tmp_path, config):
    path = tmp_path / "preprocessing.json"
    config.save(path)
    return path


def test_an_onnx_network_that_disagrees_with_torch_is_not_kept(
    tmp_path, config, preprocessing
):
    repo = tmp_path / "repo"
    export_network(Branchy(), preprocessing, batch(config), repo, batch_size=4)
    with pytest.raises(VerificationError, match="differ by up to .*tolerance 0.0001"):
        export_network(
            Branchy(), preprocessing, batch(config, scale=100.0), repo, batch_size=4
        )
    # version 2 failed and left nothing; version 1 stays the one to use
    assert not (repo / "aframe" / "2").exists()
    assert read_exported_model(repo).version == 1


def test_batch_shape_must_fit_the_preprocessing(tmp_path, config, preprocessing):
    x = np.zeros((4, 2, config.kernel_size + 1), np.float32)
    with pytest.raises(ExportError, match="gives kernels of shape \\(2, 512\\)"):
        export_network(Branchy(), preprocessing, x, tmp_path / "repo")


def test_reexport_with_another_batch_size_needs_clean(tmp_path, config, preprocessing):
    repo = tmp_path / "repo"
    export_network(Branchy(), preprocessing, batch(config), repo, batch_size=4)
    with pytest.raises(RepositoryError, match="re-export with clean"):
        export_network(Branchy(), preprocessing, batch(config), repo, batch_size=8)
    assert not (repo / "aframe" / "2").exists()
    export_network(
        Branchy(), preprocessing, batch(config), repo, batch_size=8, clean=True
    )
    assert read_exported_model(repo).batch_size == 8


def test_leftovers_of_a_killed_export_are_removed(tmp_path, config, preprocessing):
    repo = tmp_path / "repo"
    export_network(Branchy(), preprocessing, batch(config), repo, batch_size=4)
    (repo / "aframe" / "2").mkdir()
    (repo / "aframe" / "2" / "model.onnx").write_bytes(b"half written")
    (repo / "aframe-trt" / "1").mkdir(parents=True)  # no config.pbtxt
    remove_incomplete(repo)
    assert not (repo / "aframe" / "2").exists()
    assert not (repo / "aframe-trt").exists()
    vdir = export_network(Branchy(), preprocessing, batch(config), repo, batch_size=4)
    # the same network again: its complete version is reused
    assert vdir.name == "1"


def test_whitened_kernels_of_noise_pass(tmp_path, config, preprocessing):
    rng = np.random.default_rng(1)
    x = 1e-21 * rng.standard_normal((6, 2, config.sample_size))
    with torch.no_grad():
        kernels = Preprocessor(config)(torch.from_numpy(x)).numpy()
    vdir = export_network(
        Branchy(), preprocessing, kernels, tmp_path / "repo", batch_size=4
    )
    assert (vdir / "export-report.json").is_file()
