"""search: run a trained detector on any strain, offline or following live frames.

Offline (the default): read ``[start, stop)`` from GWOSC, frame files or local
HDF5/GWF files (``search.data``), search it at zero lag and build its
background from timeslides of the same data up to ``Tb`` (``search.offline``),
and write ``candidates.hdf5``, ``candidates.csv`` and ``candidates.json`` with
each candidate's FAR (``search.report``).

Online (``--follow DIR``): analyse the frame files of ``DIR`` as they appear
and write one JSON file per candidate whose FAR, against an experiment's
background (``BASE_DIR/infer/background.hdf5``, or the offline search's own
``background.hdf5``), is at most ``alert_far`` (``search.follow``).

The preprocessing comes from the model repository, never from arguments.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any, Literal

import torch

from aframe.architectures import PreprocessingConfig
from aframe.deploy import JobError
from aframe.ledger import EventSet
from aframe.search.backends import make_backend
from aframe.search.jobs import INPUT_ERRORS
from aframe.search.postprocess import fallback_time_offset, window_lengths
from aframe.search.repository import MODEL_NAME, ExportedModel, read_model_for_ifos
from aframe.utils.cli import cli
from aframe.utils.io import ensure_writable_dir
from search.data import describe, prepare_data
from search.follow import Follower, FollowSettings, read_background
from search.offline import SearchError, burn_in, run_offline

logger = logging.getLogger(__name__)


def resolve_time_offset(
    model: ExportedModel,
    integration_length: float,
    time_offset: float | None = None,
    calibration: Path | None = None,
    background: EventSet | None = None,
) -> tuple[float, str]:
    """The delay of an event's peak centre after the merger, and its origin.

    In order: ``time_offset`` when given; the offset the background's events
    were timed with (its ``time_offset`` attr); an infer calibration record
    made for this model; else ``fallback_time_offset``.

    Args:
        model: the exported model
        integration_length: boxcar length, s
        time_offset: an offset to use as it is, s
        calibration: infer's ``calibration.json``
        background: the background the FARs come from (online)

    Returns:
        ``(offset in s, how it was found)``
    """
    if time_offset is not None:
        return float(time_offset), "given"
    if background is not None and "time_offset" in background.attrs:
        method = background.attrs.get("time_calibration", "background")
        return float(background.attrs["time_offset"]), f"background ({method})"
    if calibration is not None and Path(calibration).is_file():
        record = json.loads(Path(calibration).read_text())
        settings = record.get("settings", {})
        same = settings.get("model") == model.key and settings.get(
            "integration_length"
        ) == float(integration_length)
        if same:
            return float(record["offset"]), f"calibration ({record['method']})"
        logger.warning(
            "%s was made for another model or integration length: not used",
            calibration,
        )
    config = PreprocessingConfig.load(model.preprocessing_path)
    offset = fallback_time_offset(config.kernel_length, integration_length)
    logger.warning(
        "no event-time calibration for %s: times use the fallback offset %.3f s",
        model.key,
        offset,
    )
    return offset, "heuristic"


def search(
    repository: Path,
    outdir: Path,
    ifos: list[str],
    inference_sampling_rate: float,
    start: float | None = None,
    stop: float | None = None,
    source: Literal["gwosc", "frames", "hdf5"] = "hdf5",
    data_files: list[str] | None = None,
    channel: str = "OPEN",
    frametype: str | None = None,
    frame_cache: Path | None = None,
    segment_file: Path | None = None,
    follow: Path | None = None,
    background: Path | None = None,
    calibration: Path | None = None,
    time_offset: float | None = None,
    integration_length: float = 1.0,
    cluster_window_length: float = 8.0,
    Tb: float | None = None,  # noqa: N803 (the field's name)
    shift_step: float = 1.0,
    max_far: float = 24.0,
    alert_far: float = 1.0,
    late_timeout: float = 2.0,
    poll_interval: float = 0.05,
    max_segment_length: float = 4096.0,
    backend: Literal["local", "triton"] = "local",
    server_url: str = "127.0.0.1:8001",
    server_model_name: str | None = None,
    model_name: str = MODEL_NAME,
    model_version: int | None = None,
    num_workers: int | None = None,
    ray_address: str | None = None,
    intra_op_threads: int = 1,
    timing_file: Path | None = None,
) -> dict[str, Any]:
    """Search strain for binary black holes with an exported model.

    Args:
        repository: the model repository (``BASE_DIR/model_repo``)
        outdir: where the results (and the state of an online search) go
        ifos: detectors, in channel order; must equal the model's
        inference_sampling_rate: kernels (network outputs) per second, Hz
        start: GPS start of the data to search (offline: required; online:
            where to start, default the first frame present), s
        stop: GPS end (exclusive) of the data (offline: required; online:
            stop there, default run until SIGINT/SIGTERM), s
        source: offline data: ``gwosc`` (open data, network), ``frames``
            (``frame_cache`` or gwdatafind ``frametype``) or ``hdf5`` (local
            HDF5/GWF files, ``data_files``)
        data_files: local HDF5/GWF files or globs (``hdf5``)
        channel: strain channel (``{ifo}:{channel}``); ``OPEN`` for open data
            and files whose datasets are named by ifo
        frametype: frame type for gwdatafind (``{ifo}`` is replaced)
        frame_cache: a LAL cache or list of frame files (``frames``)
        segment_file: offline: search only these segments (two-column or
            segwizard)
        follow: a directory of frame files to follow online
            (``<description>-<GPS>-<DURATION>.<gwf|hdf5|h5>``, 1-4 s each)
        background: online: the background the FARs come from (default
            ``outdir/background.hdf5``, the offline search's)
        calibration: infer's ``calibration.json`` for event times
        time_offset: seconds from merger to peak centre (overrides the rest)
        integration_length: causal boxcar over the network outputs, s
        cluster_window_length: events are maxima over this window, s
        Tb: offline: background livetime wanted from timeslides, s
        shift_step: seconds between consecutive shifts of L1 against H1
        max_far: offline: list zero-lag events with FAR at most this, per day
        alert_far: online: write candidates with FAR at most this, per day
        late_timeout: online: seconds a frame may lag behind a later one
            before it is declared missing
        poll_interval: online: seconds between scans of the directory
        max_segment_length: offline: longest stretch read at once, s
        backend: ``local`` (onnxruntime) or ``triton`` (gRPC server)
        server_url: ``host:port`` of the inference server (``triton``)
        server_model_name: the model's name on the server (``triton``)
        model_name: the model's name in the repository
        model_version: version to use (default: the latest complete one)
        num_workers: offline jobs at once (default: the Ray cluster's CPUs;
            1: in this process without Ray)
        ray_address: an existing Ray cluster (default: a local one)
        intra_op_threads: threads onnxruntime and torch use per job/stream
        timing_file: online: append per-frame timings (JSON lines) here

    Returns:
        offline: artifact name → path; online: the final state
    """
    outdir = ensure_writable_dir(Path(outdir).expanduser())
    repository = Path(repository).expanduser()
    model, config = read_model_for_ifos(
        repository, ifos, model_name, model_version, error=SearchError
    )
    isr = inference_sampling_rate
    window_lengths(integration_length, cluster_window_length, isr)

    if follow is not None:
        background_path = Path(background or outdir / "background.hdf5").expanduser()
        settings = FollowSettings(
            inference_sampling_rate=isr,
            integration_length=integration_length,
            cluster_window_length=cluster_window_length,
            time_offset=0.0,
            alert_far=alert_far,
            channel=channel,
            late_timeout=late_timeout,
            poll_interval=poll_interval,
            start=start,
            stop=stop,
        )
        events = read_background(background_path, model, settings)
        offset, method = resolve_time_offset(
            model, integration_length, time_offset, calibration, events
        )
        logger.info("event times: offset %.3f s from %s", offset, method)
        settings = dataclasses.replace(settings, time_offset=offset)
        torch.set_num_threads(max(1, intra_op_threads))
        net = make_backend(
            backend, model, intra_op_threads, server_url, server_model_name
        )
        try:
            follower = Follower(
                Path(follow).expanduser(),
                outdir,
                model,
                net,
                events,
                settings,
                timing_file=timing_file,
            )
            return follower.run()
        finally:
            net.close()

    if start is None or stop is None or not stop > start:
        raise SearchError(f"an offline search needs start < stop, got {start}, {stop}")
    if Tb is None:
        raise SearchError("an offline search needs Tb, the background livetime (s)")
    lost = burn_in(config, integration_length)
    data = prepare_data(
        outdir,
        config.ifos,
        start,
        stop,
        config.sample_rate,
        lost,
        source=source,
        channel=channel,
        frametype=frametype,
        frame_cache=frame_cache,
        data_files=data_files,
        segment_file=segment_file,
        max_segment_length=max_segment_length,
    )
    for record in data.skipped:
        logger.warning("%s", describe(record))
    offset, method = resolve_time_offset(
        model, integration_length, time_offset, calibration
    )
    return run_offline(
        model,
        outdir,
        data,
        (start, stop),
        Tb,
        shift_step,
        isr,
        integration_length,
        cluster_window_length,
        offset,
        method,
        max_far,
        backend=backend,
        server_url=server_url,
        server_model_name=server_model_name,
        num_workers=num_workers,
        ray_address=ray_address,
        intra_op_threads=intra_op_threads,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``search``."""
    # expected bad input: one message, no traceback
    cli(search, args=argv, script="search", expected_errors=(*INPUT_ERRORS, JobError))


if __name__ == "__main__":
    main()
