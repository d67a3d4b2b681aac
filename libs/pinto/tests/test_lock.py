"""One run at a time per BASE_DIR/profile and DATA_DIR/profile."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from aframe.pinto.lock import RunLock, holder_of


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


def test_a_second_run_exits_at_once_naming_the_first(sandbox):
    block = sandbox.root / "block"
    block.write_text("")
    sandbox.edit("epochs = 2", f'epochs = 2\nblock_while = "{block}"')
    first = subprocess.Popen(
        [sys.executable, "-m", "aframe.pinto", "run"],
        cwd=sandbox.root,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: len(sandbox.calls()) == 2)
        started = time.monotonic()
        code, out = sandbox.run("run")
        elapsed = time.monotonic() - started
        assert code == 3, out
        assert f"pid {first.pid} on host {socket.gethostname()}" in out
        assert "is in use by another pinto run" in out
        assert elapsed < 30
        # the second run touched nothing: no step ran twice, no log replaced
        assert sandbox.called() == ["make-data", "train"]
        _, listed = sandbox.run("list")
        assert f"running now in {sandbox.base / 'default'}: pid {first.pid}" in listed
    finally:
        block.unlink()
        first.wait(timeout=60)
    assert first.returncode == 0
    assert sandbox.called() == ["make-data", "train", "analyse"]
    assert holder_of(sandbox.base / "default") is None


def test_the_data_folder_is_locked_too(sandbox, tmp_path):
    # another experiment (BASE_DIR) on the same data folder must wait as well
    lock = RunLock(sandbox.data / "default" / ".pinto" / "lock", "DATA_DIR/default")
    lock.acquire()
    try:
        os.environ["BASE_DIR"] = str(tmp_path / "other-experiment")
        code, out = sandbox.run("run")
        assert code == 3
        assert "DATA_DIR/default" in out and f"pid {os.getpid()}" in out
        assert sandbox.called() == []
    finally:
        lock.release()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_stale_lock_of_a_dead_run_is_taken_over_with_a_warning(sandbox):
    path = sandbox.base / "default" / ".pinto" / "lock"
    path.parent.mkdir(parents=True)
    pid = _dead_pid()
    record = {"pid": pid, "host": socket.gethostname(), "started": "2024-01-01T00:00"}
    path.write_text(json.dumps(record))
    code, out = sandbox.run("run")
    assert code == 0, out
    assert (
        f"taking over the lock of a run that ended without releasing it (pid {pid}"
        in out
    )
    assert sandbox.called() == ["make-data", "train", "analyse"]
    # released when the run ends
    assert path.read_text().strip() == ""


def test_a_lock_record_from_another_host_is_not_taken_over(sandbox):
    path = sandbox.base / "default" / ".pinto" / "lock"
    path.parent.mkdir(parents=True)
    record = {"pid": 1, "host": "elsewhere.example", "started": "2024-01-01T00:00"}
    path.write_text(json.dumps(record))
    code, out = sandbox.run("run")
    assert code == 3
    assert "names a run on another host" in out and "elsewhere.example" in out
    assert "delete the file" in out
    assert sandbox.called() == []


def test_dry_run_and_list_take_no_lock(sandbox):
    lock = RunLock(sandbox.base / "default" / ".pinto" / "lock", "BASE_DIR/default")
    lock.acquire()
    try:
        assert sandbox.run("run", "--dry-run")[0] == 0
        assert sandbox.run("list")[0] == 0
    finally:
        lock.release()
    assert not Path(lock.path).read_text().strip()
