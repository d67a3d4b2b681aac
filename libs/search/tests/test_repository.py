"""Reading an exported model: the latest complete version, or a clear error."""

import json

import pytest

from aframe.architectures import PreprocessingConfig
from aframe.search.repository import (
    RepositoryError,
    is_complete,
    mark_complete,
    read_exported_model,
    read_model_for_ifos,
    sha256,
    version_metadata,
    write_version_files,
)


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


def test_a_written_version_is_complete_only_once_marked(tmp_path, config):
    vdir = tmp_path / "repo" / "aframe" / "1"
    vdir.mkdir(parents=True)
    (vdir / "model.onnx").write_bytes(b"onnx")
    config.save(tmp_path / "preprocessing.json")
    metadata = version_metadata(vdir / "model.onnx", config, "aframe", 1, 8)
    write_version_files(vdir, tmp_path / "preprocessing.json", metadata)
    with pytest.raises(RepositoryError, match="no complete export"):
        read_exported_model(tmp_path / "repo")
    mark_complete(vdir, {"max_abs_diff": 0.0})
    model = read_exported_model(tmp_path / "repo")
    assert model.input_shape == (8, 2, config.kernel_size)
    assert (model.input_name, model.output_name) == ("whitened", "discriminator")
    assert model.ifos == ["H1", "L1"] and model.sample_rate == config.sample_rate
    assert model.metadata["onnx_sha256"] == sha256(vdir / "model.onnx")
    assert PreprocessingConfig.load(model.preprocessing_path) == config


def test_metadata_without_the_contract_fields_is_refused(tmp_path, config):
    config.save(tmp_path / "preprocessing.json")
    with pytest.raises(RepositoryError, match="fields \\['output_name'"):
        write_version_files(
            tmp_path, tmp_path / "preprocessing.json", {"input_name": "whitened"}
        )


def test_a_model_for_other_ifos_is_refused(endpower_model, config):
    repository = endpower_model.repository
    model, loaded = read_model_for_ifos(repository, ["H1", "L1"])
    assert model == endpower_model
    assert loaded == config
    with pytest.raises(ValueError, match=r"ifos \['L1', 'H1'\] given"):
        read_model_for_ifos(repository, ["L1", "H1"])
