"""Stamps: the record that a step finished with the arguments it has now.

After a step exits 0, ``<basedir>/.pinto/<script>.json`` is written atomically
with the hash of its resolved arguments (see ``Pipeline.step_hash``), the
profile, start and end times, wall seconds and exit code. A step is done when
its stamp exists and its hash matches the current one. A step's stamp, and
those of every later step, are removed before it runs, so a step killed
mid-run is never taken as done, and steps that read its outputs run again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from aframe.utils.io import atomic_path

logger = logging.getLogger(__name__)


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The stamp at ``path``, or None when it is missing or unreadable.

    Args:
        path: the stamp file

    Returns:
        the stamp's record
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


def is_done(stamp: dict[str, Any] | None, step_hash: str) -> bool:
    """Whether a stamp records a successful run with the given hash.

    Args:
        stamp: the stamp's record (None when there is none)
        step_hash: the step's current hash

    Returns:
        True when the step need not run again
    """
    return (
        stamp is not None
        and stamp.get("hash") == step_hash
        and stamp.get("exit_code") == 0
    )


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
