"""A full disk while pinto writes its log or its records: one line, no traceback.

On a small tmpfs when this machine lets the tests mount one (root on Linux),
and by making writes fail with ENOSPC otherwise.
"""

import errno
import os
import subprocess
from pathlib import Path

import pytest

from aframe.pinto import execute, runner


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
    )
    return result.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB filesystem, unmounted after the test."""
    mount = tmp_path / "small-disk"
    if not _mount_tmpfs(mount, "512k"):
        pytest.skip("cannot mount a tmpfs here (needs root on Linux)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_under_basedir_is_one_line_then_the_run_finishes(
    sandbox, small_disk
):
    os.environ["BASE_DIR"] = str(small_disk)
    sandbox.edit("min_free_gib = 0.001", "min_free_gib = 0.0001")
    # the train step prints ~1 MiB: its log cannot fit
    sandbox.edit("epochs = 2", "epochs = 2\nnoise_kib = 1024")
    code, out = sandbox.run("run")
    assert "Traceback" not in out
    assert "No space left on device" in out
    assert code in (0, 1)
    problems = [line for line in out.splitlines() if "No space left" in line]
    assert len(problems) <= 2, problems
    # free the space (the log) and run again: it finishes
    for log in (small_disk / "default" / "logs").glob("*.log"):
        log.unlink()
    sandbox.edit("noise_kib = 1024", "noise_kib = 0")
    code, out = sandbox.run("run")
    assert code == 0, out
    assert (small_disk / "default" / ".pinto" / "analyse.json").exists()


def test_a_log_that_cannot_be_written_does_not_stop_the_step(sandbox, monkeypatch):
    class FullDisk:
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            pass

        def close(self):
            pass

    original = execute.LogWriter.__init__

    def init(self, path):
        original(self, path)
        if path.name == "train.log":
            self.file = FullDisk()

    monkeypatch.setattr(execute.LogWriter, "__init__", init)
    code, out = sandbox.run("run")
    assert code == 0, out
    assert "Traceback" not in out
    warning = [line for line in out.splitlines() if line.startswith("warning: log")]
    assert warning == [
        f"warning: log {sandbox.log('train')} is incomplete: No space left on device"
    ]
    assert sandbox.called() == ["make-data", "train", "analyse"]


def test_a_stamp_that_cannot_be_written_is_one_line(sandbox, monkeypatch):
    from aframe.utils.io import ArtifactError

    def full(path, record):
        raise ArtifactError(f"{path}: disk full while writing")

    monkeypatch.setattr(runner, "write_stamp", full)
    code, out = sandbox.run("run", "make-data")
    assert code == 1
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("pinto: error")]
    assert len(errors) == 1 and "disk full while writing" in errors[0]
