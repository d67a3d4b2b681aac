"""generate-timeslide-waveforms: the test injections of every timeslide.

Background for the false-alarm rate comes from shifting L1 against H1 by
``k * shift_step`` seconds, ``k = 1..K``, with K the fewest shifts whose
livetime reaches ``Tb`` (``aframe.utils.timeslides``). Every (test segment,
shift) pair is one job on Ray; zero-lag gets no injections.

Within a job, injections sit on a grid over the part of the shifted segment
that inference analyses (after its burn-in, ``psd_length + kernel_length +
fduration + integration_length`` from ``aframe.utils.timeslides.burn_in``, the
one definition infer uses too, and where every ifo has data): grid times ``spacing +
waveform_duration`` seconds apart (consecutive waveforms ``spacing`` seconds
apart), each moved by a uniform jitter of up to ``jitter`` seconds, with every
waveform at least ``buffer`` seconds inside that span. Times are whole samples
after the segment start; ``injection_time`` is the geocentre coalescence time
on the unshifted H1 axis. Each response is sampled like the polarisations:
its sample ``i`` is at ``injection_time - coalescence_time + i /
sample_rate`` on its ifo's own clock (before the timeslide shift), light
travel delay included.

For each time in turn, binaries are drawn from the prior until one is
detectable at all: its polarisations are projected onto every ifo with the
antenna patterns at the sidereal time of the injection (true right
ascension) and the exact light travel delay, and its network SNR against the
segment's own PSD (median Welch over the whole segment) must reach
``snr_threshold``. Draws below it are kept as rejected parameters with the
time they were drawn for. Every draw is either accepted or rejected:
``num_injections`` (the total) always equals accepted + rejected. A time
that ``max_draws_per_injection`` draws in a row cannot fill (a threshold the
prior cannot reach against this PSD) stops the run with one error naming the
job, the threshold and the loudest draw, instead of drawing forever.

Outputs: ``DATA_DIR/test/waveforms.hdf5`` (``InjectionSet``) and
``DATA_DIR/test/rejected-parameters.hdf5`` (``RejectedParameterSet``). Jobs
write their pieces atomically into a hidden parts directory, so a killed run
resumes with the unfinished jobs.
"""

from __future__ import annotations

import logging
import math
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aframe.architectures.snr import background_psd, ifo_snr
from aframe.deploy import JobError, job_seed, map_jobs
from aframe.ledger.errors import LedgerError
from aframe.ledger.injections import InjectionSet, RejectedParameterSet
from aframe.utils.background import BackgroundFile, list_background, read_background
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError, ensure_writable_dir
from aframe.utils.timeslides import burn_in as search_burn_in
from aframe.utils.timeslides import num_shifts_for_livetime, shift_vectors
from datagen.projection import (
    antenna_response,
    detector,
    geocenter_delay,
    project_spectra,
)
from datagen.waveform_generation import polarizations_from_attrs
from datagen.waveforms import config_key, waveform_attrs

logger = logging.getLogger(__name__)

INJECTIONS_FILE = "waveforms.hdf5"
REJECTED_FILE = "rejected-parameters.hdf5"
_PARTS = ".timeslide-waveforms.parts"

# prior draws per sampling call: enough that sampling overhead is negligible
_MIN_DRAWS, _MAX_DRAWS = 64, 4096


class InjectionError(ValueError):
    """Settings or data that cannot give test injections."""


