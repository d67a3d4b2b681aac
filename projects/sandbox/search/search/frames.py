"""Frame files: the pieces of strain the online search reads as they appear.

Naming rule: ``<description>-<GPS>-<DURATION>.<gwf|hdf5|h5>``, with the GPS
start and the duration in whole seconds: the convention of the frame files
detector sites write (``H-H1_llhoft-1389448192-1.gwf``,
``L-L1_GWOSC_4KHZ_R1-1389448192-4096.hdf5``); background files
(``background-{t0}-{duration}.hdf5``) follow it too. Only the name is needed
to know a file's span, so the directory is scanned without opening files.
Names starting with ``.`` (the temporary files of an atomic write) are
ignored: a frame file must appear under its name only once complete, written
elsewhere and renamed, as the site frame writers do.

One GPS span may come as one file holding every ifo (GWF channels
``{ifo}:{channel}``; HDF5 in the background layout, a root dataset per ifo
named ``{ifo}:{channel}``, or ``{ifo}`` for ``OPEN`` data, with attrs ``x0``
and ``dx``) or as one file per detector with the same GPS and duration
(``H-H1_…-GPS-1.gwf`` and ``L-L1_…-GPS-1.gwf``): the files of a span are read
together. Frames must be at the model's sample rate: resampling every short
frame on its own would leave edge effects in each.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from aframe.utils.strain import channel_name

FRAME_NAME = re.compile(
    r"^(?P<description>[^.].*)-(?P<gps>\d+)-(?P<duration>\d+)\.(?P<ext>gwf|hdf5|h5)$"
)


class FrameError(ValueError):
    """A frame file that cannot be read, or does not hold what it should."""


@dataclass(frozen=True)
class FrameFile:
    """A frame file, known from its name.

    Attributes:
        path: the file
        gps: GPS start of its data, s
        duration: seconds of data
    """

    path: Path
    gps: int
    duration: int

    @property
    def stop(self) -> int:
        """GPS end (exclusive) of its data."""
        return self.gps + self.duration


def parse_frame(path: str | Path) -> FrameFile | None:
    """The frame a file name describes, or None for other files.

    Args:
        path: the file

    Returns:
        its ``FrameFile`` when the name follows the rule and the duration is
        positive
    """
    path = Path(path)
    match = FRAME_NAME.fullmatch(path.name)
    if match is None or int(match["duration"]) <= 0:
        return None
    return FrameFile(path, int(match["gps"]), int(match["duration"]))


def scan_frames(directory: str | Path) -> list[FrameFile]:
    """The frame files of a directory, by GPS start then name.

    Args:
        directory: the directory

    Returns:
        every file whose name follows the rule
    """
    frames = []
    with os.scandir(directory) as entries:
        for entry in entries:
            frame = parse_frame(entry.path)
            if frame is not None and entry.is_file():
                frames.append(frame)
    frames.sort(key=lambda f: (f.gps, f.path.name))
    return frames


def _read_hdf5(path: Path, name: str) -> tuple[np.ndarray, float, float] | None:
    try:
        with h5py.File(path, "r") as f:
            dataset = f.get(name)
            if not isinstance(dataset, h5py.Dataset):
                return None
            x0 = float(dataset.attrs.get("x0", f.attrs.get("t0", np.nan)))
            dx = dataset.attrs.get("dx")
            rate = 1 / float(dx) if dx is not None else float(f.attrs["sample_rate"])
            return dataset[()].astype(np.float64), x0, rate
    except (OSError, KeyError) as err:
        raise FrameError(f"{path.name}: not a readable HDF5 frame ({err})") from err


def _read_gwf(path: Path, name: str) -> tuple[np.ndarray, float, float] | None:
    from gwpy.io.gwf import iter_channel_names
    from gwpy.timeseries import TimeSeries

    try:
        if name not in set(iter_channel_names(str(path))):
            return None
        series = TimeSeries.read(str(path), name)
    except (OSError, ValueError, RuntimeError) as err:
        raise FrameError(f"{path.name}: not a readable GWF frame ({err})") from err
    return (
        np.asarray(series.value, dtype=np.float64),
        float(series.t0.value),
        float(series.sample_rate.value),
    )


def read_frames(
    files: Sequence[FrameFile],
    ifos: Sequence[str],
    channel: str,
    sample_rate: float,
    start: float,
    stop: float,
) -> tuple[np.ndarray, list[FrameFile]]:
    """Every ifo's strain over ``[start, stop)`` from the files of one span.

    Args:
        files: the frame files covering ``[start, stop)``
        ifos: the detectors, in the model's order
        channel: the strain channel (``OPEN``: datasets named by ifo)
        sample_rate: the model's rate, Hz; the frames must have it
        start: GPS start to read, s
        stop: GPS end (exclusive), s

    Returns:
        (n_ifo, (stop - start)·sample_rate) float64 strain, as read (it may
        hold NaN: the caller decides), and the files it came from (the first
        holding each ifo's channel; any other is a repeat)

    Raises:
        FrameError: a file cannot be read, an ifo is in none of the files, or
            the data do not have the model's rate or span
    """
    n = int(round((stop - start) * sample_rate))
    out = np.empty((len(ifos), n), dtype=np.float64)
    used: list[FrameFile] = []
    for row, ifo in enumerate(ifos):
        name = channel_name(ifo, channel)
        found = None
        for frame in files:
            reader = _read_gwf if frame.path.suffix == ".gwf" else _read_hdf5
            found = reader(frame.path, name)
            if found is not None:
                break
        where = ", ".join(f.path.name for f in files)
        if found is None:
            raise FrameError(f"{where}: no channel {name} for {ifo}")
        values, x0, rate = found
        if not np.isclose(rate, sample_rate):
            raise FrameError(
                f"{frame.path.name}: {name} at {rate:g} Hz, but the model takes "
                f"{sample_rate:g} Hz (write frames at the model's rate)"
            )
        i0 = int(round((start - x0) * rate))
        if i0 < 0 or i0 + n > len(values):
            raise FrameError(
                f"{frame.path.name}: {name} covers [{x0}, {x0 + len(values) / rate})"
                f", not all of [{start}, {stop})"
            )
        out[row] = values[i0 : i0 + n]
        if frame not in used:
            used.append(frame)
    return out, used
