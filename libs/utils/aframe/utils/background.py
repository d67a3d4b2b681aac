"""Background strain files: naming, writing, validating and reading.

A background file ``background-{t0}-{duration}.hdf5`` holds one float64 root
dataset of strain per ifo, all starting at GPS ``t0`` and lasting ``duration``
seconds, written chunked and uncompressed for fast random access (see
docs/artifacts.md). The start and duration are part of the file name, so the
name is validated as strictly as the contents.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from aframe.utils.io import atomic_h5

logger = logging.getLogger(__name__)

CHUNK_SIZE = 131072
"""samples per HDF5 chunk of a background dataset"""

_NAME = re.compile(r"background-(\d+)-(\d+)\.hdf5")


class BackgroundError(ValueError):
    """A background file that is missing, malformed or holds bad strain."""


def background_filename(t0: float, duration: float) -> str:
    """The file name of the background that starts at ``t0``.

    Args:
        t0: GPS start of the data, in seconds
        duration: length of the data, in seconds

    Returns:
        ``background-{int t0}-{int duration}.hdf5``
    """
    return f"background-{int(t0)}-{int(duration)}.hdf5"


def parse_background_filename(path: str | Path) -> tuple[int, int]:
    """The GPS start and duration encoded in a background file's name.

    Args:
        path: the file (only its name is read)

    Returns:
        ``(t0, duration)`` in integer seconds
    """
    name = Path(path).name
    match = _NAME.fullmatch(name)
    if match is None:
        raise BackgroundError(
            f"{name}: not a background file name "
            "(expected background-{t0}-{duration}.hdf5 with integer seconds)"
        )
    t0, duration = int(match.group(1)), int(match.group(2))
    if duration <= 0:
        raise BackgroundError(f"{name}: duration in the name must be positive")
    return t0, duration


@dataclass(frozen=True)
class BackgroundFile:
    """A validated background file.

    Attributes:
        path: the file
        t0: GPS start of the data, in seconds
        duration: length of the data, in seconds
        sample_rate: samples per second of every ifo's strain, in Hz
        ifos: the ifos validated to be present, in the order requested
    """

    path: Path
    t0: float
    duration: float
    sample_rate: float
    ifos: tuple[str, ...]

    @property
    def stop(self) -> float:
        """GPS end of the data (exclusive), in seconds."""
        return self.t0 + self.duration

    @property
    def num_samples(self) -> int:
        """Samples per ifo."""
        return int(round(self.duration * self.sample_rate))


def _open(path: Path) -> h5py.File:
    if not path.exists():
        raise BackgroundError(f"{path.name}: no such file ({path})")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise BackgroundError(f"{path.name}: not a readable HDF5 file ({err})") from err


def _check_ifos(f: h5py.File, name: str, ifos: Sequence[str]) -> None:
    for ifo in ifos:
        if ifo not in f or not isinstance(f[ifo], h5py.Dataset):
            raise BackgroundError(
                f"{name}: dataset {ifo} missing (expected ifos {', '.join(ifos)})"
            )


def _sample_rate(f: h5py.File, name: str, ifos: Sequence[str]) -> float:
    if "sample_rate" in f.attrs:
        return float(f.attrs["sample_rate"])
    dx = f[ifos[0]].attrs.get("dx")
    if dx is None:
        raise BackgroundError(f"{name}: no sample_rate attribute")
    return 1.0 / float(dx)


def _check_finite(
    name: str, ifo: str, dataset: h5py.Dataset, t0: float, sample_rate: float
) -> None:
    # chunk-aligned reads keep memory bounded on files of many hours
    step = CHUNK_SIZE * 16
    for start in range(0, dataset.shape[0], step):
        block = dataset[start : start + step]
        finite = np.isfinite(block)
        if not finite.all():
            first = start + int(np.argmin(finite))
            value = block[first - start]
            raise BackgroundError(
                f"{name}: dataset {ifo} has a non-finite value ({value}) at "
                f"sample {first}, GPS {t0 + first / sample_rate:.6f}"
            )


def validate_background(
    path: str | Path,
    ifos: Sequence[str],
    sample_rate: float | None = None,
    check_finite: bool = True,
) -> BackgroundFile:
    """Check a background file against the contract and describe it.

    Checks, each failing with a ``BackgroundError`` that names the file: the
    name parses; the file is readable HDF5; every ifo is present; every ifo
    holds ``duration * sample_rate`` samples (so no gap or truncation); the
    ``sample_rate`` attr matches the requested one; the strain is finite.

    Args:
        path: the file
        ifos: ifos that must be present
        sample_rate: the expected sample rate in Hz; any when None
        check_finite: read all the strain and check it is finite (in chunks)

    Returns:
        the validated file
    """
    path = Path(path).expanduser()
    name = path.name
    t0, duration = parse_background_filename(path)
    with _open(path) as f:
        _check_ifos(f, name, ifos)
        file_rate = _sample_rate(f, name, ifos)
        if sample_rate is not None and not np.isclose(file_rate, sample_rate):
            raise BackgroundError(
                f"{name}: sample_rate is {file_rate:g} Hz, expected {sample_rate:g} Hz"
            )
        expected_length = int(round(duration * file_rate))
        for ifo in ifos:
            dataset = f[ifo]
            if dataset.ndim != 1:
                raise BackgroundError(
                    f"{name}: dataset {ifo} has shape {dataset.shape}, expected 1-d"
                )
            if dataset.shape[0] != expected_length:
                raise BackgroundError(
                    f"{name}: dataset {ifo} holds {dataset.shape[0]} samples, "
                    f"expected {expected_length} ({duration} s at {file_rate:g} Hz): "
                    "truncated or has a gap"
                )
            x0 = dataset.attrs.get("x0")
            if x0 is not None and not np.isclose(float(x0), t0):
                raise BackgroundError(
                    f"{name}: dataset {ifo} starts at GPS {float(x0)}, "
                    f"but the name says {t0}"
                )
        if check_finite:
            for ifo in ifos:
                _check_finite(name, ifo, f[ifo], t0, file_rate)
    return BackgroundFile(
        path=path,
        t0=float(t0),
        duration=float(duration),
        sample_rate=file_rate,
        ifos=tuple(ifos),
    )


def list_background(
    directory: str | Path,
    ifos: Sequence[str],
    sample_rate: float | None = None,
    min_duration: float = 0.0,
    check_finite: bool = True,
) -> list[BackgroundFile]:
    """The validated background files of a directory, sorted by start time.

    Temporary files of an interrupted write (``*.tmp-*``) are ignored. A file
    whose name looks like background but does not parse, that fails
    validation, or that is not a file (a folder) is an error. Files shorter
    than ``min_duration`` are skipped.

    Args:
        directory: the background directory
        ifos: ifos every file must hold
        sample_rate: the expected sample rate in Hz; any when None
        min_duration: skip files shorter than this, in seconds
        check_finite: check that every file's strain is finite

    Returns:
        the files, sorted by GPS start
    """
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise BackgroundError(f"{directory}: no such background directory")
    files = []
    for path in sorted(directory.glob("background-*")):
        if ".tmp-" in path.name:
            continue
        if not path.is_file():
            # never skipped in silence: the data it was meant to hold is missing
            raise BackgroundError(
                f"{directory / path.name}: named like a background file but not "
                "a file (remove or rename it)"
            )
        item = validate_background(path, ifos, sample_rate, check_finite=check_finite)
        if item.duration < min_duration:
            logger.info(
                "skipping %s: %g s is shorter than %g s",
                path.name,
                item.duration,
                min_duration,
            )
            continue
        files.append(item)
    if not files:
        raise BackgroundError(
            f"{directory}: no background files"
            + (f" of at least {min_duration:g} s" if min_duration else "")
            + " (expected background-{t0}-{duration}.hdf5)"
        )
    files.sort(key=lambda item: item.t0)
    for previous, item in zip(files, files[1:]):
        if item.t0 < previous.stop:
            raise BackgroundError(
                f"{directory}: {item.path.name} overlaps {previous.path.name}"
            )
    return files


def read_background(
    path: str | Path,
    ifos: Sequence[str],
    start: float | None = None,
    end: float | None = None,
) -> np.ndarray:
    """Read strain from a background file.

    Args:
        path: the file
        ifos: the ifos to read, in this order
        start: GPS start of the span to read (default: the file's start)
        end: GPS end (exclusive) of the span (default: the file's end)

    Returns:
        ``(len(ifos), T)`` float64 strain; the read span is checked to be finite
    """
    path = Path(path).expanduser()
    name = path.name
    t0, duration = parse_background_filename(path)
    start = float(t0) if start is None else float(start)
    end = float(t0 + duration) if end is None else float(end)
    if not t0 <= start < end <= t0 + duration:
        raise BackgroundError(
            f"{name}: span [{start}, {end}) is outside the file's "
            f"[{t0}, {t0 + duration})"
        )
    with _open(path) as f:
        _check_ifos(f, name, ifos)
        rate = _sample_rate(f, name, ifos)
        i0 = int(round((start - t0) * rate))
        i1 = int(round((end - t0) * rate))
        out = np.empty((len(ifos), i1 - i0), dtype=np.float64)
        for i, ifo in enumerate(ifos):
            dataset = f[ifo]
            if dataset.shape[0] < i1:
                raise BackgroundError(
                    f"{name}: dataset {ifo} holds {dataset.shape[0]} samples, "
                    f"fewer than the {i1} needed: truncated"
                )
            dataset.read_direct(out[i], np.s_[i0:i1])
            finite = np.isfinite(out[i])
            if not finite.all():
                first = int(np.argmin(finite))
                raise BackgroundError(
                    f"{name}: dataset {ifo} has a non-finite value at "
                    f"GPS {start + first / rate:.6f}"
                )
    return out


def _version() -> str:
    try:
        return importlib.metadata.version("aframe-utils")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_background(
    path: str | Path,
    strain: Mapping[str, np.ndarray],
    t0: float,
    sample_rate: float,
    attrs: Mapping[str, Any],
    injected_glitches: Mapping[str, Mapping[str, np.ndarray]] | None = None,
) -> None:
    """Write a background file atomically.

    Args:
        path: the file; its name must be ``background_filename(t0, duration)``
        strain: ifo → 1-d strain, all of one length, a whole number of seconds
        t0: GPS start of the strain, in integer seconds
        sample_rate: samples per second, in Hz
        attrs: file attributes (``source``, ``psd``, ``seed``, ...); a
            ``channel`` entry (a name, or ifo → name) goes on each dataset
        injected_glitches: ifo → {``time``, ``snr``, ``frequency``, ``quality``,
            ``kind``} arrays of simulated glitches added to that ifo's strain
    """
    path = Path(path).expanduser()
    ifos = list(strain)
    if not ifos:
        raise BackgroundError(f"{path.name}: no strain to write")
    lengths = {ifo: np.shape(strain[ifo]) for ifo in ifos}
    if len(set(lengths.values())) != 1 or len(lengths[ifos[0]]) != 1:
        raise BackgroundError(
            f"{path.name}: strain shapes differ or are not 1-d: {lengths}"
        )
    length = lengths[ifos[0]][0]
    duration = length / sample_rate
    if not float(t0).is_integer() or not np.isclose(duration, round(duration)):
        raise BackgroundError(
            f"{path.name}: t0 {t0} and duration {duration} s must be whole seconds"
        )
    expected = background_filename(t0, round(duration))
    if path.name != expected:
        raise BackgroundError(f"{path.name}: name does not match its data ({expected})")
    for ifo in ifos:
        finite = np.isfinite(strain[ifo])
        if not finite.all():
            first = int(np.argmin(finite))
            raise BackgroundError(
                f"{path.name}: {ifo} strain has a non-finite value at "
                f"GPS {t0 + first / sample_rate:.6f}"
            )

    attrs = dict(attrs)
    channel = attrs.pop("channel", None)
    with atomic_h5(path) as f:
        for ifo in ifos:
            data = np.asarray(strain[ifo], dtype=np.float64)
            dataset = f.create_dataset(
                ifo, data=data, chunks=(min(CHUNK_SIZE, length),)
            )
            dataset.attrs["x0"] = float(t0)
            dataset.attrs["dx"] = 1.0 / sample_rate
            if isinstance(channel, Mapping):
                dataset.attrs["channel"] = str(channel.get(ifo, ifo))
            else:
                dataset.attrs["channel"] = str(channel or ifo)
        f.attrs["t0"] = float(t0)
        f.attrs["duration"] = float(round(duration))
        f.attrs["sample_rate"] = float(sample_rate)
        f.attrs["ifos"] = ifos
        f.attrs.setdefault("source", "")
        f.attrs.setdefault("psd", "")
        f.attrs["aframe_version"] = _version()
        for key, value in attrs.items():
            f.attrs[key] = "" if value is None else value
        if injected_glitches:
            group = f.create_group("injected_glitches")
            for ifo, table in injected_glitches.items():
                sub = group.create_group(ifo)
                for key, values in table.items():
                    sub.create_dataset(key, data=np.asarray(values))


def read_injected_glitches(path: str | Path, ifo: str) -> dict[str, np.ndarray]:
    """The simulated glitches recorded in a background file for one ifo.

    Args:
        path: the background file
        ifo: the ifo

    Returns:
        ``time``, ``snr``, ``frequency``, ``quality``, ``kind`` arrays (empty when
        the file records no glitches for ``ifo``)
    """
    keys = ("time", "snr", "frequency", "quality", "kind")
    with _open(Path(path).expanduser()) as f:
        group = f.get(f"injected_glitches/{ifo}")
        if group is None:
            return {k: np.zeros(0, dtype=int if k == "kind" else float) for k in keys}
        return {k: group[k][:] for k in keys}
