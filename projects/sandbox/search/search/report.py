"""The candidates of a search, in the three forms it writes them.

- ``candidates.hdf5``: a ``CandidateSet`` (``aframe.ledger``), the record;
- ``candidates.csv``: one row per candidate, loudest first: ``gps``, ``utc``,
  ``statistic``, ``far_per_year``, ``ifar_years``, ``{ifo}_time`` (the time in
  each detector's own data; all equal at zero lag) and ``model``;
- ``candidates.json``: the same rows under ``candidates``, with the search's
  span, settings, background livetime, analysed segments and the stretches it
  skipped (``skipped``: gaps, NaNs, segments shorter than the burn-in).

Each is written atomically.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aframe.ledger import CandidateSet
from aframe.ledger.far import seconds_per
from aframe.utils.io import atomic_path

CANDIDATES_FILE = "candidates.hdf5"
CSV_FILE = "candidates.csv"
JSON_FILE = "candidates.json"


def utc(gps: float | Sequence[float]) -> list[str]:
    """ISO-8601 UTC of GPS times (leap seconds from astropy's own table).

    Args:
        gps: GPS seconds

    Returns:
        one ``YYYY-MM-DDThh:mm:ss.sss`` string per time
    """
    from astropy.time import Time

    times = np.atleast_1d(np.asarray(gps, dtype=np.float64))
    if len(times) == 0:
        return []
    with warnings.catch_warnings():
        # with downloads off astropy may warn that its leap-second table is
        # old; the bundled table holds every leap second so far
        warnings.simplefilter("ignore")
        return [str(t) for t in Time(times, format="gps").utc.isot]


def candidate_rows(candidates: CandidateSet) -> list[dict[str, Any]]:
    """The candidates as plain rows (FAR per year, IFAR in years)."""
    per_year = seconds_per("year") / seconds_per(str(candidates.attrs["far_unit"]))
    far = candidates.far * per_year
    times = candidates.parameters["ifo_time"]
    rows = []
    for k, when in enumerate(utc(candidates.detection_time)):
        rows.append(
            {
                "gps": float(candidates.detection_time[k]),
                "utc": when,
                "statistic": float(candidates.detection_statistic[k]),
                "far_per_year": float(far[k]),
                "ifar_years": float(1 / far[k]),
                "times": {
                    ifo: float(times[k, i]) for i, ifo in enumerate(candidates.ifos)
                },
                "model": str(candidates.attrs["model"]),
            }
        )
    return rows


def write_reports(
    outdir: Path,
    candidates: CandidateSet,
    summary: dict[str, Any],
) -> dict[str, Path]:
    """Write ``candidates.hdf5``, ``.csv`` and ``.json``.

    Args:
        outdir: the search's directory
        candidates: the ranked candidates
        summary: what ``candidates.json`` says besides the rows (span,
            settings, ``Tb``, ``segments``, ``skipped``)

    Returns:
        name → path
    """
    outdir = Path(outdir)
    rows = candidate_rows(candidates)
    written = {"candidates": candidates.write(outdir / CANDIDATES_FILE)}
    columns = ["gps", "utc", "statistic", "far_per_year", "ifar_years"]
    columns += [f"{ifo}_time" for ifo in candidates.ifos] + ["model"]
    with atomic_path(outdir / CSV_FILE) as tmp:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            for row in rows:
                flat = {k: v for k, v in row.items() if k != "times"}
                flat.update({f"{i}_time": t for i, t in row["times"].items()})
                writer.writerow(flat)
    written["csv"] = outdir / CSV_FILE
    with atomic_path(outdir / JSON_FILE) as tmp:
        tmp.write_text(
            json.dumps({**summary, "candidates": rows}, indent=2, allow_nan=False)
            + "\n"
        )
    written["json"] = outdir / JSON_FILE
    return written
