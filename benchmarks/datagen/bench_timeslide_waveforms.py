"""Throughput of generate-timeslide-waveforms (test injections).

Simulates two 1024 s test segments (aLIGO O4 design noise), then generates the
injections of enough 1 s timeslides for Tb = 20 000 s: binaries drawn per
second (every draw is a waveform, a projection and an SNR) and accepted
injections per second, in-process and on a local 2-CPU Ray cluster (its start
timed separately). The machine is shared: its load average is recorded.
Writes benchmarks/results/datagen-timeslide-waveforms.json.

Usage: nice -n 10 .venv/bin/python benchmarks/datagen/bench_timeslide_waveforms.py
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

from aframe.deploy import init_ray, shutdown_ray
from aframe.ledger.injections import InjectionSet
from aframe.utils.background import background_filename, write_background
from aframe.utils.logging import configure_logging
from datagen.psd import load_psd
from datagen.simulate import noise_rng, simulate_noise
from datagen.timeslide_waveforms import generate_timeslide_waveforms

RESULTS = (
    Path(__file__).resolve().parents[1] / "results" / "datagen-timeslide-waveforms.json"
)
T0 = 1_240_579_783
FS = 2048.0
SETTINGS = dict(
    Tb=20000.0,
    ifos=["H1", "L1"],
    sample_rate=FS,
    waveform_duration=8.0,
    psd_length=8.0,
    kernel_length=1.5,
    fduration=1.0,
    highpass=32.0,
    snr_threshold=4.0,
    spacing=40.0,
    buffer=16.0,
    jitter=1.0,
    seed=1,
)


def write_background_files(datadir: Path) -> None:
    directory = datadir / "test" / "background"
    directory.mkdir(parents=True)
    curve = load_psd("aLIGO_O4_high_asd.txt")
    for t0 in (T0, T0 + 2000):
        strain = {
            ifo: simulate_noise(curve, int(1024 * FS), FS, noise_rng(0, ifo, t0))
            for ifo in ("H1", "L1")
        }
        path = directory / background_filename(t0, 1024)
        write_background(path, strain, t0, FS, {"source": "simulated"})


def bench(workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        datadir = Path(tmp)
        write_background_files(datadir)
        start = time.perf_counter()
        path, _ = generate_timeslide_waveforms(datadir, num_workers=workers, **SETTINGS)
        elapsed = time.perf_counter() - start
        attrs = InjectionSet.read_attrs(path)
        accepted = len(InjectionSet.read(path, waveforms=False))
    draws = attrs["num_injections"]
    return {
        "workers": workers,
        "backend": "in-process" if workers == 1 else "ray",
        "num_shifts": attrs["num_shifts"],
        "draws": draws,
        "accepted": accepted,
        "seconds": round(elapsed, 3),
        "draws_per_second": round(draws / elapsed, 1),
        "injections_per_second": round(accepted / elapsed, 2),
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
        "command": " ".join(
            ["benchmarks/datagen/bench_timeslide_waveforms.py", *sys.argv[1:]]
        ),
        "settings": {k: v for k, v in SETTINGS.items() if k != "ifos"},
    }
    runs = [bench(1)]
    start = time.perf_counter()
    init_ray(num_cpus=2)
    results["ray_start_seconds"] = round(time.perf_counter() - start, 2)
    # this includes each Ray worker's first import of bilby and astropy
    runs.append(bench(2))
    shutdown_ray()
    results["runs"] = runs
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
