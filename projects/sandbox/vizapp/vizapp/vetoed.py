"""The events and livetimes the pages show, after the vetoes a reader chose.

A veto segment file belongs to one detector. Vetoes act everywhere at once
(``aframe.ledger``): a background or zero-lag event is removed when its time
in some detector (``detection_time + shift``) lies in that detector's vetoes
(``far.veto_mask``); a found injection whose event is removed counts as
missed; and the vetoed time is taken off the livetimes, each shift's deadtime
being the overlap of the shifted vetoes with its analysed segments
(``livetime.vetoed_livetime``: the test background files' spans under the
shift, minus the burn-in), so false-alarm rates stay ``nb/Tb`` of what is
left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aframe.architectures import PreprocessingConfig
from aframe.ledger import EventSet, RecoveredInjectionSet
from aframe.ledger.far import apply_vetoes, veto_mask
from aframe.ledger.livetime import VetoedLivetime, vetoed_livetime, with_deadtime
from aframe.utils.segments import SegmentError, read_segment_file
from vizapp.experiment import Experiment, MissingArtifact

logger = logging.getLogger(__name__)


class VetoError(ValueError):
    """A veto selection that cannot be applied (unknown file, bad segments)."""


@dataclass
class Vetoed:
    """Events and livetimes after the chosen vetoes.

    Attributes:
        names: the veto files applied (none: the recorded results)
        background: background events left, ``Tb`` less the deadtime
        zero_lag: zero-lag events left, ``Tb`` less the deadtime (or None)
        kept: (N_injections,) False where an injection's event was vetoed
        background_livetime: per-shift analysed time and deadtime (None
            without vetoes)
        zero_lag_livetime: the same for zero-lag
        removed: what the vetoes took: ``background``, ``zero-lag``,
            ``injections`` (counts)
        notes: remarks for the page
    """

    names: list[str]
    background: EventSet
    zero_lag: EventSet | None
    kept: np.ndarray
    background_livetime: VetoedLivetime | None = None
    zero_lag_livetime: VetoedLivetime | None = None
    removed: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def burn_in(experiment: Experiment, background: EventSet) -> tuple[float, str]:
    """Seconds at the start of each job without statistics, and where it came from.

    ``psd_length + kernel_length + fduration + integration_length`` from the
    model repository's preprocessing and the events' integration length.
    """
    integration = background.attrs.get("integration_length")
    integration = float(
        experiment.integration_length if integration is None else integration
    )
    model = experiment.model()
    config = PreprocessingConfig.load(model.preprocessing_path)
    return config.psd_length + config.window_length + integration, str(
        model.preprocessing_path
    )


def apply(
    experiment: Experiment,
    background: EventSet,
    zero_lag: EventSet | None,
    foreground: RecoveredInjectionSet,
    names: list[str],
) -> Vetoed:
    """Apply the named veto files of the experiment's veto folder.

    Args:
        experiment: where the vetoes and test segments are
        background: the recorded background events
        zero_lag: the recorded zero-lag events (or None)
        foreground: the recovered injections
        names: veto file names (``Experiment.veto_files``); none: nothing
            changes

    Returns:
        the vetoed events and livetimes
    """
    kept = np.ones(len(foreground), dtype=bool)
    if not names:
        return Vetoed([], background, zero_lag, kept)
    ifos = list(background.ifos)
    offered = experiment.veto_files(ifos)
    unknown = [n for n in names if n not in offered]
    if unknown:
        raise VetoError(
            f"no veto file {', '.join(unknown)} in {experiment.vetoes_path} "
            f"(there: {', '.join(offered) or 'none'})"
        )
    by_ifo: dict[str, list[Path]] = {}
    for name in names:
        ifo, path = offered[name]
        by_ifo.setdefault(ifo, []).append(path)
    try:
        vetoes = {
            ifo: np.concatenate(
                [np.asarray(read_segment_file(p), float).reshape(-1, 2) for p in paths]
            )
            for ifo, paths in by_ifo.items()
        }
    except (OSError, SegmentError) as err:
        raise VetoError(f"cannot read the veto segments: {err}") from err

    notes = []
    files = experiment.test_background(ifos)
    segments = [(f.t0, f.duration) for f in files]
    try:
        seconds, source = burn_in(experiment, background)
    except MissingArtifact as err:
        raise VetoError(
            f"the deadtime needs the burn-in, which comes from {err.what} "
            f"({err.path}): {err.reason}"
        ) from err
    bg_live = vetoed_livetime(segments, background.shifts(), seconds, ifos, vetoes)
    tb = background.Tb
    if abs(bg_live.total_analysed - tb) > 0.01 * tb:
        notes.append(
            f"the test background files and shifts give {bg_live.total_analysed:.0f} "
            f"s of analysed time, the background file records Tb = {tb:.0f} s: "
            "the deadtime is computed from the files"
        )
    vetoed_bg = apply_vetoes(background, vetoes)
    vetoed_bg = with_deadtime(vetoed_bg, min(bg_live.total_deadtime, tb))
    removed = {"background": len(background) - len(vetoed_bg)}

    zl_live = None
    vetoed_zl = zero_lag
    if zero_lag is not None:
        zl_live = vetoed_livetime(
            segments, np.zeros((1, len(ifos))), seconds, ifos, vetoes
        )
        vetoed_zl = apply_vetoes(zero_lag, vetoes)
        vetoed_zl = with_deadtime(vetoed_zl, min(zl_live.total_deadtime, zero_lag.Tb))
        removed["zero-lag"] = len(zero_lag) - len(vetoed_zl)

    p = foreground.parameters
    recovered = np.asarray(p["recovered"], dtype=bool)
    times = np.where(recovered, p["detection_time"], -np.inf)
    kept = ~veto_mask(times, p["shift"], ifos, vetoes)
    removed["injections"] = int((recovered & ~kept).sum())
    notes.append(f"burn-in {seconds:g} s per job (from {source})")
    return Vetoed(
        list(names), vetoed_bg, vetoed_zl, kept, bg_live, zl_live, removed, notes
    )
