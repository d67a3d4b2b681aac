"""``sensitive-volume.hdf5``: the analysis results, written and read back.

Layout::

    thresholds                  (K,) detection statistics, decreasing
    fars                        (K,) false-alarm rate of each threshold, per year
    populations/{name}/sv       (K,) sensitive volume, Gpc³
    populations/{name}/err      (K,) one-sigma Monte Carlo error, Gpc³
        attrs: v0 (Gpc³), effective_samples, description
    efficiency/snr_edges        (B+1,) network-SNR bin edges (pooled)
    efficiency/snr_mean         (B,) geometric mean SNR of each bin's draws,
        where its efficiency is placed (the same draws at every rate)
    efficiency/far_{i}/efficiency, lower, upper, counts, found     (B,)
        lower, upper: the Wilson score interval at probability ``level``
        attrs: far_per_day, threshold, label, level
    statistic/snr_edges         (B+1,) network-SNR bin edges (pooled)
    statistic/snr_mean          (B,) geometric mean SNR of each bin's draws
    statistic/counts            (B,) injections per bin
    statistic/median, lower, upper   (B,) median and the ``quantiles`` of the
        injections' detection statistic per bin; missed injections count as
        -inf (so a quantile among them is -inf), NaN for an empty bin
        attrs: quantiles ([0.05, 0.95], of lower and upper),
               loudest_background_statistic, threshold_at_1_per_hour,
               threshold_at_1_per_day (+inf when the background does not
               resolve the rate)
    attrs: Tb (s), num_injections, num_background_events, injection_prior,
           ifos, far_unit ("1/year")

Readers use ``read_results``; a missing or malformed file is an
``AnalysisResultsError`` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aframe.ledger.recordset import normalize_attr
from aframe.ledger.sensitive_volume import EfficiencyCurve, sensitive_distance
from aframe.utils.io import ArtifactError, atomic_h5, open_h5


class AnalysisResultsError(ArtifactError):
    """A results file that is missing or does not follow the layout."""


@dataclass
class PopulationResult:
    """Sensitive volume of one population against the FAR grid.

    Attributes:
        name: population (prior) name
        volume: (K,) Gpc³
        error: (K,) Gpc³
        v0: volume normalisation, Gpc³
        effective_samples: Kish effective number of draws
        description: plain-words description of the population
    """

    name: str
    volume: np.ndarray
    error: np.ndarray
    v0: float
    effective_samples: float
    description: str = ""

    @property
    def distance(self) -> np.ndarray:
        """(K,) sensitive distance, Mpc."""
        return sensitive_distance(self.volume)


@dataclass
class EfficiencyResult:
    """Efficiency vs network SNR at one false-alarm rate.

    Attributes:
        label: e.g. ``1 per day``
        far_per_day: the false-alarm rate, per day
        curve: the binned efficiency
    """

    label: str
    far_per_day: float
    curve: EfficiencyCurve


@dataclass
class StatisticVsSnr:
    """The injections' detection statistic in bins of injected network SNR.

    Attributes:
        snr_edges: (B+1,) bin edges
        snr_mean: (B,) geometric mean network SNR of each bin's injections
            (where the bin is drawn)
        counts: (B,) injections per bin
        lower: (B,) ``quantiles[0]`` quantile of the statistic (-inf where
            missed injections reach it, NaN for an empty bin)
        median: (B,) median statistic (same conventions)
        upper: (B,) ``quantiles[1]`` quantile (same conventions)
        quantiles: the probabilities of ``lower`` and ``upper``
        loudest_background: the loudest background event's statistic
        threshold_at_1_per_hour: statistic of a FAR of 1 per hour (+inf when
            not resolved)
        threshold_at_1_per_day: statistic of a FAR of 1 per day (likewise)
    """

    snr_edges: np.ndarray
    snr_mean: np.ndarray
    counts: np.ndarray
    lower: np.ndarray
    median: np.ndarray
    upper: np.ndarray
    quantiles: tuple[float, float]
    loudest_background: float
    threshold_at_1_per_hour: float
    threshold_at_1_per_day: float


@dataclass
class AnalysisResults:
    """Everything ``sensitive-volume.hdf5`` holds.

    Attributes:
        thresholds: (K,) detection statistics, decreasing
        fars: (K,) false-alarm rates, per year
        populations: name → result
        efficiencies: one per false-alarm rate
        attrs: Tb, num_injections, num_background_events, injection_prior, ifos
        statistic: the detection statistic vs network SNR (None in files
            written before it existed)
    """

    thresholds: np.ndarray
    fars: np.ndarray
    populations: dict[str, PopulationResult]
    efficiencies: list[EfficiencyResult]
    attrs: dict[str, Any] = field(default_factory=dict)
    statistic: StatisticVsSnr | None = None

    def write(self, path: str | Path) -> Path:
        """Write the results atomically.

        Args:
            path: the HDF5 file

        Returns:
            the path
        """
        path = Path(path)
        with atomic_h5(path) as f:
            for key, value in self.attrs.items():
                f.attrs[key] = value
            f.attrs["far_unit"] = "1/year"
            f["thresholds"] = self.thresholds
            f["fars"] = self.fars
            group = f.create_group("populations")
            for name, pop in self.populations.items():
                g = group.create_group(name)
                g["sv"] = pop.volume
                g["err"] = pop.error
                g.attrs.update(
                    v0=pop.v0,
                    effective_samples=pop.effective_samples,
                    description=pop.description,
                )
            eff = f.create_group("efficiency")
            if self.efficiencies:
                eff["snr_edges"] = self.efficiencies[0].curve.snr_edges
                eff["snr_mean"] = self.efficiencies[0].curve.snr_mean
            for i, item in enumerate(self.efficiencies):
                g = eff.create_group(f"far_{i}")
                c = item.curve
                g["efficiency"] = c.efficiency
                g["lower"] = c.lower
                g["upper"] = c.upper
                g["counts"] = c.counts
                g["found"] = c.found
                g.attrs.update(
                    label=item.label,
                    far_per_day=item.far_per_day,
                    threshold=c.threshold,
                    level=c.level,
                )
            if self.statistic is not None:
                st = self.statistic
                g = f.create_group("statistic")
                for name in ("snr_edges", "snr_mean", "counts"):
                    g[name] = getattr(st, name)
                for name in ("lower", "median", "upper"):
                    g[name] = getattr(st, name)
                g.attrs.update(
                    quantiles=list(st.quantiles),
                    loudest_background_statistic=st.loudest_background,
                    threshold_at_1_per_hour=st.threshold_at_1_per_hour,
                    threshold_at_1_per_day=st.threshold_at_1_per_day,
                )
        return path


def read_results(path: str | Path) -> AnalysisResults:
    """Read ``sensitive-volume.hdf5``.

    Args:
        path: the file

    Returns:
        the results
    """
    path = Path(path).expanduser()
    try:
        f = open_h5(path)
    except ArtifactError as err:
        raise AnalysisResultsError(f"{err} (made by sensitive-volume)") from err
    try:
        with f:
            attrs = {k: normalize_attr(v) for k, v in f.attrs.items()}
            populations = {}
            for name, g in f["populations"].items():
                populations[name] = PopulationResult(
                    name=name,
                    volume=g["sv"][()],
                    error=g["err"][()],
                    v0=float(g.attrs["v0"]),
                    effective_samples=float(g.attrs["effective_samples"]),
                    description=str(normalize_attr(g.attrs.get("description", ""))),
                )
            efficiencies = []
            eff = f["efficiency"]
            groups = sorted(
                (k for k in eff if k.startswith("far_")), key=lambda k: int(k[4:])
            )
            for key in groups:
                g = eff[key]
                curve = EfficiencyCurve(
                    snr_edges=eff["snr_edges"][()],
                    snr_mean=eff["snr_mean"][()],
                    counts=g["counts"][()],
                    found=g["found"][()],
                    efficiency=g["efficiency"][()],
                    lower=g["lower"][()],
                    upper=g["upper"][()],
                    threshold=float(g.attrs["threshold"]),
                    level=float(g.attrs["level"]),
                )
                efficiencies.append(
                    EfficiencyResult(
                        label=str(normalize_attr(g.attrs["label"])),
                        far_per_day=float(g.attrs["far_per_day"]),
                        curve=curve,
                    )
                )
            statistic = None
            if "statistic" in f:
                g = f["statistic"]
                low, high = (float(q) for q in g.attrs["quantiles"])
                statistic = StatisticVsSnr(
                    snr_edges=g["snr_edges"][()],
                    snr_mean=g["snr_mean"][()],
                    counts=g["counts"][()],
                    lower=g["lower"][()],
                    median=g["median"][()],
                    upper=g["upper"][()],
                    quantiles=(low, high),
                    loudest_background=float(g.attrs["loudest_background_statistic"]),
                    threshold_at_1_per_hour=float(g.attrs["threshold_at_1_per_hour"]),
                    threshold_at_1_per_day=float(g.attrs["threshold_at_1_per_day"]),
                )
            return AnalysisResults(
                thresholds=f["thresholds"][()],
                fars=f["fars"][()],
                populations=populations,
                efficiencies=efficiencies,
                attrs=attrs,
                statistic=statistic,
            )
    except (KeyError, OSError) as err:
        raise AnalysisResultsError(
            f"{path}: not a sensitive-volume results file ({err})"
        ) from err


def far_label(per_day: float) -> str:
    """Plain words for a false-alarm rate.

    Args:
        per_day: the rate, per day

    Returns:
        e.g. ``1 per hour``, ``1 per day``, ``1 per month``, ``3 per day``
    """
    for unit, days in (("hour", 1 / 24), ("day", 1.0), ("month", 365.25 / 12)):
        count = per_day * days
        if np.isclose(count, round(count)) and round(count) >= 1:
            return f"{round(count)} per {unit}"
    return f"{per_day:g} per day"
