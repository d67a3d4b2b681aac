"""Are two runs of the pipeline the same? Event sets, curves and summary, bit for bit.

For a change that should alter no result (a restructuring), run the same
profile before and after it into two BASE_DIRs and compare: every dataset and
attribute of infer's event sets (``background``, ``foreground``,
``zero-lag``), of ``analysis/sensitive-volume.hdf5``, and ``summary.json``.
Writes ``benchmarks/results/compare-runs.json`` with both commits and every
difference found (none: identical).

Usage:
    .venv/bin/python benchmarks/analysis/compare_runs.py \\
        --before $BEFORE/results/tiny --after $AFTER/results/tiny \\
        [--before-commit SHA --after-commit SHA]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve()
RESULTS = HERE.parents[1] / "results"
FILES = (
    "infer/background.hdf5",
    "infer/foreground.hdf5",
    "infer/zero-lag.hdf5",
    "analysis/sensitive-volume.hdf5",
)


def _contents(path: Path) -> dict[str, object]:
    """Every dataset and attribute of an HDF5 file, by path."""
    out: dict[str, object] = {}

    def visit(name: str, obj) -> None:
        if isinstance(obj, h5py.Dataset):
            out[name] = obj[()]
        for key, value in obj.attrs.items():
            out[f"{name}@{key}"] = value

    with h5py.File(path, "r") as f:
        for key, value in f.attrs.items():
            out[f"@{key}"] = value
        f.visititems(visit)
    return out


def _same(a: object, b: object) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def compare_hdf5(before: Path, after: Path) -> list[str]:
    """The datasets and attributes that differ (or exist on one side only)."""
    a, b = _contents(before), _contents(after)
    problems = [f"only before: {k}" for k in sorted(a.keys() - b.keys())]
    problems += [f"only after: {k}" for k in sorted(b.keys() - a.keys())]
    problems += [
        f"differs: {k}" for k in sorted(a.keys() & b.keys()) if not _same(a[k], b[k])
    ]
    return problems


def compare(before: Path, after: Path) -> dict[str, list[str]]:
    """File → differences, for the event sets, the curves and ``summary.json``."""
    out = {}
    for name in FILES:
        out[name] = compare_hdf5(before / name, after / name)
    a = json.loads((before / "analysis" / "summary.json").read_text())
    b = json.loads((after / "analysis" / "summary.json").read_text())
    keys = sorted(a.keys() | b.keys())
    out["analysis/summary.json"] = [
        f"differs: {k}: {a.get(k)!r} → {b.get(k)!r}"
        for k in keys
        if a.get(k) != b.get(k)
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--before-commit", default=None)
    parser.add_argument("--after-commit", default=None)
    parser.add_argument("--output", type=Path, default=RESULTS / "compare-runs.json")
    args = parser.parse_args()
    found = compare(args.before, args.after)
    for name, problems in found.items():
        print(
            f"{name}: {'identical' if not problems else f'{len(problems)} differences'}"
        )
        for line in problems[:20]:
            print(f"  {line}")
    with h5py.File(args.before / "infer" / "background.hdf5", "r") as f:
        sizes = {"background_events": int(len(f["parameters/detection_statistic"]))}
    record = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(),
        "machine": {"platform": platform.platform()},
        "before": {"basedir": str(args.before), "commit": args.before_commit},
        "after": {"basedir": str(args.after), "commit": args.after_commit},
        "sizes": sizes,
        "identical": not any(found.values()),
        "differences": found,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{'identical' if record['identical'] else 'DIFFERENT'}; wrote {args.output}")


if __name__ == "__main__":
    main()
