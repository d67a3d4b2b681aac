"""False-alarm rates from timeslide background.

The background is an ``EventSet``: the clustered detection statistics of the
network on time-shifted data, with ``Tb`` (seconds of analysed livetime) in its
attrs. A candidate with statistic ``θ`` is as loud as ``nb(θ)`` background events
(``≥`` semantics: a background event tied with the candidate counts), and its
false-alarm rate is ``nb(θ)/Tb``.

Floor. With ``nb = 0`` the background cannot resolve a rate below ``1/Tb``:
``far`` then returns ``1/Tb``, an upper limit, never 0. Every rate this module
returns is therefore ``max(nb, 1)/Tb``.

Vetoes remove background events whose time, as seen in each detector
(``detection_time + shift[ifo]``), falls in a veto segment of that detector.
``apply_vetoes`` does not change ``Tb`` (the analysed segments are not stored
with the events): the deadtime the vetoes remove from it follows from the test
segments and the shifts, ``aframe.ledger.livetime.vetoed_livetime``, and
``aframe.ledger.livetime.with_deadtime`` takes it off.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from aframe.utils.segments import normalize, read_segment_file

logger = logging.getLogger(__name__)

# the Julian year is the field's convention; a month is a twelfth of it
SECONDS_PER_UNIT = {
    "year": 31_557_600.0,
    "month": 31_557_600.0 / 12,
    "day": 86_400.0,
    "hour": 3_600.0,
    "second": 1.0,
}


class FarError(ValueError):
    """Background or veto input from which no false-alarm rate follows."""


def seconds_per(unit: str) -> float:
    """The length of a rate's time unit.

    Args:
        unit: one of ``year`` (Julian, 365.25 days), ``month`` (a twelfth of
            that), ``day``, ``hour``, ``second``

    Returns:
        the unit's length in seconds
    """
    try:
        return SECONDS_PER_UNIT[unit]
    except KeyError:
        known = ", ".join(SECONDS_PER_UNIT)
        raise FarError(f"unknown time unit {unit!r} (known: {known})") from None


def livetime(events: Any) -> float:
    """The background livetime ``Tb`` of an event set, checked.

    Args:
        events: an ``EventSet`` (anything with ``attrs["Tb"]``)

    Returns:
        ``Tb`` in seconds
    """
    tb = events.attrs.get("Tb") if hasattr(events, "attrs") else None
    if tb is None:
        raise FarError(f"{_name(events)}: no Tb attribute (livetime in seconds)")
    tb = float(tb)
    if not np.isfinite(tb) or tb <= 0:
        raise FarError(
            f"{_name(events)}: livetime Tb = {tb} s; a false-alarm rate needs "
            "Tb > 0 (no background was analysed)"
        )
    return tb


def _name(events: Any) -> str:
    return str(getattr(events, "source", None) or type(events).__name__)


def _sorted_statistics(events: Any) -> np.ndarray:
    stats = np.asarray(events.parameters["detection_statistic"], dtype=np.float64)
    if np.isnan(stats).any():
        raise FarError(f"{_name(events)}: detection_statistic holds NaN")
    return np.sort(stats)


def nb(events: Any, threshold: float | np.ndarray) -> int | np.ndarray:
    """How many background events are at least as loud as ``threshold``.

    Args:
        events: the background ``EventSet``
        threshold: detection statistic(s); scalar or array

    Returns:
        ``#{stat ≥ threshold}``: an int for a scalar, an int array otherwise
    """
    stats = _sorted_statistics(events)
    threshold = np.asarray(threshold, dtype=np.float64)
    counts = len(stats) - np.searchsorted(stats, threshold, side="left")
    return int(counts) if counts.ndim == 0 else counts.astype(np.int64)


def far(
    events: Any, threshold: float | np.ndarray, unit: str = "year"
) -> float | np.ndarray:
    """False-alarm rate of a detection statistic.

    Args:
        events: the background ``EventSet`` (attrs ``Tb`` in seconds)
        threshold: detection statistic(s); scalar or array
        unit: the rate's time unit (``year``, ``month``, ``day``, ``hour``)

    Returns:
        ``max(nb, 1)/Tb`` per ``unit``; with no louder background event it is
        the upper limit ``1/Tb``
    """
    tb = livetime(events)
    counts = np.maximum(nb(events, threshold), 1)
    rate = counts / tb * seconds_per(unit)
    return float(rate) if np.ndim(rate) == 0 else rate


def threshold_at_far(
    events: Any, far: float | np.ndarray, unit: str = "year"
) -> float | np.ndarray:
    """The lowest detection statistic whose false-alarm rate is at most ``far``.

    ``threshold_from_statistics`` on the event set's statistics and ``Tb``.

    Args:
        events: the background ``EventSet``
        far: false-alarm rate(s) per ``unit``
        unit: the rate's time unit

    Returns:
        threshold(s), scalar for a scalar ``far``
    """
    return threshold_from_statistics(
        _sorted_statistics(events), livetime(events), far, unit, presorted=True
    )


def threshold_from_statistics(
    statistics: np.ndarray,
    Tb: float,  # noqa: N803 (the field's name)
    far: float | np.ndarray,
    unit: str = "year",
    presorted: bool = False,
) -> float | np.ndarray:
    """The lowest statistic whose false-alarm rate is at most ``far``.

    With ``k = floor(far·Tb)`` this is the k-th loudest background statistic,
    so ``nb(threshold) = k`` (more with ties). A rate below ``1/Tb`` cannot be
    resolved by the background: its threshold is ``+inf`` (nothing passes). A
    rate above the one of the quietest event gives that event's statistic.
    Training's validation and the analysis use this same rule.

    Args:
        statistics: (N,) background event statistics
        Tb: their livetime, seconds (> 0)
        far: false-alarm rate(s) per ``unit``
        unit: the rate's time unit
        presorted: ``statistics`` is already sorted ascending

    Returns:
        threshold(s), scalar for a scalar ``far``
    """
    if not np.isfinite(Tb) or Tb <= 0:
        raise FarError(f"livetime Tb = {Tb} s; a false-alarm rate needs Tb > 0")
    stats = np.asarray(statistics, dtype=np.float64)
    if not presorted:
        if np.isnan(stats).any():
            raise FarError("background statistics hold NaN")
        stats = np.sort(stats)
    rate = np.asarray(far, dtype=np.float64)
    if (rate < 0).any() or np.isnan(rate).any():
        raise FarError(f"false-alarm rate must be ≥ 0, got {far}")
    # round before flooring so that k/Tb maps back to k despite float error
    k = np.floor(np.round(rate * Tb / seconds_per(unit), 9)).astype(np.int64)
    k = np.minimum(k, len(stats))
    out = np.full(k.shape, np.inf)
    ok = k > 0
    out[ok] = stats[len(stats) - k[ok]]
    return float(out) if out.ndim == 0 else out


def significance(
    events: Any, threshold: float | np.ndarray, T: float
) -> float | np.ndarray:
    """Probability that background alone makes an event this loud within ``T``.

    A Poisson process with rate ``(1 + nb)/Tb`` (the ``+1`` counts the
    candidate itself) gives ``1 - exp(-T (1 + nb)/Tb)``.

    Args:
        events: the background ``EventSet``
        threshold: the candidate's detection statistic(s)
        T: the observing time searched, in seconds

    Returns:
        the false-alarm probability, in [0, 1]
    """
    if T < 0:
        raise FarError(f"observing time T = {T} s must be ≥ 0")
    tb = livetime(events)
    value = 1 - np.exp(-T * (1 + np.asarray(nb(events, threshold))) / tb)
    return float(value) if np.ndim(value) == 0 else value


def far_grid(
    events: Any, max_far: float, unit: str = "year", max_points: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds at the false-alarm rates the background resolves.

    The rates are ``k/Tb`` for ``k = 1 … floor(max_far·Tb)`` (at most the
    number of events); above ``max_points`` of them, a log-spaced subset of
    ``k`` is kept.

    Args:
        events: the background ``EventSet``
        max_far: the largest rate, per ``unit``
        unit: the rate's time unit
        max_points: the most thresholds to return

    Returns:
        ``(thresholds, fars)``: thresholds decreasing, rates (per ``unit``)
        increasing; both empty when ``max_far < 1/Tb`` or there is no event
    """
    tb = livetime(events)
    stats = _sorted_statistics(events)[::-1]
    kmax = min(int(np.floor(np.round(max_far * tb / seconds_per(unit), 9))), len(stats))
    if kmax < 1:
        return np.array([]), np.array([])
    if kmax > max_points:
        k = np.unique(np.geomspace(1, kmax, max_points).round().astype(np.int64))
    else:
        k = np.arange(1, kmax + 1)
    return stats[k - 1], k / tb * seconds_per(unit)