# ------------------------------------------------------------------ the grid
def injection_grid(
    duration: float,
    shift: Sequence[float],
    burn_in: float,
    sample_rate: float,
    waveform_duration: float,
    coalescence_time: float,
    spacing: float,
    buffer: float,
    jitter: float,
) -> np.ndarray:
    """Sample offsets from the segment start of the un-jittered injection times.

    The analysed span on the H1 axis is ``[t0 + burn_in + max(0, -min
    shift), t0 + duration - max(0, max shift))``; every waveform, jittered
    by up to ``jitter`` either way, lies at least ``buffer`` seconds inside
    it.

    Args:
        duration: segment length, s
        shift: seconds added to each ifo's data time
        burn_in: seconds at the start that inference spends on its state
        sample_rate: Hz
        waveform_duration: seconds per waveform
        coalescence_time: seconds from a waveform's start to its coalescence
        spacing: seconds between the end of one waveform and the next
        buffer: seconds between the span's edges and any waveform
        jitter: largest random move of a time either way, s

    Returns:
        (n,) int64 sample offsets of the coalescences from the segment start
    """
    margin = buffer + math.floor(jitter * sample_rate) / sample_rate
    lo = burn_in + max(0.0, -min(shift)) + margin
    hi = duration - max(0.0, max(shift)) - margin
    first = math.ceil(round((lo + coalescence_time) * sample_rate, 6))
    last = math.floor(
        round((hi - (waveform_duration - coalescence_time)) * sample_rate, 6)
    )
    period = int(round((spacing + waveform_duration) * sample_rate))
    if last < first:
        return np.zeros(0, dtype=np.int64)
    return first + period * np.arange((last - first) // period + 1, dtype=np.int64)


def injection_times(
    t0: float,
    grid: np.ndarray,
    jitter: float,
    sample_rate: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Jittered injection times, whole samples after ``t0``.

    Args:
        t0: GPS start of the segment, s
        grid: sample offsets from ``injection_grid``
        jitter: largest shift of a time either way, s
        sample_rate: Hz
        rng: the job's random generator

    Returns:
        (n,) GPS times
    """
    most = int(math.floor(jitter * sample_rate))
    offsets = rng.integers(-most, most + 1, size=len(grid))
    return t0 + (grid + offsets) / sample_rate


# ------------------------------------------------------------------ jobs
def segment_psd(
    path: Path, ifos: list[str], sample_rate: float, fftlength: float
) -> np.ndarray:
    """The PSD SNRs are measured against (``aframe.architectures.snr``).

    Args:
        path: the background file
        ifos: ifos to read
        sample_rate: Hz
        fftlength: seconds per Welch segment (the waveform duration)

    Returns:
        (n_ifo, fftlength * sample_rate // 2 + 1) PSDs in 1/Hz
    """
    strain = read_background(path, ifos)
    psd = background_psd(strain, sample_rate, fftlength)
    if not np.all(psd[:, 1:] > 0):
        raise InjectionError(f"{Path(path).name}: the strain's PSD has empty bins")
    return psd


def _as_arrays(records: dict[str, list], num_ifos: int) -> dict[str, np.ndarray]:
    out = {}
    for key, values in records.items():
        if key == "shift":
            out[key] = np.asarray(values, dtype=float).reshape(-1, num_ifos)
        else:
            out[key] = np.asarray(values, dtype=float)
    return out


def injection_job(
    t0: float,
    duration: float,
    shift_index: int,
    shift: np.ndarray,
    psd: np.ndarray,
    seed: int,
    attrs: dict[str, Any],
    grid: np.ndarray,
    jitter: float,
    injection_path: Path,
    rejected_path: Path,
    max_draws: int = 20_000,
) -> dict[str, int]:
    """Draw, project and SNR-test the injections of one (segment, shift).

    Args:
        t0: GPS start of the segment, s
        duration: segment length, s
        shift_index: the shift's index k (part of the seed)
        shift: (n_ifo,) seconds added to each ifo's data time
        psd: (n_ifo, F) the segment's PSDs on the waveform's FFT bins, 1/Hz
        seed: the run's seed
        attrs: the data set's attrs (``waveform_attrs`` plus ifos,
            snr_threshold, highpass ...)
        grid: sample offsets of the un-jittered times (``injection_grid``)
        jitter: largest move of a time either way, s
        injection_path: where the accepted injections go
        rejected_path: where the rejected draws go
        max_draws: draws in a row for one time before giving up on it

    Returns:
        ``{"accepted": n, "rejected": m}``
    """
    from aframe.priors import get_prior, sample

    rng = np.random.default_rng(job_seed(seed, t0, duration, shift_index))
    times = injection_times(t0, grid, jitter, attrs["sample_rate"], rng)
    prior = get_prior(attrs["prior"])
    ifos = list(attrs["ifos"])
    fs = attrs["sample_rate"]
    size = int(round(attrs["duration"] * fs))
    frequencies = np.fft.rfftfreq(size, 1 / fs)
    threshold = attrs["snr_threshold"]

    keys = [*sample(prior, 0, 0), "injection_time", "shift", "snr"]
    keys += [f"{ifo}_snr" for ifo in ifos]
    accepted: dict[str, list] = {k: [] for k in keys}
    rejected: dict[str, list] = {k: [] for k in keys}
    responses: dict[str, list] = {ifo: [] for ifo in ifos}
    slot = 0
    tries, loudest = 0, 0.0  # draws for the current time, their loudest SNR
    while slot < len(times):
        wanted = 8 * (len(times) - slot)
        draws = sample(
            prior, min(_MAX_DRAWS, max(_MIN_DRAWS, wanted)), int(rng.integers(2**63))
        )
        num_draws = len(draws["mass_1"])
        # draws left over once every time is filled were never tested: they
        # are discarded, not counted, so accepted + rejected is the total
        for j in range(num_draws):
            if slot == len(times):
                break
            row = {k: v[j : j + 1] for k, v in draws.items()}
            cross, plus = polarizations_from_attrs(row, attrs)
            cross_fd, plus_fd = np.fft.rfft(cross[0]), np.fft.rfft(plus[0])
            when = times[slot]
            sky = (row["ra"][0], row["dec"][0], row["psi"][0])
            patterns = [antenna_response(ifo, *sky, when) for ifo in ifos]
            # the light travel delay is a phase: it leaves the SNR unchanged,
            # so it is applied only to the responses that are kept
            undelayed = np.stack([fp * plus[0] + fc * cross[0] for fp, fc in patterns])
            snrs = dict(
                zip(ifos, map(float, ifo_snr(undelayed, psd, fs, attrs["highpass"])))
            )
            network = math.sqrt(sum(s**2 for s in snrs.values()))
            target = accepted if network >= threshold else rejected
            for key, value in row.items():
                target[key].append(float(value[0]))
            target["injection_time"].append(when)
            target["shift"].append(list(map(float, shift)))
            target["snr"].append(network)
            for ifo in ifos:
                target[f"{ifo}_snr"].append(snrs[ifo])
            tries, loudest = tries + 1, max(loudest, network)
            if network < threshold and tries >= max_draws:
                total = len(accepted["snr"]) + len(rejected["snr"])
                raise InjectionError(
                    f"segment t0={t0:.0f} ({duration:.0f} s), shift {shift_index}: "
                    f"{tries} draws from prior {attrs['prior']} for the injection "
                    f"at GPS {when:.2f} and none reached network SNR {threshold:g} "
                    f"(the loudest: {loudest:.2f}; {len(accepted['snr'])} of "
                    f"{total} draws accepted in this job): lower snr_threshold or "
                    "raise max_draws_per_injection"
                )
            if tries in (1000, 10_000) and network < threshold:
                logger.info(
                    "t0=%.0f shift %d: %d draws for one time, none above SNR %g yet "
                    "(loudest %.2f)", t0, shift_index, tries, threshold, loudest,
                )  # fmt: skip
            if network >= threshold:
                tries, loudest = 0, 0.0
                for ifo, (fp, fc) in zip(ifos, patterns):
                    delay = geocenter_delay(ifo, sky[0], sky[1], when)
                    spectrum = project_spectra(
                        cross_fd, plus_fd, frequencies, fp, fc, delay
                    )
                    responses[ifo].append(
                        np.fft.irfft(spectrum, n=size).astype(np.float32)
                    )
                slot += 1

    total = len(accepted["snr"]) + len(rejected["snr"])
    job_attrs = {**attrs, "num_injections": total}
    RejectedParameterSet(
        _as_arrays(rejected, len(ifos)), attrs=job_attrs, source=rejected_path.name
    ).write(rejected_path)
    # written last: its presence marks the job as done
    InjectionSet(
        _as_arrays(accepted, len(ifos)),
        {ifo: np.stack(responses[ifo]) for ifo in ifos},
        job_attrs,
        source=injection_path.name,
    ).write(injection_path)
    return {"accepted": len(accepted["snr"]), "rejected": len(rejected["snr"])}


# ------------------------------------------------------------------ the script
def _outputs_match(test_dir: Path, attrs: dict[str, Any]) -> bool:
    paths = [test_dir / INJECTIONS_FILE, test_dir / REJECTED_FILE]
    if not all(p.exists() for p in paths):
        return False
    try:
        # a damaged file (a dataset deleted in place) is not complete
        InjectionSet.check_file(paths[0])
        RejectedParameterSet.check_file(paths[1])
        found = [
            InjectionSet.read_attrs(paths[0]),
            RejectedParameterSet.read_attrs(paths[1]),
        ]
    except LedgerError as err:
        logger.info(
            "existing injections are unreadable (%s): generating them again", err
        )
        return False
    totals = {a.pop("num_injections", None) for a in found}
    if len(totals) != 1 or any(a != attrs for a in found):
        logger.info(
            "existing injections were made with other settings: generating again"
        )
        return False
    return True


def _validate(
    ifos: list[str],
    snr_threshold: float,
    shift_step: float,
    spacing: float,
    buffer: float,
    jitter: float,
    Tb: float,
) -> None:
    if len(ifos) < 2 or len(set(ifos)) != len(ifos):
        raise InjectionError(f"ifos {ifos}: need at least two distinct interferometers")
    for ifo in ifos:
        detector(ifo)
    checks = [
        (Tb > 0, f"Tb must be positive, got {Tb} s"),
        (shift_step > 0, f"shift_step must be positive, got {shift_step} s"),
        (
            snr_threshold >= 0,
            f"snr_threshold must not be negative, got {snr_threshold}",
        ),
        (spacing >= 0 and buffer >= 0, "spacing and buffer must not be negative"),
        (jitter >= 0, f"jitter must not be negative, got {jitter} s"),
        (
            jitter <= spacing / 2,
            f"jitter {jitter} s exceeds spacing / 2 = {spacing / 2} s: injections "
            "could overlap",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise InjectionError(message)


def generate_timeslide_waveforms(
    datadir: Path,
    Tb: float,
    ifos: list[str],
    sample_rate: float,
    waveform_duration: float,
    psd_length: float,
    kernel_length: float,
    fduration: float,
    highpass: float,
    snr_threshold: float = 4.0,
    shift_step: float = 1.0,
    spacing: float = 16.0,
    buffer: float = 16.0,
    jitter: float = 0.5,
    minimum_frequency: float = 20.0,
    reference_frequency: float = 50.0,
    approximant: str = "IMRPhenomPv2",
    prior: str = "end_o3_ratesandpops",
    right_pad: float = 0.5,
    taper_length: float = 0.25,
    seed: int = 0,
    ray_address: str | None = None,
    num_workers: int | None = None,
    integration_length: float = 1.0,
    max_draws_per_injection: int = 20_000,
    force: bool = False,
) -> tuple[Path, Path]:
    """Generate the test injections of every timeslide of the test background.

    Args:
        datadir: the data directory (``DATA_DIR/profile``): reads
            ``test/background/``, writes ``test/waveforms.hdf5`` and
            ``test/rejected-parameters.hdf5``
        Tb: background livetime the timeslides must reach, s
        ifos: interferometers; the first is never shifted, ifo ``i`` is
            shifted by ``i * k * shift_step`` seconds
        sample_rate: Hz, of the background and the responses
        waveform_duration: seconds per response (also the FFT length of the
            PSD the SNR uses)
        psd_length: seconds of PSD estimation at inference (part of its
            burn-in)
        kernel_length: seconds of the network's input (part of the burn-in)
        fduration: seconds of the whitening filter (part of the burn-in)
        highpass: Hz; lower frequencies do not count towards the SNR
        snr_threshold: network SNR below which a draw is rejected as
            hopeless
        shift_step: seconds between consecutive timeslide shifts
        spacing: seconds between the end of one injected waveform and the
            start of the next
        buffer: seconds between the analysed span's edges and any waveform
        jitter: largest random move of an injection time either way, s (at
            most ``spacing / 2``; the buffer holds after the move)
        minimum_frequency: frequency where the waveforms start, Hz
        reference_frequency: frequency where phase and spins are defined, Hz
        approximant: lalsimulation waveform model
        prior: name of the population prior (``aframe.priors.get_prior``)
        right_pad: seconds from the coalescence to the end of each response
        taper_length: seconds of half-Hann taper at each waveform's start
        seed: random seed; each job's seed derives from it and the job's
            (segment start, duration, shift index)
        ray_address: an existing Ray cluster; default a local one
        num_workers: jobs running at once (default: every CPU; 1 runs them
            in this process, without Ray)
        integration_length: seconds of the search's boxcar over the network
            outputs (part of the burn-in; infer's ``integration_length``)
        max_draws_per_injection: draws in a row for one injection time
            before the run stops with an error (an unreachable threshold)
        force: regenerate even if matching outputs or finished jobs exist

    Returns:
        paths of the accepted injections and of the rejected parameters
    """
    _validate(ifos, snr_threshold, shift_step, spacing, buffer, jitter, Tb)
    if max_draws_per_injection < 1:
        raise InjectionError(
            f"max_draws_per_injection must be at least 1, got {max_draws_per_injection}"
        )
    attrs = waveform_attrs(
        sample_rate, waveform_duration, right_pad, approximant, minimum_frequency,
        reference_frequency, prior, seed, taper_length,
    )  # fmt: skip

    test_dir = Path(datadir).expanduser() / "test"
    files: list[BackgroundFile] = list_background(
        test_dir / "background", ifos, sample_rate, check_finite=False
    )
    try:
        burn_in = search_burn_in(
            psd_length, kernel_length, fduration, integration_length
        )
    except ValueError as err:
        raise InjectionError(str(err)) from err
    num_shifts = num_shifts_for_livetime(
        [f.duration for f in files], Tb, shift_step, burn_in
    )
    shifts = shift_vectors(num_shifts, shift_step, len(ifos))
    attrs.update(
        {
            "ifos": list(ifos),
            "snr_threshold": float(snr_threshold),
            "highpass": float(highpass),
            "Tb": float(Tb),
            "shift_step": float(shift_step),
            "num_shifts": int(num_shifts),
            "burn_in": float(burn_in),
            "spacing": float(spacing),
            "buffer": float(buffer),
            "jitter": float(jitter),
            # which test segments (a hash: a list of names can outgrow an attr)
            "background": config_key({"files": [f.path.name for f in files]}),
            "num_segments": len(files),
        }
    )
    ensure_writable_dir(test_dir)
    if not force and _outputs_match(test_dir, attrs):
        logger.info("%s is complete: nothing to do", test_dir / INJECTIONS_FILE)
        return test_dir / INJECTIONS_FILE, test_dir / REJECTED_FILE

    parts = test_dir / f"{_PARTS}-{config_key(attrs)}"
    if force and parts.exists():
        shutil.rmtree(parts)
    parts.mkdir(exist_ok=True)

    plan = []
    for f in files:
        for k, shift in enumerate(shifts, start=1):
            grid = injection_grid(
                f.duration, shift, burn_in, sample_rate, waveform_duration,
                attrs["coalescence_time"], spacing, buffer, jitter,
            )  # fmt: skip
            if len(grid):
                name = f"{int(f.t0)}-{int(f.duration)}-{k}.hdf5"
                plan.append(
                    (
                        f,
                        k,
                        shift,
                        grid,
                        parts / f"injections-{name}",
                        parts / f"rejected-{name}",
                    )
                )
    if not plan:
        raise InjectionError(
            f"{test_dir / 'background'}: no (segment, shift) has room for an "
            f"injection: segments of {', '.join(f'{f.duration:g}' for f in files)} s "
            f"are too short for burn-in {burn_in:g} s, buffer {buffer:g} s and "
            f"{waveform_duration:g} s waveforms"
        )
    todo = [p for p in plan if not p[4].exists()]
    logger.info(
        "%d shifts of %g s over %d segments: %d injections in %d jobs (%d to run)",
        num_shifts, shift_step, len(files), sum(len(p[3]) for p in plan),
        len(plan), len(todo),
    )  # fmt: skip

    start = time.perf_counter()
    if todo:
        segments = list({p[0].path: p[0] for p in todo}.values())
        psds = map_jobs(
            segment_psd,
            [
                dict(
                    path=f.path,
                    ifos=list(ifos),
                    sample_rate=sample_rate,
                    fftlength=waveform_duration,
                )
                for f in segments
            ],
            address=ray_address,
            num_workers=num_workers,
            desc="segment PSDs",
        )
        psd_of = dict(zip([f.path for f in segments], psds))
        jobs = [
            dict(
                t0=f.t0,
                duration=f.duration,
                shift_index=k,
                shift=shift,
                psd=psd_of[f.path],
                seed=seed,
                attrs=attrs,
                grid=grid,
                jitter=jitter,
                injection_path=inj,
                rejected_path=rej,
                max_draws=max_draws_per_injection,
            )
            for f, k, shift, grid, inj, rej in todo
        ]
        counts = map_jobs(
            injection_job,
            jobs,
            address=ray_address,
            num_workers=num_workers,
            desc="timeslide injections",
            key=lambda job: (
                f"t0={job['t0']:.0f}, duration={job['duration']:.0f}, "
                f"shift_index={job['shift_index']}"
            ),
        )
        draws = sum(c["accepted"] + c["rejected"] for c in counts)
        elapsed = time.perf_counter() - start
        logger.info(
            "drew %d binaries in %.1f s (%.0f per second), %.1f%% accepted",
            draws, elapsed, draws / elapsed,
            100 * sum(c["accepted"] for c in counts) / max(draws, 1),
        )  # fmt: skip

    injections = test_dir / INJECTIONS_FILE
    rejected = test_dir / REJECTED_FILE
    RejectedParameterSet.aggregate([p[5] for p in plan], rejected, progress=True)
    InjectionSet.aggregate([p[4] for p in plan], injections, progress=True)
    for stale in test_dir.glob(f"{_PARTS}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    total = InjectionSet.read_attrs(injections)["num_injections"]
    logger.info("wrote %s and %s (%d draws in all)", injections, rejected, total)
    return injections, rejected


def main(args: list[str] | None = None) -> None:
    """Command-line entry point of ``generate-timeslide-waveforms``."""
    try:
        cli(
            generate_timeslide_waveforms,
            args=args,
            script="generate-timeslide-waveforms",
        )
    except (ValueError, ArtifactError) as err:
        logger.error("%s", err)
        sys.exit(1)
    except JobError as err:
        if not isinstance(err.cause, ValueError | ArtifactError):
            raise
        logger.error("%s", err)
        sys.exit(1)


if __name__ == "__main__":
    main()
