"""The data a search analyses: segments where every detector holds finite strain.

``prepare_data`` reads ``[start, stop)`` through ``aframe.utils.strain`` (the
readers of generate-background: GWOSC open data, frame files with a channel
or a cache, local HDF5/GWF files) in pieces of at most ``max_segment_length``
seconds, finds where every ifo holds finite data, rounds each such segment
inwards to whole seconds and writes it, resampled to the model's rate, as a
background file (``aframe.utils.background``) under ``outdir/data``: the
layout infer's jobs read. Nothing is filled. What is not analysed is
reported, one record per stretch: ``gap`` (no data for an ifo), ``nan``
(non-finite values in an ifo's data), ``short`` (finite in every ifo, but not
longer than the burn-in, so no statistic could come of it) and ``excluded``
(outside the ``segment_file``'s segments).

The list of files and skipped stretches is kept in ``outdir/data/segments.json``
with the settings that made it; a rerun with the same settings and data reuses
it without reading the data again.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from aframe.utils.background import (
    BackgroundError,
    BackgroundFile,
    background_filename,
    validate_background,
    write_background,
)
from aframe.utils.io import atomic_path, ensure_writable_dir
from aframe.utils.segments import read_segment_file, restrict, split_segments
from aframe.utils.strain import (
    Source,
    expand_files,
    finite_segments,
    read_strain,
    resample,
)

logger = logging.getLogger(__name__)

SEGMENTS_FILE = "segments.json"


@dataclass(frozen=True)
class SearchData:
    """The segments a search analyses and the stretches it skips.

    Attributes:
        files: one background file per analysed segment, in time order
        skipped: ``{"start", "stop", "reason", "ifo"?, "detail"?}`` records
    """

    files: list[BackgroundFile]
    skipped: list[dict[str, Any]]


def _stamps(
    source: str, data_files: Sequence[str | Path] | None, frame_cache: Path | None
) -> dict[str, list[int]]:
    """Size and mtime of the local inputs: a rerun on changed files rereads."""
    paths: list[str] = []
    if source == "hdf5" and data_files:
        paths = expand_files(data_files)
    elif frame_cache is not None and Path(frame_cache).is_file():
        paths = [str(frame_cache)]
    out = {}
    for path in paths:
        stat = Path(path).stat()
        out[str(Path(path).resolve())] = [stat.st_size, stat.st_mtime_ns]
    return out


def _reuse(directory: Path, settings: dict, ifos: Sequence[str], sample_rate: float):
    path = directory / SEGMENTS_FILE
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if stored.get("settings") != settings:
        logger.info("data settings changed since the last run: reading again")
        return None
    try:
        files = [
            validate_background(directory / name, ifos, sample_rate)
            for name in stored["files"]
        ]
    except (BackgroundError, KeyError) as err:
        logger.warning("reading the data again: %s", err)
        return None
    logger.info("reusing the %d segment file(s) in %s", len(files), directory)
    return SearchData(files, stored["skipped"])


def _pieces(
    start: float, stop: float, max_length: float, segment_file: Path | None
) -> tuple[list[tuple[int, int]], list[dict[str, Any]]]:
    """Near-equal whole-second pieces to read, and the stretches excluded."""
    allowed = [(start, stop)]
    excluded: list[dict[str, Any]] = []
    if segment_file is not None:
        allowed = restrict(read_segment_file(segment_file), start, stop)
        edges = [start, *[t for seg in allowed for t in seg], stop]
        for a, b in zip(edges[::2], edges[1::2]):
            if b > a:
                excluded.append({"start": a, "stop": b, "reason": "excluded"})
    return split_segments(allowed, max_length), excluded


def prepare_data(
    outdir: Path,
    ifos: Sequence[str],
    start: float,
    stop: float,
    sample_rate: float,
    burn_in: float,
    source: Source = "hdf5",
    channel: str = "OPEN",
    frametype: str | None = None,
    frame_cache: Path | None = None,
    data_files: Sequence[str | Path] | None = None,
    segment_file: Path | None = None,
    max_segment_length: float = 4096.0,
) -> SearchData:
    """Read the data and write the segments worth analysing.

    Args:
        outdir: the search's directory; files go to ``outdir/data``
        ifos: the detectors, in the model's order
        start: GPS start of the search, s
        stop: GPS end (exclusive), s
        sample_rate: the model's rate, Hz (the data are resampled to it)
        burn_in: seconds a stream needs before its first statistic; segments
            no longer than this are skipped as ``short``
        source: ``gwosc``, ``frames`` or ``hdf5`` (local HDF5 or GWF files)
        channel: the strain channel (``{ifo}:{channel}``); ``OPEN`` for open
            data, whose local files name each dataset by its ifo
        frametype: frame type for gwdatafind (``{ifo}`` is replaced)
        frame_cache: a LAL cache or list of frame files (``frames``)
        data_files: local files or globs (``hdf5``)
        segment_file: only analyse these segments (two-column or segwizard)
        max_segment_length: longest piece read at once, s

    Returns:
        the segment files and the skipped stretches
    """
    directory = ensure_writable_dir(Path(outdir) / "data")
    settings = {
        "ifos": list(ifos),
        "start": float(start),
        "stop": float(stop),
        "sample_rate": float(sample_rate),
        "burn_in": float(burn_in),
        "source": source,
        "channel": channel,
        "frametype": frametype,
        "frame_cache": str(frame_cache) if frame_cache else None,
        "data_files": [str(p) for p in data_files or []],
        "segments": [list(seg) for seg in read_segment_file(segment_file)]
        if segment_file
        else None,
        "max_segment_length": float(max_segment_length),
        "inputs": _stamps(source, data_files, frame_cache),
    }
    reused = _reuse(directory, settings, ifos, sample_rate)
    if reused is not None:
        return reused

    pieces, skipped = _pieces(start, stop, max_segment_length, segment_file)
    names: list[str] = []
    for a, b in tqdm(pieces, desc="read data", unit="piece"):
        spans = read_strain(
            source,
            ifos,
            a,
            b,
            channel=channel,
            frametype=frametype,
            frame_cache=frame_cache,
            data_files=data_files,
        )
        segments, problems = finite_segments(spans)
        skipped.extend(problems)
        for seg_start, seg_stop in segments:
            t0, t1 = math.ceil(seg_start), math.floor(seg_stop)
            if t1 - t0 <= burn_in:
                skipped.append(
                    {
                        "start": seg_start,
                        "stop": seg_stop,
                        "reason": "short",
                        "detail": f"{seg_stop - seg_start:g} s of data in every "
                        f"ifo, not more than the burn-in of {burn_in:g} s",
                    }
                )
                continue
            strain = {
                ifo: resample(spans[ifo], t0, t1, sample_rate, ifo) for ifo in ifos
            }
            name = background_filename(t0, t1 - t0)
            write_background(
                directory / name,
                strain,
                t0,
                sample_rate,
                {
                    "source": source,
                    "psd": "",
                    "channel": {ifo: f"{ifo}:{channel}" for ifo in ifos},
                    "ifos": list(ifos),
                },
            )
            names.append(name)
    skipped.sort(key=lambda item: (item["start"], item.get("ifo", "")))
    for path in directory.glob("background-*.hdf5"):
        if path.name not in names:
            path.unlink()  # a segment of earlier settings
    with atomic_path(directory / SEGMENTS_FILE) as tmp:
        tmp.write_text(
            json.dumps(
                {"settings": settings, "files": names, "skipped": skipped}, indent=2
            )
            + "\n"
        )
    files = [validate_background(directory / n, ifos, sample_rate) for n in names]
    return SearchData(files, skipped)


def describe(record: dict[str, Any]) -> str:
    """One line for a skipped stretch, for the log."""
    who = f"{record['ifo']} " if record.get("ifo") else ""
    span = f"[{record['start']:.3f}, {record['stop']:.3f})"
    text = {
        "gap": "no data",
        "nan": "non-finite values",
        "short": "too short",
        "excluded": "outside the segment file",
    }.get(record["reason"], record["reason"])
    detail = f": {record['detail']}" if record.get("detail") else ""
    return f"{who}{span} skipped, {text}{detail}"
