import math

import numpy as np
import pytest
import torch

from aframe.ledger.sensitive_volume import euclidean_weights
from train.metrics import MONITORS, validation_metrics
from train.validation import SearchSettings as S
from train.validation import background_events, signal_statistics

#: two runs of contiguous kernel pairs: 5 and 3 outputs
OUTPUTS = torch.tensor([1.0, 5, 2, 0, 9, 3, 7, 8])
RUNS = torch.tensor([[0, 1, 5], [1, 1, 3]])


def test_background_events_integrate_and_cluster_each_run_on_its_own():
    # integration 1, half-width 1: a local maximum (ties to the earliest)
    # run 1: 1 5 2 0 9 → 5, 9; run 2: 3 7 8 → 8 (never 9 across the run edge)
    events, _, _, livetime = background_events(OUTPUTS, RUNS, S(2.0, 0.5, 1.0))
    np.testing.assert_array_equal(events, [5.0, 9.0, 8.0])
    assert livetime == 8 / 2.0
    # integration 2: run 1 → 3 3.5 1 4.5, run 2 → 5 7.5; the first output of
    # each run completes no window, so it is not livetime
    events, _, _, livetime = background_events(OUTPUTS, RUNS, S(2.0, 1.0, 1.0))
    np.testing.assert_array_equal(events, [3.5, 4.5, 7.5])
    assert livetime == (4 + 2) / 2.0
    # a wider cluster window keeps only the loudest of neighbours
    events, _, run, _ = background_events(OUTPUTS, RUNS, S(2.0, 0.5, 3.0))
    np.testing.assert_array_equal(events, [9.0, 8.0])
    np.testing.assert_array_equal(run, [0, 1])
    # a flat run is one event, at its start
    events, _, _, livetime = background_events(
        torch.full((4,), 2.0), torch.tensor([[0, 1, 4]]), S(1.0, 1.0, 2.0)
    )
    np.testing.assert_array_equal(events, [2.0])
    assert livetime == 4.0
    # a run shorter than the integration window gives neither events nor time
    events, _, _, livetime = background_events(
        torch.tensor([4.0, 4.0, 1.0]),
        torch.tensor([[0, 1, 1], [0, 2, 2]]),
        S(1.0, 2.0, 2.0),
    )
    np.testing.assert_array_equal(events, [2.5])
    assert livetime == 1.0


def test_signal_statistic_is_the_largest_integrated_output():
    outputs = torch.tensor([[0.0, 4, 0, 0], [1, 1, 1, 1], [-3, 2, 2, -3]])
    np.testing.assert_allclose(signal_statistics(outputs, 1), [4.0, 1.0, 2.0])
    np.testing.assert_allclose(signal_statistics(outputs, 2), [2.0, 1.0, 2.0])
    np.testing.assert_allclose(signal_statistics(outputs, 4), [1.0, 1.0, -0.5])


def test_euclidean_weights_turn_a_uniform_draw_into_a_volume_population():
    w = euclidean_weights(np.array([4.0, 8.0]), 4.0, 30.0)
    assert w[0] / w[1] == pytest.approx(16.0)  # ρ⁻⁴
    # SNRs uniform on [8, 30], weighted: the fraction below 10 is that of a
    # population uniform in volume above 8, 1 - (8/10)³ (up to the 30 cut)
    rng = np.random.default_rng(0)
    snr = rng.uniform(8.0, 30.0, 200_000)
    weights = euclidean_weights(snr, 8.0, 30.0)
    expected = (1 - (8 / 10) ** 3) / (1 - (8 / 30) ** 3)
    assert np.average(snr < 10, weights=weights) == pytest.approx(expected, abs=0.005)


def _known_background():
    """Two runs of 100 outputs, 100 s each (rate 0.01 Hz): 20 000 s ≈ 5.6 h.

    Integration 1, half-width 1: each run's first output (-10) is an event;
    run 1 has peaks 1 … 5, run 2 peaks 6, 7, 8.
    """
    runs = [np.full(100, -10.0), np.full(100, -10.0)]
    for i, value in enumerate([1.0, 2, 3, 4, 5]):
        runs[0][10 + 20 * i] = value
    for i, value in enumerate([6.0, 7, 8]):
        runs[1][10 + 20 * i] = value
    background = torch.as_tensor(np.concatenate(runs))
    return background, torch.tensor([[0, 1, 100], [0, 2, 100]])


