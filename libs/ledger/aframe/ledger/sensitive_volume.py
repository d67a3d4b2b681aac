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
SNR bin (rejected draws included as missed). Its interval is the Wilson score
interval, which unlike the normal ``±sqrt(p(1-p)/n)`` does not collapse to
zero width at 0 or 1 found. Bins are pooled (``pooled_edges``) so that each
holds enough draws for the interval to mean something. The SNR at which the
efficiency reaches 50% comes with a bootstrap interval
(``snr_at_efficiency``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: log density of a batch of draws: parameters (name → (N,) array) → (N,) array
LogDensity = Callable[[Mapping[str, np.ndarray]], np.ndarray]

MPC_PER_GPC = 1000.0

#: probability that a normal variable lies within one sigma of its mean
ONE_SIGMA = 0.6827


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
def _z(level: float) -> float:
    """The normal quantile ``z`` with probability ``level`` within ``±z``."""
    if not 0 < level < 1:
        raise SensitiveVolumeError(f"interval level must be in (0, 1), got {level}")
    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson_interval(
    found: np.ndarray, counts: np.ndarray, level: float = ONE_SIGMA
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of binomial proportions.

    With ``p = k/n`` and ``z`` the normal quantile of ``level``, the interval
    is ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``: it lies in
    [0, 1], has width ``> 0`` at ``k = 0`` and ``k = n``, and covers close to
    ``level`` even for small ``n``.

    Args:
        found: (B,) successes ``k``
        counts: (B,) trials ``n``
        level: probability the interval covers the true proportion (default
            one sigma)

    Returns:
        ``(lower, upper)``, (B,) each; NaN where ``n = 0``
    """
    z = _z(level)
    k = np.asarray(found, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        scale = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / scale
        half = z / scale * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    # exact at the ends (rounding would leave e.g. 1e-19 above 0 at k = 0)
    lower = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    upper = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    empty = n == 0
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


def _check_edges(snr_edges: np.ndarray) -> np.ndarray:
    edges = np.asarray(snr_edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or (np.diff(edges) <= 0).any():
        raise SensitiveVolumeError(f"SNR bin edges must increase, got {edges}")
    return edges


def binned_snr(snr: np.ndarray, snr_edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many draws each SNR bin holds, and where they are.

    Args:
        snr: (N,) network SNRs of the draws
        snr_edges: (B+1,) increasing bin edges (the last bin includes its
            right edge, as ``np.histogram``'s)

    Returns:
        ``(counts, snr_mean)``: (B,) draws per bin and their geometric mean
        SNR (the bin's geometric centre when it is empty)
    """
    snr = np.asarray(snr, dtype=np.float64)
    edges = _check_edges(snr_edges)
    counts, _ = np.histogram(snr, bins=edges)
    inside = (snr >= edges[0]) & (snr <= edges[-1])
    log_sum, _ = np.histogram(snr[inside], bins=edges, weights=np.log(snr[inside]))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.exp(log_sum / counts)
    return counts, np.where(counts > 0, mean, np.sqrt(edges[:-1] * edges[1:]))


def pooled_edges(snr: np.ndarray, edges: np.ndarray, min_count: int) -> np.ndarray:
    """Merge adjacent SNR bins until every bin holds at least ``min_count`` draws.

    From the lowest bin up, bins are merged until the running count reaches
    ``min_count``, which closes a pooled bin. What is left at the top (fewer
    than ``min_count``) merges into the pooled bin below it. SNRs outside
    ``[edges[0], edges[-1]]`` are not counted. If all the bins together hold
    fewer than ``min_count``, the result is the one bin
    ``[edges[0], edges[-1]]``.

    Args:
        snr: (N,) network SNRs of the draws
        edges: (B+1,) increasing bin edges
        min_count: the fewest draws a pooled bin may hold

    Returns:
        the pooled edges: a subset of ``edges`` with its first and last
    """
    edges = _check_edges(edges)
    if min_count < 1:
        raise SensitiveVolumeError(f"min_count must be ≥ 1, got {min_count}")
    counts, _ = np.histogram(np.asarray(snr, dtype=np.float64), bins=edges)
    kept, running = [edges[0]], 0
    for count, right in zip(counts, edges[1:], strict=True):
        running += count
        if running >= min_count:
            kept.append(right)
            running = 0
    if kept[-1] != edges[-1]:
        # the underfull top bin joins its neighbour below
        if len(kept) > 1:
            kept.pop()
        kept.append(edges[-1])
    return np.asarray(kept)


def _crossing(centres: np.ndarray, efficiency: np.ndarray, level: float) -> float:
    """The SNR where a binned efficiency first reaches ``level``.

    Linear in log SNR between the bins' SNRs (``centres``) on either side of
    the first crossing; ``+inf`` if it never reaches ``level``, ``-inf`` if
    it is already above it in the first bin.
    """
    above = np.flatnonzero(efficiency >= level)
    if len(above) == 0:
        return np.inf
    i = above[0]
    if i == 0:
        return -np.inf if efficiency[0] > level else float(centres[0])
    x0, x1 = np.log(centres[i - 1]), np.log(centres[i])
    y0, y1 = efficiency[i - 1], efficiency[i]
    return float(np.exp(x0 + (level - y0) * (x1 - x0) / (y1 - y0)))


@dataclass(frozen=True)
class EfficiencyCurve:
    """Fraction of injections found, in bins of injected network SNR.

    Each bin's efficiency is placed at ``snr_mean``, the geometric mean SNR
    of its draws: in a wide (pooled) bin that is where the draws are, which
    the geometric centre of its edges need not be (draws ``∝ ρ⁻⁴`` crowd at
    a bin's low edge).

    Attributes:
        snr_edges: (B+1,) bin edges
        snr_mean: (B,) geometric mean network SNR of each bin's draws (the
            bin's geometric centre when it is empty)
        counts: (B,) draws per bin
        found: (B,) draws found per bin
        efficiency: (B,) ``found/counts`` (NaN for an empty bin)
        lower: (B,) lower end of the Wilson interval (NaN for an empty bin)
        upper: (B,) upper end of the Wilson interval (NaN for an empty bin)
        threshold: the detection statistic used
        level: the intervals' probability (default one sigma)
    """

    snr_edges: np.ndarray
    snr_mean: np.ndarray
    counts: np.ndarray
    found: np.ndarray
    efficiency: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    threshold: float
    level: float = ONE_SIGMA

    @property
    def snr_centres(self) -> np.ndarray:
        """(B,) geometric bin centres."""
        return np.sqrt(self.snr_edges[:-1] * self.snr_edges[1:])

    @property
    def yerr(self) -> np.ndarray:
        """(2, B) distances from the efficiency down and up to the interval's ends."""
        return np.stack([self.efficiency - self.lower, self.upper - self.efficiency])

    def at(self, snr: float) -> float | None:
        """Efficiency interpolated (linearly in log SNR) between the bins' ``snr_mean``.

        Between the outermost ``snr_mean`` and the outer edges of their
        bins the efficiency is that bin's.

        Args:
            snr: network SNR

        Returns:
            the efficiency, or None outside the populated bins
        """
        ok = self.counts > 0
        if not ok.any():
            return None
        first, last = np.flatnonzero(ok)[[0, -1]]
        if not self.snr_edges[first] <= snr <= self.snr_edges[last + 1]:
            return None
        x, y = np.log(self.snr_mean[ok]), self.efficiency[ok]
        return float(np.interp(np.log(snr), x, y))

    def snr_at(self, level: float = 0.5) -> float | None:
        """The SNR at which the efficiency first reaches ``level``.

        Interpolated linearly in log SNR between the ``snr_mean`` of the
        bins on either side of the first crossing.

        Args:
            level: efficiency in (0, 1)

        Returns:
            the SNR, or None if the curve never reaches ``level`` (or is
            already above it in its first populated bin)
        """
        ok = self.counts > 0
        snr = _crossing(self.snr_mean[ok], self.efficiency[ok], level)
        return snr if np.isfinite(snr) else None


def efficiency_vs_snr(
    snr: np.ndarray,
    statistic: np.ndarray,
    threshold: float,
    snr_edges: np.ndarray,
    level: float = ONE_SIGMA,
) -> EfficiencyCurve:
    """Binned detection efficiency against injected network SNR.

    Args:
        snr: (N,) injected network SNR of every draw
        statistic: (N,) detection statistic, ``-inf`` where not found
        threshold: detection statistic a draw must reach (``≥``)
        snr_edges: (B+1,) increasing bin edges (the last bin includes its
            right edge)
        level: probability of the Wilson intervals (default one sigma)

    Returns:
        the efficiency curve
    """
    snr = np.asarray(snr, dtype=np.float64)
    edges = _check_edges(snr_edges)
    found = np.asarray(statistic) >= threshold
    counts, mean = binned_snr(snr, edges)
    hits, _ = np.histogram(snr[found], bins=edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = hits / counts
    lower, upper = wilson_interval(hits, counts, level)
    return EfficiencyCurve(
        edges, mean, counts, hits, p, lower, upper, float(threshold), float(level)
    )


@dataclass(frozen=True)
class SnrAtEfficiency:
    """The network SNR at which the efficiency reaches a level, with an interval.

    Attributes:
        snr: on all the draws (``EfficiencyCurve.snr_at``); None when the
            curve never reaches ``efficiency`` or is above it in its first bin
        lower: lower end of the bootstrap interval; None when it lies below
            the first bin (unbounded below); the top populated bin's SNR
            when the lower percentile itself never reaches ``efficiency``
        upper: upper end; None when more than ``(1 - level)/2`` of the
            replicates never reach ``efficiency`` (unbounded above)
        level: the interval's probability
        efficiency: the efficiency reached (0.5 for SNR50)
        replicates: bootstrap replicates drawn
        unreached: replicates whose curve never reaches ``efficiency``
    """

    snr: float | None
    lower: float | None
    upper: float | None
    level: float
    efficiency: float
    replicates: int
    unreached: int

    @property
    def interval(self) -> list[float | None]:
        """``[lower, upper]``, None for an unbounded end."""
        return [self.lower, self.upper]


def snr_at_efficiency(
    snr: np.ndarray,
    statistic: np.ndarray,
    threshold: float,
    snr_edges: np.ndarray,
    efficiency: float = 0.5,
    level: float = ONE_SIGMA,
    replicates: int = 200,
    seed: int = 0,
) -> SnrAtEfficiency:
    """The SNR of a given efficiency, with a bootstrap percentile interval.

    The estimate is ``EfficiencyCurve.snr_at`` on the binned curve of all
    the draws. Each bootstrap replicate resamples the ``N`` draws with
    replacement and repeats it on the same bins, placed at the same SNRs
    (``snr_mean`` of all the draws). Only how many draws of each
    (bin, found) cell a resample holds matters, and those counts are
    multinomial with the cells' fractions as probabilities, so the
    replicates are drawn that way (exactly the same distribution, without
    materialising ``N`` indices per replicate). A replicate that never
    reaches ``efficiency`` counts as ``+inf``, one already above it in its
    first bin as ``-inf``; the interval's ends are the nearest-rank
    percentiles ``(1 ∓ level)/2`` of the replicates, None where infinite.
    So the interval is unbounded above exactly when more than
    ``(1 - level)/2`` of the replicates never reach ``efficiency``; if even
    the lower percentile never reaches it, the lower end is the SNR of the
    top populated bin (the SNR lies above every bin).

    Args:
        snr: (N,) injected network SNR of every draw
        statistic: (N,) detection statistic, ``-inf`` where not found
        threshold: detection statistic a draw must reach (``≥``)
        snr_edges: (B+1,) increasing bin edges (pooled ones: ``pooled_edges``)
        efficiency: the efficiency whose SNR is wanted, in (0, 1)
        level: probability of the interval (default one sigma)
        replicates: bootstrap replicates
        seed: seeds the ``numpy`` Generator of the resampling

    Returns:
        the estimate and its interval
    """
    _z(level)  # checks the level
    if not 0 < efficiency < 1:
        raise SensitiveVolumeError(f"efficiency must be in (0, 1), got {efficiency}")
    if replicates < 1:
        raise SensitiveVolumeError(f"replicates must be ≥ 1, got {replicates}")
    snr = np.asarray(snr, dtype=np.float64)
    curve = efficiency_vs_snr(snr, statistic, threshold, snr_edges, level)
    # the bins stay where all the draws put them: only the efficiencies vary
    edges, centres = curve.snr_edges, curve.snr_mean
    num_bins = len(edges) - 1
    # cells 2b (missed) and 2b + 1 (found) of bin b, and one for the draws
    # outside the bins (np.histogram's rule: the last bin includes its edge)
    bins = np.searchsorted(edges, snr, side="right") - 1
    bins[snr == edges[-1]] = num_bins - 1
    outside = (bins < 0) | (bins >= num_bins) | np.isnan(snr)
    found = np.asarray(statistic) >= threshold
    cells = np.where(outside, 2 * num_bins, 2 * bins + found)
    fractions = np.bincount(cells, minlength=2 * num_bins + 1) / len(snr)
    rng = np.random.default_rng(seed)
    resampled = rng.multinomial(len(snr), fractions, size=replicates)
    hits = resampled[:, 1 : 2 * num_bins : 2]
    counts = resampled[:, 0 : 2 * num_bins : 2] + hits
    values = np.empty(replicates)
    with np.errstate(invalid="ignore", divide="ignore"):
        for r in range(replicates):
            ok = counts[r] > 0
            values[r] = _crossing(centres[ok], hits[r][ok] / counts[r][ok], efficiency)
    unreached = int(np.isposinf(values).sum())
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail], method="inverted_cdf")
    if unreached > tail * replicates:
        high = np.inf
    if np.isposinf(low):
        # most replicates never reach it: it lies above every populated bin
        low = centres[curve.counts > 0][-1] if (curve.counts > 0).any() else np.inf
    return SnrAtEfficiency(
        snr=curve.snr_at(efficiency),
        lower=float(low) if np.isfinite(low) else None,
        upper=float(high) if np.isfinite(high) else None,
        level=float(level),
        efficiency=float(efficiency),
        replicates=int(replicates),
        unreached=unreached,
    )


def euclidean_weights(snr: np.ndarray, low: float, high: float) -> np.ndarray:
    """Weights that turn SNRs drawn uniformly on [low, high] into ``p(ρ) ∝ ρ⁻⁴``.

    Sources uniform in Euclidean volume have ``p(ρ) ∝ ρ⁻⁴`` at fixed
    intrinsic parameters, which is what the loud end of any astrophysical
    injection set follows; training's validation draws SNRs uniformly and
    reweights with these to estimate the recall the test injections see.

    Args:
        snr: (n,) SNRs drawn uniformly on [low, high]
        low: the draw's lower bound
        high: the draw's upper bound

    Returns:
        (n,) weights ``ρ⁻⁴ / p_uniform(ρ)`` (unnormalised)
    """
    if not 0 < low < high:
        raise SensitiveVolumeError(
            f"SNR range must satisfy 0 < low < high, got {(low, high)}"
        )
    return np.asarray(snr, dtype=np.float64) ** -4.0 * (high - low)


# ---------------------------------------------------------------- binned views
def chirp_mass(mass_1: np.ndarray, mass_2: np.ndarray) -> np.ndarray:
    """Chirp mass ``(m1 m2)^(3/5) / (m1 + m2)^(1/5)`` in the masses' frame and unit.

    Args:
        mass_1: (N,) primary masses, M☉
        mass_2: (N,) secondary masses, M☉

    Returns:
        (N,) chirp masses, M☉
    """
    m1 = np.asarray(mass_1, dtype=np.float64)
    m2 = np.asarray(mass_2, dtype=np.float64)
    return (m1 * m2) ** 0.6 / (m1 + m2) ** 0.2


def efficiency_in_bins(
    values: np.ndarray,
    statistic: np.ndarray,
    threshold: float,
    edges: np.ndarray,
    level: float = ONE_SIGMA,
) -> EfficiencyCurve:
    """Found fraction of the draws in bins of any positive parameter.

    ``efficiency_vs_snr`` binned on another parameter (chirp mass, distance):
    unweighted counts, Wilson intervals; the curve's ``snr_edges`` and
    ``snr_mean`` hold that parameter's edges and each bin's geometric mean.

    Args:
        values: (N,) the parameter of every draw (accepted and rejected), > 0
        statistic: (N,) detection statistic, ``-inf`` where not found
        threshold: detection statistic a draw must reach (``≥``)
        edges: (B+1,) increasing bin edges
        level: probability of the Wilson intervals

    Returns:
        the binned found fraction
    """
    return efficiency_vs_snr(values, statistic, threshold, edges, level)


def binned_volume(
    statistic: np.ndarray,
    log_weight: np.ndarray,
    v0: float,
    threshold: float,
    values: np.ndarray,
    edges: np.ndarray,
) -> VolumeCurve:
    """Sensitive volume of a population restricted to each bin of a parameter.

    The population ``q`` restricted to bin ``b`` is ``q·1_b / P_q(b)``: the
    importance weights times the bin's indicator, so each bin's volume is
    ``V0·Σ_found w 1_b / Σ_all w 1_b`` with the error of ``sensitive_volume``
    (the volume a search has for sources of that bin only, e.g. a chirp-mass
    range, distributed otherwise like ``q``).

    Args:
        statistic: (N,) detection statistic of every draw, ``-inf`` if missed
        log_weight: (N,) log importance weights against the population
        v0: the population's volume normalisation, Gpc³
        threshold: detection statistic a draw must reach (``≥``)
        values: (N,) the binned parameter of every draw
        edges: (B+1,) increasing bin edges (the last bin includes its edge)

    Returns:
        a curve over the bins: ``volume[b]``, ``error[b]`` (NaN where no draw
        of the bin has weight), ``thresholds`` the threshold repeated,
        ``effective_samples`` over all the draws
    """
    values = np.asarray(values, dtype=np.float64)
    edges = _check_edges(edges)
    log_weight = np.asarray(log_weight, dtype=np.float64)
    bins = np.searchsorted(edges, values, side="right") - 1
    bins[values == edges[-1]] = len(edges) - 2
    volume, error = np.full(len(edges) - 1, np.nan), np.full(len(edges) - 1, np.nan)
    for b in range(len(edges) - 1):
        inside = bins == b
        logw = np.where(inside, log_weight, -np.inf)
        if not np.isfinite(logw).any():
            continue
        curve = sensitive_volume(statistic, logw, v0, threshold)
        volume[b], error[b] = curve.volume[0], curve.error[0]
    every = sensitive_volume(statistic, log_weight, v0, threshold)
    return VolumeCurve(
        thresholds=np.full(len(volume), float(threshold)),
        volume=volume,
        error=error,
        v0=float(v0),
        effective_samples=every.effective_samples,
    )
