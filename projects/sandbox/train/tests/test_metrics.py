import math

import pytest
import torch

from train.metrics import (
    block_maxima,
    threshold_at_far,
    threshold_at_fpr,
    validation_metrics,
)


def test_block_maxima_per_run_with_partial_blocks():
    outputs = torch.tensor([1.0, 5, 2, 0, 9, 3, 7, 8])
    runs = torch.tensor([[0, 1, 5], [0, 2, 3]])
    events = block_maxima(outputs, runs, block=2)
    # run 1: [1,5] [2,0] [9]; run 2: [3,7] [8]
    torch.testing.assert_close(events, torch.tensor([5.0, 2, 9, 7, 8]))


def test_threshold_at_far_allows_livetime_times_far_events():
    events = torch.arange(10.0)
    # 3 h of livetime at 1/hour: 3 events may exceed the threshold
    threshold = threshold_at_far(events, livetime=3 * 3600, far=1 / 3600)
    assert threshold == 6.0
    assert int((events > threshold).sum()) == 3
    assert threshold_at_far(events, 1800, 1 / 3600) == 9.0  # k = 0: the loudest
    assert threshold_at_far(events, 1e6, 1.0) == -math.inf
    assert threshold_at_fpr(torch.arange(1000.0), 0.01) == 989.0


def test_validation_metrics_on_a_known_problem():
    # 2 runs of 100 windows at 1 s: background outputs 0..99 in each run
    background = torch.cat([torch.arange(100.0), torch.arange(100.0)])
    runs = torch.tensor([[0, 1, 100], [0, 2, 100]])
    # livetime 200 s; far per hour → k = 0: threshold is the loudest event (99)
    snr = torch.tensor([5.0, 8.0, 13.0, 20.0])
    foreground = torch.tensor([[50.0, 10.0], [98.0, 99.0], [99.5, 0.0], [200.0, 150.0]])
    metrics = validation_metrics(
        background,
        runs,
        foreground,
        snr,
        stride=1.0,
        cluster_length=4.0,
        loud_snr=12.0,
        fpr=0.01,
        max_fpr=1.0,
    )
    assert metrics["valid_threshold_per_hour"] == 99.0
    assert metrics["valid_recall_per_hour"] == 0.5  # 99.5 and 200 exceed 99
    assert metrics["valid_loud_recall_per_hour"] == 1.0
    # fpr 1 %: 2 of 200 windows may exceed → threshold 98; 99, 99.5, 200 exceed
    assert metrics["valid_recall_at_fpr"] == 0.75
    assert metrics["valid_livetime_h"] == pytest.approx(200 / 3600)
    assert 0 < metrics["valid_auroc"] <= 1
    assert metrics["valid_loss"] > 0


def test_auroc_separates_perfect_and_constant_models():
    background = torch.zeros(500)
    runs = torch.tensor([[0, 1, 500]])
    kwargs = dict(
        snr=torch.full((50,), 10.0),
        stride=0.5,
        cluster_length=4.0,
        loud_snr=12.0,
        fpr=1e-2,
        max_fpr=0.1,
    )
    perfect = validation_metrics(
        background - 5, runs, torch.full((50, 3), 5.0), **kwargs
    )
    assert perfect["valid_auroc"] == pytest.approx(1.0)
    assert perfect["valid_recall_per_hour"] == 1.0
    constant = validation_metrics(background, runs, torch.zeros(50, 3), **kwargs)
    assert constant["valid_auroc"] == pytest.approx(0.5, abs=0.05)
    assert constant["valid_recall_per_hour"] == 0.0
    assert math.isnan(constant["valid_loud_recall_per_hour"])
