"""Sensitivity of a finished run: the numbers a search group compares between runs.

Reads what the run wrote, recomputing nothing: ``analysis/summary.json`` and
``analysis/sensitive-volume.hdf5`` (from ``sensitive-volume``) and the infer
step's timing. Writes ``benchmarks/results/sensitivity-{profile}.json`` with the
machine, the command and the date, and:

- the network SNR of 50% efficiency at FARs of 1/hour and 1/day with their
  bootstrap intervals (at ``interval_level``, one sigma);
- the efficiency in the fixed SNR bins [8,10), [10,12), [12,15), [15,20),
  [20,30), [30,100] at both rates with Wilson intervals, and the median
  detection statistic per bin;
- the detection statistic vs SNR in the pooled bins (median, 5% and 95%);
- sensitive distance and volume at 1/hour and 1/day, the thresholds, the
  loudest background statistic, Tb;
- the fraction of SNR ≥ 20 injections above the loudest background event;
- validation vs test recall (SNR ≥ 12, 1/hour);
- inference throughput in seconds of strain per second, and how it was
  computed (see ``inference_throughput``).

Usage:
    .venv/bin/python benchmarks/analysis/bench_sensitivity.py \\
        --basedir $BASE_DIR/default [--profile default]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from aframe.ledger import EventSet
from aframe.ledger.results import read_results

RESULTS = Path(__file__).resolve().parents[1] / "results"
RATES = {"1/hour": "1_per_hour", "1/day": "1_per_day"}


def _finite(value: Any) -> float | None:
    """JSON has no infinities or NaN: None for anything not a finite number."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def statistic_vs_snr(results_path: Path) -> dict[str, Any] | None:
    """The pooled-bin statistic vs SNR of ``sensitive-volume.hdf5``."""
    st = read_results(results_path).statistic
    if st is None:
        return None
    low, high = st.quantiles
    return {
        "quantiles": [low, 0.5, high],
        "loudest_background_statistic": _finite(st.loudest_background),
        "threshold_at_1_per_hour": _finite(st.threshold_at_1_per_hour),
        "threshold_at_1_per_day": _finite(st.threshold_at_1_per_day),
        "bins": [
            {
                "snr_low": float(st.snr_edges[b]),
                "snr_high": float(st.snr_edges[b + 1]),
                "snr_mean": _finite(st.snr_mean[b]),
                "count": int(st.counts[b]),
                # -inf (missed injections reach the quantile) becomes null
                "lower": _finite(st.lower[b]),
                "median": _finite(st.median[b]),
                "upper": _finite(st.upper[b]),
            }
            for b in range(len(st.counts))
        ],
    }


def infer_stamp(basedir: Path) -> dict[str, Any] | None:
    """The pinto stamp of the infer step (``BASE_DIR/.pinto/*.json``)."""
    for path in sorted((basedir / ".pinto").glob("*.json")):
        stamp = _read_json(path)
        if stamp and str(stamp.get("step", "")).split(":")[0] == "infer":
            return {**stamp, "path": str(path)}
    return None


def inference_throughput(basedir: Path) -> dict[str, Any]:
    """Seconds of strain analysed per second by the infer step.

    Strain analysed: the sum of every job's livetime ``Tb`` (shifted and
    zero-lag) from the jobs' summaries, else the ``Tb`` attrs of
    ``infer/background.hdf5`` and ``zero-lag.hdf5``. Per worker: that over
    the jobs' summed ``wall_seconds``. End to end: that over the infer
    step's wall time in its pinto stamp (all workers together, with model
    loading, time calibration and aggregation).
    """
    out: dict[str, Any] = {
        "strain_seconds": None,
        "strain_seconds_per_second": None,
        "strain_seconds_per_second_per_worker": None,
        "method": [],
    }
    jobs = [
        s
        for p in sorted((basedir / "infer" / "tmp" / "jobs").glob("*/summary.json"))
        if (s := _read_json(p)) is not None
    ]
    if jobs:
        strain = sum(float(j.get("Tb", 0.0)) for j in jobs)
        wall = sum(float(j.get("wall_seconds", 0.0)) for j in jobs)
        out.update(
            strain_seconds=strain,
            num_jobs=len(jobs),
            num_zero_lag_jobs=sum(bool(j.get("zero_lag")) for j in jobs),
            job_wall_seconds=wall,
        )
        out["method"].append(
            "strain_seconds: sum of the livetime Tb of every infer job "
            "(infer/tmp/jobs/*/summary.json; a shifted job also runs the "
            "foreground around its injections, not counted as strain)"
        )
        if wall > 0:
            out["strain_seconds_per_second_per_worker"] = round(strain / wall, 2)
            out["method"].append(
                "per worker: strain_seconds over the jobs' summed wall_seconds"
            )
    else:
        strain = 0.0
        for name in ("background.hdf5", "zero-lag.hdf5"):
            path = basedir / "infer" / name
            if path.exists():
                strain += float(EventSet.read_attrs(path)["Tb"])
        if strain > 0:
            out["strain_seconds"] = strain
            out["method"].append(
                "strain_seconds: Tb of infer/background.hdf5 plus zero-lag.hdf5 "
                "(no job summaries under infer/tmp/jobs)"
            )
    stamp = infer_stamp(basedir)
    if stamp and stamp.get("wall_seconds") and out["strain_seconds"]:
        wall = float(stamp["wall_seconds"])
        out["step_wall_seconds"] = wall
        out["strain_seconds_per_second"] = round(out["strain_seconds"] / wall, 2)
        out["method"].append(
            f"end to end: strain_seconds over the infer step's wall time "
            f"({stamp['path']}: all workers, model loading, time calibration and "
            "aggregation included; jobs reused from an earlier run make it high)"
        )
    if not out["method"]:
        out["method"].append(
            "not found: no infer job summaries, event files or pinto stamp"
        )
    out["method"] = "; ".join(out["method"])
    return out


