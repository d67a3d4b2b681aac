"""The probability that a zero-lag candidate is astrophysical (``p_astro``).

Model: a two-component Poisson mixture in the detection statistic ``x``.
Candidates in observing time ``T`` are a Poisson process with density
``T·(s(x) + b(x))`` per unit statistic, where

- ``b(x)`` is the background: events per year per unit statistic from the
  timeslides, ``(N_b/Tb)·h(x)``. ``h`` is the background statistics' density
  (a Gaussian kernel estimate on a fine histogram, Silverman's bandwidth);
  above the ``tail_count``-th loudest background statistic ``u`` it is the
  exponential tail fitted to the events above ``u`` (maximum likelihood:
  ``λ = mean(x_i - u)``), ``(K/Tb)·exp(-(x - u)/λ)/λ``, so candidates louder
  than every background event get a background density that falls off
  smoothly instead of zero;
- ``s(x)`` is the signal: ``R·V(x_ref)·g(x)``, with ``R`` an astrophysical
  merger rate per comoving volume and source-frame time (Gpc⁻³ yr⁻¹),
  ``V(x_ref)`` the sensitive volume at a reference statistic ``x_ref`` (the
  analysis's own importance-weighted estimate), and ``g`` the density of the
  statistic of the injections found at ``x ≥ x_ref`` (the same kernel
  estimate, normalised to one above ``x_ref``; above the loudest found
  injection it is held at its value there, as the injections say nothing
  about louder signals). ``R·V(x_ref)`` is the expected number of detectable
  signals above ``x_ref`` per year.

Then ``p_astro(x) = s(x) / (s(x) + b(x))``; ``T`` cancels. The default rate is
the GWTC-3 binary black hole merger rate: 17.9–44 Gpc⁻³ yr⁻¹ (90% range over
the population models, at redshift 0.2; The LIGO Scientific, Virgo and KAGRA
Collaborations, "Population of Merging Compact Binaries Inferred Using
Gravitational Waves through GWTC-3", Phys. Rev. X 13, 011048 (2023),
arXiv:2111.03634), of which ``BBH_RATE`` is the geometric midpoint; the
volume's population has a constant comoving rate, so that one number sets
it. The result is only as good as the match between the injections'
population and the real one, and between the simulated and real noise: in
simulated noise with no signals, ``p_astro`` is what the model says, not
evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: assumed BBH merger rate, Gpc⁻³ yr⁻¹ (geometric midpoint of GWTC-3's range)
BBH_RATE = 28.0
#: GWTC-3's 90% range of the BBH merger rate at z = 0.2, Gpc⁻³ yr⁻¹
BBH_RATE_RANGE = (17.9, 44.0)
#: where the rate comes from
RATE_SOURCE = (
    "GWTC-3 population paper: LVK Collaboration, Phys. Rev. X 13, 011048 "
    "(2023), arXiv:2111.03634; BBH merger rate 17.9–44 Gpc⁻³ yr⁻¹ at z = 0.2"
)
SECONDS_PER_YEAR = 31_557_600.0


class PAstroError(ValueError):
    """Inputs from which no p_astro model follows."""


def _bandwidth(values: np.ndarray) -> float:
    """Silverman's rule of thumb, never below a thousandth of the range."""
    n = len(values)
    spread = float(np.std(values))
    q75, q25 = np.percentile(values, [75, 25])
    scale = min(spread, float(q75 - q25) / 1.34) or spread or 1.0
    span = float(np.ptp(values)) or 1.0
    return max(0.9 * scale * n ** (-0.2), 1e-3 * span)


@dataclass(frozen=True)
class _Density:
    """A normalised density on a grid (kernel estimate of a histogram)."""

    grid: np.ndarray
    values: np.ndarray

    @classmethod
    def estimate(cls, samples: np.ndarray, bins: int = 4096) -> _Density:
        samples = np.asarray(samples, dtype=np.float64)
        h = _bandwidth(samples)
        lo, hi = samples.min() - 5 * h, samples.max() + 5 * h
        edges = np.linspace(lo, hi, bins + 1)
        counts, _ = np.histogram(samples, bins=edges)
        dx = edges[1] - edges[0]
        half = int(np.ceil(5 * h / dx))
        kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * dx / h) ** 2)
        smooth = np.convolve(counts, kernel / kernel.sum(), mode="same")
        centres = 0.5 * (edges[:-1] + edges[1:])
        return cls(centres, smooth / (len(samples) * dx))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.interp(x, self.grid, self.values, left=0.0, right=0.0)


