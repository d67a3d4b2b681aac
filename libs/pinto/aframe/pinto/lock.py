"""Run locks: one ``pinto run`` at a time per experiment and per data folder.

``pinto run`` holds ``<basedir>/.pinto/lock`` and ``<datadir>/.pinto/lock``
(BASE_DIR/profile and DATA_DIR/profile) while it runs: an exclusive
``flock`` on the file, which also records who holds it (pid, host, start
time, command). A second run finds the lock taken, says who holds it and
exits at once. The kernel drops a ``flock`` when its process dies, however it
dies, so a run killed with SIGKILL leaves a file whose record names a dead
process; the next run takes it over with a warning. A record from another
host whose lock is free is not taken over silently: that host may not share
the lock (some network filesystems), so the message says how to clear it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aframe.pinto.pipeline import PintoError

logger = logging.getLogger(__name__)

LOCK_FILE = "lock"


class LockError(PintoError):
    """Another run holds the lock."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(holder: dict[str, Any]) -> str:
    """``pid 123 on host h since 2024-01-01 10:00:00 UTC (pinto run)``."""
    since = str(holder.get("started", "?")).replace("T", " ").replace("+00:00", "")
    command = holder.get("command")
    text = (
        f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')} "
        f"since {since} UTC"
    )
    return f"{text} ({command})" if command else text


def read_holder(path: Path) -> dict[str, Any] | None:
    """The record in a lock file, or None when it is empty or unreadable."""
    try:
        text = path.read_text()
    except OSError:
        return None
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


@dataclass
class RunLock:
    """An exclusive lock on one directory, held through an open file.

    Args:
        path: the lock file
        label: what it guards, for messages (e.g. ``BASE_DIR/tiny``)
    """

    path: Path
    label: str
    _file: Any = None

    def acquire(self) -> None:
        """Take the lock or raise ``LockError`` naming its holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            f.close()
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = read_holder(self.path) or {}
            raise LockError(
                f"{self.label} ({self.path.parent.parent}) is in use by another "
                f"pinto run: {describe(holder)}; wait for it to finish or stop it"
            ) from None
        previous = read_holder(self.path)
        host = socket.gethostname()
        if previous is not None and previous.get("pid") != os.getpid():
            if previous.get("host") not in (None, host):
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
                f.close()
                raise LockError(
                    f"{self.label}: {self.path} names a run on another host, "
                    f"{describe(previous)}; if that run is over, delete the file"
                )
            pid = previous.get("pid")
            if isinstance(pid, int) and _alive(pid) and pid != os.getpid():
                # alive but not holding it: a run that lost its lock (e.g. a
                # filesystem without flock); do not run beside it
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
                f.close()
                raise LockError(
                    f"{self.label} is in use by another pinto run: {describe(previous)}"
                )
            logger.warning(
                "%s: taking over the lock of a run that ended without releasing "
                "it (%s)",
                self.label,
                describe(previous),
            )
        record = {
            "pid": os.getpid(),
            "host": host,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(["pinto", *sys.argv[1:]])[:300],
        }
        f.seek(0)
        f.truncate()
        f.write(json.dumps(record) + "\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        """Empty the record and drop the lock."""
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.seek(0)
            self._file.truncate()
            self._file.flush()
        with contextlib.suppress(OSError):
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None


def lock_paths(directories: list[tuple[str, Path]]) -> list[RunLock]:
    """One lock per distinct directory, in a fixed order (no deadlock).

    Args:
        directories: (label, directory) pairs, e.g. ``("BASE_DIR/tiny", basedir)``

    Returns:
        the locks, not yet taken
    """
    seen, locks = set(), []
    for label, directory in sorted(directories, key=lambda item: str(item[1])):
        key = str(Path(directory).resolve())
        if key in seen:
            continue
        seen.add(key)
        locks.append(RunLock(Path(directory) / ".pinto" / LOCK_FILE, label))
    return locks


@contextlib.contextmanager
def run_locks(directories: list[tuple[str, Path]]) -> Iterator[list[RunLock]]:
    """Hold the locks of every directory for the duration of a run.

    Args:
        directories: (label, directory) pairs

    Yields:
        the held locks
    """
    locks = lock_paths(directories)
    held = []
    try:
        for lock in locks:
            lock.acquire()
            held.append(lock)
        yield held
    finally:
        for lock in reversed(held):
            lock.release()


def holder_of(directory: Path) -> dict[str, Any] | None:
    """Who holds a directory's lock now (None: nobody).

    Args:
        directory: basedir or datadir

    Returns:
        the holder's record, when the lock is held
    """
    path = Path(directory) / ".pinto" / LOCK_FILE
    if not path.exists():
        return None
    try:
        with open(path) as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return read_holder(path) or {}
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    except OSError:
        return None
    return None
