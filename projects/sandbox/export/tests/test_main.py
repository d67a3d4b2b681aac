"""export-model writes a verified, versioned Triton repository."""

import json

import h5py
import numpy as np
import onnxruntime as ort
import pytest
import torch

from aframe.architectures import PreprocessingConfig, load_model
from aframe.search.repository import read_exported_model
from export.exporter import ExportError
from export.main import export_model, main


def test_export_writes_the_repository(basedir, config):
    vdir = export_model(basedir, inference_batch_size=8)
    repo = basedir / "model_repo"
    assert vdir == repo / "aframe" / "1"
    assert sorted(p.name for p in repo.iterdir()) == ["aframe"]  # no TensorRT here
    pbtxt = (repo / "aframe" / "config.pbtxt").read_text()
    assert 'platform: "onnxruntime_onnx"' in pbtxt
    assert 'name: "whitened"' in pbtxt and 'name: "discriminator"' in pbtxt

    model = read_exported_model(repo)
    assert model.version == 1
    assert model.input_shape == (8, 2, config.kernel_size)
    assert PreprocessingConfig.load(model.preprocessing_path) == config
    assert model.metadata["ifos"] == ["H1", "L1"]
    assert model.metadata["training_dir"] == str((basedir / "training").resolve())
    assert len(model.metadata["weights_sha256"]) == 64
    assert model.report["passed"] and model.report["num_kernels_checked"] == 40


def test_exported_onnx_equals_torch_on_the_saved_batch(basedir):
    export_model(basedir, inference_batch_size=16)
    model = read_exported_model(basedir / "model_repo")
    net, _ = load_model(basedir / "training")
    with h5py.File(basedir / "training" / "batch.hdf5") as f:
        x = f["X"][()].astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()

    session = ort.InferenceSession(
        str(model.onnx_path), providers=["CPUExecutionProvider"]
    )
    got = []
    for start in range(0, len(x), 16):
        chunk = x[start : start + 16]
        padded = np.concatenate(
            [chunk, np.zeros((16 - len(chunk), *x.shape[1:]), np.float32)]
        )
        got.append(session.run(None, {"whitened": padded})[0][: len(chunk)])
    diff = np.max(np.abs(np.concatenate(got) - expected))
    assert diff <= 1e-4
    assert model.report["max_abs_diff"] == pytest.approx(diff, abs=1e-6)
    assert model.report["max_abs_diff"] <= model.report["tolerance"] == 1e-4


def versions(repo):
    return sorted(p.name for p in (repo / "aframe").iterdir() if p.is_dir())


def test_an_identical_reexport_reuses_its_version(basedir):
    first = export_model(basedir, inference_batch_size=8)
    report = (first / "export-report.json").stat().st_mtime_ns
    again = export_model(basedir, inference_batch_size=8)
    repo = basedir / "model_repo"
    assert again == first and versions(repo) == ["1"]
    # untouched: what infer reads (and pinto fingerprints) did not change
    assert (first / "export-report.json").stat().st_mtime_ns == report


def test_a_new_network_adds_a_version_and_clean_restarts(basedir):
    from aframe.architectures import MODEL_FILE, read_model_file, save_model

    export_model(basedir, inference_batch_size=8)
    net, config = load_model(basedir / "training")
    payload = read_model_file(basedir / "training")
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01)
    save_model(
        basedir / "training" / MODEL_FILE,
        net,
        payload["architecture"],
        payload["kwargs"],
        config,
        payload.get("metadata", {}),
    )
    export_model(basedir, inference_batch_size=8)
    repo = basedir / "model_repo"
    assert versions(repo) == ["1", "2"]
    assert read_exported_model(repo).version == 2
    assert read_exported_model(repo, version=1).version == 1
    export_model(basedir, inference_batch_size=8, clean=True)
    assert versions(repo) == ["1"]


def test_missing_training_directory(tmp_path):
    with pytest.raises(ExportError, match="no such training directory"):
        export_model(tmp_path)


def test_missing_model_file(basedir):
    (basedir / "training" / "model.pt").unlink()
    with pytest.raises(ExportError, match="model.pt missing"):
        export_model(basedir)


def test_corrupt_model_file(basedir):
    (basedir / "training" / "model.pt").write_bytes(b"not a model")
    with pytest.raises(ExportError, match="cannot load the trained model"):
        export_model(basedir)
    assert not (basedir / "model_repo").exists()


def test_cli_exports_and_reports_errors(basedir, tmp_path, capfd):
    main(["--basedir", str(basedir), "--inference_batch_size", "4"])
    model = read_exported_model(basedir / "model_repo")
    assert model.batch_size == 4
    report = json.loads((model.onnx_path.parent / "export-report.json").read_text())
    assert report["max_abs_diff"] <= 1e-4

    with pytest.raises(SystemExit) as exit_info:
        main(["--basedir", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 1
    err = capfd.readouterr().err
    assert "no such training directory" in err and "Traceback" not in err


@pytest.mark.parametrize("profile", ["default", "tiny", "full"])
def test_pipeline_table_fits_the_script(profile):
    import inspect
    from pathlib import Path

    from aframe.utils.config import read_typeo

    pipeline = Path(__file__).resolve().parents[2] / "pyproject.toml"
    table = read_typeo(pipeline, profile=profile)["scripts"]["export-model"]
    assert set(table) <= set(inspect.signature(export_model).parameters)
    assert table["inference_batch_size"] == 128
