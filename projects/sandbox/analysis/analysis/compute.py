"""From validated inputs to the analysis results and the run summary.

Sensitive volume against false-alarm rate for each population, efficiency
against network SNR at chosen rates, and the headline numbers of
``summary.json`` (schema in ``docs/artifacts.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from aframe.ledger import far as farlib
from aframe.ledger.sensitive_volume import (
    Campaign,
    LogDensity,
    campaign,
    efficiency_vs_snr,
    log_weights,
    sensitive_distance,
    sensitive_volume,
)
from analysis.inputs import AnalysisInputs
from analysis.results import (
    AnalysisResults,
    EfficiencyResult,
    PopulationResult,
    far_label,
)

logger = logging.getLogger(__name__)

DAY = farlib.seconds_per("day")


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
    """Sensitive volumes, efficiencies and the summary.

    Args:
        inputs: the validated inputs
        injection_log_prob: log density the injections were drawn from
        populations: the targets; the first is the headline population of
            the summary
        injection_prior: name of the injection prior
        max_far: largest false-alarm rate of the volume curves, per day
        efficiency_fars: false-alarm rates of the efficiency curves, per day
        snr_edges: network-SNR bin edges of the efficiency curves (default:
            log-spaced from 2 to 100, about 50 draws a bin, 4 to 40 bins)
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
        snr_edges = _efficiency_edges(draws.snr)
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

    attrs = {
        "Tb": tb,
        "num_injections": len(draws),
        "num_background_events": len(background),
        "injection_prior": injection_prior,
        "ifos": background.ifos,
    }
    fars_per_year = fars * farlib.seconds_per("year") / DAY
    out = AnalysisResults(thresholds, fars_per_year, results, efficiencies, attrs)
    summary = _summary(
        inputs, draws, populations[0], injection_log_prob, snr_edges, efficiency_snrs
    )
    summary["notes"] = notes + summary["notes"]
    return out, summary


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
        "num_background_events": len(background),
        "num_injections": len(draws),
        "num_found_at_1_per_day": None,
        "threshold_at_1_per_day": None,
        "far_per_day_of_loudest_zero_lag": None,
        "sensitive_volume_gpc3_at_1_per_day": None,
        "sensitive_volume_err_gpc3_at_1_per_day": None,
        "sensitive_distance_mpc_at_1_per_day": None,
        "efficiency_at_snr": {f"{s:g}": None for s in efficiency_snrs},
        "far_for_efficiency_per_day": 1.0,
        "snr_50_at_1_per_day": None,
    }
    zero_lag = inputs.zero_lag
    if zero_lag is not None and len(zero_lag):
        loudest = float(np.max(zero_lag.parameters["detection_statistic"]))
        summary["far_per_day_of_loudest_zero_lag"] = farlib.far(
            background, loudest, unit="day"
        )
        if farlib.nb(background, loudest) == 0:
            notes.append(
                "the loudest zero-lag event is louder than every background "
                "event: its false-alarm rate is the upper limit 1/Tb"
            )
    elif zero_lag is not None:
        notes.append("no zero-lag events")

    threshold = farlib.threshold_at_far(background, 1.0, unit="day")
    if not np.isfinite(threshold):
        notes.append(
            f"1 per day is not resolved: the background livetime is "
            f"{tb / DAY:.3g} days (< 1 day), so every 1-per-day value is null"
        )
    else:
        found = draws.found(threshold)
        summary["threshold_at_1_per_day"] = float(threshold)
        summary["num_found_at_1_per_day"] = int(found.sum())
        logw = log_weights(draws.parameters, headline.log_prob, injection_log_prob)
        curve = sensitive_volume(draws.statistic, logw, headline.v0, threshold)
        volume, error = float(curve.volume[0]), float(curve.error[0])
        summary["sensitive_volume_gpc3_at_1_per_day"] = volume
        summary["sensitive_volume_err_gpc3_at_1_per_day"] = error
        summary["sensitive_distance_mpc_at_1_per_day"] = sensitive_distance(volume)
        eff = efficiency_vs_snr(draws.snr, draws.statistic, threshold, snr_edges)
        for snr in efficiency_snrs:
            value = eff.at(snr)
            summary["efficiency_at_snr"][f"{snr:g}"] = value
            if value is None:
                notes.append(f"no injections near network SNR {snr:g}")
        summary["snr_50_at_1_per_day"] = eff.snr_at(0.5)
        if summary["snr_50_at_1_per_day"] is None:
            notes.append("the efficiency never reaches 50% at 1 per day")
    summary["notes"] = notes
    return summary


def _efficiency_edges(snr: np.ndarray, per_bin: int = 50) -> np.ndarray:
    """Log-spaced SNR bins holding about ``per_bin`` draws each, 2 to 100."""
    lo, hi = 2.0, 100.0
    inside = int(((snr >= lo) & (snr < hi)).sum())
    bins = int(np.clip(inside // per_bin, 4, 40))
    return np.geomspace(lo, hi, bins + 1)
