"""infer: timeslide inference over the test background, fanned out on Ray.

Plan: the shifts needed for ``Tb`` seconds of background
(``num_shifts_for_livetime``; H1 fixed, L1 shifted by ``k·shift_step``),
plus zero-lag, plus any shift the injection file uses; one job per (test
segment, shift). Calibrate event times once (``infer.calibration``). Run the
jobs (``aframe.search.jobs.run_job``) with ``aframe.deploy.map_jobs``, each
writing its results atomically to ``BASE_DIR/infer/tmp/jobs/`` so a rerun
skips finished jobs. Aggregate into ``background.hdf5``, ``foreground.hdf5`` and
``zero-lag.hdf5`` (``infer.aggregate``).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Literal

import numpy as np

from aframe.architectures import PreprocessingConfig
from aframe.deploy import JobError, map_jobs, shutdown_ray
from aframe.ledger import InjectionSet
from aframe.search.backends import make_backend
from aframe.search.jobs import (
    INPUT_ERRORS,
    file_stamp,
    job_kwargs,
    plan_jobs,
    prepare_jobs_dir,
    run_job,
    search_attrs,
)
from aframe.search.postprocess import window_lengths
from aframe.search.repository import MODEL_NAME, ExportedModel, read_model_for_ifos
from aframe.utils.background import list_background
from aframe.utils.cli import cli
from aframe.utils.io import ensure_writable_dir
from aframe.utils.timeslides import burn_in as search_burn_in
from aframe.utils.timeslides import num_shifts_for_livetime, shift_vectors
from infer.aggregate import aggregate
from infer.calibration import (
    calibrate_time_offset,
    calibration_settings,
    load_or_calibrate,
)

logger = logging.getLogger(__name__)


class InferError(ValueError):
    """Inference inputs that do not fit together."""


def _check_injections(path: Path, model: ExportedModel, config: PreprocessingConfig):
    if not path.is_file():
        raise InferError(
            f"{path}: no such injection file (run generate-timeslide-waveforms)"
        )
    # a detector's responses missing, record counts that disagree, or a
    # non-finite sample: one line naming the file, before any job runs
    InjectionSet.check_file(path, values=True)
    attrs = InjectionSet.read_attrs(path)
    ifos = list(attrs.get("ifos", []))
    if ifos != list(config.ifos):
        raise InferError(
            f"{path.name}: ifos {ifos}, but the model was trained on "
            f"{list(config.ifos)} ({model.preprocessing_path})"
        )
    rate = float(attrs["sample_rate"])
    if not np.isclose(rate, config.sample_rate):
        raise InferError(
            f"{path.name}: sample_rate {rate:g} Hz, but the model was trained at "
            f"{config.sample_rate:g} Hz ({model.preprocessing_path})"
        )


def _shifts(
    durations: list[float],
    Tb: float,  # noqa: N803 (the field's name)
    shift_step: float,
    burn_in: float,
    num_ifos: int,
    waveforms: Path | None,
) -> np.ndarray:
    num = num_shifts_for_livetime(durations, Tb, shift_step, burn_in)
    shifts = shift_vectors(num, shift_step, num_ifos, zero_lag=True)
    if waveforms is not None:
        used = InjectionSet.read(waveforms, waveforms=False).shifts()
        known = {tuple(np.round(s, 6)) for s in shifts}
        extra = [s for s in used if tuple(np.round(s, 6)) not in known]
        if extra:
            logger.warning(
                "%d shift(s) of the injection file are not needed for Tb = %g s; "
                "analysing them too so that every injection is searched for",
                len(extra),
                Tb,
            )
            shifts = np.concatenate([shifts, np.asarray(extra, dtype=float)])
    logger.info("%d shifts of %g s (plus zero-lag) for Tb = %g s", num, shift_step, Tb)
    return shifts


def infer(
    basedir: Path,
    datadir: Path,
    ifos: list[str],
    inference_sampling_rate: float,
    Tb: float,  # noqa: N803 (the field's name)
    shift_step: float,
    integration_length: float = 1.0,
    cluster_window_length: float = 8.0,
    match_window: float = 1.0,
    foreground: Literal["windows", "stream"] = "windows",
    backend: Literal["local", "triton"] = "local",
    server_url: str = "127.0.0.1:8001",
    ray_address: str | None = None,
    num_workers: int | None = None,
    intra_op_threads: int = 1,
    zero_lag: bool = True,
    calibration_injections: int = 16,
    calibration_snr: float = 30.0,
    seed: int = 0,
    model_name: str = MODEL_NAME,
    server_model_name: str | None = None,
    model_version: int | None = None,
    repository_dir: Path | None = None,
    background_dir: Path | None = None,
    waveforms: Path | None = None,
    output_dir: Path | None = None,
    force: bool = False,
) -> dict[str, Path]:
    """Search the test background, its timeslides and its injections.

    The preprocessing comes from the model repository (the copy export made
    of the training ``preprocessing.json``), never from arguments.

    Args:
        basedir: the experiment's directory (BASE_DIR/profile)
        datadir: the data directory (DATA_DIR/profile)
        ifos: detectors, in channel order; must equal the model's
        inference_sampling_rate: kernels (network outputs) per second, Hz
        Tb: background livetime wanted, seconds; enough shifts are analysed
            to reach at least this after burn-in
        shift_step: seconds between consecutive shifts of L1 relative to H1
        integration_length: causal boxcar over the network outputs, seconds
        cluster_window_length: events are maxima over this window, seconds
        match_window: an injection is found by an event of its shift within
            this many seconds of its merger
        foreground: ``windows`` computes the injected stream only on the
            kernels that decide the events within ``match_window`` of each
            injection (the same result, cheaper when injections are sparse);
            ``stream`` computes all of it
        backend: ``local`` (onnxruntime in each worker) or ``triton``
            (KServe-V2 gRPC server at ``server_url``)
        server_url: ``host:port`` of the inference server's gRPC endpoint
        ray_address: join this Ray cluster instead of starting a local one
            ("" or None: start a local one)
        num_workers: jobs running at once (default: the cluster's CPUs;
            1 runs the jobs in this process without Ray)
        intra_op_threads: threads each job gives onnxruntime and torch
        zero_lag: also analyse the unshifted data (``zero-lag.hdf5``)
        calibration_injections: loud injections used to calibrate event times
        calibration_snr: network SNR of those injections
        seed: seed of the calibration's injection draw and jitter
        model_name: the model's name in the repository
        server_model_name: the name the server serves it under, for
            ``triton`` (default ``model_name``; ``aframe-trt`` for the
            TensorRT plan export-model builds on GPU machines)
        model_version: version to use (default: the latest complete one)
        repository_dir: the model repository (default basedir/model_repo)
        background_dir: test background (default datadir/test/background)
        waveforms: test injections (default datadir/test/waveforms.hdf5)
        output_dir: where results go (default basedir/infer)
        force: discard finished jobs and the time calibration and redo them

    Returns:
        artifact name (``background``, ``foreground``, ``zero-lag``) → path
    """
    basedir, datadir = Path(basedir).expanduser(), Path(datadir).expanduser()
    repository_dir = Path(repository_dir or basedir / "model_repo").expanduser()
    background_dir = Path(
        background_dir or datadir / "test" / "background"
    ).expanduser()
    waveforms = Path(waveforms or datadir / "test" / "waveforms.hdf5").expanduser()
    output_dir = ensure_writable_dir(Path(output_dir or basedir / "infer").expanduser())
    if force:
        # the runner says the inputs changed: nothing made before is reused
        logger.info("force: discarding finished jobs and the time calibration")
        shutil.rmtree(output_dir / "tmp", ignore_errors=True)
        (output_dir / "calibration.json").unlink(missing_ok=True)
    if not Tb > 0:
        raise InferError(f"Tb must be positive, got {Tb} s")
    if not shift_step > 0:
        raise InferError(f"shift_step must be positive, got {shift_step} s")
    isr = inference_sampling_rate
    window_lengths(integration_length, cluster_window_length, isr)
    if not match_window > 0:
        raise InferError(f"match_window must be positive, got {match_window}")

    model, config = read_model_for_ifos(
        repository_dir, ifos, model_name, model_version, error=InferError
    )
    files = list_background(background_dir, config.ifos, sample_rate=config.sample_rate)
    _check_injections(waveforms, model, config)

    # the first statistic needs a PSD, a window and a full integration window
    burn_in = search_burn_in(
        config.psd_length, config.kernel_length, config.fduration, integration_length
    )
    shifts = _shifts(
        [f.duration for f in files],
        Tb,
        shift_step,
        burn_in,
        len(config.ifos),
        waveforms,
    )
    jobs = plan_jobs(files, shifts, burn_in)
    if not zero_lag:
        jobs = [j for j in jobs if not j.zero_lag]
    if not jobs:
        raise InferError(
            f"{background_dir}: no segment is longer than the burn-in of {burn_in:g} s"
        )

    # check the server (or load the network) before anything is fanned out
    served = server_model_name or model_name
    net = make_backend(backend, model, intra_op_threads, server_url, served)
    try:
        measure = dict(
            waveforms=waveforms,
            inference_sampling_rate=isr,
            integration_length=integration_length,
            cluster_window_length=cluster_window_length,
            num_injections=calibration_injections,
            snr=calibration_snr,
            seed=seed,
        )
        settings = calibration_settings(model, **measure)
        settings["data"] = {
            "waveforms": file_stamp(waveforms),
            **{f.path.name: file_stamp(f.path) for f in files},
        }
        calibration = load_or_calibrate(
            output_dir / "calibration.json",
            settings,
            lambda: calibrate_time_offset(model, net, files, **measure),
        )
    finally:
        net.close()
    time_offset = float(calibration["offset"])

    event_attrs = search_attrs(
        model,
        isr,
        integration_length,
        cluster_window_length,
        time_offset,
        str(calibration["method"]),
    )
    # results made from other data or settings must not be reused
    signature = {
        **event_attrs,
        "waveforms": [str(waveforms.resolve()), *file_stamp(waveforms)],
        "background": {f.path.name: file_stamp(f.path) for f in files},
        "match_window": match_window,
        "foreground": foreground,
    }
    jobs_dir = prepare_jobs_dir(output_dir / "tmp", signature)
    kwargs = job_kwargs(
        jobs,
        jobs_dir,
        model,
        event_attrs,
        waveforms=str(waveforms),
        backend=backend,
        server_url=server_url,
        server_model_name=served,
        intra_op_threads=intra_op_threads,
        match_window=match_window,
        foreground=foreground,
    )
    todo = sum(not (jobs_dir / k["key"] / "summary.json").is_file() for k in kwargs)
    logger.info(
        "%d jobs (%d to run, %d already done) over %d segment(s), backend %s",
        len(jobs),
        todo,
        len(jobs) - todo,
        len(files),
        backend,
    )
    try:
        summaries = map_jobs(
            run_job,
            kwargs,
            address=ray_address or None,
            num_workers=num_workers,
            desc="infer",
            key=lambda job: job["key"],
        )
    finally:
        shutdown_ray()

    shifted = [jobs_dir / job.key for job in jobs if not job.zero_lag]
    unshifted = [jobs_dir / job.key for job in jobs if job.zero_lag]
    written = aggregate(
        shifted, unshifted, output_dir, waveforms, match_window, event_attrs
    )
    background_tb = sum(s["Tb"] for s in summaries if not s["zero_lag"])
    logger.info(
        "background livetime Tb = %.0f s (%.2f days) in %d shifted jobs; wrote %s",
        background_tb,
        background_tb / 86400,
        len(shifted),
        ", ".join(str(p) for p in written.values()),
    )
    return written


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``infer``."""
    # expected bad input (or a job that met it): one message, no traceback
    cli(infer, args=argv, script="infer", expected_errors=(*INPUT_ERRORS, JobError))


if __name__ == "__main__":
    main()
