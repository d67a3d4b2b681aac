"""Latency of the online search and throughput of the offline one, on the CPU.

With the sandbox's preprocessing and search settings (2048 Hz, 1.5 s
kernels, 1 s fduration, 8 s PSDs, 2 Hz, 1 s integration, 8 s clusters) and
the default small ResNet (``build_model("resnet", 2)``, untrained: timing
only), exported with ``aframe.search.testing.write_onnx_model``:

1. **Per-frame processing**: a writer thread emits 1-s HDF5 frames of white
   noise at real-time pace into a folder that ``search --follow`` (a
   subprocess) watches; the search's timing file gives, per frame, the time
   from the frame file's arrival (its modification time) to the end of its
   processing (read, whitening, network, integration, clustering, alerts,
   state saved). Measured with the network exported at batch 128 (what
   export-model writes for the sandbox, so each 1-s frame's 2 kernels are
   padded to 128) and at batch 2 (one exact call per frame).
2. **Alert latency**: the same, with injected chirps (network SNR 20, one
   every 16 s) and a network that detects them: the stand-in
   ``CoherentMatchedFilter`` (a 0.5 s 35+30 M☉ template) plus 0 × the
   ResNet, so each call costs what the ResNet's does. FARs come from the
   offline search's own background over 5 min of noise (Tb = 1 h; alerts
   at the loudest background event's statistic). Latency = wall time the
   candidate file was first written (preliminary) or rewritten as final,
   minus the wall time at which the merger's GPS second "happened" (the
   writer maps GPS to wall time at real-time pace: frame [t, t+1) is written
   at wall(t + 1)), in seconds.
3. **Offline throughput**: ``search`` over 1 h of noise with Tb = 10 h of
   timeslides, ResNet at batch 128: seconds of strain analysed (every job's
   span) per wall second of the jobs, on 2 Ray workers and in one process.

Writes benchmarks/results/search-latency.json.

Usage:
    nice -n 10 .venv/bin/python benchmarks/search/bench_latency.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import onnxruntime as ort
import torch

from aframe.architectures import PreprocessingConfig, build_model
from aframe.ledger import EventSet
from aframe.search import testing
from aframe.search.repository import ExportedModel
from aframe.utils.config import read_typeo
from aframe.utils.logging import configure_logging
from search.data import prepare_data
from search.main import search
from search.offline import burn_in, run_offline

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "projects" / "sandbox" / "pyproject.toml"
RESULTS = ROOT / "benchmarks" / "results"
SIGMA = testing.SIGMA
GPS0 = 1_400_000_000


def sandbox_settings() -> tuple[PreprocessingConfig, dict]:
    """The default profile's preprocessing and search settings."""
    base = read_typeo(PIPELINE, profile="default")["base"]
    config = PreprocessingConfig.from_settings(base, "base")
    settings = {
        "inference_sampling_rate": float(base["inference_sampling_rate"]),
        "integration_length": float(base["integration_length"]),
        "cluster_window_length": float(base["cluster_window_length"]),
    }
    return config, settings


class WithResNetCost(torch.nn.Module):
    """A detecting network plus zero times the ResNet: detects, costs the ResNet."""

    def __init__(self, detector: torch.nn.Module, resnet: torch.nn.Module):
        super().__init__()
        self.detector, self.resnet = detector, resnet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.detector(x) + 0.0 * self.resnet(x)


def strain_with_chirps(
    config: PreprocessingConfig, duration: int, mergers: list[float], snr: float
) -> dict[str, np.ndarray]:
    """White noise from GPS0 with chirps of network SNR ``snr`` at ``mergers``."""
    fs = config.sample_rate
    rng = np.random.default_rng(7)
    n = int(duration * fs)
    strain = {ifo: SIGMA * rng.standard_normal(n) for ifo in config.ifos}
    for k, merger in enumerate(mergers):
        responses = testing.chirp_responses(fs, phase=0.9 * k)
        norm = np.sqrt(sum(testing.white_snr(h, fs) ** 2 for h in responses.values()))
        i0 = int(round((merger - testing.COALESCENCE_TIME - GPS0) * fs))
        for ifo, h in responses.items():
            strain[ifo][i0 : i0 + len(h)] += h * snr / norm
    return strain