def test_validation_metrics_on_a_known_problem():
    background, runs = _known_background()
    snr = torch.tensor([5.0, 10.0, 15.0, 20.0])
    # each signal's statistic is its largest output (integration 1)
    foreground = torch.tensor(
        [[100.0, 0.0], [3.0, 3.9], [-1.0, 4.0], [1.0, 0.5]], dtype=torch.float64
    )
    metrics = validation_metrics(
        background,
        runs,
        foreground,
        snr,
        search=S(0.01, 100.0, 200.0),
        snr_range=(4.0, 30.0),
        loud_snr=12.0,
        max_fpr=1.0,
    )
    assert metrics["valid_livetime_h"] == pytest.approx(20_000 / 3600)
    assert metrics["valid_loudest_background"] == 8.0
    # 5.6 h at one per hour: the 5th loudest event (8 7 6 5 4) is the
    # threshold, and a statistic equal to it is found
    assert metrics["valid_threshold_per_hour"] == 4.0
    assert metrics["valid_recall_per_hour"] == 0.5  # 100 and 4.0 (tie) found
    # loud (ρ ≥ 12): ρ = 15 found, ρ = 20 missed, weighted by ρ⁻⁴
    assert metrics["valid_loud_recall_per_hour"] == pytest.approx(
        15.0**-4 / (15.0**-4 + 20.0**-4)
    )
    # 0.23 d < one day: one per day is not resolved, nothing is found
    assert metrics["valid_threshold_per_day"] == math.inf
    assert metrics["valid_recall_per_day"] == 0.0
    assert metrics["valid_loud_recall_per_day"] == 0.0
    # loss: BCE of every background output (label 0) and every signal's
    # loudest output (label 1)
    loudest = np.array([100.0, 3.9, 4.0, 1.0])
    expected = (
        np.log1p(np.exp(background.numpy())).sum() + np.log1p(np.exp(-loudest)).sum()
    ) / (200 + 4)
    assert metrics["valid_loss"] == pytest.approx(expected)
    assert 0 < metrics["valid_auroc"] <= 1
    assert set(MONITORS) <= set(metrics)


def test_a_signal_at_the_loud_threshold_counts_as_loud():
    background, runs = _known_background()
    metrics = validation_metrics(
        background,
        runs,
        torch.tensor([[4.5], [3.0]]),
        torch.tensor([12.0, 11.99]),
        S(0.01, 100.0, 200.0),
        (4.0, 30.0),
        loud_snr=12.0,
        max_fpr=1.0,
    )
    assert metrics["valid_recall_per_hour"] == 0.5
    assert metrics["valid_loud_recall_per_hour"] == 1.0


def test_auroc_separates_perfect_and_constant_models():
    background = torch.zeros(500)
    runs = torch.tensor([[0, 1, 500]])
    kwargs = dict(
        snr=torch.full((50,), 10.0),
        search=S(0.1, 20.0, 80.0),
        snr_range=(4.0, 30.0),
        loud_snr=12.0,
        max_fpr=0.1,
    )
    perfect = validation_metrics(
        background - 5, runs, torch.full((50, 3), 5.0), **kwargs
    )
    assert perfect["valid_auroc"] == pytest.approx(1.0)
    assert perfect["valid_recall_per_hour"] == 1.0
    constant = validation_metrics(background, runs, torch.zeros(50, 3), **kwargs)
    assert constant["valid_auroc"] == pytest.approx(0.5, abs=0.05)
    # every signal ties the loudest background events: found (≥)
    assert constant["valid_recall_per_hour"] == 1.0
    assert math.isnan(constant["valid_loud_recall_per_hour"])
    quiet = validation_metrics(background, runs, torch.full((50, 3), -1.0), **kwargs)
    assert quiet["valid_recall_per_hour"] == 0.0
