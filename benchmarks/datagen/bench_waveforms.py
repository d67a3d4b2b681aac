"""Throughput of generate-waveforms (training signals).

Measures IMRPhenomPv2 waveforms per second from the end_o3_ratesandpops prior:
lalsimulation alone on one core, and the whole script (draws, generation in
chunks on a process pool, HDF5 chunk files, aggregation) on 2 workers, at the
default (2048 Hz) and tiny (512 Hz) sample rates, 8 s waveforms. The machine
is shared, so its load average is recorded beside each number.
Writes benchmarks/results/datagen-waveforms.json.

Usage: nice -n 10 .venv/bin/python benchmarks/datagen/bench_waveforms.py
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from aframe.priors import get_prior, sample
from aframe.utils.logging import configure_logging
from datagen.waveform_generation import generate_polarizations
from datagen.waveforms import generate_waveforms

RESULTS = Path(__file__).resolve().parents[1] / "results" / "datagen-waveforms.json"


def bench_single_core(sample_rate: float, num: int) -> dict:
    parameters = sample(get_prior("end_o3_ratesandpops"), num, 0)
    start = time.perf_counter()
    generate_polarizations(parameters, sample_rate, 8.0, 7.5, 20.0, 50.0)
    elapsed = time.perf_counter() - start
    return {
        "sample_rate": sample_rate,
        "waveforms": num,
        "seconds": round(elapsed, 3),
        "ms_per_waveform": round(1e3 * elapsed / num, 3),
        "waveforms_per_second": round(num / elapsed, 1),
        "load_average": os.getloadavg()[0],
    }


def bench_script(sample_rate: float, num: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = generate_waveforms(
            Path(tmp),
            num_signals=num,
            sample_rate=sample_rate,
            waveform_duration=8.0,
            chunk_size=250,
            num_workers=workers,
            seed=1,
        )
        elapsed = time.perf_counter() - start
        size = path.stat().st_size
    return {
        "sample_rate": sample_rate,
        "workers": workers,
        "waveforms": num,
        "seconds": round(elapsed, 3),
        "waveforms_per_second": round(num / elapsed, 1),
        "bytes_written": size,
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    configure_logging("WARNING")
    results = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "command": " ".join(["benchmarks/datagen/bench_waveforms.py", *sys.argv[1:]]),
        "single_core_lalsimulation": [
            bench_single_core(fs, 200) for fs in (2048.0, 512.0)
        ],
        "generate_waveforms": [
            bench_script(2048.0, 3000, 2),
            bench_script(512.0, 2000, 2),
        ],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