def write_frame(directory: Path, strain: dict, gps: int, fs: float) -> None:
    """One 1-s frame, HDF5 in the background layout, written then renamed."""
    i0 = int((gps - GPS0) * fs)
    name = f"HL-BENCH-{gps}-1.hdf5"
    tmp = directory / f".{name}.tmp"
    with h5py.File(tmp, "w") as f:
        for ifo, values in strain.items():
            dataset = f.create_dataset(ifo, data=values[i0 : i0 + int(fs)])
            dataset.attrs["x0"] = float(gps)
            dataset.attrs["dx"] = 1 / fs
    tmp.rename(directory / name)


def follow_run(
    model: ExportedModel,
    settings: dict,
    background: Path,
    strain: dict,
    seconds: int,
    workdir: Path,
    alert_far: float,
) -> tuple[list[dict], list[dict], dict[int, float]]:
    """``search --follow`` in a subprocess fed at real-time pace.

    Returns:
        the per-frame timings, the candidate files and GPS → wall time
    """
    frames, outdir = workdir / "frames", workdir / "out"
    frames.mkdir(parents=True)
    timing = workdir / "timing.jsonl"
    fs = model.sample_rate
    args = {
        "follow": frames,
        "outdir": outdir,
        "repository": model.repository,
        "background": background,
        "ifos": json.dumps(model.ifos),
        **settings,
        "alert_far": alert_far,
        "start": GPS0,
        "stop": GPS0 + seconds,
        "timing_file": timing,
        "late_timeout": 3.0,
    }
    command = [str(Path(sys.executable).with_name("search"))]
    for key, value in args.items():
        command += [f"--{key}", str(value)]
    log = open(workdir / "search.log", "w")
    process = subprocess.Popen(command, stdout=log, stderr=log)
    # the search is up once it logs that it follows; then the clock starts
    deadline = time.monotonic() + 120
    while "following" not in (workdir / "search.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((workdir / "search.log").read_text()[-3000:])
        time.sleep(0.1)
    wall0 = time.time() + 0.5
    clock = {GPS0 + k: wall0 + k for k in range(seconds + 1)}

    def writer() -> None:
        for k in range(seconds):
            time.sleep(max(0.0, clock[GPS0 + k + 1] - time.time()))
            write_frame(frames, strain, GPS0 + k, fs)

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    if process.wait(timeout=120) != 0:
        raise RuntimeError((workdir / "search.log").read_text()[-3000:])
    log.close()
    timings = [json.loads(line) for line in timing.read_text().splitlines()]
    candidates = [
        json.loads(p.read_text())
        for p in sorted((outdir / "candidates").glob("*.json"))
    ]
    return timings, candidates, clock


def percentiles(values) -> dict:
    values = np.asarray(values, dtype=float)
    return {
        "median": round(float(np.median(values)), 4),
        "p99": round(float(np.percentile(values, 99)), 4),
        "max": round(float(values.max()), 4),
        "count": int(len(values)),
    }


def no_alert_background(model: ExportedModel, settings: dict, path: Path) -> Path:
    """A background that alerts on nothing: the processing runs time frames only."""
    events = EventSet(
        {
            "detection_statistic": np.array([1e9]),
            "detection_time": np.array([0.0]),
            "shift": np.zeros((1, len(model.ifos))),
        },
        attrs={"Tb": 86400.0, "ifos": model.ifos, "model": model.key, **settings},
    )
    return events.write(path)


def processing(config, settings, resnet, tmp: Path, batch: int, seconds: int) -> dict:
    model = testing.write_onnx_model(resnet, config, tmp / f"repo-{batch}", batch)
    background = no_alert_background(model, settings, tmp / f"bg-{batch}.hdf5")
    strain = strain_with_chirps(config, seconds, [], 0.0)
    timings, _, _ = follow_run(
        model, settings, background, strain, seconds, tmp / f"run-{batch}", 1.0
    )
    # the first frames fill the PSD: no kernel yet, nothing to time
    steady = [t for t in timings if t["outputs"] > 0]
    return {
        "batch_size": batch,
        "frames": len(timings),
        "frame_arrival_to_outputs_seconds": percentiles(
            [t["processing"] for t in steady]
        ),
        "seen_after_arrival_seconds": percentiles(
            [t["processing"] - t["seen_delay"] for t in steady]
        ),
        "target_p99_seconds": 0.5,
    }


def alert_latency(config, settings, resnet, tmp: Path, signals: int) -> dict:
    fs = config.sample_rate
    detector = testing.CoherentMatchedFilter(testing.chirp_template(config), fs)
    net = WithResNetCost(detector, resnet).eval()
    model = testing.write_onnx_model(net, config, tmp / "repo-alerts", 2)

    # the offline search's own background, over 5 min of noise
    noise = tmp / "noise"
    noise.mkdir()
    quiet = strain_with_chirps(config, 300, [], 0.0)
    with h5py.File(noise / f"N-NOISE-{GPS0}-300.hdf5", "w") as f:
        for ifo, values in quiet.items():
            f.create_dataset(ifo, data=values).attrs.update(x0=float(GPS0), dx=1 / fs)
    started = time.perf_counter()
    written = search(
        repository=model.repository,
        outdir=tmp / "offline-noise",
        ifos=list(config.ifos),
        start=GPS0,
        stop=GPS0 + 300,
        data_files=[str(noise / "*.hdf5")],
        Tb=3600.0,
        num_workers=2,
        **settings,
    )
    background_seconds = time.perf_counter() - started
    background = EventSet.read(written["background"])
    offset = float(background.attrs["time_offset"])

    warmup, spacing = 24, 16
    mergers = [
        GPS0 + warmup + spacing * k + (0.13 + 0.29 * k) % 1.0 for k in range(signals)
    ]
    seconds = warmup + spacing * signals + 8
    strain = strain_with_chirps(config, seconds, mergers, 20.0)
    alert_far = 1.5 * 86400 / background.Tb  # the loudest background event
    timings, candidates, clock = follow_run(
        model, settings, written["background"], strain, seconds, tmp / "run-alerts",
        alert_far,
    )  # fmt: skip

    def wall(gps: float) -> float:
        second = int(np.floor(gps))
        return clock[second] + (gps - second)

    rows, missed = [], []
    for merger in mergers:
        near = [c for c in candidates if abs(c["gps"] - merger) < 2.0]
        if not near:
            missed.append(merger)
            continue
        c = near[0]
        rows.append(
            {
                "merger_gps": merger,
                "preliminary_latency": c["first_written_unix"] - wall(merger),
                "final_latency": c["written_unix"] - wall(merger),
                # the crossing output's kernel end (opened_gps is it minus
                # the event-time offset)
                "crossing_output_after_merger": c["opened_gps"] + offset - merger,
                "statistic": c["statistic"],
                "stage": c["stage"],
            }
        )
    steady = [t for t in timings if t["outputs"] > 0]
    isr = settings["inference_sampling_rate"]
    return {
        "network": "CoherentMatchedFilter (0.5 s 35+30 Msun template) + 0 x ResNet, "
        "batch 2",
        "signals": len(mergers),
        "found": len(rows),
        "missed_mergers": missed,
        "false_candidates": len(candidates) - len(rows),
        "network_snr": 20.0,
        "alert_far_per_day": alert_far,
        "background_Tb_seconds": background.Tb,
        "background_search_wall_seconds": round(background_seconds, 1),
        "preliminary_alert_latency_seconds": percentiles(
            [r["preliminary_latency"] for r in rows]
        ),
        "final_alert_latency_seconds": percentiles([r["final_latency"] for r in rows]),
        "frame_arrival_to_outputs_seconds": percentiles(
            [t["processing"] for t in steady]
        ),
        "crossing_kernel_end_after_merger_seconds": percentiles(
            [r["crossing_output_after_merger"] for r in rows]
        ),
        "target_median_seconds": 6.0,
        "floor": {
            "frame": "the merger's 1-s frame is complete (and written) at the end "
            "of its second: 0-1 s after the merger, 0.5 s on average",
            "whitening_fduration_half": config.fduration / 2,
            "kernel_and_integration": "an output is stamped at its kernel's end; "
            "the kernel must hold the signal up to its merger (here the template "
            "ends 0.05 s after it; a trained network's signal region ends "
            f"right_pad before the kernel's end), on a grid of 1/isr = {1 / isr} s; "
            "the integrated output must pass the threshold: the first output "
            "after the merger, or the next, for a loud signal "
            "(crossing_kernel_end_after_merger_seconds)",
            "cluster_half_window": settings["cluster_window_length"] / 2,
            "preliminary": "frame + fduration/2 + crossing kernel end + processing:"
            " the alert does not wait for the clustering, since the first event "
            "after a crossing output that is larger than the h outputs before it "
            "is at least as loud (search.follow)",
            "final": "the event is decided h = cluster_window_length/2 s of "
            "outputs after its peak: peak + cluster_window_length/2 + "
            "fduration/2 + frame + processing",
        },
        "per_signal": rows,
    }


def offline_throughput(
    config, settings, resnet, tmp: Path, workers: list[int], tb_hours: float
) -> dict:
    model = testing.write_onnx_model(resnet, config, tmp / "repo-offline", 128)
    fs = config.sample_rate
    data_dir = tmp / "hour"
    data_dir.mkdir()
    hour = strain_with_chirps(config, 3600, [], 0.0)
    with h5py.File(data_dir / f"N-HOUR-{GPS0}-3600.hdf5", "w") as f:
        for ifo, values in hour.items():
            f.create_dataset(ifo, data=values).attrs.update(x0=float(GPS0), dx=1 / fs)
    tb = 3600.0 * tb_hours
    out = {"strain_file_seconds": 3600, "Tb_seconds": tb, "batch_size": 128}
    for n in workers:
        outdir = tmp / f"offline-{n}"
        lost = burn_in(config, settings["integration_length"])
        started = time.perf_counter()
        data = prepare_data(
            outdir, config.ifos, GPS0, GPS0 + 3600, fs, lost,
            data_files=[str(data_dir / "*.hdf5")],
        )  # fmt: skip
        read = time.perf_counter() - started
        started = time.perf_counter()
        run_offline(
            model, outdir, data, (GPS0, GPS0 + 3600), tb, 1.0,
            settings["inference_sampling_rate"], settings["integration_length"],
            settings["cluster_window_length"], 1.25, "heuristic", 24.0,
            num_workers=n,
        )  # fmt: skip
        jobs = time.perf_counter() - started
        summaries = [
            json.loads(p.read_text())
            for p in (outdir / "tmp" / "jobs").glob("*/summary.json")
        ]
        strain = sum(s["duration"] - max(max(s["shift"]), 0.0) for s in summaries)
        out[f"workers_{n}"] = {
            "jobs": len(summaries),
            "strain_seconds": strain,
            "read_and_write_data_seconds": round(read, 2),
            "jobs_wall_seconds": round(jobs, 2),
            "strain_seconds_per_second": round(strain / jobs, 1),
            "job_wall_seconds_sum": round(sum(s["wall_seconds"] for s in summaries), 2),
        }
    out["target_strain_seconds_per_second"] = 500
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=90, help="frames per run")
    parser.add_argument("--signals", type=int, default=12, help="chirps to alert on")
    parser.add_argument("--skip-offline", action="store_true")
    parser.add_argument(
        "--only-offline",
        action="store_true",
        help="measure the offline throughput only, keeping the online figures "
        "of the existing results file",
    )
    parser.add_argument(
        "--offline-tb-hours",
        type=float,
        default=10.0,
        help="background of the offline run: 10 h of timeslides of 1 h of data "
        "are 12 jobs (zero lag and 11 shifts), which 2 workers share evenly",
    )
    parser.add_argument(
        "--note", default="", help="how the machine was used while it ran"
    )
    args = parser.parse_args()
    configure_logging("WARNING")
    torch.manual_seed(0)
    config, settings = sandbox_settings()
    resnet = build_model("resnet", len(config.ifos)).eval()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.only_offline:
            previous = json.loads((RESULTS / "search-latency.json").read_text())
            results = {k: previous[k] for k in ("processing", "alert_latency")}
        else:
            results = {
                "processing": [
                    processing(config, settings, resnet, tmp, batch, args.frames)
                    for batch in (128, 2)
                ],
                "alert_latency": alert_latency(
                    config, settings, resnet, tmp, args.signals
                ),
            }
        if not args.skip_offline:
            results["offline"] = offline_throughput(
                config, settings, resnet, tmp, [2, 1], args.offline_tb_hours
            )
    report = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "note": args.note,
        },
        "command": "benchmarks/search/bench_latency.py " + " ".join(sys.argv[1:]),
        "preprocessing": config.to_dict(),
        "search": settings,
        "model": "build_model('resnet', 2): the default small ResNet, untrained",
        "wall_seconds": round(time.perf_counter() - started, 1),
        **results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "search-latency.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