def _in_segments(times: np.ndarray, segments: np.ndarray) -> np.ndarray:
    merged = np.asarray(normalize([tuple(s) for s in segments]), dtype=np.float64)
    if len(merged) == 0:
        return np.zeros(times.shape, dtype=bool)
    i = np.searchsorted(merged[:, 0], times, side="right") - 1
    inside = i >= 0
    inside[inside] = times[inside] < merged[i[inside], 1]
    return inside


def veto_mask(
    times: np.ndarray,
    shifts: np.ndarray,
    ifos: list[str],
    vetoes: Mapping[str, np.ndarray | str | Path],
) -> np.ndarray:
    """Which events fall in a veto segment of any detector.

    Args:
        times: ``(N,)`` GPS event times on the unshifted (H1) axis, seconds
        shifts: ``(N, n_ifo)`` seconds added to each detector's time
        ifos: the detectors, in the order of ``shifts``' columns
        vetoes: ifo → ``(M, 2)`` segments ``[start, end)`` or a segment file
            (two-column or segwizard, read by
            ``aframe.utils.segments.read_segment_file``); detectors without
            an entry veto nothing

    Returns:
        ``(N,)`` bool, True where the event is vetoed
    """
    times = np.asarray(times, dtype=np.float64)
    shifts = np.asarray(shifts, dtype=np.float64).reshape(len(times), -1)
    if shifts.shape[1] != len(ifos):
        raise FarError(
            f"shift has {shifts.shape[1]} columns but the ifos are {list(ifos)}"
        )
    unknown = set(vetoes) - set(ifos)
    if unknown:
        raise FarError(
            f"veto segments for {sorted(unknown)}, not among the ifos {list(ifos)}"
        )
    vetoed = np.zeros(len(times), dtype=bool)
    for column, ifo in enumerate(ifos):
        if ifo not in vetoes:
            continue
        segments = vetoes[ifo]
        if isinstance(segments, str | Path):
            segments = read_segment_file(segments)
        segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
        vetoed |= _in_segments(times + shifts[:, column], segments)
    return vetoed


def apply_vetoes(events: Any, vetoes: Mapping[str, np.ndarray | str | Path]) -> Any:
    """Remove the events that fall in a veto segment of any detector.

    An event is seen in detector ``ifo`` at ``detection_time + shift[ifo]``
    (timeslides shift each detector's data by its own amount), and is removed
    if that time is in one of ``ifo``'s veto segments.

    Args:
        events: an ``EventSet`` (attrs ``ifos`` give the order of ``shift``'s
            columns)
        vetoes: ifo → ``(M, 2)`` segments ``[start, end)`` in GPS seconds or
            the path of a segment file (two-column or segwizard)

    Returns:
        the events that survive, as the same type
    """
    ifos = [str(i) for i in events.attrs["ifos"]]
    mask = veto_mask(
        events.parameters["detection_time"], events.parameters["shift"], ifos, vetoes
    )
    logger.info("vetoes removed %d of %d events", int(mask.sum()), len(mask))
    return events[~mask]
