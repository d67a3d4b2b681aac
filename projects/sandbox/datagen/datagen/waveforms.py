"""generate-waveforms: the training signals, ``DATA_DIR/train/signals.hdf5``.

``num_signals`` binaries are drawn from a named prior and their plus and cross
polarisations generated (see ``datagen.waveform_generation``) with the
coalescence ``right_pad`` seconds before each waveform's end, i.e. at
``coalescence_time = waveform_duration - right_pad`` (stored as an attr).

The work is split into chunks of ``chunk_size`` signals, each seeded from
``(seed, chunk index)`` so the output does not depend on the number of
workers. Chunks are written atomically into a hidden parts directory beside
the output and aggregated at the end, so a killed run resumes from its
finished chunks; a finished output whose attrs match the request is left
alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

from tqdm.auto import tqdm

from aframe.deploy import job_seed
from aframe.ledger.errors import LedgerError
from aframe.ledger.waveforms import WaveformSet
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError, ensure_writable_dir
from datagen.waveform_generation import (
    GENERATORS,
    WaveformError,
    coalescence_index,
    lal_approximant,
    polarizations_from_attrs,
)

logger = logging.getLogger(__name__)

SIGNALS_FILE = "signals.hdf5"


def config_key(attrs: dict[str, Any]) -> str:
    """A short hash of the settings that determine a data set's content.

    Args:
        attrs: JSON-serialisable settings

    Returns:
        12 hexadecimal characters
    """
    text = json.dumps(attrs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def chunk_sizes(num_signals: int, chunk_size: int) -> list[int]:
    """Signals per chunk: full chunks and one remainder.

    Args:
        num_signals: total number of signals
        chunk_size: signals per full chunk

    Returns:
        the size of each chunk, in order
    """
    full, rest = divmod(num_signals, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def waveform_attrs(
    sample_rate: float,
    waveform_duration: float,
    right_pad: float,
    approximant: str,
    minimum_frequency: float,
    reference_frequency: float,
    prior: str,
    seed: int,
    taper_length: float,
    generator: str = "lalsimulation",
) -> dict[str, Any]:
    """Check waveform settings and describe them as a data set's attrs.

    An unknown prior, approximant or generator fails here, before any work.

    Args:
        sample_rate: Hz
        waveform_duration: seconds per waveform
        right_pad: seconds from the coalescence to the waveform's end
        approximant: waveform model name
        minimum_frequency: Hz
        reference_frequency: Hz
        prior: population prior name
        seed: the run's seed
        taper_length: seconds of taper at each waveform's start
        generator: ``lalsimulation`` or ``ml4gw``

    Returns:
        ``sample_rate``, ``duration``, ``coalescence_time`` (``duration -
        right_pad`` on a whole sample), ``approximant``, the frequencies,
        ``prior``, ``seed``, ``generator``, ``taper_length``
    """
    from aframe.priors import get_prior

    if generator not in GENERATORS:
        raise WaveformError(
            f"unknown waveform generator {generator!r} (choose {', '.join(GENERATORS)})"
        )
    if not 0 <= right_pad < waveform_duration:
        raise WaveformError(
            f"right_pad {right_pad} s must lie in [0, {waveform_duration}) s "
            "(the waveform duration)"
        )
    get_prior(prior)
    if generator == "lalsimulation":
        lal_approximant(approximant)
    coalescence = coalescence_index(
        waveform_duration, waveform_duration - right_pad, sample_rate
    )
    return {
        "sample_rate": float(sample_rate),
        "duration": float(waveform_duration),
        "coalescence_time": coalescence / sample_rate,
        "approximant": approximant,
        "minimum_frequency": float(minimum_frequency),
        "reference_frequency": float(reference_frequency),
        "prior": prior,
        "seed": int(seed),
        "generator": generator,
        "taper_length": float(taper_length),
    }


def write_chunk(
    path: Path,
    index: int,
    size: int,
    seed: int,
    attrs: dict[str, Any],
    device: str,
) -> int:
    """Draw, generate and write one chunk of training signals.

    Args:
        path: the chunk file (written atomically)
        index: the chunk's index, part of its seed
        size: signals in the chunk
        seed: the run's seed
        attrs: the data set's attrs (``waveform_attrs``: the generation
            settings, the prior's name ...)
        device: torch device for the ``ml4gw`` generator

    Returns:
        ``size``
    """
    from aframe.priors import get_prior, sample

    parameters = sample(
        get_prior(attrs["prior"]), size, job_seed(seed, "waveforms", index)
    )
    cross, plus = polarizations_from_attrs(parameters, attrs, device)
    WaveformSet(
        parameters, {"cross": cross, "plus": plus}, attrs, source=path.name
    ).write(path)
    return size


def _finished(path: Path, attrs: dict[str, Any]) -> bool:
    if not path.exists():
        return False
    try:
        # the structure too: a dataset deleted in place leaves readable attrs
        WaveformSet.check_file(path)
        existing = WaveformSet.read_attrs(path)
    except LedgerError as err:
        logger.warning("%s is unreadable (%s): generating it again", path, err)
        return False
    if existing != attrs:
        logger.info("%s was made with other settings: generating it again", path)
        return False
    return True


def _run_chunks(
    jobs: list[dict[str, Any]], num_workers: int, total: int, done: int
) -> None:
    if num_workers == 1 or len(jobs) <= 1:
        with tqdm(total=total, initial=done, desc="waveforms", unit="wf") as bar:
            for job in jobs:
                bar.update(write_chunk(**job))
        return
    # fork: the workers inherit the imported libraries (bilby and astropy
    # take seconds to import); they are forked at the first submit, before
    # this process starts any thread of its own (the progress bar's)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(min(num_workers, len(jobs)), mp_context=context) as pool:
        pending = {pool.submit(write_chunk, **job) for job in jobs}
        with tqdm(total=total, initial=done, desc="waveforms", unit="wf") as bar:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    error = future.exception()
                    if error is not None:
                        for other in pending:
                            other.cancel()
                        raise error
                    bar.update(future.result())


def generate_waveforms(
    datadir: Path,
    num_signals: int,
    sample_rate: float,
    waveform_duration: float,
    minimum_frequency: float = 20.0,
    reference_frequency: float = 50.0,
    approximant: str = "IMRPhenomPv2",
    prior: str = "end_o3_ratesandpops",
    right_pad: float = 0.5,
    taper_length: float = 0.25,
    generator: Literal["lalsimulation", "ml4gw"] = "lalsimulation",
    device: str = "auto",
    chunk_size: int = 1000,
    num_workers: int | None = None,
    seed: int = 0,
    force: bool = False,
) -> Path:
    """Generate the training signals and write ``datadir/train/signals.hdf5``.

    Args:
        datadir: the data directory (``DATA_DIR/profile``); the output goes
            to its ``train/signals.hdf5``
        num_signals: number of signals to generate
        sample_rate: samples per second of the waveforms, Hz
        waveform_duration: length of each waveform, seconds
        minimum_frequency: frequency where the waveforms start, Hz
        reference_frequency: frequency where phase and spin angles are
            defined, Hz
        approximant: the waveform model (lalsimulation or ml4gw name)
        prior: name of the population prior (``aframe.priors.get_prior``);
            masses are stored in both frames and generated in the detector
            frame
        right_pad: seconds from the coalescence to the end of each waveform;
            the ``coalescence_time`` attr is ``waveform_duration -
            right_pad`` (rounded to a sample)
        taper_length: seconds of half-Hann taper at each waveform's start
        generator: ``lalsimulation`` (CPU, one signal at a time) or ``ml4gw``
            (batched torch, for GPUs)
        device: torch device of the ``ml4gw`` generator (``auto``: a GPU if
            available)
        chunk_size: signals per chunk (the unit of seeding, parallelism and
            resumption)
        num_workers: processes generating chunks (default: every CPU);
            ``ml4gw`` runs in this process
        seed: random seed of the draws
        force: regenerate even if a matching output or finished chunks exist

    Returns:
        path of the written (or already complete) ``signals.hdf5``
    """
    if num_signals < 1:
        raise WaveformError(f"num_signals must be at least 1, got {num_signals}")
    if chunk_size < 1:
        raise WaveformError(f"chunk_size must be at least 1, got {chunk_size}")
    attrs = waveform_attrs(
        sample_rate, waveform_duration, right_pad, approximant, minimum_frequency,
        reference_frequency, prior, seed, taper_length, generator,
    )  # fmt: skip
    attrs.update(chunk_size=int(chunk_size), num_signals=int(num_signals))

    train_dir = ensure_writable_dir(Path(datadir) / "train")
    output = train_dir / SIGNALS_FILE
    if not force and _finished(output, attrs):
        logger.info("%s is complete (%d signals): nothing to do", output, num_signals)
        return output

    parts = train_dir / f".{SIGNALS_FILE}.parts-{config_key(attrs)}"
    if force and parts.exists():
        shutil.rmtree(parts)
    parts.mkdir(exist_ok=True)
    sizes = chunk_sizes(num_signals, chunk_size)
    paths = [parts / f"chunk-{i:05d}-{n}.hdf5" for i, n in enumerate(sizes)]
    jobs = [
        dict(
            path=path,
            index=i,
            size=n,
            seed=seed,
            attrs=attrs,
            device=device,
        )
        for i, (path, n) in enumerate(zip(paths, sizes))
        if not path.exists()
    ]
    done = num_signals - sum(job["size"] for job in jobs)
    if done:
        logger.info("reusing %d finished signals from %s", done, parts)

    workers = 1 if generator == "ml4gw" else (num_workers or os.cpu_count() or 1)
    start = time.perf_counter()
    _run_chunks(jobs, workers, num_signals, done)
    elapsed = time.perf_counter() - start
    if jobs:
        made = num_signals - done
        logger.info(
            "generated %d signals in %.1f s (%.0f per second, %d workers)",
            made, elapsed, made / elapsed, workers,
        )  # fmt: skip

    WaveformSet.aggregate(paths, output, progress=True)
    # parts of this run, and of earlier runs with other settings, are spent
    for stale in train_dir.glob(f".{SIGNALS_FILE}.parts-*"):
        shutil.rmtree(stale, ignore_errors=True)
    logger.info("wrote %d signals to %s", num_signals, output)
    return output


def main(args: list[str] | None = None) -> None:
    """Command-line entry point of ``generate-waveforms``."""
    cli(
        generate_waveforms,
        args=args,
        script="generate-waveforms",
        expected_errors=(ValueError, ArtifactError),
    )


if __name__ == "__main__":
    main()
