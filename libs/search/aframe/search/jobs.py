"""Search jobs: one (background segment, shift vector) pair each.

infer runs them over the test background (with injections for the foreground)
and the offline ``search`` over the segments of the data it searches (no
injections): the same planning, shifted reads, streams and event files.

Timeslides: H1 is never shifted; ifo ``i`` is shifted by ``i·k·shift_step``
seconds for shift index ``k`` (``aframe.utils.timeslides.shift_vectors``), so
with H1 and L1 the L1 data at H1 time ``t`` is read from ``t + k·shift_step``.
``k = 0`` is zero-lag. A job analyses the H1 times where every ifo has data,
``[t0, t0 + duration - max(shift))`` for non-negative shifts, and stamps its
events on that (unshifted H1) axis.

Each job writes its result directory atomically (``atomic_dir``) under the
jobs directory, named by its key; a rerun finds it and skips the job, and a
killed job leaves only a temporary directory that no run takes as done.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from aframe.architectures import PreprocessingConfig, Preprocessor
from aframe.ledger import EventSet, InjectionSet, LedgerError
from aframe.ledger.livetime import analysed_span
from aframe.search.backends import make_backend
from aframe.search.postprocess import find_events, find_window_events, kernel_windows
from aframe.search.repository import ExportedModel, read_exported_model
from aframe.search.stream import StreamGeometry, run_streams, run_windows
from aframe.utils.background import BackgroundError, BackgroundFile
from aframe.utils.io import ArtifactError, atomic_dir, atomic_path, ensure_writable_dir
from aframe.utils.timeslides import shift_livetime

logger = logging.getLogger(__name__)

SUMMARY_FILE = "summary.json"
BACKGROUND_FILE = "background.hdf5"
FOREGROUND_FILE = "foreground.hdf5"
ZERO_LAG_FILE = "zero-lag.hdf5"
INPUT_ERRORS: tuple[type[Exception], ...] = (
    ArtifactError,
    ValueError,
    LedgerError,
    ConnectionError,
)
"""what bad inputs to a search raise (a missing or damaged artifact, a bad
value or ledger file, an unreachable server): one message, no traceback"""


@dataclass(frozen=True)
class Job:
    """One segment under one shift.

    Attributes:
        path: the background file
        t0: GPS start of the segment, seconds
        duration: length of the segment, seconds
        shift: seconds added to each ifo's data time (H1 first, 0)
    """

    path: str
    t0: float
    duration: float
    shift: tuple[float, ...]

    @property
    def zero_lag(self) -> bool:
        """Whether this is the unshifted analysis."""
        return all(s == 0 for s in self.shift)

    @property
    def key(self) -> str:
        """A stable name: segment and shift values (ms), e.g. ``1000-512_0-3000``."""
        shifts = "-".join(str(int(round(s * 1000))) for s in self.shift)
        return f"{int(self.t0)}-{int(self.duration)}_{shifts}"

    @property
    def start(self) -> float:
        """GPS start of the analysed span on the H1 axis."""
        return analysed_span(self.t0, self.duration, self.shift)[0]

    @property
    def stop(self) -> float:
        """GPS end (exclusive) of the analysed span on the H1 axis."""
        return analysed_span(self.t0, self.duration, self.shift)[1]

    def arguments(self) -> dict[str, Any]:
        """The job's own arguments of ``run_job`` (``key``, ``path``, ``t0``,
        ``duration``, ``shift``), JSON- and Ray-ready."""
        return {
            "key": self.key,
            "path": self.path,
            "t0": self.t0,
            "duration": self.duration,
            "shift": list(self.shift),
        }


def plan_jobs(
    files: Sequence[BackgroundFile],
    shifts: np.ndarray,
    burn_in: float,
) -> list[Job]:
    """Every analysable (segment, shift) pair, segments outer, shifts inner.

    Args:
        files: the test background files
        shifts: shift vectors (M, n_ifo), seconds; a row of zeros is zero-lag
        burn_in: seconds a stream needs before its first statistic

    Returns:
        the jobs; pairs that leave no livetime are dropped
    """
    jobs = []
    for f in files:
        for shift in np.asarray(shifts, dtype=float):
            span = float(np.max(shift) - min(np.min(shift), 0.0))
            if shift_livetime(f.duration, span, burn_in) <= 0:
                continue
            jobs.append(
                Job(str(f.path), f.t0, f.duration, tuple(float(s) for s in shift))
            )
    return jobs


class ShiftedReader:
    """Reads a segment's strain with each ifo shifted, by sample index.

    Args:
        path: the background file
        ifos: ifos to read, in channel order
        t0: GPS start of the file, seconds
        sample_rate: Hz
        shift: seconds added to each ifo's data time
        start: GPS start of the analysed span on the H1 axis
    """

    def __init__(
        self,
        path: str | Path,
        ifos: Sequence[str],
        t0: float,
        sample_rate: float,
        shift: Sequence[float],
        start: float,
    ):
        self.path = Path(path)
        self.ifos = list(ifos)
        self.sample_rate = sample_rate
        self.offsets = []
        for ifo, s in zip(self.ifos, shift):
            value = (start + s - t0) * sample_rate
            if abs(value - round(value)) > 1e-6:
                raise BackgroundError(
                    f"{self.path.name}: shift {s} s of {ifo} is not a whole "
                    f"number of samples at {sample_rate:g} Hz"
                )
            self.offsets.append(int(round(value)))
        self.file = h5py.File(self.path, "r")

    def __call__(self, i0: int, i1: int) -> np.ndarray:
        """Samples ``[i0, i1)`` of the shifted span, (n_ifo, i1 - i0) float64."""
        out = np.empty((len(self.ifos), i1 - i0), dtype=np.float64)
        for row, (ifo, offset) in enumerate(zip(self.ifos, self.offsets)):
            dataset = self.file[ifo]
            lo, hi = offset + i0, offset + i1
            if lo < 0 or hi > dataset.shape[0]:
                raise BackgroundError(
                    f"{self.path.name}: {ifo} samples [{lo}, {hi}) are outside "
                    f"the file's {dataset.shape[0]}"
                )
            dataset.read_direct(out[row], np.s_[lo:hi])
        if not np.isfinite(out).all():
            row, col = np.argwhere(~np.isfinite(out))[0]
            raise BackgroundError(
                f"{self.path.name}: {self.ifos[row]} has a non-finite value at "
                f"sample {self.offsets[row] + i0 + col}"
            )
        return out

    def close(self) -> None:
        """Close the file."""
        self.file.close()


def read_injections(path: str | Path, job: Job) -> InjectionSet:
    """The injections of ``path`` with the job's shift whose signal can reach it.

    Args:
        path: ``DATA_DIR/test/waveforms.hdf5``
        job: the job

    Returns:
        the responses whose coalescence lies within one waveform duration of
        the job's span
    """
    attrs = InjectionSet.read_attrs(path)
    pad = float(attrs["duration"])
    return InjectionSet.read(
        path, start=job.start - pad, end=job.stop + pad, shifts=np.asarray(job.shift)
    )


def file_stamp(path: str | Path) -> list[int]:
    """Size and modification time of a file: changes when it is rewritten."""
    stat = Path(path).stat()
    return [stat.st_size, stat.st_mtime_ns]


def prepare_jobs_dir(tmp_dir: Path, signature: dict[str, Any]) -> Path:
    """The jobs directory ``tmp_dir/jobs``, emptied when the settings changed.

    Args:
        tmp_dir: where the jobs directory and ``signature.json`` live
        signature: everything the jobs' results depend on (JSON-ready)

    Returns:
        the jobs directory; results made with another signature are discarded
    """
    jobs_dir = Path(tmp_dir) / "jobs"
    stamp = Path(tmp_dir) / "signature.json"
    if stamp.is_file():
        try:
            stored = json.loads(stamp.read_text())
        except (OSError, json.JSONDecodeError):
            stored = None
        if stored != signature:
            logger.warning(
                "settings changed since the last run: discarding %s", jobs_dir
            )
            shutil.rmtree(jobs_dir, ignore_errors=True)
    ensure_writable_dir(jobs_dir)
    with atomic_path(stamp) as path:
        path.write_text(json.dumps(signature, indent=2, sort_keys=True) + "\n")
    return jobs_dir


def search_attrs(
    model: ExportedModel,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
    time_offset: float,
    time_calibration: str,
) -> dict[str, Any]:
    """The search settings every event file of a run records (``event_attrs``).

    Args:
        model: the exported model
        inference_sampling_rate: kernels per second, Hz
        integration_length: boxcar length, seconds
        cluster_window_length: clustering window, seconds
        time_offset: calibrated delay of the peak centre after the merger, s
        time_calibration: how ``time_offset`` was found

    Returns:
        the attrs, JSON-ready
    """
    return {
        "model": model.key,
        "inference_sampling_rate": inference_sampling_rate,
        "integration_length": integration_length,
        "cluster_window_length": cluster_window_length,
        "time_offset": time_offset,
        "time_calibration": time_calibration,
    }


def job_kwargs(
    jobs: Sequence[Job],
    jobs_dir: str | Path,
    model: ExportedModel,
    event_attrs: dict[str, Any],
    waveforms: str | None = None,
    backend: str = "local",
    server_url: str = "127.0.0.1:8001",
    server_model_name: str | None = None,
    intra_op_threads: int = 1,
    **options: Any,
) -> list[dict[str, Any]]:
    """The keyword arguments of ``run_job`` for each job, JSON- and Ray-ready.

    Args:
        jobs: the jobs
        jobs_dir: where their results go
        model: the exported model they run
        event_attrs: the run's ``search_attrs``; the search settings come
            from them
        waveforms: the injection file (None: no foreground)
        backend: ``local`` or ``triton``
        server_url: gRPC ``host:port`` for ``triton``
        server_model_name: the model's name on the server (default its name)
        intra_op_threads: threads for onnxruntime and torch within a job
        **options: more arguments of ``run_job`` (``match_window``,
            ``foreground``)

    Returns:
        one dict per job, in the jobs' order
    """
    common = {
        "jobs_dir": str(jobs_dir),
        "repository": str(model.repository),
        "model_name": model.name,
        "server_model_name": server_model_name or model.name,
        "model_version": model.version,
        "inference_sampling_rate": event_attrs["inference_sampling_rate"],
        "integration_length": event_attrs["integration_length"],
        "cluster_window_length": event_attrs["cluster_window_length"],
        "time_offset": event_attrs["time_offset"],
        "waveforms": waveforms,
        **options,
        "backend": backend,
        "server_url": server_url,
        "intra_op_threads": intra_op_threads,
        "event_attrs": event_attrs,
    }
    return [{**job.arguments(), **common} for job in jobs]


def _event_set(
    stats: np.ndarray,
    times: np.ndarray,
    livetime: float,
    shift: Sequence[float],
    ifos: Sequence[str],
    time_offset: float,
    attrs: dict[str, Any],
) -> EventSet:
    return EventSet(
        {
            "detection_statistic": stats,
            "detection_time": times - time_offset,
            "shift": np.tile(np.asarray(shift, dtype=float), (len(stats), 1)),
        },
        attrs={"Tb": livetime, "ifos": list(ifos), **attrs},
    )


def run_job(
    key: str,
    path: str,
    t0: float,
    duration: float,
    shift: list[float],
    jobs_dir: str,
    repository: str,
    model_name: str,
    model_version: int,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
    time_offset: float,
    waveforms: str | None,
    match_window: float = 1.0,
    foreground: str = "windows",
    backend: str = "local",
    server_url: str = "127.0.0.1:8001",
    server_model_name: str | None = None,
    intra_op_threads: int = 1,
    event_attrs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Analyse one segment under one shift and write its events.

    The background stream is the shifted data as read; the foreground stream
    is the same data plus this shift's injections, whitened with its own PSD
    (see ``aframe.search.stream``). Only foreground events within
    ``match_window`` of an injection can find it, so by default
    (``foreground="windows"``) the foreground is computed only on the kernels
    that decide those events (``aframe.search.postprocess.kernel_windows``):
    the same events there as the whole injected stream (``foreground="stream"``)
    gives, at a fraction of the cost when injections are sparse. A job without
    injections has foreground events identical to its background events, so
    they are copied. Zero-lag jobs (all shifts 0) run one stream, with no
    injections.

    Args:
        key: the job's key (its result directory's name)
        path: the background file
        t0: GPS start of the segment, seconds
        duration: length of the segment, seconds
        shift: seconds added to each ifo's data time
        jobs_dir: where results go (``jobs_dir/key``)
        repository: the model repository
        model_name: the model's name there
        model_version: the exported version to use
        inference_sampling_rate: kernels per second, Hz
        integration_length: boxcar length, seconds
        cluster_window_length: clustering window, seconds
        time_offset: calibrated delay of the peak centre after the merger, s
        waveforms: the injection file (None: no foreground stream and no
            ``foreground.hdf5``)
        match_window: seconds within which an event can find an injection
        foreground: ``windows`` (around injections) or ``stream`` (all of it)
        backend: ``local`` or ``triton``
        server_url: gRPC ``host:port`` for ``triton``
        server_model_name: the model's name on the server (default model_name)
        intra_op_threads: threads for onnxruntime and torch within the job
        event_attrs: extra metadata for every event file

    Returns:
        the job's summary (``key``, ``Tb``, event counts, files)
    """
    out = Path(jobs_dir) / key
    if (out / SUMMARY_FILE).is_file():
        with open(out / SUMMARY_FILE) as f:
            return json.load(f)
    started = time.perf_counter()
    job = Job(path, t0, duration, tuple(shift))
    model = read_exported_model(repository, model_name, model_version)
    config = PreprocessingConfig.load(model.preprocessing_path)
    ifos = list(config.ifos)
    preprocessor = Preprocessor(config)
    geometry = StreamGeometry.of(preprocessor, inference_sampling_rate)
    num_samples = int(math.floor((job.stop - job.start) * config.sample_rate + 1e-6))

    injections = None
    if waveforms is not None and not job.zero_lag:
        injections = read_injections(waveforms, job)
        if len(injections) == 0:
            injections = None

    isr = inference_sampling_rate
    t_first = geometry.kernel_end(job.start)
    num_kernels = geometry.num_kernels(num_samples)
    attrs = dict(event_attrs or {})
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, intra_op_threads))
    reader = ShiftedReader(path, ifos, t0, config.sample_rate, shift, job.start)
    net = make_backend(
        backend, model, intra_op_threads, server_url, server_model_name or model_name
    )
    try:
        streamed = injections if foreground == "stream" else None
        outputs = run_streams(
            reader, num_samples, job.start, preprocessor, net, isr, injections=streamed
        )
        sets = {}
        for name, y in outputs.items():
            found = find_events(
                y, t_first, isr, integration_length, cluster_window_length
            )
            sets[name] = _event_set(*found, shift, ifos, time_offset, attrs)
        if injections is not None and foreground == "windows":
            t_peak = injections.parameters["injection_time"] + time_offset
            windows = kernel_windows(
                t_peak - match_window,
                t_peak + match_window,
                t_first,
                isr,
                integration_length,
                cluster_window_length,
                num_kernels,
            )
            ys = run_windows(
                reader, job.start, preprocessor, net, isr, injections, windows
            )
            stats, times = find_window_events(
                ys,
                windows,
                num_kernels,
                t_first,
                isr,
                integration_length,
                cluster_window_length,
            )
            livetime = sets["background"].Tb
            sets["foreground"] = _event_set(
                stats, times, livetime, shift, ifos, time_offset, attrs
            )
    finally:
        net.close()
        reader.close()
        torch.set_num_threads(threads)

    summary: dict[str, Any] = {
        "key": key,
        **asdict(job),
        "zero_lag": job.zero_lag,
        "Tb": sets["background"].Tb,
        "num_injections": 0 if injections is None else len(injections),
    }
    with atomic_dir(out) as tmp:
        if job.zero_lag:
            sets["background"].write(tmp / ZERO_LAG_FILE)
        else:
            sets["background"].write(tmp / BACKGROUND_FILE)
            if waveforms is not None:
                # a job without injections finds in its foreground what its
                # background has
                foreground = sets.get("foreground", sets["background"])
                foreground.write(tmp / FOREGROUND_FILE)
        summary["num_events"] = {k: len(v) for k, v in sets.items()}
        summary["wall_seconds"] = round(time.perf_counter() - started, 3)
        with open(tmp / SUMMARY_FILE, "w") as f:
            json.dump(summary, f, indent=2)
    return summary
