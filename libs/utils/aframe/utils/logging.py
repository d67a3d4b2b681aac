"""Logging set-up shared by every aframe script."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is at the time.

    A handler that kept the ``sys.stderr`` of its configuration would write to
    a closed stream once that object is replaced and closed (an embedding
    application's or a test's capture).
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(
    level: int | str | None = None, logfile: str | Path | None = None
) -> None:
    """Send log records to stderr (and optionally a file) in one format.

    Args:
        level: logging level; default from ``AFRAME_LOG_LEVEL`` or INFO
        logfile: also append records to this file
    """
    level = level or os.environ.get("AFRAME_LOG_LEVEL", "INFO")
    handlers: list[logging.Handler] = [_StderrHandler()]
    if logfile is not None:
        Path(logfile).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(logfile))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=handlers,
        force=True,
    )
    # libraries we call are chatty at INFO
    for name in ("matplotlib", "h5py", "numexpr", "bilby", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def verbosity_level(verbose: int = 0, quiet: int = 0) -> int | None:
    """The logging level of ``-v``/``-q`` counts (None: leave it as configured).

    Args:
        verbose: how often ``-v`` was given (1: INFO, 2 or more: DEBUG)
        quiet: how often ``-q`` was given (1: WARNING, 2 or more: ERROR)

    Returns:
        a ``logging`` level, or None when neither was given
    """
    steps = int(verbose or 0) - int(quiet or 0)
    if steps == 0:
        return None
    levels = [logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG]
    return levels[max(0, min(len(levels) - 1, 2 + steps))]
