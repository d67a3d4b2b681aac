"""p_astro from a two-component Poisson mixture, on densities with known answers."""

import numpy as np
import pytest

from aframe.ledger.p_astro import (
    BBH_RATE,
    BBH_RATE_RANGE,
    SECONDS_PER_YEAR,
    PAstroError,
    PAstroModel,
)


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(2)
    # one year of background: 100 000 events, statistic 2 + Exp(1)
    background = 2 + rng.exponential(1.0, 100_000)
    # found injections: statistic ~ N(12, 2) above x_ref = 4
    found = rng.normal(12.0, 2.0, 20_000)
    return PAstroModel.fit(background, SECONDS_PER_YEAR, found, 4.0, 1.0)


def test_background_density_is_the_timeslides_rate(model):
    # 1e5 events per year with density exp(-(x-2)): b(x) = 1e5 exp(-(x-2))
    # (within the kernel's Poisson noise: ~40 events in a bandwidth at x = 8)
    for x, rel in ((3.0, 0.05), (5.0, 0.1), (8.0, 0.35), (11.0, 0.35)):
        assert model.background_density(x) == pytest.approx(
            1e5 * np.exp(-(x - 2)), rel=rel
        )
    # beyond the loudest background event the exponential tail goes on
    loudest = 2 + np.log(1e5)
    beyond = model.background_density(np.array([loudest + 2, loudest + 4]))
    assert 0 < beyond[1] < beyond[0]


def test_signal_density_is_rate_times_volume_times_shape(model):
    peak = BBH_RATE * 1.0 / (2.0 * np.sqrt(2 * np.pi))
    assert model.signal_density(12.0) == pytest.approx(peak, rel=0.05)
    assert model.signal_density(12.0, rate=2 * BBH_RATE) == pytest.approx(
        2 * model.signal_density(12.0)
    )
    # held at the loudest injection's value beyond it
    assert model.signal_density(1e3) == model.signal_density(model.signal_top)


def test_p_astro_rises_with_the_statistic_and_the_rate(model):
    x = np.array([3.0, 8.0, 10.0, 12.0, 14.0, 40.0])
    p = model(x)
    assert ((0 <= p) & (p <= 1)).all()
    assert np.all(np.diff(p) >= -1e-9)
    assert p[0] < 1e-3 and p[-1] > 0.999
    # where s = b, p = 1/2: compare with the analytic densities
    s = BBH_RATE * np.exp(-0.5 * ((x - 12) / 2) ** 2) / (2 * np.sqrt(2 * np.pi))
    b = 1e5 * np.exp(-(x - 2))
    mid = (x > 5) & (x < 14)
    np.testing.assert_allclose(p[mid], (s / (s + b))[mid], atol=0.05)
    low, high = (model(10.0, rate=r) for r in BBH_RATE_RANGE)
    assert low < model(10.0) < high
    assert model(10.0, rate=0.0) == 0.0


def test_too_little_input_is_an_error():
    with pytest.raises(PAstroError, match="background"):
        PAstroModel.fit(np.array([1.0]), 100.0, np.arange(10.0), 0.0, 1.0)
    with pytest.raises(PAstroError, match="found above"):
        PAstroModel.fit(np.arange(10.0), 100.0, np.array([1.0, 2.0]), 5.0, 1.0)
