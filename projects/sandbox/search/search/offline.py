"""The offline search: zero-lag candidates ranked against timeslides of the same data.

Each analysed segment (``search.data``) is searched at zero lag and under
enough shifts of L1 against H1 (``k·shift_step``, ``k = 1, 2, …``) for ``Tb``
seconds of background livetime (``aframe.utils.timeslides``): one job per
(segment, shift), run by ``aframe.search.jobs.run_job`` exactly as infer runs
its test background (the same reads, streams, integration, clustering and
event files, without injections), fanned out with ``aframe.deploy.map_jobs``
and resumable (finished jobs are kept under ``outdir/tmp/jobs``).

The shifted jobs make ``background.hdf5`` and the unshifted ones
``zero-lag.hdf5`` (``EventSet``s). Every zero-lag event whose false-alarm rate
against that background (``aframe.ledger.far.far``: ``max(nb, 1)/Tb``) is at
most ``max_far`` per day is a candidate (``search.report``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from aframe.architectures import PreprocessingConfig
from aframe.deploy import map_jobs, shutdown_ray
from aframe.ledger import CandidateSet, EventSet
from aframe.ledger.far import far
from aframe.search.jobs import (
    BACKGROUND_FILE,
    ZERO_LAG_FILE,
    file_stamp,
    job_kwargs,
    plan_jobs,
    prepare_jobs_dir,
    run_job,
    search_attrs,
)
from aframe.search.repository import ExportedModel
from aframe.utils.timeslides import burn_in as stream_burn_in
from aframe.utils.timeslides import num_shifts_for_livetime, shift_vectors
from search.data import SearchData
from search.report import write_reports

logger = logging.getLogger(__name__)


class SearchError(ValueError):
    """Search inputs that cannot give candidates."""


def burn_in(config: PreprocessingConfig, integration_length: float) -> float:
    """Seconds a stream needs before its first statistic, for this preprocessing."""
    return stream_burn_in(
        config.psd_length, config.kernel_length, config.fduration, integration_length
    )


def run_offline(
    model: ExportedModel,
    outdir: Path,
    data: SearchData,
    span: tuple[float, float],
    Tb: float,  # noqa: N803 (the field's name)
    shift_step: float,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
    time_offset: float,
    time_calibration: str,
    max_far: float,
    backend: str = "local",
    server_url: str = "127.0.0.1:8001",
    server_model_name: str | None = None,
    num_workers: int | None = None,
    ray_address: str | None = None,
    intra_op_threads: int = 1,
) -> dict[str, Path]:
    """Search the segments at zero lag and build their timeslide background.

    Args:
        model: the exported model
        outdir: the search's directory
        data: the segments to analyse and the stretches skipped
        span: the GPS ``(start, stop)`` searched
        Tb: background livetime wanted, s
        shift_step: seconds between consecutive shifts of L1 against H1
        inference_sampling_rate: kernels per second, Hz
        integration_length: boxcar length, s
        cluster_window_length: events are maxima over this window, s
        time_offset: seconds from the merger to the peak centre
        time_calibration: how ``time_offset`` was found
        max_far: candidates have a FAR of at most this, per day
        backend: ``local`` or ``triton``
        server_url: gRPC ``host:port`` for ``triton``
        server_model_name: the model's name on the server
        num_workers: jobs at once (None: the cluster's CPUs; 1: in process)
        ray_address: an existing Ray cluster (None: start a local one)
        intra_op_threads: threads each job gives onnxruntime and torch

    Returns:
        artifact name → path (``background``, ``zero-lag``, ``candidates``,
        ``csv``, ``json``)
    """
    outdir = Path(outdir)
    config = PreprocessingConfig.load(model.preprocessing_path)
    if not Tb > 0:
        raise SearchError(f"Tb = {Tb} s: a false-alarm rate needs a background")
    if not data.files:
        raise SearchError(
            f"no segment of [{span[0]:.0f}, {span[1]:.0f}) is longer than the "
            f"burn-in of {burn_in(config, integration_length):g} s in every ifo "
            f"({len(data.skipped)} stretches skipped; see the log)"
        )
    lost = burn_in(config, integration_length)
    durations = [f.duration for f in data.files]
    try:
        num = num_shifts_for_livetime(durations, Tb, shift_step, lost)
    except ValueError as err:
        raise SearchError(f"too little data for the background: {err}") from None
    shifts = shift_vectors(num, shift_step, len(config.ifos), zero_lag=True)
    jobs = plan_jobs(data.files, shifts, lost)
    logger.info(
        "%d segment(s), %.0f s of data: zero lag and %d shifts of %g s for "
        "Tb = %g s (%d jobs)",
        len(data.files),
        sum(durations),
        num,
        shift_step,
        Tb,
        len(jobs),
    )
    event_attrs = search_attrs(
        model,
        inference_sampling_rate,
        integration_length,
        cluster_window_length,
        time_offset,
        time_calibration,
    )
    signature = {
        **event_attrs,
        "data": {f.path.name: file_stamp(f.path) for f in data.files},
    }
    jobs_dir = prepare_jobs_dir(outdir / "tmp", signature)
    kwargs = job_kwargs(
        jobs,
        jobs_dir,
        model,
        event_attrs,
        backend=backend,
        server_url=server_url,
        server_model_name=server_model_name,
        intra_op_threads=intra_op_threads,
    )
    try:
        map_jobs(
            run_job,
            kwargs,
            address=ray_address or None,
            num_workers=num_workers,
            desc="search",
            key=lambda job: job["key"],
        )
    finally:
        shutdown_ray()

    shifted = [jobs_dir / j.key / BACKGROUND_FILE for j in jobs if not j.zero_lag]
    unshifted = [jobs_dir / j.key / ZERO_LAG_FILE for j in jobs if j.zero_lag]
    written = {
        "background": EventSet.aggregate(shifted, outdir / BACKGROUND_FILE),
        "zero-lag": EventSet.aggregate(unshifted, outdir / ZERO_LAG_FILE),
    }
    background = EventSet.read(written["background"])
    zero_lag = EventSet.read(written["zero-lag"])
    rates = np.atleast_1d(far(background, zero_lag.detection_statistic, unit="day"))
    keep = rates <= max_far if len(zero_lag) else np.zeros(0, dtype=bool)
    candidates = CandidateSet.from_events(
        zero_lag[np.flatnonzero(keep)],
        background,
        model.key,
        attrs={**event_attrs, "max_far_per_day": max_far},
    )
    summary = {
        "model": model.key,
        "ifos": list(config.ifos),
        "start": float(span[0]),
        "stop": float(span[1]),
        "Tb": background.Tb,
        "Tb_days": background.Tb / 86400,
        "zero_lag_livetime": zero_lag.Tb,
        "num_background_events": len(background),
        "num_zero_lag_events": len(zero_lag),
        "max_far_per_day": max_far,
        "far_floor_per_year": 365.25 * 86400 / background.Tb,
        "settings": {
            **event_attrs,
            "shift_step": shift_step,
            "num_shifts": int(num),
            **config.to_dict(),
        },
        "segments": [
            {"start": f.t0, "stop": f.stop, "file": f.path.name} for f in data.files
        ],
        "skipped": data.skipped,
    }
    written.update(write_reports(outdir, candidates, summary))
    logger.info(
        "%d candidate(s) with FAR ≤ %g/day of %d zero-lag events "
        "(Tb = %.0f s = %.2f days; FAR floor %.3g/year)",
        len(candidates),
        max_far,
        len(zero_lag),
        background.Tb,
        background.Tb / 86400,
        summary["far_floor_per_year"],
    )
    return written
