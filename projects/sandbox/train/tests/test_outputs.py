import pytest
import torch

from train.outputs import (
    VALIDATION_BACKGROUND_FILE,
    VALIDATION_SIGNALS_FILE,
    TrainingConfigError,
    clear,
    normalise,
    previous_state,
    write_config,
)


def test_previous_state(tmp_path):
    config = {"lr": 0.01, "outdir": tmp_path, "layers": (1, 2), "max_time": 20.0}
    assert previous_state(tmp_path, config) == "fresh"
    write_config(tmp_path, config)
    assert previous_state(tmp_path, config) == "fresh"
    (tmp_path / "checkpoints").mkdir()
    torch.save(
        {"state_dict": {"w": torch.ones(3)}}, tmp_path / "checkpoints" / "last.ckpt"
    )
    assert previous_state(tmp_path, config) == "resume"
    # a longer time budget is no reason to start over
    assert previous_state(tmp_path, config | {"max_time": 40.0}) == "resume"
    with pytest.raises(TrainingConfigError, match="lr: 0.01 → 0.02"):
        previous_state(tmp_path, config | {"lr": 0.02})
    clear(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_outputs_without_config_are_not_guessed(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"")
    with pytest.raises(TrainingConfigError, match="no config.yaml.*--force"):
        previous_state(tmp_path, {"lr": 1.0})


def test_normalise_is_what_yaml_gives_back(tmp_path):
    assert normalise({"a": (1, 2), "p": tmp_path, "n": None}) == {
        "a": [1, 2],
        "p": str(tmp_path),
        "n": None,
    }


def test_clear_removes_the_validation_records(tmp_path):
    for name in (VALIDATION_BACKGROUND_FILE, VALIDATION_SIGNALS_FILE):
        (tmp_path / name).write_bytes(b"")
    clear(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_last_checkpoint_starts_afresh(tmp_path, caplog):
    # a disk that filled while last.ckpt was written leaves half an archive:
    # resuming from it would fail on every run until someone deleted it
    config = {"lr": 0.01, "outdir": tmp_path}
    write_config(tmp_path, config)
    (tmp_path / "checkpoints").mkdir()
    last = tmp_path / "checkpoints" / "last.ckpt"
    torch.save({"state_dict": {"w": torch.ones(1000)}}, last)
    whole = last.read_bytes()
    last.write_bytes(whole[: len(whole) // 2])
    assert previous_state(tmp_path, config) == "fresh"
    assert not last.exists()
    assert "last.ckpt is unreadable" in caplog.text
