"""Throughput of generate-background (simulated) and of the glitch search.

Measures hours of two-detector simulated background written per second of wall
time (noise only, and with a glitch population), and seconds of strain per
second searched by the Q-transform trigger finder, at the sandbox sample rates.
Writes benchmarks/results/datagen-background.json.

Usage: nice -n 10 .venv/bin/python benchmarks/datagen/bench_background.py
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

from aframe.utils.logging import configure_logging
from datagen.background import generate_background
from datagen.psd import load_psd
from datagen.qscan import find_triggers
from datagen.simulate import noise_rng, simulate_noise

T0 = 1_240_579_783
RESULTS = Path(__file__).resolve().parents[1] / "results" / "datagen-background.json"


def bench_background(sample_rate: int, hours: float, glitch_rate: float) -> dict:
    duration = int(hours * 3600)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = generate_background(
            datadir=Path(tmp),
            ifos=["H1", "L1"],
            sample_rate=sample_rate,
            train_start=T0,
            train_stop=T0 + duration,
            test_start=T0 + duration,
            test_stop=T0 + duration + 128,
            min_train_length=128,
            min_test_length=128,
            max_segment_length=3600,
            glitch_rate=glitch_rate,
        )
        elapsed = time.perf_counter() - start
        size = sum(p.stat().st_size for p in paths)
    simulated = (duration + 128) / 3600
    return {
        "sample_rate": sample_rate,
        "glitch_rate_per_hour": glitch_rate,
        "hours_simulated": simulated,
        "seconds": round(elapsed, 3),
        "hours_per_second": round(simulated / elapsed, 4),
        "bytes_written": size,
    }


def bench_search(sample_rate: int, duration: float) -> dict:
    psd = load_psd("aLIGO_O4_high_asd.txt")
    strain = simulate_noise(
        psd, int(duration * sample_rate), sample_rate, noise_rng(0, "H1", T0)
    )
    find_triggers(strain[: 64 * sample_rate], T0, sample_rate, 6.0, (32, 400))
    start = time.perf_counter()
    find_triggers(strain, T0, sample_rate, 6.0, (32.0, 0.45 * sample_rate))
    elapsed = time.perf_counter() - start
    return {
        "sample_rate": sample_rate,
        "seconds_of_strain": duration,
        "seconds": round(elapsed, 3),
        "strain_seconds_per_second": round(duration / elapsed, 1),
    }


def main() -> None:
    configure_logging("WARNING")
    results = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
        },
        "command": " ".join(sys.argv),
        "background": [
            bench_background(512, 1.0, 0.0),
            bench_background(2048, 1.0, 0.0),
            bench_background(2048, 1.0, 40.0),
        ],
        "glitch_search": [bench_search(512, 512.0), bench_search(2048, 512.0)],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
