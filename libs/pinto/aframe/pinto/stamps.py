"""Stamps: what a finished step was made from, and whether that still holds.

After a step exits 0, ``<dir>/.pinto/<key>.json`` is written atomically. It
records the step's **provenance**: the hash of its resolved arguments and the
**identities** of the steps it reads (``[tool.pinto] needs``; by default every
earlier step), plus its outputs (the paths its function returned, with their
sizes and modification times). A step's identity is the hash of its
provenance and its outputs' fingerprints, so it changes whenever the step is
redone or its inputs change, and every step that reads it becomes stale.

A step is **done** only when its stamp's arguments hash matches, the
identities of its inputs are the ones it was made from, and its outputs are
still there, unchanged, and valid (HDF5 record sets and background files are
checked with the ledger's structural check, JSON must parse). Otherwise
``assess`` says why: never run, interrupted, arguments changed, an upstream
step changed (or is not done), outputs missing, changed or damaged.

Before a step runs, an **attempt** record ``<key>.attempt.json`` notes its
provenance and whether the step was told to redo its outputs. A run that was
killed or failed resumes with the same instruction when its provenance is
unchanged, so a partly done fresh step picks up where it stopped while a
forced or stale one never reuses what it was told to discard.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aframe.utils.io import atomic_path

logger = logging.getLogger(__name__)

STAMP_VERSION = 2


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or None when it is missing or unreadable.

    Args:
        path: the stamp (or attempt) file

    Returns:
        the record
    """
    try:
        with open(path) as f:
            record = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        # an unreadable stamp only means the step runs again
        logger.warning("%s: ignoring unreadable stamp (%s)", path, err)
        return None
    return record if isinstance(record, dict) else None


def write_stamp(path: Path, record: dict[str, Any]) -> None:
    """Write a stamp atomically.

    Args:
        path: the stamp file
        record: what to record (JSON-serialisable)
    """
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def remove_stamps(paths: list[Path]) -> list[Path]:
    """Remove stamps.

    Args:
        paths: stamp files, present or not

    Returns:
        the ones that existed
    """
    removed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


def digest(value: Any) -> str:
    """The sha256 of a JSON-serialisable value, in canonical form."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def provenance(step_hash: str, inputs: dict[str, str | None]) -> str:
    """A step's provenance: its arguments and the identities it reads.

    Args:
        step_hash: the hash of the step's resolved arguments
        inputs: step key → identity of each step it reads (None: not done)

    Returns:
        a hex digest
    """
    return digest({"hash": step_hash, "inputs": inputs})


def identity(provenance_hash: str, outputs: dict[str, list[int]] | None) -> str:
    """A finished step's identity: its provenance and its outputs' fingerprints."""
    return digest({"provenance": provenance_hash, "outputs": outputs})


# ---------------------------------------------------------------- outputs
def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    return [path]


def fingerprint(paths: list[str]) -> dict[str, list[int]]:
    """Size and modification time (ns) of every output file.

    A directory stands for the files under it (hidden ones excepted).

    Args:
        paths: the outputs a step returned

    Returns:
        absolute file path → ``[size, mtime_ns]``; a missing path maps to
        ``[-1, -1]``
    """
    prints = {}
    for name in paths:
        path = Path(name)
        if not path.exists():
            prints[str(path)] = [-1, -1]
            continue
        for file in _files(path):
            stat = file.stat()
            prints[str(file)] = [stat.st_size, stat.st_mtime_ns]
    return prints


def validate_output(path: Path) -> str | None:
    """A structural check of one output; the problem, or None when it is fine.

    HDF5 files: background files against the background contract (without
    reading the strain), record sets with the ledger's ``check_file``. JSON
    files must parse. Anything else only has to exist.

    Args:
        path: the file

    Returns:
        a one-line description of what is wrong, or None
    """
    suffix = path.suffix.lower()
    if suffix in (".hdf5", ".h5"):
        try:
            return _validate_hdf5(path)
        except Exception as err:  # a check must never stop the runner itself
            return f"{path}: cannot be checked ({type(err).__name__}: {err})"
    if suffix == ".json":
        try:
            json.loads(path.read_text())
        except (OSError, ValueError) as err:
            return f"{path}: not readable JSON ({err})"
    return None


def _validate_hdf5(path: Path) -> str | None:
    import h5py
    import numpy as np

    from aframe.ledger.errors import LedgerError
    from aframe.ledger.recordset import LEDGER_TYPES, check_any
    from aframe.utils.background import (
        BackgroundError,
        parse_background_filename,
        validate_background,
    )

    try:
        with h5py.File(path, "r") as f:
            kind = f.attrs.get("ledger_type")
            ifos = f.attrs.get("ifos")
    except OSError as err:
        return f"{path}: not a readable HDF5 file ({err})"
    try:
        if kind is not None:
            # importing the package registers every record-set type
            import aframe.ledger  # noqa: F401

            if (kind.decode() if isinstance(kind, bytes) else kind) in LEDGER_TYPES:
                check_any(path)
            return None
        try:
            parse_background_filename(path)
        except BackgroundError:
            return None
        ifos = [] if ifos is None else list(np.atleast_1d(ifos))
        names = [i.decode() if isinstance(i, bytes) else str(i) for i in ifos]
        validate_background(path, names, check_finite=False)
    except (LedgerError, BackgroundError) as err:
        return str(err)
    return None


def check_outputs(recorded: dict[str, list[int]] | None) -> str | None:
    """Why a step's recorded outputs no longer hold, or None when they do.

    Args:
        recorded: the stamp's ``outputs`` (None: the step did not say)

    Returns:
        ``outputs missing (PATH)``, ``outputs changed (PATH)`` or ``output
        damaged (PROBLEM)``
    """
    if not recorded:
        return None
    for name, (size, mtime) in recorded.items():
        path = Path(name)
        if size < 0:
            continue  # returned but never written: nothing to compare
        try:
            stat = path.stat()
        except OSError:
            return f"outputs missing ({path})"
        if [stat.st_size, stat.st_mtime_ns] != [size, mtime]:
            return f"outputs changed ({path})"
    for name, (size, mtime) in recorded.items():
        if size < 0:
            continue
        # a file is validated once per content: runs assess every step often
        key = (name, size, mtime)
        if key not in _VALIDATED:
            _VALIDATED[key] = validate_output(Path(name))
        if _VALIDATED[key] is not None:
            return f"output damaged ({_VALIDATED[key]})"
    return None


_VALIDATED: dict[tuple[str, int, int], str | None] = {}


# ---------------------------------------------------------------- assessment
@dataclass
class StepState:
    """Whether a step is done, and why not.

    Attributes:
        done: the stamp holds: the step need not run
        reason: ``done``, ``never run``, ``interrupted``, ``arguments
            changed``, ``an upstream step changed (KEY)``, ``upstream step
            KEY is not done``, ``outputs missing (PATH)`` ...
        provenance: the step's current provenance
        stamp: its stamp (None: none)
        attempt: its unfinished attempt (None: none)
        redo: when it runs, whether it must redo its outputs (stale), as
            opposed to continuing or starting fresh
    """

    done: bool
    reason: str
    provenance: str
    stamp: dict[str, Any] | None
    attempt: dict[str, Any] | None
    redo: bool

    @property
    def identity(self) -> str | None:
        """The step's identity when done (None otherwise)."""
        return self.stamp.get("identity") if self.done and self.stamp else None


