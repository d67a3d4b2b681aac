"""Segment lists: reading, writing, intersecting, filtering and splitting.

A segment is a ``(start, stop)`` pair of GPS seconds, half-open; a segment list
is a ``list`` of them, sorted and non-overlapping once normalised. Reading
accepts segwizard files (``index start stop duration``) and two-column text;
writing produces segwizard. Querying GWOSC or DQSegDB (the real-data path) goes
through gwpy, imported only when a query is made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from aframe.utils.io import atomic_path

Segment = tuple[float, float]
SegmentList = list[Segment]

# O3a ended and O3b started here (GPS s); open-data queries never span the break
O3A_END = 1253977218
O3B_START = 1256655618


class SegmentError(ValueError):
    """A segment file or segment list that cannot be used."""


def normalize(segments: Sequence[Segment]) -> SegmentList:
    """Sort segments and merge those that overlap or touch; drop empty ones.

    Args:
        segments: ``(start, stop)`` pairs in GPS seconds

    Returns:
        the normalised list
    """
    out: SegmentList = []
    for start, stop in sorted((float(a), float(b)) for a, b in segments):
        if stop <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], stop))
        else:
            out.append((start, stop))
    return out


def read_segment_file(path: str | Path) -> SegmentList:
    """Read a segwizard or two-column segment file.

    Lines starting with ``#`` and blank lines are ignored. Each other line is
    either ``start stop`` or ``index start stop duration`` (segwizard, where the
    duration must equal ``stop - start``).

    Args:
        path: the file

    Returns:
        the segments, normalised
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise SegmentError(f"{path}: no such segment file")
    segments = []
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            fields = text.replace(",", " ").split()
            try:
                values = [float(x) for x in fields]
            except ValueError:
                raise SegmentError(
                    f"{path}, line {number}: not numbers: {line.strip()!r}"
                ) from None
            if len(values) == 2:
                start, stop = values
            elif len(values) == 4:
                _, start, stop, duration = values
                if not math.isclose(stop - start, duration, abs_tol=1e-3):
                    raise SegmentError(
                        f"{path}, line {number}: duration {duration:g} is not "
                        f"stop - start = {stop - start:g}"
                    )
            else:
                raise SegmentError(
                    f"{path}, line {number}: expected 'start stop' or "
                    f"'index start stop duration', got {len(values)} fields"
                )
            if stop <= start:
                raise SegmentError(
                    f"{path}, line {number}: stop {stop:g} is not after start {start:g}"
                )
            segments.append((start, stop))
    return normalize(segments)


def write_segment_file(path: str | Path, segments: Sequence[Segment]) -> None:
    """Write segments as a segwizard file, atomically.

    Args:
        path: the file
        segments: ``(start, stop)`` pairs in GPS seconds
    """

    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else repr(float(x))

    lines = ["# seg\tstart\tstop\tduration"]
    for i, (start, stop) in enumerate(segments):
        lines.append(f"{i}\t{fmt(start)}\t{fmt(stop)}\t{fmt(stop - start)}")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")


def intersect(segments: Mapping[str, Sequence[Segment]]) -> SegmentList:
    """The times covered by every ifo's segments.

    Args:
        segments: ifo → segments

    Returns:
        the intersection, normalised
    """
    lists = [normalize(s) for s in segments.values()]
    if not lists:
        return []
    result = lists[0]
    for other in lists[1:]:
        merged: SegmentList = []
        i = j = 0
        while i < len(result) and j < len(other):
            start = max(result[i][0], other[j][0])
            stop = min(result[i][1], other[j][1])
            if stop > start:
                merged.append((start, stop))
            if result[i][1] < other[j][1]:
                i += 1
            else:
                j += 1
        result = merged
    return result


