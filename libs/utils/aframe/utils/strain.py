"""Real detector strain through gwpy: GWOSC open data, frame files, local files.

``fetch_strain`` returns each ifo's strain over ``[start, stop)`` resampled to
the requested rate, or raises ``StrainError`` naming the ifo, the span and the
problem (no data, a gap, too little data). generate-background uses it: its
spans must be complete.

A search over whatever data exist uses ``read_strain`` instead: each ifo's
samples over ``[start, stop)`` at the data's own rate, with ``+inf`` wherever
no file (or no GWOSC dataset) covers a sample and the data's own values, NaN
included, elsewhere; ``finite_segments`` then tells the spans every ifo holds
finite data in from the missing (``gap``) and non-finite (``nan``) ones, and
``resample`` brings a finite span to the analysis rate. Nothing is filled.

gwpy (and gwdatafind for frame discovery) are imported only when data are
read, so the other utilities do not need them.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from aframe.utils.segments import intersect

logger = logging.getLogger(__name__)

Source = Literal["gwosc", "frames", "hdf5"]
OPEN_CHANNELS = ("", "OPEN", "DATA")


class StrainError(ValueError):
    """Strain that cannot be fetched or does not cover the requested span."""


def _gps(t: float) -> str:
    return f"{t:.0f}" if float(t).is_integer() else f"{t:.4f}"


def _span(start: float, stop: float) -> str:
    return f"[{_gps(start)}, {_gps(stop)})"


def channel_name(ifo: str, channel: str) -> str:
    """The full channel name of an ifo.

    Args:
        ifo: e.g. ``H1``
        channel: e.g. ``GDS-CALIB_STRAIN``; ``OPEN`` (or empty) for open data,
            whose local files name the dataset by the ifo alone

    Returns:
        ``{ifo}:{channel}``, or ``ifo`` for open data
    """
    if channel.upper() in OPEN_CHANNELS:
        return ifo
    return channel if ":" in channel else f"{ifo}:{channel}"


def expand_files(patterns: Sequence[str | Path]) -> list[str]:
    """Expand file names and glob patterns, keeping their order.

    Args:
        patterns: paths or glob patterns

    Returns:
        the existing files
    """
    files: list[str] = []
    for pattern in patterns:
        pattern = str(Path(pattern).expanduser())
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise StrainError(f"{pattern}: no such data file")
        files.extend(m for m in matches if m not in files)
    return files


def _file_span(path: str, name: str) -> tuple[float, float] | None:
    """The GPS span of a data file, or None when it cannot be told cheaply."""
    if path.endswith((".h5", ".hdf5", ".hdf")):
        import h5py

        try:
            with h5py.File(path, "r") as f:
                dataset = f.get(name)
                if dataset is None or "x0" not in dataset.attrs:
                    return None
                x0 = float(dataset.attrs["x0"])
                dx = float(dataset.attrs.get("dx", 0.0))
                return x0, x0 + dx * dataset.shape[0]
        except OSError as err:
            raise StrainError(f"{path}: not a readable HDF5 file ({err})") from err
    from gwpy.io.cache import file_segment

    try:
        segment = file_segment(path)
    except ValueError:
        return None
    return float(segment[0]), float(segment[1])


def _overlapping(files: list[str], name: str, start: float, stop: float) -> list[str]:
    # gwpy joins every file it is given, so files outside the span must go
    keep = []
    for path in files:
        span = _file_span(path, name)
        if span is None or (span[0] < stop and span[1] > start):
            keep.append(path)
    return keep


def _frame_files(
    ifo: str,
    start: float,
    stop: float,
    frametype: str | None,
    frame_cache: Path | None,
) -> list[str]:
    if frame_cache is not None:
        from gwpy.io.cache import read_cache

        try:
            return [str(f) for f in read_cache(str(frame_cache))]
        except (OSError, ValueError) as err:
            raise StrainError(
                f"{frame_cache}: not a readable frame cache ({err})"
            ) from err
    if not frametype:
        raise StrainError("source 'frames' needs frametype or frame_cache")
    import gwdatafind

    kind = frametype.format(ifo=ifo)
    urls = gwdatafind.find_urls(ifo[0], kind, start, stop)
    if not urls:
        raise StrainError(f"{ifo}: no {kind} frames for {_span(start, stop)}")
    return urls


def _conform(
    series, ifo: str, start: float, stop: float, sample_rate: float
) -> np.ndarray:
    rate = float(series.sample_rate.value)
    if not np.isclose(rate, sample_rate):
        series = series.resample(sample_rate)
    expected = int(round((stop - start) * sample_rate))
    i0 = int(round((start - float(series.t0.value)) * sample_rate))
    values = np.asarray(series.value, dtype=np.float64)
    if i0 < 0 or i0 + expected > len(values):
        covered = (float(series.span[0]), float(series.span[1]))
        raise StrainError(
            f"{ifo}: data cover {_span(*covered)}, not all of "
            f"{_span(start, stop)} (a gap or a missing file)"
        )
    return values[i0 : i0 + expected].copy()


def fetch_strain(
    source: Source,
    ifos: Sequence[str],
    start: float,
    stop: float,
    sample_rate: float,
    channel: str = "OPEN",
    frametype: str | None = None,
    frame_cache: Path | None = None,
    data_files: Sequence[str | Path] | None = None,
) -> dict[str, np.ndarray]:
    """Each ifo's strain over ``[start, stop)`` at ``sample_rate``.

    Args:
        source: ``gwosc`` (open data, network), ``frames`` (frame files from
            ``frame_cache`` or found with gwdatafind for ``frametype``) or
            ``hdf5`` (local HDF5 or GWF files, ``data_files``)
        ifos: the ifos
        start: GPS start, in seconds
        stop: GPS end (exclusive), in seconds
        sample_rate: the output sample rate, in Hz (data are resampled)
        channel: the channel (``{ifo}:{channel}``); ``OPEN`` for open data,
            whose local files name each dataset by its ifo
        frametype: frame type for gwdatafind, ``{ifo}`` is replaced by the ifo
        frame_cache: a LAL cache or list of frame files
        data_files: local files (globs allowed) for ``hdf5``

    Returns:
        ifo → float64 strain of ``(stop - start) * sample_rate`` samples
    """
    from gwpy.timeseries import TimeSeries, TimeSeriesDict

    out = {}
    if source == "hdf5":
        if not data_files:
            raise StrainError("source 'hdf5' needs data_files")
        names = [channel_name(ifo, channel) for ifo in ifos]
        files = _overlapping(expand_files(data_files), names[0], start, stop)
        if not files:
            raise StrainError(
                f"no data file covers any of {_span(start, stop)} "
                f"(searched {', '.join(str(p) for p in data_files)})"
            )
        try:
            data = TimeSeriesDict.read(files, names, start=start, end=stop)
        except (KeyError, ValueError, OSError, RuntimeError) as err:
            raise StrainError(
                f"{', '.join(files[:3])}{' ...' if len(files) > 3 else ''}: cannot "
                f"read {', '.join(names)} over {_span(start, stop)} ({err})"
            ) from err
        for ifo, name in zip(ifos, names):
            out[ifo] = _conform(data[name], ifo, start, stop, sample_rate)
        return out

    for ifo in ifos:
        try:
            if source == "gwosc":
                series = TimeSeries.fetch_open_data(ifo, start, stop, cache=True)
            elif source == "frames":
                files = _overlapping(
                    _frame_files(ifo, start, stop, frametype, frame_cache),
                    channel_name(ifo, channel),
                    start,
                    stop,
                )
                series = TimeSeries.read(
                    files, channel_name(ifo, channel), start=start, end=stop
                )
            else:
                raise StrainError(
                    f"unknown source {source!r} "
                    "(expected simulated, gwosc, frames, hdf5)"
                )
        except StrainError:
            raise
        except (KeyError, ValueError, OSError, RuntimeError) as err:
            raise StrainError(
                f"{ifo}: cannot get {source} data over {_span(start, stop)} ({err})"
            ) from err
        out[ifo] = _conform(series, ifo, start, stop, sample_rate)
    return out


MISSING = np.inf
"""the value ``read_strain`` puts where no data cover a sample (strain is finite)"""


@dataclass(frozen=True)
class StrainSpan:
    """One ifo's samples over a requested span, gaps marked.

    Attributes:
        values: float64 samples from ``start`` on, ``MISSING`` (+inf) where no
            data cover a sample, NaN where the data hold NaN
        start: GPS time of ``values[0]``, seconds
        sample_rate: samples per second of the data as read, Hz
    """

    values: np.ndarray
    start: float
    sample_rate: float

    @property
    def stop(self) -> float:
        """GPS end (exclusive) of the span, seconds."""
        return self.start + len(self.values) / self.sample_rate


def _place(
    spans: dict[str, StrainSpan | None], ifo: str, series, start: float, stop: float
) -> None:
    """Copy a gwpy series into the ifo's span (created at the series' rate)."""
    rate = float(series.sample_rate.value)
    current = spans.get(ifo)
    if current is None:
        n = int(round((stop - start) * rate))
        current = StrainSpan(np.full(n, MISSING), float(start), rate)
        spans[ifo] = current
    elif not np.isclose(current.sample_rate, rate):
        raise StrainError(
            f"{ifo}: data at {rate:g} Hz and {current.sample_rate:g} Hz "
            f"within {_span(start, stop)}"
        )
    offset = (float(series.t0.value) - start) * rate
    i0 = int(round(offset))
    if abs(offset - i0) > 1e-3:
        raise StrainError(
            f"{ifo}: data starting at GPS {float(series.t0.value)} are not on the "
            f"sample grid of {_span(start, stop)} at {rate:g} Hz"
        )
    values = np.asarray(series.value, dtype=np.float64)
    lo, hi = max(i0, 0), min(i0 + len(values), len(current.values))
    if hi > lo:
        current.values[lo:hi] = values[lo - i0 : hi - i0]


def _channels(path: str, names: Sequence[str]) -> set[str]:
    """Which of ``names`` a file holds (all, when that cannot be told)."""
    try:
        if path.endswith(".gwf"):
            from gwpy.io.gwf import iter_channel_names

            return set(iter_channel_names(path)) & set(names)
        if path.endswith((".h5", ".hdf5", ".hdf")):
            import h5py

            with h5py.File(path, "r") as f:
                return {name for name in names if name in f}
    except (OSError, ValueError, RuntimeError) as err:
        raise StrainError(f"{path}: not a readable data file ({err})") from err
    return set(names)


def _read_file_span(path: str, names: Sequence[str], start: float, stop: float):
    """The channels of one file over its overlap with ``[start, stop)``."""
    from gwpy.timeseries import TimeSeriesDict

    span = _file_span(path, names[0])
    lo, hi = start, stop
    if span is not None:
        lo, hi = max(start, span[0]), min(stop, span[1])
    try:
        return TimeSeriesDict.read(path, list(names), start=lo, end=hi)
    except (KeyError, ValueError, OSError, RuntimeError) as err:
        raise StrainError(
            f"{path}: cannot read {', '.join(names)} over {_span(lo, hi)} ({err})"
        ) from err


def read_strain(
    source: Source,
    ifos: Sequence[str],
    start: float,
    stop: float,
    channel: str = "OPEN",
    frametype: str | None = None,
    frame_cache: Path | None = None,
    data_files: Sequence[str | Path] | None = None,
    default_rate: float = 4096.0,
) -> dict[str, StrainSpan]:
    """Each ifo's data over ``[start, stop)`` as they are, gaps marked.

    Files are read one by one and placed at their GPS times, so a span with
    missing files, or files that do not reach its ends, is read whole; the
    samples no file covers are ``MISSING``. A file that exists but cannot be
    read, or lacks a channel, is an error.

    Args:
        source: ``gwosc`` (open data, network), ``frames`` (frame files from
            ``frame_cache`` or found with gwdatafind for ``frametype``) or
            ``hdf5`` (local HDF5 or GWF files, ``data_files``)
        ifos: the ifos
        start: GPS start, in seconds
        stop: GPS end (exclusive), in seconds
        channel: the channel (``{ifo}:{channel}``); ``OPEN`` for open data,
            whose local files name each dataset by its ifo
        frametype: frame type for gwdatafind, ``{ifo}`` is replaced by the ifo
        frame_cache: a LAL cache or list of frame files
        data_files: local files (globs allowed) for ``hdf5``
        default_rate: the rate of an ifo no data at all were found for, in Hz

    Returns:
        ifo → its ``StrainSpan`` over ``[start, stop)``
    """
    if stop <= start:
        raise StrainError(f"stop {stop} is not after start {start}")
    spans: dict[str, StrainSpan | None] = {ifo: None for ifo in ifos}
    if source == "gwosc":
        from gwpy.timeseries import TimeSeries

        for ifo in ifos:
            try:
                series = TimeSeries.fetch_open_data(ifo, start, stop, cache=True)
            except (KeyError, ValueError, OSError, RuntimeError) as err:
                logger.warning(
                    "%s: no GWOSC data over %s (%s)", ifo, _span(start, stop), err
                )
                continue
            _place(spans, ifo, series, start, stop)
    elif source in ("hdf5", "frames"):
        names = [channel_name(ifo, channel) for ifo in ifos]
        if source == "hdf5":
            if not data_files:
                raise StrainError("source 'hdf5' needs data_files")
            candidates = {ifo: expand_files(data_files) for ifo in ifos}
        else:
            candidates = {
                ifo: _frame_files(ifo, start, stop, frametype, frame_cache)
                for ifo in ifos
            }
        # files shared by every ifo are read once, for all of their channels;
        # a file is read for the channels it holds (sites write one per ifo)
        by_file: dict[str, list[int]] = {}
        for k, ifo in enumerate(ifos):
            for path in _overlapping(candidates[ifo], names[k], start, stop):
                by_file.setdefault(path, []).append(k)
        for path, rows in by_file.items():
            held = _channels(path, [names[k] for k in rows])
            rows = [k for k in rows if names[k] in held]
            if not rows:
                continue
            data = _read_file_span(path, [names[k] for k in rows], start, stop)
            for k in rows:
                _place(spans, ifos[k], data[names[k]], start, stop)
    else:
        raise StrainError(f"unknown source {source!r} (expected gwosc, frames, hdf5)")
    out = {}
    for ifo, span in spans.items():
        if span is None:
            logger.warning("%s: no data at all over %s", ifo, _span(start, stop))
            n = int(round((stop - start) * default_rate))
            span = StrainSpan(np.full(n, MISSING), float(start), float(default_rate))
        out[ifo] = span
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[i0, i1)`` index runs where ``mask`` is True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.view(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def finite_segments(
    spans: dict[str, StrainSpan],
) -> tuple[list[tuple[float, float]], list[dict]]:
    """Where every ifo holds finite data, and why the rest does not count.

    Args:
        spans: ifo → its data (``read_strain``)

    Returns:
        the segments ``(start, stop)`` (GPS s) where every ifo is finite, in
        order, and one record per run of unusable samples of an ifo:
        ``{"ifo", "start", "stop", "reason"}`` with reason ``gap`` (no data)
        or ``nan`` (non-finite values in the data)
    """
    good: dict[str, list[tuple[float, float]]] = {}
    problems: list[dict] = []
    for ifo, span in spans.items():
        rate, t0 = span.sample_rate, span.start
        finite = np.isfinite(span.values)
        good[ifo] = [(t0 + a / rate, t0 + b / rate) for a, b in _runs(finite)]
        missing = span.values == MISSING
        for reason, mask in (("gap", missing), ("nan", ~finite & ~missing)):
            for a, b in _runs(mask):
                problems.append(
                    {
                        "ifo": ifo,
                        "start": t0 + a / rate,
                        "stop": t0 + b / rate,
                        "reason": reason,
                    }
                )
    problems.sort(key=lambda p: (p["start"], p["ifo"]))
    return intersect(good), problems


def resample(
    span: StrainSpan, start: float, stop: float, sample_rate: float, ifo: str = ""
) -> np.ndarray:
    """Finite samples of a span over ``[start, stop)`` at ``sample_rate``.

    Args:
        span: one ifo's data
        start: GPS start, on the span's sample grid, seconds
        stop: GPS end (exclusive), seconds
        sample_rate: the output rate, Hz (gwpy's resampling when it differs)
        ifo: the ifo, for errors

    Returns:
        float64 strain of ``(stop - start)·sample_rate`` samples
    """
    from gwpy.timeseries import TimeSeries

    rate = span.sample_rate
    i0 = int(round((start - span.start) * rate))
    i1 = int(round((stop - span.start) * rate))
    values = span.values[i0:i1]
    if len(values) != i1 - i0 or i0 < 0 or not np.isfinite(values).all():
        raise StrainError(
            f"{ifo}: {_span(start, stop)} is not a finite part of the data read"
        )
    series = TimeSeries(values, t0=start, sample_rate=rate)
    return _conform(series, ifo, start, stop, sample_rate)
