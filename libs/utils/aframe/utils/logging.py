"""Logging set-up shared by every aframe script."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def configure_logging(
    level: int | str | None = None, logfile: str | Path | None = None
) -> None:
    """Send log records to stderr (and optionally a file) in one format.

    Args:
        level: logging level; default from ``AFRAME_LOG_LEVEL`` or INFO
        logfile: also append records to this file
    """
    level = level or os.environ.get("AFRAME_LOG_LEVEL", "INFO")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
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