def restrict(segments: Sequence[Segment], start: float, stop: float) -> SegmentList:
    """Clip segments to the span ``[start, stop)``.

    Args:
        segments: ``(start, stop)`` pairs in GPS seconds
        start: GPS start of the span
        stop: GPS end of the span

    Returns:
        the clipped segments, normalised
    """
    return intersect({"a": segments, "b": [(start, stop)]})


def filter_segments(segments: Sequence[Segment], min_duration: float) -> SegmentList:
    """Segments at least ``min_duration`` seconds long.

    Args:
        segments: ``(start, stop)`` pairs in GPS seconds
        min_duration: the shortest segment kept, in seconds

    Returns:
        the kept segments, in their order
    """
    return [(a, b) for a, b in segments if b - a >= min_duration]


def split_segments(
    segments: Sequence[Segment], max_length: float, min_length: float = 0.0
) -> list[tuple[int, int]]:
    """Split segments into near-equal whole-second pieces for files.

    Boundaries are first rounded inwards to whole seconds (file names carry
    integers). A segment shorter than ``min_length`` is dropped. A longer one is
    cut into the fewest near-equal pieces no longer than ``max_length``; pieces
    differ by at most one second, so no short remainder is ever left behind.
    When that many pieces would each be shorter than ``min_length`` (only
    possible if ``min_length > max_length / 2``), pieces of ``max_length`` are
    taken and the remainder, shorter than ``min_length``, is dropped.

    Args:
        segments: ``(start, stop)`` pairs in GPS seconds
        max_length: the longest piece, in seconds
        min_length: the shortest piece, in seconds

    Returns:
        the pieces as integer ``(start, stop)`` pairs, in order
    """
    max_length = int(math.floor(max_length))
    if max_length < 1:
        raise SegmentError(f"max_length {max_length} s must be at least 1 s")
    if min_length > max_length:
        raise SegmentError(
            f"min_length {min_length:g} s is longer than max_length {max_length} s"
        )
    pieces: list[tuple[int, int]] = []
    for start, stop in segments:
        a, b = math.ceil(start), math.floor(stop)
        duration = b - a
        if duration <= 0 or duration < min_length:
            continue
        n = math.ceil(duration / max_length)
        if duration // n < min_length:
            n = duration // max_length
            lengths = [max_length] * n
        else:
            base, extra = divmod(duration, n)
            lengths = [base + 1] * extra + [base] * (n - extra)
        t = a
        for length in lengths:
            pieces.append((t, t + length))
            t += length
    return pieces


def _split_at_o3_break(start: float, stop: float) -> list[Segment]:
    if start < O3A_END and stop > O3B_START:
        return [(start, O3A_END), (O3B_START, stop)]
    return [(start, stop)]


def query_segments(
    flag: str, ifos: Sequence[str], start: float, stop: float
) -> SegmentList:
    """Segments when every ifo's data-quality flag is active (network access).

    ``DATA`` (or ``{IFO}_DATA`` style open flags) is answered from GWOSC open
    data; any other flag is queried from DQSegDB as ``{IFO}:{flag}``. A span
    crossing the O3a/O3b break is queried as two halves.

    Args:
        flag: the flag, e.g. ``DATA`` or ``DMT-ANALYSIS_READY:1``
        ifos: the ifos whose segments are intersected
        start: GPS start of the query
        stop: GPS end of the query

    Returns:
        the intersection of the ifos' active segments
    """
    from gwpy.segments import DataQualityFlag

    per_ifo: dict[str, SegmentList] = {}
    for ifo in ifos:
        active: SegmentList = []
        for a, b in _split_at_o3_break(start, stop):
            if flag.upper() in ("DATA", "OPEN"):
                result = DataQualityFlag.fetch_open_data(f"{ifo}_DATA", a, b)
            else:
                result = DataQualityFlag.query(f"{ifo}:{flag}", a, b)
            active.extend((float(s[0]), float(s[1])) for s in result.active)
        per_ifo[ifo] = normalize(active)
    return intersect(per_ifo)
