"""Sensitive volume and detection efficiency from an injection campaign.

Definition. A population with source-frame parameter density ``p(θ)`` (masses,
spins, orientation, sky) that merges at a constant rate ``R`` per comoving
volume per unit source-frame time yields, in observing time ``T``,
``N_det = R·T·V`` detections, with the sensitive volume::

    V = ∫ dz  (dVc/dz)/(1+z) ∫ dθ  p(θ) P_det(θ, z)        (sky fraction Ω/4π in dVc)

The ``1/(1+z)`` is cosmological time dilation. Writing
``V0 = ∫ dz (dVc/dz)/(1+z)`` over the population's redshift range (and sky
region) and ``q(θ, z) = p(θ)·(dVc/dz)/(1+z)/V0`` (redshift uniform in
source-frame comoving volume, bilby's ``UniformSourceFrame``), the volume is
``V = V0·E_q[P_det]``.

Estimator. The campaign drew ``N`` parameter sets ``x_i`` from the injection
prior ``π``: the accepted ones were injected (found or missed), the rejected
ones fell below the hopeless SNR and are counted as missed (``P_det = 0``).
Importance sampling with ``w_i = q(x_i)/π(x_i)`` over *all* ``N`` draws gives
the self-normalised estimator::

    μ = Σ_found w_i / Σ_all w_i,      V = V0·μ

It needs the densities only up to constants, reduces to ``n_found/N`` when
``q = π``, and is the volume of ``q`` restricted to the injection prior's
support (exactly ``V`` when that support contains ``q``'s). Its Monte Carlo
variance (delta method, every draw counted, rejected ones with
``1[found] = 0``)::

    Var(μ) = Σ_all w_i² (1[found_i] - μ)² / (Σ_all w_i)²,   σ_V = V0·sqrt(Var(μ))

which for ``w = 1`` is the binomial ``μ(1 - μ)/N``.

Which densities enter ``w``: the source-frame component masses
(``mass_1_source``, ``mass_2_source``) and the redshift. The target's redshift
density is ``(dVc/dz)/(1+z)`` normalised over its range; the injection prior's
is whatever it drew from (``UniformComovingVolume`` for ``end_o3_ratesandpops``,
so its own population gets ``w ∝ 1/(1+z)``). Every other parameter is drawn
alike by both and cancels. This module takes the two log densities as
callables; ``analysis.populations`` builds them with ``aframe.priors``.

Efficiency vs network SNR is the unweighted fraction of draws found in each
SNR bin (rejected draws included as missed), with binomial errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: log density of a batch of draws: parameters (name → (N,) array) → (N,) array
LogDensity = Callable[[Mapping[str, np.ndarray]], np.ndarray]

MPC_PER_GPC = 1000.0


class SensitiveVolumeError(ValueError):
    """Injection-campaign input from which no sensitive volume follows."""


def _name(records: Any) -> str:
    return str(getattr(records, "source", None) or type(records).__name__)


# ---------------------------------------------------------------- the draws
@dataclass(frozen=True)
class Campaign:
    """Every draw of an injection campaign: accepted (found or missed) and rejected.

    Attributes:
        parameters: name → (N,) array over all draws, accepted first
        statistic: (N,) detection statistic of each draw; ``-inf`` for missed
            and rejected draws
        snr: (N,) injected network SNR
        num_accepted: how many of the draws were injected
    """

    parameters: dict[str, np.ndarray]
    statistic: np.ndarray
    snr: np.ndarray
    num_accepted: int

    def __len__(self) -> int:
        return len(self.statistic)

    def found(self, threshold: float) -> np.ndarray:
        """(N,) bool: draws recovered with statistic ≥ ``threshold``."""
        return self.statistic >= threshold


def found_statistic(foreground: Any) -> np.ndarray:
    """Detection statistic of each injection, ``-inf`` where it was missed.

    Args:
        foreground: a ``RecoveredInjectionSet``

    Returns:
        (N,) float64
    """
    params = foreground.parameters
    stat = np.asarray(params["detection_statistic"], dtype=np.float64).copy()
    missed = ~np.isfinite(stat)
    if "recovered" in params:
        missed |= ~np.asarray(params["recovered"], dtype=bool)
    stat[missed] = -np.inf
    return stat


def campaign(
    foreground: Any,
    rejected: Any,
    fields: Sequence[str] = ("mass_1_source", "mass_2_source", "redshift"),
    found: np.ndarray | None = None,
) -> Campaign:
    """Gather the accepted and rejected draws of one campaign.

    Every draw must be in exactly one of the two sets: their lengths must add
    up to ``num_injections``. A shortfall (draws counted but stored nowhere)
    would bias the volume low and is an error.

    Args:
        foreground: the ``RecoveredInjectionSet`` (accepted draws)
        rejected: the ``RejectedParameterSet`` (draws below the hopeless SNR)
        fields: the parameters to carry (those the densities need)
        found: optional (N_accepted,) bool; False marks an accepted draw as
            missed whatever its statistic (e.g. its event was vetoed)

    Returns:
        the campaign
    """
    total = int(foreground.attrs["num_injections"])
    other = int(rejected.attrs.get("num_injections", total))
    if other != total:
        raise SensitiveVolumeError(
            f"{_name(foreground)} counts num_injections = {total} but "
            f"{_name(rejected)} counts {other}: not the same campaign"
        )
    n_acc, n_rej = len(foreground), len(rejected)
    if n_acc + n_rej != total:
        raise SensitiveVolumeError(
            f"{_name(foreground)} holds {n_acc} accepted injections and "
            f"{_name(rejected)} {n_rej} rejected draws, but num_injections = "
            f"{total}: every draw must be in one of them (a missing draw biases "
            "the volume)"
        )
    parameters = {}
    for name in (*fields, "snr"):
        for records in (foreground, rejected):
            if name not in records.parameters:
                raise SensitiveVolumeError(
                    f"{_name(records)}: parameters/{name} missing "
                    "(needed for the sensitive volume)"
                )
        parameters[name] = np.concatenate(
            [
                np.asarray(foreground.parameters[name], dtype=np.float64),
                np.asarray(rejected.parameters[name], dtype=np.float64),
            ]
        )
    stat = found_statistic(foreground)
    if found is not None:
        stat[~np.asarray(found, dtype=bool)] = -np.inf
    statistic = np.concatenate([stat, np.full(n_rej, -np.inf)])
    snr = parameters.pop("snr")
    return Campaign(parameters, statistic, snr, n_acc)


def log_weights(
    parameters: Mapping[str, np.ndarray], target: LogDensity, injection: LogDensity
) -> np.ndarray:
    """Log importance weights ``log q(x) - log π(x)`` of every draw.

    Args:
        parameters: name → (N,) arrays of the draws
        target: log density of the target population
        injection: log density the draws were made from

    Returns:
        (N,) log weights; ``-inf`` where the target density vanishes
    """
    log_q = np.asarray(target(parameters), dtype=np.float64)
    log_pi = np.asarray(injection(parameters), dtype=np.float64)
    if (~np.isfinite(log_pi)).any():
        bad = int((~np.isfinite(log_pi)).sum())
        raise SensitiveVolumeError(
            f"{bad} draws have zero (or invalid) density under the injection "
            "prior they were drawn from: wrong injection prior?"
        )
    if np.isnan(log_q).any() or (log_q == np.inf).any():
        raise SensitiveVolumeError(
            "the target density is NaN or infinite on some draws"
        )
    return log_q - log_pi


# ---------------------------------------------------------------- volume
@dataclass(frozen=True)
class VolumeCurve:
    """Sensitive volume at a set of detection-statistic thresholds.

    Attributes:
        thresholds: (K,) detection statistics
        volume: (K,) sensitive volume, Gpc³
        error: (K,) one-sigma Monte Carlo uncertainty, Gpc³
        v0: the population's volume normalisation, Gpc³
        effective_samples: Kish effective number of draws
            ``(Σw)²/Σw²`` (N for equal weights)
    """

    thresholds: np.ndarray
    volume: np.ndarray
    error: np.ndarray
    v0: float
    effective_samples: float

    @property
    def distance(self) -> np.ndarray:
        """(K,) sensitive distance ``(3V/4π)^(1/3)``, Mpc."""
        return sensitive_distance(self.volume)


def sensitive_distance(volume: float | np.ndarray) -> float | np.ndarray:
    """Radius of a Euclidean sphere of the given volume.

    Args:
        volume: Gpc³

    Returns:
        ``(3V/4π)^(1/3)`` in Mpc
    """
    d = np.cbrt(3 * np.asarray(volume, dtype=np.float64) / (4 * np.pi)) * MPC_PER_GPC
    return float(d) if np.ndim(d) == 0 else d


def sensitive_volume(
    statistic: np.ndarray,
    log_weight: np.ndarray,
    v0: float,
    thresholds: float | np.ndarray,
) -> VolumeCurve:
    """Importance-weighted sensitive volume at each threshold.

    Args:
        statistic: (N,) detection statistic of every draw (accepted and
            rejected), ``-inf`` where not found
        log_weight: (N,) log importance weights of the same draws
        v0: the target's redshift-range volume ``∫(dVc/dz)/(1+z)dz``, Gpc³
        thresholds: detection statistic(s) at which a draw counts as found
            (``≥``)

    Returns:
        the volume curve (arrays even for a scalar threshold)
    """
    statistic = np.asarray(statistic, dtype=np.float64)
    log_weight = np.asarray(log_weight, dtype=np.float64)
    thresholds = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if statistic.shape != log_weight.shape:
        raise SensitiveVolumeError(
            f"{len(statistic)} statistics for {len(log_weight)} weights"
        )
    if not v0 > 0:
        raise SensitiveVolumeError(f"volume normalisation V0 = {v0} Gpc³ must be > 0")
    finite = np.isfinite(log_weight)
    if not finite.any():
        raise SensitiveVolumeError(
            "the target population has zero density on every draw: the "
            "injections do not cover it"
        )
    # only ratios of weights matter: scale the largest to 1 to avoid overflow
    w = np.where(finite, np.exp(log_weight - log_weight[finite].max()), 0.0)

    order = np.argsort(statistic)
    stat_sorted = statistic[order]
    # cumulative sums from the loudest draw down
    w_desc = w[order][::-1]
    cum_w = np.concatenate([[0.0], np.cumsum(w_desc)])
    cum_w2 = np.concatenate([[0.0], np.cumsum(w_desc**2)])
    # totals from the same running sums, so that "all found" gives μ = 1 exactly
    s_all, s2_all = cum_w[-1], cum_w2[-1]
    n_found = len(statistic) - np.searchsorted(stat_sorted, thresholds, side="left")
    # -inf marks "not found", never "found at the lowest threshold"
    n_found = np.minimum(n_found, int(np.isfinite(statistic).sum()))
    s_found, s2_found = cum_w[n_found], cum_w2[n_found]

    mu = s_found / s_all
    # Σ w²(1[found] - μ)², split so that both terms are non-negative
    var = (s2_found * (1 - mu) ** 2 + (s2_all - s2_found) * mu**2) / s_all**2
    return VolumeCurve(
        thresholds=thresholds,
        volume=v0 * mu,
        error=v0 * np.sqrt(np.maximum(var, 0.0)),
        v0=float(v0),
        effective_samples=float(s_all**2 / s2_all),
    )


# ---------------------------------------------------------------- efficiency
@dataclass(frozen=True)
class EfficiencyCurve:
    """Fraction of injections found, in bins of injected network SNR.

    Attributes:
        snr_edges: (B+1,) bin edges
        counts: (B,) draws per bin
        found: (B,) draws found per bin
        efficiency: (B,) ``found/counts`` (NaN for an empty bin)
        error: (B,) binomial one-sigma ``sqrt(p(1-p)/n)``
        threshold: the detection statistic used
    """

    snr_edges: np.ndarray
    counts: np.ndarray
    found: np.ndarray
    efficiency: np.ndarray
    error: np.ndarray
    threshold: float

    @property
    def snr_centres(self) -> np.ndarray:
        """(B,) geometric bin centres."""
        return np.sqrt(self.snr_edges[:-1] * self.snr_edges[1:])

    def at(self, snr: float) -> float | None:
        """Efficiency interpolated (linearly in log SNR) between bin centres.

        Args:
            snr: network SNR

        Returns:
            the efficiency, or None outside the populated bins
        """
        ok = self.counts > 0
        x, y = np.log(self.snr_centres[ok]), self.efficiency[ok]
        if len(x) == 0 or not x[0] <= np.log(snr) <= x[-1]:
            return None
        return float(np.interp(np.log(snr), x, y))

    def snr_at(self, level: float = 0.5) -> float | None:
        """The SNR at which the efficiency first reaches ``level``.

        Interpolated linearly in log SNR between the bin centres on either
        side of the first crossing.

        Args:
            level: efficiency in (0, 1)

        Returns:
            the SNR, or None if the curve never reaches ``level``
        """
        ok = self.counts > 0
        x, y = self.snr_centres[ok], self.efficiency[ok]
        above = np.flatnonzero(y >= level)
        if len(above) == 0:
            return None
        i = above[0]
        if i == 0:
            return None if y[0] > level else float(x[0])
        x0, x1, y0, y1 = np.log(x[i - 1]), np.log(x[i]), y[i - 1], y[i]
        return float(np.exp(x0 + (level - y0) * (x1 - x0) / (y1 - y0)))


def efficiency_vs_snr(
    snr: np.ndarray,
    statistic: np.ndarray,
    threshold: float,
    snr_edges: np.ndarray,
) -> EfficiencyCurve:
    """Binned detection efficiency against injected network SNR.

    Args:
        snr: (N,) injected network SNR of every draw
        statistic: (N,) detection statistic, ``-inf`` where not found
        threshold: detection statistic a draw must reach (``≥``)
        snr_edges: (B+1,) increasing bin edges

    Returns:
        the efficiency curve
    """
    snr = np.asarray(snr, dtype=np.float64)
    edges = np.asarray(snr_edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or (np.diff(edges) <= 0).any():
        raise SensitiveVolumeError(f"SNR bin edges must increase, got {edges}")
    found = np.asarray(statistic) >= threshold
    counts, _ = np.histogram(snr, bins=edges)
    hits, _ = np.histogram(snr[found], bins=edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = hits / counts
        err = np.sqrt(p * (1 - p) / counts)
    return EfficiencyCurve(edges, counts, hits, p, err, float(threshold))
