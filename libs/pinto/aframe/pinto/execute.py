"""Run one step: stream its output to the terminal and write all of it to a log.

The terminal gets the output byte for byte (progress bars animate); the log
gets it as a terminal would finally show it: a line redrawn with carriage
returns keeps only its last state, so logs hold no progress-bar frames. A log
that cannot be written (a full disk) never stops the step: the step goes on
on the terminal and the problem is reported in one line.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_PR_SET_PDEATHSIG = 1


@dataclass
class StepResult:
    """How a step's process ended.

    Args:
        exit_code: the process's exit status (negative: killed by that signal)
        started: start time, ISO 8601 UTC
        finished: end time, ISO 8601 UTC
        wall_seconds: elapsed time, in seconds
        log_error: why the log is incomplete (e.g. the disk is full), or None
    """

    exit_code: int
    started: str
    finished: str
    wall_seconds: float
    log_error: str | None = None


class LogWriter:
    """A step's log: final line states only, and never an exception.

    Args:
        path: the log file, replaced
    """

    def __init__(self, path: Path):
        self.path = path
        self.error: str | None = None
        self.pending = b""
        self.file = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "wb")
        except OSError as err:
            self._failed(err)

    def _failed(self, err: OSError) -> None:
        if self.error is None:
            self.error = f"log {self.path} is incomplete: {err.strerror or err}"
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None

    def _write(self, data: bytes) -> None:
        if self.file is None or not data:
            return
        try:
            self.file.write(data)
            self.file.flush()
        except OSError as err:
            self._failed(err)

    def write(self, chunk: bytes) -> None:
        """Add output; complete lines go to the file in their final state."""
        data = self.pending + chunk
        *lines, self.pending = data.split(b"\n")
        self._write(b"".join(_final(line) + b"\n" for line in lines))
        # a bar redrawn for hours must not grow without bound: keep its
        # latest frame only
        head, sep, _ = self.pending.rstrip(b"\r").rpartition(b"\r")
        if sep:
            self.pending = self.pending[len(head) + 1 :]

    def close(self) -> None:
        """Write what is left and close the file."""
        if self.pending:
            self._write(_final(self.pending) + b"\n")
            self.pending = b""
        if self.file is not None:
            try:
                self.file.close()
            except OSError as err:
                self._failed(err)
            self.file = None


def _final(line: bytes) -> bytes:
    # what a terminal shows of a line redrawn with carriage returns
    return line.rstrip(b"\r").rsplit(b"\r", 1)[-1]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _die_with_parent() -> Callable[[], None] | None:
    # a step outliving a killed pinto would keep writing into outputs that
    # the next run also writes; on Linux the kernel signals it when pinto dies
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def _terminal_writer() -> Callable[[bytes], None]:
    buffer = getattr(sys.stdout, "buffer", None)

    def write(chunk: bytes) -> None:
        # a closed or broken terminal must not stop the step or its log
        with contextlib.suppress(OSError, ValueError):
            if buffer is not None:
                buffer.write(chunk)
                buffer.flush()
            else:
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()

    return write


def run_step(
    command: list[str], cwd: Path, env: dict[str, str], log_path: Path
) -> StepResult:
    """Run a command, teeing its stdout and stderr to the terminal and a log.

    Output is passed through byte for byte, so progress bars that redraw with
    carriage returns still animate. An interrupt (Ctrl-C, SIGTERM) stops the
    step and is raised again as KeyboardInterrupt.

    Args:
        command: the command line
        cwd: the directory to run in
        env: the environment
        log_path: the log file, replaced

    Returns:
        how the process ended
    """
    write = _terminal_writer()
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    started, t0 = _now(), time.monotonic()
    log = LogWriter(log_path)
    log.write(f"# pinto {started}: {' '.join(command)}  (in {cwd})\n".encode())
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(),
        )
        previous = _interrupt_on_sigterm()
        try:
            fd = process.stdout.fileno()
            while chunk := os.read(fd, 65536):
                log.write(chunk)
                write(chunk)
            exit_code = process.wait()
        except KeyboardInterrupt:
            _stop(process)
            raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            process.stdout.close()
    finally:
        log.close()
    return StepResult(
        exit_code, started, _now(), time.monotonic() - t0, log_error=log.error
    )


def _interrupt_on_sigterm():
    # SIGTERM to pinto stops the step like Ctrl-C does, so no stamp is written
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_tail(path: Path, lines: int = 20) -> list[str]:
    """The last lines of a log as a terminal would show them.

    A line redrawn with carriage returns (a progress bar) keeps only its
    final state.

    Args:
        path: the log file
        lines: how many lines

    Returns:
        the lines, without line endings
    """
    try:
        data = path.read_bytes()
    except OSError:
        return []
    text = data.decode(errors="replace")
    shown = [line.rstrip("\r").split("\r")[-1] for line in text.split("\n")]
    while shown and not shown[-1].strip():
        shown.pop()
    return shown[-lines:]
