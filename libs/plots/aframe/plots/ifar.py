"""The cumulative inverse false-alarm rate of zero-lag events and its expectation.

Each zero-lag event gets the false-alarm rate of its statistic against the
timeslide background, ``FAR = max(nb, 1)/Tb``, and ``IFAR = 1/FAR`` (years).
Counting the zero-lag events with ``IFAR ≥ x`` against ``x`` shows whether
the unshifted data hold more loud events than noise makes: if they are all
noise, that count is Poisson with mean ``T/x`` (``T`` the zero-lag observing
time), drawn with its central 1σ and 2σ Poisson intervals. The background
resolves ``x`` only up to ``Tb``: an event louder than every background event
has the lower limit ``IFAR ≥ Tb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lgamma

import numpy as np

from aframe.ledger.far import seconds_per

YEAR = seconds_per("year")
#: the central 1σ and 2σ probabilities of a normal variable, as quantiles
SIGMA_QUANTILES = {1: (0.158655, 0.841345), 2: (0.02275, 0.97725)}


def poisson_quantile(mean: np.ndarray, q: float) -> np.ndarray:
    """The smallest count ``k`` with ``P(N ≤ k) ≥ q`` for Poisson ``N``.

    Args:
        mean: (M,) Poisson means, ≥ 0
        q: the probability, in (0, 1)

    Returns:
        (M,) counts (float, for plotting)
    """
    mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    out = np.zeros(mean.shape)
    for i, mu in enumerate(mean):
        if mu <= 0:
            continue
        k = np.arange(int(mu + 12 * np.sqrt(mu) + 20))
        log_pmf = k * np.log(mu) - mu - np.array([lgamma(j + 1.0) for j in k])
        cdf = np.cumsum(np.exp(log_pmf))
        out[i] = float(np.searchsorted(cdf, q - 1e-12))
    return out


@dataclass(frozen=True)
class CumulativeIfar:
    """Zero-lag events counted by IFAR, and the background expectation.

    Attributes:
        ifar: (N,) zero-lag IFARs, years, decreasing
        count: (N,) zero-lag events with IFAR at least ``ifar`` (1, 2, …)
        lower_limit: (N,) True where the event is louder than every
            background event (its IFAR is the lower limit ``Tb``)
        statistic: (N,) the events' detection statistics
        grid: (M,) IFARs of the expectation, years, increasing
        expected: (M,) noise's expected count ``T/grid``
        bands: σ (1, 2) → ``(lower, upper)`` central Poisson intervals
        observing_years: ``T``, the zero-lag livetime, years
        background_years: ``Tb``, years
    """

    ifar: np.ndarray
    count: np.ndarray
    lower_limit: np.ndarray
    statistic: np.ndarray
    grid: np.ndarray
    expected: np.ndarray
    bands: dict[int, tuple[np.ndarray, np.ndarray]]
    observing_years: float
    background_years: float


def ifar_years(background: np.ndarray, tb: float, statistic: np.ndarray) -> np.ndarray:
    """IFAR (years) of statistics against a background, ``Tb/max(nb, 1)``.

    Args:
        background: (N_b,) background detection statistics
        tb: their livetime, s
        statistic: (N,) the statistics to rate

    Returns:
        (N,) IFAR in years
    """
    bg = np.sort(np.asarray(background, dtype=np.float64))
    stat = np.asarray(statistic, dtype=np.float64)
    nb = len(bg) - np.searchsorted(bg, stat, side="left")
    return (tb / YEAR) / np.maximum(nb, 1)


def cumulative_ifar(
    background: np.ndarray,
    tb: float,
    zero_lag: np.ndarray,
    observing_time: float,
    points: int = 200,
) -> CumulativeIfar:
    """The cumulative IFAR of zero-lag events and noise's expectation.

    Args:
        background: (N_b,) background detection statistics
        tb: background livetime, s
        zero_lag: (N,) zero-lag detection statistics
        observing_time: zero-lag livetime ``T``, s
        points: points of the expectation's grid

    Returns:
        the counts and the expectation with its 1σ and 2σ bands
    """
    background = np.asarray(background, dtype=np.float64)
    stats = np.sort(np.asarray(zero_lag, dtype=np.float64))[::-1]
    ifar = ifar_years(background, tb, stats)
    tb_years, t_years = tb / YEAR, observing_time / YEAR
    lowest = tb_years / max(len(background), 1)
    if len(ifar):
        lowest = min(lowest, float(ifar.min()))
    grid = np.geomspace(lowest, tb_years, points)
    expected = t_years / grid
    bands = {
        sigma: (poisson_quantile(expected, lo), poisson_quantile(expected, hi))
        for sigma, (lo, hi) in SIGMA_QUANTILES.items()
    }
    loudest = background.max() if len(background) else -np.inf
    return CumulativeIfar(
        ifar=ifar,
        count=np.arange(1, len(ifar) + 1, dtype=np.float64),
        lower_limit=stats > loudest,
        statistic=stats,
        grid=grid,
        expected=expected,
        bands=bands,
        observing_years=t_years,
        background_years=tb_years,
    )
