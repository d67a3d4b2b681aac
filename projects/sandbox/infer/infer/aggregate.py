"""Merge the per-job results into the three inference artifacts.

- ``background.hdf5``: ``EventSet`` of every shifted job's background stream;
  ``Tb`` is the sum of their livetimes.
- ``foreground.hdf5``: ``RecoveredInjectionSet``: the foreground events of all
  shifted jobs matched against the complete injection file at once (each
  injection found within ``match_window`` s by an event of its own shift, or
  marked missed), so ``num_injections`` is the file's total, counted once.
- ``zero-lag.hdf5``: ``EventSet`` of the unshifted jobs.

Each file is written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aframe.ledger import EventSet, InjectionSet, RecoveredInjectionSet
from aframe.search.jobs import BACKGROUND_FILE, FOREGROUND_FILE, ZERO_LAG_FILE

logger = logging.getLogger(__name__)


def aggregate(
    job_dirs: Sequence[Path],
    zero_lag_dirs: Sequence[Path],
    output_dir: Path,
    waveforms: Path | None,
    match_window: float,
    attrs: dict[str, Any],
) -> dict[str, Path]:
    """Write ``background.hdf5``, ``foreground.hdf5`` and ``zero-lag.hdf5``.

    Args:
        job_dirs: result directories of the shifted jobs, in job order
        zero_lag_dirs: result directories of the zero-lag jobs
        output_dir: ``BASE_DIR/infer``
        waveforms: the injection file (None: no foreground file)
        match_window: largest |event time - injection time| of a match, s
        attrs: metadata added to the foreground file (the event files carry
            it from the jobs already)

    Returns:
        artifact name → path
    """
    output_dir = Path(output_dir)
    written: dict[str, Path] = {}
    if job_dirs:
        written["background"] = EventSet.aggregate(
            [d / BACKGROUND_FILE for d in job_dirs], output_dir / BACKGROUND_FILE
        )
    if zero_lag_dirs:
        written["zero-lag"] = EventSet.aggregate(
            [d / ZERO_LAG_FILE for d in zero_lag_dirs], output_dir / ZERO_LAG_FILE
        )
    if waveforms is not None and job_dirs:
        events = EventSet.concatenate(
            [EventSet.read(d / FOREGROUND_FILE) for d in job_dirs]
        )
        injections = InjectionSet.read(waveforms, waveforms=False)
        recovered = RecoveredInjectionSet.recover(events, injections, match_window)
        recovered.attrs.update(attrs)
        written["foreground"] = recovered.write(output_dir / FOREGROUND_FILE)
        logger.info(
            "foreground: %d of %d injections found within %g s",
            int(recovered.recovered.sum()),
            len(recovered),
            match_window,
        )
    return written
