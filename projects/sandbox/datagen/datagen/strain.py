"""Real detector strain through gwpy: GWOSC open data, frame files, local files.

``fetch_strain`` returns each ifo's strain over ``[start, stop)`` resampled to
the requested rate, or raises ``StrainError`` naming the ifo, the span and the
problem (no data, a gap, too little data).
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

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
