"""Quadrature helpers for the priors tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def integrate_masses():
    """∫∫ exp(log_prob(m1, m2)) over m1 in [lo1, hi1], m2 in [lo2(m1), hi2(m1)].

    Gauss-Legendre in ln m1 and in the fraction of the m2 interval, so the
    support's edges are integrated exactly.
    """

    def integrate(log_prob, lo1, hi1, lo2, hi2, n: int = 600) -> float:
        x, w = np.polynomial.legendre.leggauss(n)
        a, b = np.log(lo1), np.log(hi1)
        ln_m1 = 0.5 * (b - a) * x + 0.5 * (b + a)
        m1 = np.exp(ln_m1)
        w1 = 0.5 * (b - a) * w * m1  # dm1 = m1 dln m1
        low, high = lo2(m1), hi2(m1)
        width = np.clip(high - low, 0, None)
        u = 0.5 * (x + 1)
        m2 = low[:, None] + width[:, None] * u[None, :]
        w2 = width[:, None] * 0.5 * w[None, :]
        inner = np.exp(log_prob(np.broadcast_to(m1[:, None], m2.shape), m2))
        return float(np.sum(w1[:, None] * w2 * inner))

    return integrate
