"""The inference products and test draws the analysis reads, validated.

``BASE_DIR/infer/{background,foreground,zero-lag}.hdf5`` come from ``infer``;
``DATA_DIR/test/rejected-parameters.hdf5`` from ``generate-timeslide-waveforms``;
``BASE_DIR/training/validation-{background,signals}.hdf5`` (optional: the
validation-vs-test comparison) from ``train``.
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
    SignalScoreSet,
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
        validation_background: training's validation background
            (``EventSet``); optional
        validation_signals: training's validation signals and their
            statistics (``SignalScoreSet``); optional
    """

    background: Path
    foreground: Path
    zero_lag: Path
    rejected: Path
    validation_background: Path | None = None
    validation_signals: Path | None = None

    @classmethod
    def from_dirs(cls, basedir: Path, datadir: Path) -> InferPaths:
        """The contract's locations under BASE_DIR and DATA_DIR."""
        basedir = Path(basedir).expanduser()
        infer, training = basedir / "infer", basedir / "training"
        return cls(
            background=infer / "background.hdf5",
            foreground=infer / "foreground.hdf5",
            zero_lag=infer / "zero-lag.hdf5",
            rejected=Path(datadir).expanduser() / "test" / "rejected-parameters.hdf5",
            validation_background=training / "validation-background.hdf5",
            validation_signals=training / "validation-signals.hdf5",
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
        validation_background: training's validation background events
            (None if absent)
        validation_signals: training's validation signals (None if absent)
    """

    background: EventSet
    foreground: RecoveredInjectionSet
    found: np.ndarray
    zero_lag: EventSet | None
    rejected: RejectedParameterSet
    notes: list[str]
    validation_background: EventSet | None = None
    validation_signals: SignalScoreSet | None = None


def _read(cls, path: Path, maker: str):
    if not path.exists():
        raise AnalysisInputError(f"{path}: no such file (made by {maker})")
    try:
        return cls.read(path)
    except LedgerError as err:
        raise AnalysisInputError(f"{err} (made by {maker})") from err


def _check_livetime(
    events: EventSet,
    path: Path,
    remedy: str = "rerun infer with a longer test background or more shifts",
) -> None:
    tb = float(events.attrs["Tb"])
    if not np.isfinite(tb) or tb <= 0:
        raise AnalysisInputError(
            f"{path}: livetime Tb = {tb} s; no background was analysed ({remedy})"
        )


def read_validation(
    background: Path | None, signals: Path | None, notes: list[str]
) -> tuple[EventSet | None, SignalScoreSet | None]:
    """Training's validation background and signals, if both are there.

    Args:
        background: ``validation-background.hdf5`` (an ``EventSet``, attrs
            ``Tb``)
        signals: ``validation-signals.hdf5`` (a ``SignalScoreSet``: ``snr``,
            ``detection_statistic``, attr ``snr_range``)
        notes: a note is added here when either is missing

    Returns:
        ``(events, signals)``, both None when either file is missing
    """
    missing = [p for p in (background, signals) if p is None or not p.exists()]
    if missing:
        names = ", ".join(f"{p.parent.name}/{p.name}" for p in missing if p is not None)
        notes.append(
            f"no validation-vs-test recall: training's validation files are "
            f"missing ({names or 'not given'}; written by train)"
        )
        return None, None
    events = _read(EventSet, background, "train")
    _check_livetime(events, background, "rerun train with validation background")
    scores = _read(SignalScoreSet, signals, "train")
    snr_range = np.asarray(scores.attrs["snr_range"], dtype=np.float64).ravel()
    if len(snr_range) != 2 or not 0 < snr_range[0] < snr_range[1]:
        raise AnalysisInputError(
            f"{signals}: attr snr_range = {snr_range.tolist()} (expected "
            "[low, high] with 0 < low < high, the SNRs' uniform range)"
        )
    snr = np.asarray(scores.snr, dtype=np.float64)
    stat = np.asarray(scores.detection_statistic, dtype=np.float64)
    if not (np.isfinite(snr).all() and snr.size and (snr > 0).all()):
        raise AnalysisInputError(
            f"{signals}: parameters/snr must be finite and > 0 (and not empty)"
        )
    if np.isnan(stat).any():
        raise AnalysisInputError(f"{signals}: parameters/detection_statistic holds NaN")
    return events, scores


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
    validation = read_validation(
        paths.validation_background, paths.validation_signals, notes
    )
    return AnalysisInputs(
        background, foreground, found, zero_lag, rejected, notes, *validation
    )