@dataclass(frozen=True)
class PAstroModel:
    """The fitted two-component model (see the module docstring).

    Attributes:
        background: the background's density estimate (normalised)
        background_rate: background events per year, ``N_b/Tb``
        tail_start: ``u``, the statistic above which the exponential tail holds
        tail_rate: background events per year above ``u``, ``K/Tb``
        tail_scale: ``λ``, the tail's decay length in statistic
        signal: the found injections' statistic density above ``x_ref``
        signal_top: the loudest found injection's statistic
        reference_statistic: ``x_ref``
        reference_volume: ``V(x_ref)``, Gpc³
        rate: the assumed merger rate, Gpc⁻³ yr⁻¹
    """

    background: _Density
    background_rate: float
    tail_start: float
    tail_rate: float
    tail_scale: float
    signal: _Density
    signal_top: float
    reference_statistic: float
    reference_volume: float
    rate: float = BBH_RATE

    @classmethod
    def fit(
        cls,
        background: np.ndarray,
        Tb: float,  # noqa: N803 (the field's name)
        found: np.ndarray,
        reference_statistic: float,
        reference_volume: float,
        rate: float = BBH_RATE,
        tail_count: int = 50,
    ) -> PAstroModel:
        """Fit the model.

        Args:
            background: (N_b,) background detection statistics
            Tb: their livetime, s
            found: (N,) detection statistics of the found injections (any
            below ``reference_statistic`` are left out)
            reference_statistic: ``x_ref``
            reference_volume: the sensitive volume at ``x_ref``, Gpc³
            rate: merger rate, Gpc⁻³ yr⁻¹
            tail_count: background events the exponential tail is fitted to

        Returns:
            the model
        """
        background = np.sort(np.asarray(background, dtype=np.float64))
        found = np.asarray(found, dtype=np.float64)
        found = found[np.isfinite(found) & (found >= reference_statistic)]
        if len(background) < 2 or not Tb > 0:
            raise PAstroError(
                f"{len(background)} background events in Tb = {Tb} s: too few"
            )
        if len(found) < 2:
            raise PAstroError(
                f"{len(found)} injections found above the reference statistic "
                f"{reference_statistic:.3g}: too few for a signal density"
            )
        if not reference_volume >= 0 or not rate >= 0:
            raise PAstroError(
                f"volume {reference_volume} Gpc³ and rate {rate} must be ≥ 0"
            )
        years = Tb / SECONDS_PER_YEAR
        k = int(min(max(tail_count, 2), len(background)))
        u = float(background[-k])
        scale = float(np.mean(background[-k:] - u)) or _bandwidth(background)
        return cls(
            background=_Density.estimate(background),
            background_rate=len(background) / years,
            tail_start=u,
            tail_rate=k / years,
            tail_scale=scale,
            signal=_Density.estimate(found),
            signal_top=float(found.max()),
            reference_statistic=float(reference_statistic),
            reference_volume=float(reference_volume),
            rate=float(rate),
        )

    def background_density(self, x: np.ndarray) -> np.ndarray:
        """``b(x)``: background events per year per unit statistic."""
        x = np.asarray(x, dtype=np.float64)
        kde = self.background_rate * self.background(x)
        tail = (
            self.tail_rate
            * np.exp(-(x - self.tail_start) / self.tail_scale)
            / self.tail_scale
        )
        return np.where(x >= self.tail_start, tail, kde)

    def signal_density(self, x: np.ndarray, rate: float | None = None) -> np.ndarray:
        """``s(x)``: signals per year per unit statistic at merger rate ``rate``."""
        rate = self.rate if rate is None else float(rate)
        x = np.minimum(np.asarray(x, dtype=np.float64), self.signal_top)
        return rate * self.reference_volume * self.signal(x)

    def __call__(self, x: np.ndarray, rate: float | None = None) -> np.ndarray:
        """``p_astro`` of candidates with statistics ``x``.

        Args:
            x: detection statistics
            rate: merger rate, Gpc⁻³ yr⁻¹ (default the model's)

        Returns:
            probabilities in [0, 1] (0 where both densities vanish)
        """
        s = self.signal_density(x, rate)
        b = self.background_density(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = s / (s + b)
        return np.where(s + b > 0, p, 0.0)