def sensitivity(basedir: Path) -> dict[str, Any]:
    """The record's numbers, read from the run's analysis outputs."""
    analysis = basedir / "analysis"
    summary = _read_json(analysis / "summary.json")
    if summary is None:
        sys.exit(
            f"{analysis / 'summary.json'}: missing or not JSON "
            "(run sensitive-volume first)"
        )
    if "efficiency_bins" not in summary:
        sys.exit(
            f"{analysis / 'summary.json'}: written before efficiency_bins "
            "existed (rerun sensitive-volume)"
        )
    return {
        "Tb": summary.get("Tb"),
        "Tb_days": summary.get("Tb_days"),
        "num_background_events": summary.get("num_background_events"),
        "num_injections": summary.get("num_injections"),
        "interval_level": summary.get("interval_level"),
        "snr_50": {
            rate: {
                "snr": summary.get(f"snr_50_at_{key}"),
                "interval": summary.get(f"snr_50_interval_at_{key}"),
            }
            for rate, key in RATES.items()
        },
        "threshold": {
            rate: summary.get(f"threshold_at_{key}") for rate, key in RATES.items()
        },
        "sensitive_distance_mpc": {
            rate: summary.get(f"sensitive_distance_mpc_at_{key}")
            for rate, key in RATES.items()
        },
        "sensitive_volume_gpc3": {
            rate: {
                "value": summary.get(f"sensitive_volume_gpc3_at_{key}"),
                "error": summary.get(f"sensitive_volume_err_gpc3_at_{key}"),
            }
            for rate, key in RATES.items()
        },
        "efficiency_bins": summary["efficiency_bins"],
        "median_statistic_per_bin": [
            {k: row[k] for k in ("snr_low", "snr_high", "count", "median_statistic")}
            for row in next(iter(summary["efficiency_bins"].values()), [])
        ],
        "statistic_vs_snr": statistic_vs_snr(analysis / "sensitive-volume.hdf5"),
        "loudest_background_statistic": summary.get("loudest_background_statistic"),
        "fraction_snr_ge_20_above_loudest_background": summary.get(
            "fraction_snr_ge_20_above_loudest_background"
        ),
        "num_snr_ge_20": summary.get("num_snr_ge_20"),
        "validation_vs_test": summary.get("validation_vs_test"),
        "notes": summary.get("notes", []),
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--basedir", type=Path, required=True, help="the run: BASE_DIR/<profile>"
    )
    parser.add_argument(
        "--profile", default=None, help="the profile's name (default: the basedir's)"
    )
    parser.add_argument(
        "--results-dir", type=Path, default=RESULTS, help="where the JSON goes"
    )
    args = parser.parse_args(argv)
    basedir = args.basedir.expanduser().resolve()
    profile = args.profile or basedir.name
    record = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
        },
        "command": " ".join(
            [
                "benchmarks/analysis/bench_sensitivity.py",
                *(sys.argv[1:] if argv is None else argv),
            ]
        ),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "profile": profile,
        "basedir": str(basedir),
        **sensitivity(basedir),
        "inference_throughput": inference_throughput(basedir),
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"sensitivity-{profile}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