def assess(
    stamp: dict[str, Any] | None,
    attempt: dict[str, Any] | None,
    step_hash: str,
    inputs: dict[str, str | None],
) -> StepState:
    """Decide whether a step is done from its stamp and its current inputs.

    Args:
        stamp: the step's stamp (None: none)
        attempt: its unfinished attempt record (None: none)
        step_hash: the hash of its resolved arguments now
        inputs: step key → current identity of each step it reads

    Returns:
        the state
    """
    current = provenance(step_hash, inputs)
    if stamp is not None and stamp.get("version") != STAMP_VERSION:
        stamp = None  # an older pinto's stamp: its step is taken as never run
    if attempt is not None and attempt.get("provenance") == current:
        # a run of exactly this step was killed or failed: continue it as it
        # was told to (a redo stays a redo)
        return StepState(
            False, "interrupted", current, stamp, attempt, bool(attempt.get("redo"))
        )
    if stamp is None:
        # nothing recorded: the step's own checks decide what it reuses,
        # unless an attempt with other inputs left partial work behind
        reason = "never run" if attempt is None else "interrupted, inputs changed"
        return StepState(False, reason, current, None, attempt, attempt is not None)

    def stale(reason: str) -> StepState:
        return StepState(False, reason, current, stamp, attempt, True)

    if stamp.get("hash") != step_hash or stamp.get("exit_code") != 0:
        return stale("arguments changed")
    recorded = stamp.get("inputs") or {}
    for key, value in inputs.items():
        if value is None:
            return stale(f"upstream step {key} is not done")
        if recorded.get(key) != value:
            return stale(f"an upstream step changed ({key})")
    if set(recorded) != set(inputs):
        return stale("the steps it reads changed")
    problem = check_outputs(stamp.get("outputs"))
    if problem is not None:
        return stale(problem)
    if stamp.get("provenance") != current:
        return stale("arguments changed")
    return StepState(True, "done", current, stamp, attempt, False)


def read_outputs(path: Path) -> list[str] | None:
    """The outputs a step reported (``AFRAME_OUTPUTS_FILE``), then remove it."""
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    if not isinstance(values, list):
        return None
    return [str(v) for v in values]
