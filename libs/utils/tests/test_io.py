import errno
import os
import stat

import h5py
import numpy as np
import pytest

from aframe.utils.io import (
    ArtifactError,
    atomic_dir,
    atomic_h5,
    atomic_path,
    checkpoint_problem,
    ensure_writable_dir,
    open_h5,
    resumable_checkpoint,
)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_atomic_h5_writes_a_complete_file(tmp_path):
    path = tmp_path / "out" / "events.hdf5"
    with atomic_h5(path) as f:
        f["x"] = np.arange(5)
        f.attrs["Tb"] = 10.0
        # nothing appears under the final name until the block ends
        assert not path.exists()
    with h5py.File(path) as f:
        np.testing.assert_array_equal(f["x"][:], np.arange(5))
        assert f.attrs["Tb"] == 10.0
    assert [p.name for p in path.parent.iterdir()] == ["events.hdf5"]
    # permissions as any new file gets, not mkstemp's private 0600
    assert _mode(path) == 0o666 & ~_umask()


def test_atomic_h5_leaves_nothing_on_exception(tmp_path):
    path = tmp_path / "events.hdf5"
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_h5(path) as f:
            f["x"] = np.arange(5)
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_h5_keeps_the_previous_artifact_on_failure(tmp_path):
    path = tmp_path / "events.hdf5"
    with atomic_h5(path) as f:
        f["x"] = np.ones(3)
    with pytest.raises(KeyboardInterrupt):
        with atomic_h5(path) as f:
            f["x"] = np.zeros(3)
            raise KeyboardInterrupt
    with h5py.File(path) as f:
        np.testing.assert_array_equal(f["x"][:], np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["events.hdf5"]


def test_atomic_path_names_the_artifact_when_the_disk_is_full(tmp_path):
    path = tmp_path / "big.npy"
    with pytest.raises(ArtifactError, match=f"{path}: disk full while writing"):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_only_when_complete(tmp_path):
    path = tmp_path / "model_repo"
    with atomic_dir(path) as tmp:
        (tmp / "config.pbtxt").write_text("first")
    assert (path / "config.pbtxt").read_text() == "first"
    assert _mode(path) == 0o777 & ~_umask()

    with pytest.raises(ValueError):
        with atomic_dir(path) as tmp:
            (tmp / "config.pbtxt").write_text("broken")
            raise ValueError("export failed")
    assert (path / "config.pbtxt").read_text() == "first"

    with atomic_dir(path) as tmp:
        (tmp / "model.onnx").write_text("second")
    assert sorted(p.name for p in path.iterdir()) == ["model.onnx"]
    assert [p.name for p in tmp_path.iterdir()] == ["model_repo"]


def test_atomic_dir_survives_a_stale_old_directory(tmp_path):
    path = tmp_path / "training"
    with atomic_dir(path) as tmp:
        (tmp / "a").write_text("1")
    # what a run killed between the two renames leaves behind
    stale = tmp_path / f".training.old-{os.getpid()}"
    stale.mkdir()
    (stale / "junk").write_text("junk")
    with atomic_dir(path) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in path.iterdir()) == ["b"]
    assert not stale.exists()


def test_ensure_writable_dir_creates_nested_directories(tmp_path):
    path = ensure_writable_dir(tmp_path / "a" / "b" / "c")
    assert path.is_dir()
    assert ensure_writable_dir(path) == path


def test_ensure_writable_dir_errors_name_the_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ArtifactError, match=f"{blocker}/sub: cannot create directory"):
        ensure_writable_dir(blocker / "sub")
    with pytest.raises(ArtifactError, match=r"MiB free, \d+ MiB needed"):
        ensure_writable_dir(tmp_path, min_free_bytes=2**62)


def test_ensure_writable_dir_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ensure_writable_dir("~/results") == tmp_path / "results"


def test_open_h5_names_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ArtifactError, match="no such file"):
        open_h5(tmp_path / "missing.hdf5")
    corrupt = tmp_path / "corrupt.hdf5"
    corrupt.write_text("not hdf5")
    with pytest.raises(ArtifactError, match=f"{corrupt}: not a readable HDF5 file"):
        open_h5(corrupt)
    good = tmp_path / "good.hdf5"
    with atomic_h5(good) as f:
        f["x"] = [1, 2]
    with open_h5(good) as f:
        assert list(f["x"][:]) == [1, 2]


def test_a_truncated_checkpoint_is_never_resumed_from(tmp_path, caplog):
    torch = pytest.importorskip("torch")
    last = tmp_path / "checkpoints" / "last.ckpt"
    last.parent.mkdir()
    torch.save({"state_dict": {"w": torch.arange(1000.0)}, "epoch": 3}, last)
    assert checkpoint_problem(last) is None
    assert resumable_checkpoint(last) == last
    # cut short as a full disk leaves it
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError):
        torch.load(last, weights_only=True)
    assert "not a complete checkpoint" in checkpoint_problem(last)
    assert resumable_checkpoint(last) is None
    assert not last.exists()
    assert len(list(last.parent.glob("last.ckpt.corrupt-*"))) == 1
    assert "not resuming from it" in caplog.text
    assert resumable_checkpoint(last) is None  # nothing there now


def test_a_checkpoint_with_a_corrupt_record_is_found(tmp_path):
    torch = pytest.importorskip("torch")
    last = tmp_path / "last.ckpt"
    torch.save({"w": torch.ones(4096)}, last)
    data = bytearray(last.read_bytes())
    # flip bytes inside the tensor's record, keeping the archive's length
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(16)
    last.write_bytes(bytes(data))
    assert checkpoint_problem(last) is not None
