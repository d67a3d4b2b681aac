"""generate-glitches: glitch snippets from the training background.

Each ifo's training background is searched for glitches independently, with
Omicron where an ``omicron`` executable is on PATH and otherwise with the
multi-Q transform trigger finder of ``datagen.qscan``. For every trigger the raw
(unwhitened) strain around it, ``[t - pad0, t + pad1]`` with
``pad0 = psd_length + kernel_length + fduration / 2`` and
``pad1 = kernel_length + fduration / 2``, is stored in
``DATA_DIR/train/glitches.hdf5`` (a ``GlitchSet``): enough that any training
window containing the glitch has a whole PSD segment before it. No triggers is
a valid result (an empty set: training runs without glitches).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from aframe.ledger import GlitchSet
from aframe.ledger.errors import LedgerError
from aframe.ledger.recordset import attrs_equal
from aframe.utils.background import BackgroundError, list_background, read_background
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError
from datagen.omicron import OmicronError, omicron_available, omicron_triggers
from datagen.qscan import TRIGGER_FIELDS, find_triggers

logger = logging.getLogger(__name__)


class GlitchConfigError(ValueError):
    """Glitch-search settings that cannot be used."""


def glitch_pad(
    psd_length: float, kernel_length: float, fduration: float
) -> tuple[float, float]:
    """Seconds of strain kept before and after a trigger.

    Args:
        psd_length: length of the PSD estimate before a kernel, in seconds
        kernel_length: length of the network's input, in seconds
        fduration: length of the whitening filter, in seconds

    Returns:
        ``(pad0, pad1)`` in seconds
    """
    return (
        psd_length + kernel_length + fduration / 2,
        kernel_length + fduration / 2,
    )


def _snippets(
    strain: np.ndarray,
    t0: float,
    sample_rate: float,
    times: np.ndarray,
    pad: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    size = int(round((pad[0] + pad[1]) * sample_rate))
    starts = np.round((times - pad[0] - t0) * sample_rate).astype(int)
    inside = (starts >= 0) & (starts + size <= len(strain))
    rows = [strain[s : s + size] for s in starts[inside]]
    snippets = np.stack(rows) if rows else np.zeros((0, size))
    return snippets.astype(np.float64), inside


def _existing(path: Path, attrs: dict) -> bool:
    if not path.exists():
        return False
    try:
        stored = GlitchSet.read(path)
    except LedgerError as err:
        logger.warning("rewriting %s: %s", path.name, err)
        return False
    for key, value in attrs.items():
        if not attrs_equal(stored.attrs.get(key), value):
            logger.info("rewriting %s: %s changed", path.name, key)
            return False
    return True


def generate_glitches(
    datadir: Path,
    ifos: list[str],
    sample_rate: float,
    psd_length: float,
    kernel_length: float,
    fduration: float,
    highpass: float,
    snr_threshold: float = 6.0,
    qrange: tuple[float, float] = (3.3166, 108.0),
    max_frequency: float | None = None,
    cluster_dt: float = 0.5,
    mismatch: float = 0.2,
    chunk_duration: float = 256.0,
    max_duration: float | None = None,
    method: Literal["auto", "omicron", "qtransform"] = "auto",
    force: bool = False,
) -> Path:
    """Find glitches in the training background and store snippets of them.

    Args:
        datadir: data directory; reads ``datadir/train/background`` and writes
            ``datadir/train/glitches.hdf5``
        ifos: interferometers, searched independently
        sample_rate: sample rate of the background, in Hz
        psd_length: length of the PSD estimate before a kernel, in seconds
        kernel_length: length of the network's input, in seconds
        fduration: length of the whitening filter, in seconds
        highpass: lowest frequency searched, in Hz
        snr_threshold: smallest SNR of a trigger
        qrange: ``(low, high)`` quality factors searched
        max_frequency: highest frequency searched, in Hz (default 0.9 × Nyquist)
        cluster_dt: triggers closer than this are one glitch, in seconds
        mismatch: largest energy loss between neighbouring Q tiles
        chunk_duration: length of each transformed chunk (Q transform), in
            seconds
        max_duration: search at most this much background per ifo, from the
            earliest file, in seconds (default: all of it)
        method: ``omicron``, ``qtransform``, or ``auto`` (Omicron when an
            ``omicron`` executable is on PATH)
        force: search again even if a matching glitch file exists

    Returns:
        the glitch file
    """
    datadir = Path(datadir).expanduser()
    output = datadir / "train" / "glitches.hdf5"
    nyquist = sample_rate / 2
    fmax = 0.9 * nyquist if max_frequency is None else float(max_frequency)
    if not 0 < highpass < fmax <= nyquist:
        raise GlitchConfigError(
            f"frequency range ({highpass:g}, {fmax:g}) Hz must be increasing and "
            f"below Nyquist ({nyquist:g} Hz)"
        )
    if method == "auto":
        method = "omicron" if omicron_available() else "qtransform"
    elif method == "omicron" and not omicron_available():
        raise GlitchConfigError("method omicron: no omicron executable on PATH")

    files = list_background(datadir / "train" / "background", ifos, sample_rate)
    pad = glitch_pad(psd_length, kernel_length, fduration)
    attrs = {
        "sample_rate": float(sample_rate),
        "pad": [pad[0], pad[1]],
        "snr_threshold": float(snr_threshold),
        "method": method,
        "frange": [float(highpass), fmax],
        "qrange": [float(qrange[0]), float(qrange[1])],
        "cluster_dt": float(cluster_dt),
        "mismatch": float(mismatch),
        "max_duration": -1.0 if max_duration is None else float(max_duration),
        "psd_length": float(psd_length),
        "kernel_length": float(kernel_length),
        "fduration": float(fduration),
        "background": [f.path.name for f in files],
    }
    if not force and _existing(output, attrs):
        logger.info("%s is complete", output)
        return output

    glitches = {}
    for ifo in ifos:
        budget = np.inf if max_duration is None else float(max_duration)
        found = {k: [] for k in ("snippets", *TRIGGER_FIELDS)}
        searched = 0.0
        dropped = 0
        for item in tqdm(files, desc=f"{ifo} glitches", unit="file"):
            if budget <= 0:
                break
            strain = read_background(item.path, [ifo])[0]
            length = min(item.duration, budget)
            part = strain[: int(round(length * sample_rate))]
            if method == "omicron":
                triggers = omicron_triggers(
                    part,
                    item.t0,
                    sample_rate,
                    ifo,
                    snr_threshold,
                    (highpass, fmax),
                    tuple(qrange),
                    cluster_dt,
                    mismatch,
                )
            else:
                triggers = find_triggers(
                    part,
                    item.t0,
                    sample_rate,
                    snr_threshold,
                    (highpass, fmax),
                    qrange=tuple(qrange),
                    cluster_dt=cluster_dt,
                    chunk_duration=chunk_duration,
                    mismatch=mismatch,
                )
            snippets, inside = _snippets(
                strain, item.t0, sample_rate, triggers["time"], pad
            )
            dropped += int((~inside).sum())
            found["snippets"].append(snippets)
            for k in TRIGGER_FIELDS:
                found[k].append(np.asarray(triggers[k], dtype=np.float64)[inside])
            searched += length
            budget -= length
        glitches[ifo] = {
            k: np.concatenate(v) if v else np.zeros(0) for k, v in found.items()
        }
        if not found["snippets"]:
            size = int(round(sum(pad) * sample_rate))
            glitches[ifo]["snippets"] = np.zeros((0, size))
        logger.info(
            "%s: %d glitches above SNR %g in %.0f s of background "
            "(%d too close to a file edge for a full snippet)",
            ifo,
            len(glitches[ifo]["time"]),
            snr_threshold,
            searched,
            dropped,
        )
    GlitchSet(glitches, attrs, source=output.name).write(output)
    return output


EXPECTED_ERRORS = (
    GlitchConfigError,
    BackgroundError,
    LedgerError,
    ArtifactError,
    OmicronError,
)


def main(args: list[str] | None = None) -> None:
    """Entry point of ``generate-glitches``."""
    cli(
        generate_glitches,
        args=args,
        script="generate-glitches",
        expected_errors=EXPECTED_ERRORS,
    )


if __name__ == "__main__":
    main()
