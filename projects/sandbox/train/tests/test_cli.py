import csv
import inspect
import logging
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from aframe.architectures import PreprocessingConfig, load_model
from aframe.ledger import EventSet, SignalScoreSet
from aframe.utils.config import read_typeo
from train.architectures import COMMANDS, resnet
from train.cli import main, train
from train.model import DetectorModule

ARCH = dict(layers=[1, 1], widths=[8, 16], norm_groups=4)


def rows(outdir):
    with open(outdir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_tiny_training_writes_every_artifact(tiny_args):
    path = train(**tiny_args, architecture=resnet(**ARCH))
    outdir = tiny_args["outdir"]
    assert path == outdir / "model.pt"
    model, config = load_model(outdir)
    assert config == PreprocessingConfig.load(outdir / "preprocessing.json")
    assert config.sample_rate == 256 and config.kernel_size == 256
    with h5py.File(outdir / "batch.hdf5") as f:
        x, y = torch.as_tensor(f["X"][:]), torch.as_tensor(f["y"][:])
    assert x.shape == (16, 2, 256) and y.shape == (16, 1)
    traced = torch.jit.load(str(outdir / "model.torchscript"))
    with torch.no_grad():
        torch.testing.assert_close(traced(x), model(x))
    table = rows(outdir)
    assert [int(float(r["epoch"])) for r in table] == [0, 1]
    assert {
        "train_loss",
        "valid_recall_per_hour",
        "valid_auroc",
        "train_samples_per_s",
    } <= set(table[0])
    # the selected network's validation pass, as the search would record it
    events = EventSet.read(outdir / "validation-background.hdf5")
    signals = SignalScoreSet.read(outdir / "validation-signals.hdf5")
    assert events.ifos == ["H1", "L1"]
    # 400 s of timeslide pairs at 2 Hz; each run loses its first output to
    # the 1 s (2-output) integration
    runs = len(np.unique(events.parameters["shift"][:, 1]))
    assert 400 - runs * 0.5 <= events.Tb < 400
    assert len(events) > 0 and np.isfinite(events.detection_statistic).all()
    # shifts are whole multiples of valid_shift, zero for H1
    shift = events.parameters["shift"]
    assert (shift[:, 0] == 0).all() and (shift[:, 1] >= 1).all()
    np.testing.assert_allclose(shift[:, 1], np.round(shift[:, 1]))
    assert len(signals) == 8
    assert ((signals.snr >= 4) & (signals.snr <= 30)).all()
    assert np.isfinite(signals.detection_statistic).all()
    assert signals.attrs["inference_sampling_rate"] == 2.0
    assert signals.attrs["cluster_window_length"] == 2.0
    assert (outdir / "config.yaml").exists()
    assert (outdir / "checkpoints" / "last.ckpt").exists()
    assert (outdir / "checkpoints" / "best.ckpt").exists()
    assert not list(outdir.glob(".*tmp*"))


def test_rerun_of_a_finished_training_does_nothing(tiny_args, caplog):
    train(**tiny_args, architecture=resnet(**ARCH))
    stamp = (tiny_args["outdir"] / "model.pt").stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="train"):
        train(**tiny_args, architecture=resnet(**ARCH))
    assert "nothing to do" in caplog.text
    assert (tiny_args["outdir"] / "model.pt").stat().st_mtime_ns == stamp
    # other arguments in the same directory: one clear error
    with pytest.raises(ValueError, match="lr: 0.002 → 0.01.*--force"):
        train(**(tiny_args | {"lr": 0.01}), architecture=resnet(**ARCH))


def test_same_seed_same_first_epoch_loss(tiny_args, tmp_path):
    first = train(**tiny_args, architecture=resnet(**ARCH)).parent
    second = train(
        **(tiny_args | {"outdir": tmp_path / "b"}), architecture=resnet(**ARCH)
    ).parent
    other = train(
        **(tiny_args | {"outdir": tmp_path / "c", "seed": 8}),
        architecture=resnet(**ARCH),
    ).parent
    assert rows(first)[0]["train_loss"] == rows(second)[0]["train_loss"]
    assert rows(first)[1]["valid_loss"] == rows(second)[1]["valid_loss"]
    assert rows(first)[0]["train_loss"] != rows(other)[0]["train_loss"]


