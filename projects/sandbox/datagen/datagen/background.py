"""generate-background: training and testing background strain files.

By default the background is simulated: stationary Gaussian noise coloured by a
named design PSD, independent in each ifo, optionally with a population of
simulated glitches added to each ifo independently. Real data come from GWOSC,
frame files or local HDF5/GWF files through gwpy. Either way the periods are
cut into segments (requested period ∩ segment list, filtered by a minimum
length, split into near-equal pieces) and each segment is written to
``DATA_DIR/{train,test}/background/background-{t0}-{duration}.hdf5``.

Reruns skip files that validate and were made with the same settings; files
left from other settings (or a different segmentation) are replaced.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Literal

import h5py
import numpy as np
from tqdm.auto import tqdm

from aframe.utils.background import (
    BackgroundError,
    background_filename,
    validate_background,
    write_background,
)
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError, ensure_writable_dir
from aframe.utils.segments import (
    SegmentError,
    filter_segments,
    query_segments,
    read_segment_file,
    restrict,
    split_segments,
)
from aframe.utils.strain import StrainError, fetch_strain
from datagen.glitch_population import (
    GlitchPopulation,
    GlitchPopulationError,
    inject_glitches,
    sample_glitches,
)
from datagen.psd import DEFAULT_PSD, PSDError, load_psd
from datagen.simulate import noise_rng, simulate_noise

logger = logging.getLogger(__name__)

Source = Literal["simulated", "gwosc", "frames", "hdf5"]
NOISE_STREAM, GLITCH_STREAM = 0, 1


class BackgroundConfigError(ValueError):
    """Background settings that cannot produce any data."""


def plan_segments(
    start: float,
    stop: float,
    min_length: float,
    max_length: float,
    segments: list[tuple[float, float]] | None = None,
    label: str = "period",
) -> list[tuple[int, int]]:
    """The file segments of one period.

    Args:
        start: GPS start of the period, in seconds
        stop: GPS end of the period, in seconds
        min_length: shortest segment kept, in seconds
        max_length: longest file, in seconds
        segments: times with usable data (default: all of the period)
        label: the period's name, for errors

    Returns:
        integer ``(t0, t1)`` pairs, in order
    """
    if stop <= start:
        raise BackgroundConfigError(
            f"{label}: stop {stop:.0f} is not after start {start:.0f}"
        )
    available = (
        restrict(segments, start, stop) if segments is not None else [(start, stop)]
    )
    kept = filter_segments(available, min_length)
    pieces = split_segments(kept, max_length, min_length)
    if not pieces:
        longest = max((b - a for a, b in available), default=0.0)
        raise BackgroundConfigError(
            f"{label} [{start:.0f}, {stop:.0f}): no segment of at least "
            f"{min_length:g} s (longest available: {longest:g} s "
            f"in {len(available)} segments)"
        )
    return pieces


def _settings(
    source: str,
    psd: str,
    seed: int,
    population: GlitchPopulation | None,
    channel: str,
) -> dict:
    """The file attributes an existing file must match to be reused."""
    if source == "simulated":
        return {
            "source": source,
            "psd": psd,
            "seed": int(seed),
            "glitch_population": json.dumps(
                population.describe() if population else {}
            ),
        }
    # the seed plays no part in real data, so it does not invalidate a download
    return {"source": source, "psd": "", "channel_name": channel}


def _is_done(path: Path, ifos: list[str], sample_rate: float, settings: dict) -> bool:
    if not path.exists():
        return False
    try:
        validate_background(path, ifos, sample_rate)
    except BackgroundError as err:
        logger.warning("rewriting %s: %s", path.name, err)
        return False
    with h5py.File(path, "r") as f:
        for key, value in settings.items():
            stored = f.attrs.get(key)
            if isinstance(stored, bytes):
                stored = stored.decode()
            if stored != value:
                logger.warning(
                    "rewriting %s: made with %s=%r, now %r",
                    path.name,
                    key,
                    stored,
                    value,
                )
                return False
    return True


def _simulate_segment(
    t0: int,
    duration: int,
    ifos: list[str],
    sample_rate: float,
    psd: str,
    seed: int,
    population: GlitchPopulation | None,
) -> tuple[dict[str, np.ndarray], dict | None]:
    curve = load_psd(psd)
    n = int(round(duration * sample_rate))
    strain, glitches = {}, {}
    for ifo in ifos:
        rng = noise_rng(seed, ifo, t0, NOISE_STREAM)
        strain[ifo] = simulate_noise(curve, n, sample_rate, rng)
        if population is not None and population.rate > 0:
            grng = noise_rng(seed, ifo, t0, GLITCH_STREAM)
            table = sample_glitches(population, t0, duration, sample_rate, grng)
            glitches[ifo] = inject_glitches(
                strain[ifo], t0, sample_rate, table, curve, population.fmin
            )
    return strain, (glitches or None)


def _remove_stale(directory: Path, keep: set[str]) -> None:
    for path in sorted(directory.glob("background-*.hdf5")):
        if path.name not in keep:
            logger.warning("removing %s: not a segment of the current settings", path)
            path.unlink()


def generate_background(
    datadir: Path,
    ifos: list[str],
    sample_rate: float,
    train_start: float,
    train_stop: float,
    test_start: float,
    test_stop: float,
    min_train_length: float = 1024.0,
    min_test_length: float = 128.0,
    max_segment_length: float = 20000.0,
    source: Source = "simulated",
    psd: str = DEFAULT_PSD,
    seed: int = 0,
    glitch_rate: float = 0.0,
    glitch_snr_min: float = 6.0,
    glitch_snr_max: float = 100.0,
    glitch_snr_power: float = -2.0,
    glitch_frequency_range: tuple[float, float] = (32.0, 512.0),
    glitch_q_range: tuple[float, float] = (3.3166, 30.0),
    glitch_blip_fraction: float = 0.25,
    highpass: float = 32.0,
    segment_file: Path | None = None,
    state_flag: str = "DATA",
    channel: str = "OPEN",
    frametype: str | None = None,
    frame_cache: Path | None = None,
    data_files: list[str] | None = None,
    force: bool = False,
) -> list[Path]:
    """Write training and testing background strain files.

    Args:
        datadir: data directory; files go to ``datadir/train/background`` and
            ``datadir/test/background``
        ifos: interferometers, e.g. ``["H1", "L1"]``
        sample_rate: sample rate of the written strain, in Hz
        train_start: GPS start of the training period, in seconds
        train_stop: GPS end of the training period, in seconds
        test_start: GPS start of the testing period, in seconds
        test_stop: GPS end of the testing period, in seconds
        min_train_length: shortest training segment kept, in seconds
        min_test_length: shortest testing segment kept, in seconds
        max_segment_length: longest file; longer segments are split into
            near-equal pieces, in seconds
        source: ``simulated`` (coloured Gaussian noise), ``gwosc`` (open
            data), ``frames`` (frame files) or ``hdf5`` (local HDF5/GWF files)
        psd: noise curve of simulated data: a bilby curve
            (``aLIGO_O4_high_asd.txt``), a lalsimulation PSD
            (``aLIGOZeroDetHighPower``) or a two-column ASD/PSD file
        seed: random seed; each (seed, ifo, segment start) has its own stream
        glitch_rate: simulated glitches per hour in each ifo (0: none)
        glitch_snr_min: smallest optimal SNR of simulated glitches
        glitch_snr_max: largest optimal SNR of simulated glitches
        glitch_snr_power: power-law index of the glitch SNR density
        glitch_frequency_range: glitch central/peak frequencies, in Hz
            (log-uniform; capped at 0.4 × sample_rate)
        glitch_q_range: sine-Gaussian glitch quality factors (log-uniform)
        glitch_blip_fraction: fraction of simulated glitches that are blips
        highpass: lowest frequency of the glitch SNR integral, in Hz
        segment_file: segwizard or two-column file of usable times; with
            simulated data it adds gaps, with real data it replaces the query
        state_flag: data-quality flag queried for real-data segments when no
            segment_file is given (``DATA``: GWOSC open-data segments)
        channel: strain channel of real data (``{ifo}:{channel}``); ``OPEN``
            for open data (local files name datasets by ifo)
        frametype: frame type for gwdatafind (``{ifo}`` is replaced)
        frame_cache: LAL cache or list of local frame files (source frames)
        data_files: local HDF5/GWF files or globs (source hdf5)
        force: regenerate files even if valid ones exist

    Returns:
        the background files, training then testing
    """
    datadir = Path(datadir).expanduser()
    if sample_rate <= 0:
        raise BackgroundConfigError(f"sample_rate {sample_rate} must be positive")
    if not ifos:
        raise BackgroundConfigError("no ifos")
    population = None
    if source == "simulated":
        load_psd(psd)
        if glitch_rate > 0:
            population = GlitchPopulation(
                rate=glitch_rate,
                snr_min=glitch_snr_min,
                snr_max=glitch_snr_max,
                snr_power=glitch_snr_power,
                frequency_range=tuple(glitch_frequency_range),
                q_range=tuple(glitch_q_range),
                blip_fraction=glitch_blip_fraction,
                fmin=highpass,
            )
    elif glitch_rate > 0:
        logger.warning(
            "glitch_rate ignored: glitches are simulated only in simulated data"
        )

    periods = {
        "train": (train_start, train_stop, min_train_length),
        "test": (test_start, test_stop, min_test_length),
    }
    plans = {}
    for label, (start, stop, min_length) in periods.items():
        if segment_file is not None:
            segments = read_segment_file(segment_file)
        elif source in ("gwosc", "frames"):
            segments = query_segments(state_flag, ifos, start, stop)
        else:
            segments = None
        plans[label] = plan_segments(
            start, stop, min_length, max_segment_length, segments, label=label
        )
        total = sum(b - a for a, b in plans[label])
        logger.info(
            "%s: %d segments, %.0f s (%.2f h) of %s background",
            label,
            len(plans[label]),
            total,
            total / 3600,
            source,
        )

    settings = _settings(source, psd, seed, population, channel)
    written = []
    for label, pieces in plans.items():
        directory = ensure_writable_dir(datadir / label / "background")
        names = {background_filename(a, b - a): (a, b) for a, b in pieces}
        _remove_stale(directory, set(names))
        for name, (t0, t1) in tqdm(
            names.items(), desc=f"{label} background", unit="file"
        ):
            path = directory / name
            written.append(path)
            if not force and _is_done(path, ifos, sample_rate, settings):
                logger.debug("%s is complete", name)
                continue
            duration = t1 - t0
            if source == "simulated":
                strain, glitches = _simulate_segment(
                    t0, duration, ifos, sample_rate, psd, seed, population
                )
                channels = "SIMULATED"
            else:
                strain = fetch_strain(
                    source,
                    ifos,
                    t0,
                    t1,
                    sample_rate,
                    channel=channel,
                    frametype=frametype,
                    frame_cache=frame_cache,
                    data_files=data_files,
                )
                glitches = None
                channels = {ifo: f"{ifo}:{channel}" for ifo in ifos}
            write_background(
                path,
                strain,
                t0,
                sample_rate,
                {
                    **settings,
                    "seed": int(seed),
                    "channel": channels,
                    "ifos": list(ifos),
                },
                injected_glitches=glitches,
            )
    return written


EXPECTED_ERRORS = (
    BackgroundConfigError,
    BackgroundError,
    GlitchPopulationError,
    PSDError,
    SegmentError,
    StrainError,
    ArtifactError,
)


def main(args: list[str] | None = None) -> None:
    """Entry point of ``generate-background``."""
    cli(
        generate_background,
        args=args,
        script="generate-background",
        expected_errors=EXPECTED_ERRORS,
    )


if __name__ == "__main__":
    main()
