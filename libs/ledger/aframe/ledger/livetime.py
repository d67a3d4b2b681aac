"""Analysed time and the deadtime vetoes take out of it.

A search job analyses one test segment (a background file, GPS ``t0``,
``duration``) under one shift vector ``s`` (seconds added to each detector's
time). Every detector must have data, so the job covers the H1-axis span
``analysed_span(t0, duration, s)``, and its first ``burn_in`` seconds only
fill the PSD, the kernel and the integration window (``burn_in =
psd_length + kernel_length + fduration + integration_length``, infer's count),
so statistics cover ``[start + burn_in, stop)``: the *analysed segments* of
that shift. Their summed length is the job's share of ``Tb`` (infer counts
``len(integrated)/isr``, which agrees to within two outputs per job).

A veto segment ``[a, b)`` of detector ``ifo`` removes the H1-axis times ``t``
whose time in that detector, ``t + s[ifo]``, lies in it: under shift ``s`` it
covers ``[a - s[ifo], b - s[ifo])`` on the H1 axis. The *deadtime* of a shift
is the length of the union of those intervals over every detector's vetoes
that overlaps the analysed segments. ``aframe.ledger.far.veto_mask`` removes
the events of exactly that union, so after vetoes the rate is
``nb_after / (Tb - deadtime)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aframe.utils.segments import normalize, read_segment_file

logger = logging.getLogger(__name__)

#: ifo → (M, 2) GPS veto segments ``[start, end)`` or a segment file
Vetoes = Mapping[str, np.ndarray | str | Path]


class LivetimeError(ValueError):
    """Segments, shifts or vetoes from which no livetime follows."""


def analysed_span(
    t0: float, duration: float, shift: Sequence[float]
) -> tuple[float, float]:
    """The span of the H1 axis a job over one segment and one shift covers.

    Every detector must have data: ``[t0 - min(min(s), 0), t0 + duration -
    max(max(s), 0))`` (what each ``aframe.search.jobs.Job`` analyses).

    Args:
        t0: GPS start of the segment, s
        duration: length of the segment, s
        shift: seconds added to each detector's time

    Returns:
        ``(start, stop)`` GPS seconds on the unshifted (H1) axis
    """
    shift = np.asarray(shift, dtype=np.float64)
    start = float(t0) - min(float(shift.min()), 0.0)
    stop = float(t0) + float(duration) - max(float(shift.max()), 0.0)
    return start, stop


def analysed_segments(
    segments: Sequence[tuple[float, float]], shift: Sequence[float], burn_in: float
) -> np.ndarray:
    """The H1-axis segments with statistics under one shift.

    Args:
        segments: ``(t0, duration)`` of each test segment (background file), s
        shift: seconds added to each detector's time
        burn_in: seconds at the start of each job without statistics

    Returns:
        (M, 2) ``[start + burn_in, stop)``, the segments that are not empty
    """
    if burn_in < 0:
        raise LivetimeError(f"burn_in must not be negative, got {burn_in} s")
    out = []
    for t0, duration in segments:
        start, stop = analysed_span(t0, duration, shift)
        if stop > start + burn_in:
            out.append((start + burn_in, stop))
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


def _segments(value: np.ndarray | str | Path) -> np.ndarray:
    if isinstance(value, str | Path):
        value = read_segment_file(value)
    return np.asarray(value, dtype=np.float64).reshape(-1, 2)


def _merged(segments: np.ndarray) -> np.ndarray:
    merged = normalize([tuple(s) for s in np.asarray(segments).reshape(-1, 2)])
    return np.asarray(merged, dtype=np.float64).reshape(-1, 2)


def _measure_below(merged: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Length of ``merged`` (disjoint, sorted) below each time ``t``."""
    if len(merged) == 0:
        return np.zeros(np.shape(t))
    lengths = merged[:, 1] - merged[:, 0]
    before = np.concatenate([[0.0], np.cumsum(lengths)])
    i = np.searchsorted(merged[:, 0], t, side="right")
    # whole segments before i, plus the part of segment i-1 below t
    last = np.clip(i - 1, 0, len(merged) - 1)
    partial = np.clip(np.minimum(t, merged[last, 1]) - merged[last, 0], 0.0, None)
    return np.where(i > 0, before[np.maximum(i - 1, 0)] + partial, 0.0)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Length of the intersection of two segment lists, s.

    Args:
        a: (M, 2) segments ``[start, end)`` (any order, may overlap)
        b: (K, 2) segments

    Returns:
        the length of ``union(a) ∩ union(b)``
    """
    a, b = _merged(a), _merged(b)
    if len(a) == 0 or len(b) == 0:
        return 0.0
    return float(np.sum(_measure_below(b, a[:, 1]) - _measure_below(b, a[:, 0])))


def shifted_vetoes(
    vetoes: Vetoes, shift: Sequence[float], ifos: Sequence[str]
) -> np.ndarray:
    """The H1-axis times that the vetoes remove under one shift.

    Args:
        vetoes: ifo → (M, 2) GPS veto segments or a segment file (two-column
            or segwizard); detectors without an entry veto nothing
        shift: seconds added to each detector's time, in the order of ``ifos``
        ifos: the detectors

    Returns:
        (K, 2) merged segments ``[a - s[ifo], b - s[ifo])`` over every veto
    """
    unknown = set(vetoes) - set(ifos)
    if unknown:
        raise LivetimeError(
            f"veto segments for {sorted(unknown)}, not among the ifos {list(ifos)}"
        )
    if len(shift) != len(ifos):
        raise LivetimeError(f"shift {list(shift)} does not match the ifos {ifos}")
    parts = [
        _segments(vetoes[ifo]) - float(s)
        for ifo, s in zip(ifos, shift)
        if ifo in vetoes
    ]
    if not parts:
        return np.zeros((0, 2))
    return _merged(np.concatenate(parts))


def deadtime(
    segments: np.ndarray, shift: Sequence[float], ifos: Sequence[str], vetoes: Vetoes
) -> float:
    """Seconds of analysed time under one shift that the vetoes remove.

    Args:
        segments: (M, 2) analysed H1-axis segments of the shift
            (``analysed_segments``)
        shift: seconds added to each detector's time
        ifos: the detectors, in the order of ``shift``
        vetoes: ifo → veto segments or segment file

    Returns:
        the length of ``segments ∩ shifted_vetoes(vetoes, shift, ifos)``
    """
    return overlap(segments, shifted_vetoes(vetoes, shift, ifos))


@dataclass(frozen=True)
class VetoedLivetime:
    """Analysed time and deadtime of each shift.

    Attributes:
        shifts: (K, n_ifo) the shift vectors
        analysed: (K,) seconds of analysed time of each shift
        deadtime: (K,) seconds of it the vetoes remove
    """

    shifts: np.ndarray
    analysed: np.ndarray
    deadtime: np.ndarray

    @property
    def total_analysed(self) -> float:
        """Seconds analysed over every shift."""
        return float(self.analysed.sum())

    @property
    def total_deadtime(self) -> float:
        """Seconds vetoed over every shift."""
        return float(self.deadtime.sum())

    @property
    def livetime(self) -> float:
        """Seconds that survive the vetoes."""
        return self.total_analysed - self.total_deadtime


def vetoed_livetime(
    segments: Sequence[tuple[float, float]],
    shifts: np.ndarray,
    burn_in: float,
    ifos: Sequence[str],
    vetoes: Vetoes,
) -> VetoedLivetime:
    """Analysed time and deadtime of every shift over the test segments.

    Args:
        segments: ``(t0, duration)`` of each test segment, s
        shifts: (K, n_ifo) shift vectors (e.g. the background's
            ``EventSet.shifts()``; zeros for zero-lag)
        burn_in: seconds at the start of each job without statistics
        ifos: the detectors, in the order of the shifts' columns
        vetoes: ifo → veto segments or segment file

    Returns:
        the per-shift livetimes
    """
    shifts = np.asarray(shifts, dtype=np.float64).reshape(-1, len(ifos))
    # read each file once, not once per shift
    loaded = {ifo: _segments(v) for ifo, v in vetoes.items()}
    analysed, dead = [], []
    for shift in shifts:
        live = analysed_segments(segments, shift, burn_in)
        analysed.append(float(np.sum(live[:, 1] - live[:, 0])))
        dead.append(deadtime(live, shift, ifos, loaded))
    return VetoedLivetime(shifts, np.asarray(analysed), np.asarray(dead))


def with_deadtime(events: Any, removed: float) -> Any:
    """The event set with ``removed`` seconds taken off its livetime ``Tb``.

    Args:
        events: an ``EventSet`` (its events already vetoed)
        removed: deadtime, s (≤ ``Tb``)

    Returns:
        a copy whose ``Tb`` is ``Tb - removed`` and whose attrs record the
        ``vetoed_deadtime`` (s)
    """
    tb = float(events.attrs["Tb"])
    if not 0 <= removed <= tb:
        raise LivetimeError(
            f"deadtime {removed} s must lie within the livetime Tb = {tb} s"
        )
    attrs = {
        **events.attrs,
        "Tb": tb - removed,
        "vetoed_deadtime": float(events.attrs.get("vetoed_deadtime", 0.0)) + removed,
    }
    return type(events)(dict(events.parameters), None, attrs, source=events.source)
