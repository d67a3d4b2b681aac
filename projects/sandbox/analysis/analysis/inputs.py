"""The inference products and test draws the analysis reads, validated.

``BASE_DIR/infer/{background,foreground,zero-lag}.hdf5`` come from ``infer``;
``DATA_DIR/test/rejected-parameters.hdf5`` from ``generate-timeslide-waveforms``.
Every problem is one ``AnalysisInputError`` naming the file and what is wrong
and which step makes the file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aframe.ledger import (
    EventSet,
    LedgerError,
    RecoveredInjectionSet,
    RejectedParameterSet,
)
from aframe.ledger.far import FarError, apply_vetoes, veto_mask
from aframe.ledger.recordset import shift_mask
from aframe.utils.segments import SegmentError

logger = logging.getLogger(__name__)


class AnalysisInputError(ValueError):
    """An input of the analysis that is missing, empty or inconsistent."""


@dataclass(frozen=True)
class InferPaths:
    """Where the analysis finds its inputs.

    Attributes:
        background: timeslide background events (``EventSet``)
        foreground: recovered injections (``RecoveredInjectionSet``)
        zero_lag: unshifted events (``EventSet``); optional
        rejected: draws below the hopeless SNR (``RejectedParameterSet``)
    """

    background: Path
    foreground: Path
    zero_lag: Path
    rejected: Path

    @classmethod
    def from_dirs(cls, basedir: Path, datadir: Path) -> InferPaths:
        """The contract's locations under BASE_DIR and DATA_DIR."""
        infer = Path(basedir).expanduser() / "infer"
        return cls(
            background=infer / "background.hdf5",
            foreground=infer / "foreground.hdf5",
            zero_lag=infer / "zero-lag.hdf5",
            rejected=Path(datadir).expanduser() / "test" / "rejected-parameters.hdf5",
        )


@dataclass
class AnalysisInputs:
    """The validated inputs, vetoes applied.

    Attributes:
        background: background events that survive the vetoes
        foreground: every accepted injection
        found: (N_foreground,) False where an injection's event was vetoed
        zero_lag: zero-lag events that survive the vetoes (None if absent)
        rejected: the rejected draws
        notes: plain-words remarks for the run summary
    """

    background: EventSet
    foreground: RecoveredInjectionSet
    found: np.ndarray
    zero_lag: EventSet | None
    rejected: RejectedParameterSet
    notes: list[str]


def _read(cls, path: Path, maker: str):
    if not path.exists():
        raise AnalysisInputError(f"{path}: no such file (made by {maker})")
    try:
        return cls.read(path)
    except LedgerError as err:
        raise AnalysisInputError(f"{err} (made by {maker})") from err


def _check_livetime(events: EventSet, path: Path) -> None:
    tb = float(events.attrs["Tb"])
    if not np.isfinite(tb) or tb <= 0:
        raise AnalysisInputError(
            f"{path}: livetime Tb = {tb} s; no background was analysed "
            "(rerun infer with a longer test background or more shifts)"
        )


def read_inputs(
    paths: InferPaths, vetoes: Mapping[str, str | Path] | None = None
) -> AnalysisInputs:
    """Read, validate and veto the analysis inputs.

    Args:
        paths: the input files
        vetoes: ifo → veto segment file (two-column or segwizard), applied to
            each detector's shifted time

    Returns:
        the inputs
    """
    notes: list[str] = []
    background = _read(EventSet, paths.background, "infer")
    if len(background) == 0:
        raise AnalysisInputError(
            f"{paths.background}: no background events; a false-alarm rate "
            "needs some (rerun infer with more timeslides)"
        )
    _check_livetime(background, paths.background)
    foreground = _read(RecoveredInjectionSet, paths.foreground, "infer")
    if len(foreground) == 0:
        raise AnalysisInputError(
            f"{paths.foreground}: no injections; the sensitive volume needs "
            "some (check generate-timeslide-waveforms and infer)"
        )
    rejected = _read(
        RejectedParameterSet, paths.rejected, "generate-timeslide-waveforms"
    )
    zero_lag = None
    if paths.zero_lag.exists():
        zero_lag = _read(EventSet, paths.zero_lag, "infer")
    else:
        notes.append(f"no zero-lag events ({paths.zero_lag} is missing)")

    ifos = background.ifos
    if foreground.attrs["ifos"] != ifos:
        raise AnalysisInputError(
            f"{paths.foreground}: ifos {foreground.attrs['ifos']} differ from "
            f"the background's {ifos} ({paths.background})"
        )
    fg_shifts = foreground.shifts()
    outside = ~np.array(
        [shift_mask(background.parameters["shift"], s).any() for s in fg_shifts],
        dtype=bool,
    )
    if outside.any():
        missing = [list(map(float, s)) for s in fg_shifts[outside]]
        raise AnalysisInputError(
            f"{paths.foreground}: injections were searched at shifts {missing[:5]} "
            f"that the background ({paths.background}) does not hold; both must "
            "come from the same infer run"
        )

    found = np.ones(len(foreground), dtype=bool)
    if vetoes:
        try:
            background = apply_vetoes(background, vetoes)
            if zero_lag is not None:
                zero_lag = apply_vetoes(zero_lag, vetoes)
            recovered = np.asarray(foreground.parameters["recovered"], dtype=bool)
            times = np.where(
                recovered, foreground.parameters["detection_time"], -np.inf
            )
            found = ~veto_mask(times, foreground.parameters["shift"], ifos, vetoes)
        except (FarError, SegmentError) as err:
            raise AnalysisInputError(f"vetoes: {err}") from err
        notes.append(
            "vetoes applied ("
            + ", ".join(f"{ifo}: {Path(p).name}" for ifo, p in vetoes.items())
            + "); the background livetime is not reduced by the vetoed time"
        )
        if len(background) == 0:
            raise AnalysisInputError(
                f"{paths.background}: every background event is vetoed"
            )
    return AnalysisInputs(background, foreground, found, zero_lag, rejected, notes)
