"""Bad inputs end infer with one line naming the file and the problem."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from aframe.ledger import LedgerError
from aframe.search.repository import RepositoryError
from infer.main import InferError, main


def cli_args(basedir, datadir, repository) -> list[str]:
    return [
        "--basedir", str(basedir), "--datadir", str(datadir),
        "--repository_dir", str(repository),
        "--ifos", '["H1", "L1"]', "--inference_sampling_rate", "4",
        "--Tb", "100", "--shift_step", "1", "--num_workers", "1",
        "--integration_length", "0.5", "--cluster_window_length", "4",
    ]  # fmt: skip


def one_line_error(capfd, args) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if " ERROR: " in line]
    assert len(errors) == 1, err
    return errors[0]


def copy_data(sandbox, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sandbox, data)
    return data


@pytest.mark.parametrize("Tb", [0.0, -5.0])
def test_tb_must_be_positive(tmp_path, sandbox, endpower_model, run_infer, Tb):
    with pytest.raises(InferError, match=f"Tb must be positive, got {Tb} s"):
        run_infer(tmp_path, sandbox, endpower_model.repository, Tb=Tb)


def test_a_waveform_file_missing_a_detector(tmp_path, sandbox, endpower_model, capfd):
    data = copy_data(sandbox, tmp_path)
    with h5py.File(data / "test" / "waveforms.hdf5", "r+") as f:
        del f["waveforms/L1"]
    line = one_line_error(capfd, cli_args(tmp_path, data, endpower_model.repository))
    assert "waveforms.hdf5: waveforms/L1 missing" in line


def test_nan_in_injection_waveforms_is_an_error(
    tmp_path, sandbox, endpower_model, run_infer
):
    data = copy_data(sandbox, tmp_path)
    with h5py.File(data / "test" / "waveforms.hdf5", "r+") as f:
        f["waveforms/H1"][3, 100] = np.nan
    with pytest.raises(
        LedgerError,
        match="waveforms.hdf5: waveforms/H1 has a non-finite value in record 3",
    ):
        run_infer(tmp_path, data, endpower_model.repository)


def test_a_truncated_onnx_file_is_one_line(tmp_path, sandbox, endpower_model, capfd):
    repository = tmp_path / "model_repo"
    shutil.copytree(endpower_model.repository, repository)
    onnx = next(repository.glob("*/*/model.onnx"))
    onnx.write_bytes(onnx.read_bytes()[:100])
    line = one_line_error(capfd, cli_args(tmp_path, sandbox, repository))
    assert f"{onnx}: onnxruntime cannot load it" in line
    with pytest.raises(RepositoryError):
        from aframe.search.backends import make_backend
        from aframe.search.repository import read_exported_model

        make_backend("local", read_exported_model(repository))


def test_force_redoes_every_job(local_run, sandbox, endpower_model, run_infer):
    basedir, _ = local_run
    jobs = basedir / "infer" / "tmp" / "jobs"
    before = {p.parent.name: p.stat().st_mtime_ns for p in jobs.glob("*/summary.json")}
    run_infer(basedir, sandbox, endpower_model.repository, force=True)
    after = {p.parent.name: p.stat().st_mtime_ns for p in jobs.glob("*/summary.json")}
    assert before.keys() == after.keys()
    assert all(after[k] != before[k] for k in before)
