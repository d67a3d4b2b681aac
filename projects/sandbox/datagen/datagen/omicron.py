"""Glitch triggers from the Omicron executable, where one is installed.

Omicron reads frame files, so the strain is written to a GWF file with gwpy and
listed in an FFL file; Omicron runs over it with a parameter file in the format
pyomicron writes, and its HDF5 trigger files (a structured ``triggers``
dataset) are read back. Omicron is absent from the machines this project is
developed and tested on: this path is exercised only where ``omicron`` is on
PATH, and ``generate-glitches`` falls back to ``datagen.qscan`` otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import h5py
import numpy as np

from datagen.qscan import TRIGGER_FIELDS, cluster

CHANNEL = "AFRAME-STRAIN"


class OmicronError(RuntimeError):
    """Omicron failed or wrote no readable triggers."""


def omicron_available() -> bool:
    """Whether an ``omicron`` executable is on PATH."""
    return shutil.which("omicron") is not None


def write_parameters(
    path: Path,
    ffl: Path,
    channel: str,
    sample_rate: float,
    outdir: Path,
    snr_threshold: float,
    frange: tuple[float, float],
    qrange: tuple[float, float],
    mismatch: float,
    cluster_dt: float,
) -> None:
    """Write an Omicron parameter file.

    Args:
        path: the parameter file
        ffl: the frame file list
        channel: the channel to analyse
        sample_rate: the analysis sample rate, in Hz
        outdir: where Omicron writes triggers
        snr_threshold: smallest trigger SNR
        frange: ``(low, high)`` frequencies, in Hz
        qrange: ``(low, high)`` Q
        mismatch: largest tile mismatch
        cluster_dt: clustering window, in seconds
    """
    lines = [
        ("DATA", "FFL", str(ffl)),
        ("DATA", "CHANNELS", channel),
        ("DATA", "SAMPLEFREQUENCY", f"{sample_rate:g}"),
        ("PARAMETER", "CHUNKDURATION", "124"),
        ("PARAMETER", "SEGMENTDURATION", "64"),
        ("PARAMETER", "OVERLAPDURATION", "4"),
        ("PARAMETER", "FREQUENCYRANGE", f"{frange[0]:g} {frange[1]:g}"),
        ("PARAMETER", "QRANGE", f"{qrange[0]:g} {qrange[1]:g}"),
        ("PARAMETER", "MISMATCHMAX", f"{mismatch:g}"),
        ("PARAMETER", "SNRTHRESHOLD", f"{snr_threshold:g}"),
        ("PARAMETER", "CLUSTERING", "TIME"),
        ("PARAMETER", "CLUSTERDT", f"{cluster_dt:g}"),
        ("OUTPUT", "DIRECTORY", str(outdir)),
        ("OUTPUT", "PRODUCTS", "triggers"),
        ("OUTPUT", "FORMAT", "hdf5"),
        ("OUTPUT", "VERBOSITY", "0"),
    ]
    path.write_text("".join(f"{a:<10} {b:<16} {c}\n" for a, b, c in lines))


def omicron_triggers(
    strain: np.ndarray,
    t0: float,
    sample_rate: float,
    ifo: str,
    snr_threshold: float,
    frange: tuple[float, float],
    qrange: tuple[float, float] = (3.3166, 108.0),
    cluster_dt: float = 0.5,
    mismatch: float = 0.2,
) -> dict[str, np.ndarray]:
    """Run Omicron over one ifo's strain.

    Args:
        strain: raw strain
        t0: GPS time of ``strain[0]``, in seconds
        sample_rate: sample rate, in Hz
        ifo: the ifo
        snr_threshold: smallest trigger SNR
        frange: ``(low, high)`` frequencies, in Hz
        qrange: ``(low, high)`` Q
        cluster_dt: clustering window, in seconds
        mismatch: largest tile mismatch

    Returns:
        ``time``, ``snr``, ``frequency``, ``quality`` arrays of the triggers
    """
    from gwpy.timeseries import TimeSeries

    duration = len(strain) / sample_rate
    channel = f"{ifo}:{CHANNEL}"
    with tempfile.TemporaryDirectory(prefix="aframe-omicron-") as tmp:
        tmp = Path(tmp)
        frame = tmp / f"{ifo[0]}-{ifo}_AFRAME-{int(t0)}-{int(np.ceil(duration))}.gwf"
        TimeSeries(strain, t0=t0, sample_rate=sample_rate, channel=channel).write(
            str(frame)
        )
        ffl = tmp / "frames.ffl"
        ffl.write_text(f"{frame} {t0} {duration} 0 0\n")
        outdir = tmp / "triggers"
        outdir.mkdir()
        params = tmp / "parameters.txt"
        write_parameters(
            params,
            ffl,
            channel,
            sample_rate,
            outdir,
            snr_threshold,
            frange,
            qrange,
            mismatch,
            cluster_dt,
        )
        command = ["omicron", f"{t0:.0f}", f"{t0 + duration:.0f}", str(params)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise OmicronError(
                f"{' '.join(command)} failed ({result.returncode}): "
                f"{result.stderr.strip()[-2000:]}"
            )
        rows = {k: [] for k in TRIGGER_FIELDS}
        for path in sorted(outdir.rglob("*.h5")):
            with h5py.File(path, "r") as f:
                if "triggers" not in f:
                    raise OmicronError(f"{path.name}: no triggers dataset")
                table = f["triggers"][()]
            rows["time"].append(table["time"])
            rows["snr"].append(table["snr"])
            rows["frequency"].append(table["frequency"])
            rows["quality"].append(table["q"])
    tiles = {
        k: np.concatenate(v).astype(np.float64) if v else np.zeros(0)
        for k, v in rows.items()
    }
    keep = tiles["snr"] >= snr_threshold
    return cluster({k: v[keep] for k, v in tiles.items()}, cluster_dt)
