"""Events as a table reads them (GPS, UTC, FAR per year, IFAR in years), and p_astro.

The p_astro model is ``aframe.ledger.p_astro``'s two-component Poisson
mixture: the background density from the (vetoed) timeslides, the signal
density from the found injections' statistics scaled to ``R·V(x_ref)``, with
``V(x_ref)`` the headline population's sensitive volume at the lowest
threshold of ``sensitive-volume.hdf5`` and ``R`` the GWTC-3 BBH rate.
"""

from __future__ import annotations

import numpy as np

from aframe.ledger import CandidateSet, EventSet, RecoveredInjectionSet
from aframe.ledger.far import far, seconds_per
from aframe.ledger.p_astro import BBH_RATE_RANGE, PAstroError, PAstroModel
from aframe.ledger.results import AnalysisResults
from aframe.plots.timeaxis import gps_to_utc_iso

#: most rows an event table holds (the loudest)
MAX_ROWS = 2000


def shift_labels(shift: np.ndarray, ifos: list[str]) -> list[str]:
    """``H1 +0 s, L1 +12 s`` for each row of a (N, n_ifo) shift array."""
    return [", ".join(f"{i} {s:+g} s" for i, s in zip(ifos, row)) for row in shift]


def p_astro_model(
    results: AnalysisResults,
    background: EventSet,
    foreground: RecoveredInjectionSet,
    kept: np.ndarray,
) -> PAstroModel:
    """The p_astro model of this experiment.

    Args:
        results: ``sensitive-volume.hdf5`` (thresholds and volumes)
        background: the (vetoed) background events
        foreground: the recovered injections
        kept: (N,) False where an injection's event was vetoed

    Returns:
        the fitted model

    Raises:
        PAstroError: the results hold no volume curve, or too few events
    """
    name = str(results.attrs.get("injection_prior", ""))
    population = results.populations.get(name) or next(
        iter(results.populations.values()), None
    )
    if population is None or len(results.thresholds) == 0:
        raise PAstroError(
            "sensitive-volume.hdf5 holds no volume curve to scale the signal "
            "density with"
        )
    p = foreground.parameters
    stat = np.asarray(p["detection_statistic"], dtype=np.float64)
    found = np.asarray(p["recovered"], bool) & np.isfinite(stat) & kept
    return PAstroModel.fit(
        background.parameters["detection_statistic"],
        background.Tb,
        stat[found],
        reference_statistic=float(results.thresholds[-1]),
        reference_volume=float(population.volume[-1]),
    )


def event_columns(
    events: EventSet,
    background: EventSet,
    kind: str,
    model: PAstroModel | None = None,
    limit: int = MAX_ROWS,
) -> dict[str, list | np.ndarray]:
    """The loudest ``limit`` events as table columns.

    Args:
        events: the events (vetoed)
        background: the background that rates them (vetoed)
        kind: ``zero-lag`` or ``background`` (the inspector link's kind)
        model: p_astro model (zero-lag only)
        limit: most rows

    Returns:
        ``index``, ``kind``, ``gps``, ``utc``, ``stat``, ``far`` (per year),
        ``ifar`` (years), ``shift`` and, with a model, ``p_astro``,
        ``p_astro_low``, ``p_astro_high`` (at the ends of the rate range)
    """
    p = events.parameters
    stat = np.asarray(p["detection_statistic"], dtype=np.float64)
    order = np.argsort(stat)[::-1][:limit]
    gps = np.asarray(p["detection_time"], dtype=np.float64)[order]
    if len(order):
        rate = np.atleast_1d(far(background, stat[order], unit="year"))
    else:
        rate = np.zeros(0)
    columns = {
        # the record's index in its file: the inspector link's index
        "index": order,
        "kind": [kind] * len(order),
        "gps": gps,
        "utc": gps_to_utc_iso(gps) if len(gps) else [],
        "stat": stat[order],
        "far": rate,
        "ifar": 1.0 / rate if len(rate) else rate,
        "shift": shift_labels(np.asarray(p["shift"])[order], events.ifos),
    }
    if model is not None:
        columns["p_astro"] = model(stat[order])
        low, high = BBH_RATE_RANGE
        columns["p_astro_low"] = model(stat[order], rate=low)
        columns["p_astro_high"] = model(stat[order], rate=high)
    return columns


def search_columns(
    candidates: CandidateSet, limit: int = MAX_ROWS
) -> dict[str, list | np.ndarray]:
    """The offline search's candidates as table columns, loudest first.

    The FARs are the search's own (its zero lag against timeslides of the
    same data), converted to per year.

    Args:
        candidates: ``candidates.hdf5``
        limit: most rows

    Returns:
        the columns of ``event_columns`` with ``kind`` = ``search``
    """
    stat = np.asarray(candidates.detection_statistic, dtype=np.float64)
    order = np.argsort(-stat, kind="stable")[:limit]
    per_year = seconds_per("year") / seconds_per(str(candidates.attrs["far_unit"]))
    rate = np.asarray(candidates.far, dtype=np.float64)[order] * per_year
    gps = np.asarray(candidates.detection_time, dtype=np.float64)[order]
    shift = np.asarray(candidates.parameters["shift"], dtype=float)[order]
    return {
        "index": order,
        "kind": ["search"] * len(order),
        "gps": gps,
        "utc": gps_to_utc_iso(gps) if len(gps) else [],
        "stat": stat[order],
        "far": rate,
        "ifar": 1.0 / rate if len(rate) else rate,
        "shift": shift_labels(shift, candidates.ifos),
    }


def alert_columns(alerts: list[dict]) -> dict[str, list]:
    """The online search's candidate files as table columns, latest first.

    Args:
        alerts: ``Experiment.alerts()`` records

    Returns:
        ``kind`` (``alert``), ``file``, ``gps``, ``utc``, ``stat``, ``far``
        (per year), ``ifar`` (years), ``stage`` (``preliminary``/``final``, or
        the file's problem)
    """
    rows = sorted(alerts, key=lambda a: -float(a.get("gps", -np.inf)))
    return {
        "kind": ["alert"] * len(rows),
        "file": [a["file"] for a in rows],
        "gps": [float(a.get("gps", np.nan)) for a in rows],
        "utc": [str(a.get("utc", "")) for a in rows],
        "stat": [float(a.get("statistic", np.nan)) for a in rows],
        "far": [float(a.get("far_per_year", np.nan)) for a in rows],
        "ifar": [
            np.nan if "problem" in a else 1.0 / float(a["far_per_year"]) for a in rows
        ],
        "stage": [str(a.get("stage", a.get("problem", ""))) for a in rows],
    }
