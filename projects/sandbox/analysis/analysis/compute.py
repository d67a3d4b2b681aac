"""From validated inputs to the analysis results and the run summary.

Sensitive volume against false-alarm rate for each population, efficiency
against network SNR at chosen rates (Wilson intervals, bins pooled to hold
enough injections), the detection statistic against network SNR, and the
headline numbers of ``summary.json`` (schema in ``docs/artifacts.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from aframe.ledger import far as farlib
from aframe.ledger.results import (
    AnalysisResults,
    EfficiencyResult,
    PopulationResult,
    StatisticVsSnr,
    far_label,
)
from aframe.ledger.sensitive_volume import (
    ONE_SIGMA,
    Campaign,
    LogDensity,
    binned_snr,
    campaign,
    efficiency_vs_snr,
    euclidean_weights,
    log_weights,
    pooled_edges,
    sensitive_distance,
    sensitive_volume,
    snr_at_efficiency,
)
from analysis.inputs import AnalysisInputs

logger = logging.getLogger(__name__)

DAY = farlib.seconds_per("day")
YEAR = farlib.seconds_per("year")

#: network-SNR edges the efficiency bins are pooled from
EFFICIENCY_EDGES = (
    *(4, 5, 6, 7, 8, 9, 10, 11, 12, 13.5, 15, 17.5),
    *(20, 25, 30, 40, 50, 100),
)
#: the fewest injections a pooled efficiency bin holds
MIN_PER_BIN = 25
#: the summary's fixed efficiency bins, the same in every run so runs compare
BENCHMARK_EDGES = (8, 10, 12, 15, 20, 30, 100)
#: the rates of the summary's per-rate figures: time unit of "1 per unit"
SUMMARY_UNITS = ("hour", "day")
#: quantiles of the statistic-vs-SNR band and line (low, median, high)
STATISTIC_QUANTILES = (0.05, 0.5, 0.95)
#: network SNR from which an injection is loud enough that it must beat the
#: loudest background event
LOUD_SNR = 20.0
#: network SNR from which validation and test recall are compared
RECALL_SNR = 12.0


@dataclass(frozen=True)
class Population:
    """A target population for the sensitive volume.

    Attributes:
        name: its name (a prior's name)
        log_prob: log density of a draw under the population, over the
            parameters ``mass_1_source``, ``mass_2_source``, ``redshift``
        v0: ``∫(dVc/dz)/(1+z)dz`` over its redshift range and sky, Gpc³
        description: plain words
    """

    name: str
    log_prob: LogDensity
    v0: float
    description: str = ""


def statistic_quantiles(
    snr: np.ndarray,
    statistic: np.ndarray,
    snr_edges: np.ndarray,
    quantiles: Sequence[float] = STATISTIC_QUANTILES,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of the detection statistic in bins of network SNR.

    Missed draws hold ``-inf`` and take part: a quantile that falls among
    them (or between a missed and a found draw, linear interpolation's limit)
    is ``-inf``.

    Args:
        snr: (N,) injected network SNR of every draw
        statistic: (N,) detection statistic, ``-inf`` where missed
        snr_edges: (B+1,) increasing edges (the last bin includes its edge)
        quantiles: (Q,) probabilities in [0, 1]

    Returns:
        ``(counts, values)``: (B,) draws per bin and (B, Q) quantiles, NaN
        for an empty bin
    """
    snr = np.asarray(snr, dtype=np.float64)
    statistic = np.asarray(statistic, dtype=np.float64)
    edges = np.asarray(snr_edges, dtype=np.float64)
    q = np.asarray(quantiles, dtype=np.float64)
    counts, _ = binned_snr(snr, edges)
    values = np.full((len(counts), len(q)), np.nan)
    bins = np.searchsorted(edges, snr, side="right") - 1
    bins[snr == edges[-1]] = len(counts) - 1
    for b in np.flatnonzero(counts):
        s = np.sort(statistic[bins == b])
        h = (len(s) - 1) * q
        lo, hi = np.floor(h).astype(int), np.ceil(h).astype(int)
        with np.errstate(invalid="ignore"):
            lerp = np.where(lo == hi, s[lo], s[lo] + (h - lo) * (s[hi] - s[lo]))
        # -inf + t·(x - -inf) is NaN in floating point; its limit is -inf
        values[b] = np.where(np.isneginf(s[lo]), -np.inf, lerp)
    return counts, values


def analyse(
    inputs: AnalysisInputs,
    injection_log_prob: LogDensity,
    populations: Sequence[Population],
    injection_prior: str,
    max_far: float,
    efficiency_fars: Sequence[float],
    snr_edges: np.ndarray | None = None,
    efficiency_snrs: Sequence[float] = (8.0, 12.0, 20.0),
) -> tuple[AnalysisResults, dict[str, Any]]:
    """Sensitive volumes, efficiencies, the statistic vs SNR and the summary.

    Args:
        inputs: the validated inputs
        injection_log_prob: log density the injections were drawn from
        populations: the targets; the first is the headline population of
            the summary
        injection_prior: name of the injection prior
        max_far: largest false-alarm rate of the volume curves, per day
        efficiency_fars: false-alarm rates of the efficiency curves, per day
        snr_edges: network-SNR bin edges of the efficiency curves and the
            statistic vs SNR (default: ``EFFICIENCY_EDGES`` pooled to at
            least ``MIN_PER_BIN`` draws a bin)
        efficiency_snrs: network SNRs whose efficiency at 1 per day the
            summary reports

    Returns:
        the results and the summary dictionary
    """
    background = inputs.background
    tb = background.Tb
    notes = list(inputs.notes)
    draws = campaign(inputs.foreground, inputs.rejected, found=inputs.found)
    if snr_edges is None:
        snr_edges = pooled_edges(draws.snr, np.asarray(EFFICIENCY_EDGES), MIN_PER_BIN)
    thresholds, fars = farlib.far_grid(background, max_far, unit="day")
    if len(thresholds) == 0:
        notes.append(
            f"no volume curve: the background ({tb / DAY:.3g} days) resolves no "
            f"false-alarm rate up to {max_far:g} per day"
        )

    results: dict[str, PopulationResult] = {}
    for pop in populations:
        logw = log_weights(draws.parameters, pop.log_prob, injection_log_prob)
        curve = sensitive_volume(draws.statistic, logw, pop.v0, thresholds)
        logger.info(
            "%s: V0 = %.3g Gpc³, %.0f effective draws of %d",
            pop.name,
            pop.v0,
            curve.effective_samples,
            len(draws),
        )
        results[pop.name] = PopulationResult(
            name=pop.name,
            volume=curve.volume,
            error=curve.error,
            v0=pop.v0,
            effective_samples=curve.effective_samples,
            description=pop.description,
        )

    efficiencies = []
    for rate in efficiency_fars:
        threshold = farlib.threshold_at_far(background, rate, unit="day")
        if not np.isfinite(threshold):
            notes.append(
                f"no efficiency curve at {far_label(rate)}: below the 1/Tb = "
                f"{DAY / tb:.3g} per day the background resolves"
            )
            continue
        curve = efficiency_vs_snr(draws.snr, draws.statistic, threshold, snr_edges)
        efficiencies.append(EfficiencyResult(far_label(rate), rate, curve))

    counts, values = statistic_quantiles(draws.snr, draws.statistic, snr_edges)
    statistic = StatisticVsSnr(
        snr_edges=np.asarray(snr_edges, dtype=np.float64),
        snr_mean=binned_snr(draws.snr, snr_edges)[1],
        counts=counts,
        lower=values[:, 0],
        median=values[:, 1],
        upper=values[:, 2],
        quantiles=(STATISTIC_QUANTILES[0], STATISTIC_QUANTILES[2]),
        loudest_background=_loudest(background),
        threshold_at_1_per_hour=float(farlib.threshold_at_far(background, 1.0, "hour")),
        threshold_at_1_per_day=float(farlib.threshold_at_far(background, 1.0, "day")),
    )

    attrs = {
        "Tb": tb,
        "num_injections": len(draws),
        "num_background_events": len(background),
        "injection_prior": injection_prior,
        "ifos": background.ifos,
    }
    fars_per_year = fars * farlib.seconds_per("year") / DAY
    out = AnalysisResults(
        thresholds, fars_per_year, results, efficiencies, attrs, statistic
    )
    summary = _summary(
        inputs, draws, populations[0], injection_log_prob, snr_edges, efficiency_snrs
    )
    summary["notes"] = notes + summary["notes"]
    return out, summary


def _loudest(events: Any) -> float:
    return float(np.max(events.parameters["detection_statistic"]))


def _finite(value: float | None) -> float | None:
    """JSON has no infinities: None for anything not a finite number."""
    return float(value) if value is not None and np.isfinite(value) else None


def _summary(
    inputs: AnalysisInputs,
    draws: Campaign,
    headline: Population,
    injection_log_prob: LogDensity,
    snr_edges: np.ndarray,
    efficiency_snrs: Sequence[float],
) -> dict[str, Any]:
    notes: list[str] = []
    background = inputs.background
    tb = background.Tb
    summary: dict[str, Any] = {
        "Tb": tb,
        "Tb_days": tb / DAY,
        "Tb_years": tb / YEAR,
        "num_background_events": len(background),
        "num_injections": len(draws),
        "num_found_at_1_per_day": None,
        "threshold_at_1_per_hour": None,
        "threshold_at_1_per_day": None,
        "far_per_day_of_loudest_zero_lag": None,
        "far_per_year_of_loudest_zero_lag": None,
        "ifar_years_of_loudest_zero_lag": None,
        "num_zero_lag_events": None,
        "reference_fars_per_year": {
            f"1_per_{unit}": YEAR / farlib.seconds_per(unit) for unit in SUMMARY_UNITS
        },
        "sensitive_volume_gpc3_at_1_per_hour": None,
        "sensitive_volume_err_gpc3_at_1_per_hour": None,
        "sensitive_distance_mpc_at_1_per_hour": None,
        "sensitive_volume_gpc3_at_1_per_day": None,
        "sensitive_volume_err_gpc3_at_1_per_day": None,
        "sensitive_distance_mpc_at_1_per_day": None,
        "efficiency_at_snr": {f"{s:g}": None for s in efficiency_snrs},
        "far_for_efficiency_per_day": 1.0,
        "far_for_efficiency_per_year": YEAR / DAY,
        "interval_level": ONE_SIGMA,
        "snr_50_at_1_per_hour": None,
        "snr_50_interval_at_1_per_hour": None,
        "snr_50_at_1_per_day": None,
        "snr_50_interval_at_1_per_day": None,
        "efficiency_bins": {},
        "loudest_background_statistic": _loudest(background),
        "fraction_snr_ge_20_above_loudest_background": None,
        "num_snr_ge_20": None,
        "validation_vs_test": None,
    }
    zero_lag = inputs.zero_lag
    if zero_lag is not None:
        summary["num_zero_lag_events"] = len(zero_lag)
    if zero_lag is not None and len(zero_lag):
        loudest = _loudest(zero_lag)
        summary["far_per_day_of_loudest_zero_lag"] = farlib.far(
            background, loudest, unit="day"
        )
        per_year = farlib.far(background, loudest, unit="year")
        summary["far_per_year_of_loudest_zero_lag"] = per_year
        summary["ifar_years_of_loudest_zero_lag"] = 1 / per_year
        if farlib.nb(background, loudest) == 0:
            notes.append(
                "the loudest zero-lag event is louder than every background "
                "event: its false-alarm rate is the upper limit 1/Tb"
            )
    elif zero_lag is not None:
        notes.append("no zero-lag events")

    logw = log_weights(draws.parameters, headline.log_prob, injection_log_prob)
    benchmark = np.asarray(BENCHMARK_EDGES, dtype=np.float64)
    _, medians = statistic_quantiles(draws.snr, draws.statistic, benchmark, [0.5])
    for unit in SUMMARY_UNITS:
        suffix = f"1_per_{unit}"
        threshold = farlib.threshold_at_far(background, 1.0, unit=unit)
        resolved = bool(np.isfinite(threshold))
        # the counts and medians hold whether or not the rate is resolved
        bins = efficiency_vs_snr(draws.snr, draws.statistic, threshold, benchmark)
        summary["efficiency_bins"][f"1/{unit}"] = [
            {
                "snr_low": float(benchmark[b]),
                "snr_high": float(benchmark[b + 1]),
                "count": int(bins.counts[b]),
                "found": int(bins.found[b]) if resolved else None,
                "efficiency": _finite(bins.efficiency[b]) if resolved else None,
                "lower": _finite(bins.lower[b]) if resolved else None,
                "upper": _finite(bins.upper[b]) if resolved else None,
                "median_statistic": _finite(medians[b, 0]),
            }
            for b in range(len(benchmark) - 1)
        ]
        if not resolved:
            notes.append(
                f"1 per {unit} is not resolved: the background livetime is "
                f"{tb / farlib.seconds_per(unit):.3g} {unit}s (< 1 {unit}), so "
                f"every 1-per-{unit} value is null"
            )
            continue
        summary[f"threshold_at_{suffix}"] = float(threshold)
        curve = sensitive_volume(draws.statistic, logw, headline.v0, threshold)
        volume, error = float(curve.volume[0]), float(curve.error[0])
        summary[f"sensitive_volume_gpc3_at_{suffix}"] = volume
        summary[f"sensitive_volume_err_gpc3_at_{suffix}"] = error
        summary[f"sensitive_distance_mpc_at_{suffix}"] = sensitive_distance(volume)
        snr50 = snr_at_efficiency(draws.snr, draws.statistic, threshold, snr_edges)
        summary[f"snr_50_at_{suffix}"] = snr50.snr
        summary[f"snr_50_interval_at_{suffix}"] = snr50.interval
        if snr50.snr is None:
            notes.append(f"the efficiency never reaches 50% at 1 per {unit}")
        if unit == "day":
            summary["num_found_at_1_per_day"] = int(draws.found(threshold).sum())
            eff = efficiency_vs_snr(draws.snr, draws.statistic, threshold, snr_edges)
            for snr in efficiency_snrs:
                value = eff.at(snr)
                summary["efficiency_at_snr"][f"{snr:g}"] = value
                if value is None:
                    notes.append(f"no injections near network SNR {snr:g}")

    loud = draws.snr >= LOUD_SNR
    summary["num_snr_ge_20"] = int(loud.sum())
    if loud.any():
        above = draws.statistic[loud] > summary["loudest_background_statistic"]
        summary["fraction_snr_ge_20_above_loudest_background"] = float(above.mean())
    else:
        notes.append(f"no injections with network SNR ≥ {LOUD_SNR:g}")
    summary["validation_vs_test"] = {
        f"recall_snr_ge_{RECALL_SNR:g}_at_1_per_hour": _recall(inputs, draws, notes)
    }
    summary["notes"] = notes
    return summary


def _recall(
    inputs: AnalysisInputs, draws: Campaign, notes: list[str]
) -> dict[str, float | int | None]:
    """Recall of loud signals at 1 per hour, on validation and on test data.

    Test: the fraction of test injections with network SNR ≥ ``RECALL_SNR``
    whose statistic reaches the test background's 1-per-hour threshold.
    Validation: the same for the validation signals against the validation
    background, each weighted by ``snr⁻⁴`` (the uniform SNR draw reweighted
    to a population ``∝ ρ⁻⁴``, which the loud test injections follow).
    """
    out: dict[str, float | int | None] = {
        "validation": None,
        "test": None,
        "validation_count": None,
        "test_count": None,
    }
    loud = draws.snr >= RECALL_SNR
    out["test_count"] = int(loud.sum())
    threshold = farlib.threshold_at_far(inputs.background, 1.0, unit="hour")
    if loud.any() and np.isfinite(threshold):
        out["test"] = float((draws.statistic[loud] >= threshold).mean())

    events, signals = inputs.validation_background, inputs.validation_signals
    if events is None or signals is None:
        return out
    snr = np.asarray(signals.snr, dtype=np.float64)
    statistic = np.asarray(signals.detection_statistic, dtype=np.float64)
    loud = snr >= RECALL_SNR
    out["validation_count"] = int(loud.sum())
    threshold = farlib.threshold_at_far(events, 1.0, unit="hour")
    if not np.isfinite(threshold):
        notes.append(
            f"no validation recall: the validation background (Tb = "
            f"{events.Tb:.0f} s) does not resolve 1 per hour"
        )
    elif not loud.any():
        notes.append(f"no validation signals with network SNR ≥ {RECALL_SNR:g}")
    else:
        found = statistic[loud] >= threshold
        low, high = signals.attrs["snr_range"]
        weights = euclidean_weights(snr[loud], low, high)
        out["validation"] = float(np.average(found, weights=weights))
    return out