def test_a_killed_training_resumes_on_the_same_trajectory(
    tiny_args, tmp_path, monkeypatch
):
    args = tiny_args | {"max_epochs": 3}
    reference = train(
        **(args | {"outdir": tmp_path / "straight"}), architecture=resnet(**ARCH)
    )

    def killed(self):
        if self.current_epoch == 1:
            raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(DetectorModule, "on_train_epoch_start", killed, raising=False)
        with pytest.raises(RuntimeError, match="killed"):
            train(**args, architecture=resnet(**ARCH))
    outdir = args["outdir"]
    assert not (outdir / "model.pt").exists()
    assert len(rows(outdir)) == 1
    train(**args, architecture=resnet(**ARCH))
    straight, resumed = rows(reference.parent), rows(outdir)
    assert len(resumed) == 3
    for a, b in zip(straight, resumed):
        for key in ("step", "train_loss", "lr", "valid_loss", "valid_auroc"):
            assert a[key] == b[key], key


def test_cli_bad_input_is_one_clear_error(tiny_args, capsys, tmp_path):
    argv = [
        "--background_dir",
        str(tiny_args["background_dir"]),
        "--signals",
        str(tmp_path / "missing.hdf5"),
        "--outdir",
        str(tmp_path / "out"),
        "--sample_rate",
        "256",
        "--kernel_length",
        "1",
        "--fduration",
        "0.5",
        "--psd_length",
        "2",
        "--fftlength",
        "0.5",
        "--highpass",
        "16",
        "--valid_length",
        "100",
        "--inference_sampling_rate",
        "2",
        "--integration_length",
        "1",
        "--cluster_window_length",
        "2",
        "--progress_bar",
        "false",
        "resnet",
        "--layers",
        "[1]",
        "--widths",
        "[8]",
    ]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "missing.hdf5: no such file" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "change, message",
    [
        ({"monitor": "valid_loss"}, "monitor must be one of"),
        ({"waveform_prob": 0.95, "swap_prob": 0.1}, "cannot be reached"),
        ({"max_snr": 5.0}, "max_snr"),
        ({"kernel_length": 1.001}, "kernel_length"),
        ({"valid_shift": 1.25}, "multiple"),
        ({"inference_sampling_rate": 3.0}, "does not divide"),
        ({"integration_length": 0.75}, "integration_length"),
        ({"cluster_window_length": 0.5}, "cluster_window_length"),
    ],
)
def test_bad_arguments_fail_before_training(tiny_args, change, message):
    with pytest.raises(ValueError, match=message):
        train(**(tiny_args | change), architecture=resnet(**ARCH))
    assert not (tiny_args["outdir"] / "checkpoints").exists()


@pytest.mark.parametrize("profile", ["default", "tiny", "clean", "full"])
def test_pipeline_table_fits_the_script(profile):
    pipeline = Path(__file__).resolve().parents[2] / "pyproject.toml"
    table = dict(read_typeo(pipeline, profile=profile)["scripts"]["train"])
    commands = table.pop("commands", {})
    # no argument the script lost (valid_stride, num_valid_views, …)
    assert set(table) <= set(inspect.signature(train).parameters)
    assert set(commands) <= set(COMMANDS)
    for name, kwargs in commands.items():
        assert set(kwargs) <= set(inspect.signature(COMMANDS[name]).parameters)
    # validation imitates the search the pipeline runs
    infer = read_typeo(pipeline, profile=profile)["scripts"]["infer"]
    for key in (
        "inference_sampling_rate",
        "integration_length",
        "cluster_window_length",
    ):
        assert table[key] == infer[key], key


def test_a_short_held_out_piece_does_not_stop_training(tiny_args):
    # 202 s held out: the last 200 s file and the last 2 s of the 300 s file
    args = tiny_args | {"valid_length": 202.0, "max_epochs": 1}
    assert train(**args, architecture=resnet(**ARCH)).exists()
