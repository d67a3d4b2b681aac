"""Reading an exported model: the latest complete version, or a clear error."""

import json

import pytest

from export.repository import RepositoryError, is_complete, read_exported_model


def make_version(repo, version, complete=True, metadata=None):
    vdir = repo / "aframe" / str(version)
    vdir.mkdir(parents=True)
    (vdir / "model.onnx").write_bytes(b"onnx")
    (vdir / "preprocessing.json").write_text("{}")
    meta = {
        "input_name": "whitened",
        "output_name": "discriminator",
        "batch_size": 8,
        "num_ifos": 2,
        "kernel_size": 512,
        "ifos": ["H1", "L1"],
        "sample_rate": 512.0,
        "onnx_sha256": f"{version:064d}",
    }
    (vdir / "metadata.json").write_text(json.dumps(metadata or meta))
    if complete:
        (vdir / "export-report.json").write_text(json.dumps({"max_abs_diff": 0.0}))
    return vdir


def test_latest_complete_version(tmp_path):
    make_version(tmp_path, 1)
    make_version(tmp_path, 2)
    make_version(tmp_path, 3, complete=False)
    model = read_exported_model(tmp_path)
    assert model.version == 2
    assert model.input_shape == (8, 2, 512)
    assert model.key == "aframe-v2-000000000000"
    assert not is_complete(tmp_path / "aframe" / "3")
    with pytest.raises(RepositoryError, match="version 3 is not a complete export"):
        read_exported_model(tmp_path, version=3)


def test_missing_repository_and_models(tmp_path):
    with pytest.raises(RepositoryError, match="no such model repository"):
        read_exported_model(tmp_path / "nowhere")
    with pytest.raises(RepositoryError, match="no complete export of model 'aframe'"):
        read_exported_model(tmp_path)


def test_incomplete_metadata(tmp_path):
    make_version(tmp_path, 1, metadata={"input_name": "whitened"})
    with pytest.raises(RepositoryError, match="field 'output_name' missing"):
        read_exported_model(tmp_path)
