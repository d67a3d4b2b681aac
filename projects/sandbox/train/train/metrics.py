"""Validation metrics: recall at false-alarm rates, measured as the search would.

Definitions (outputs are logits; ``train.validation`` describes the data):

- **Background events**: each run of contiguous timeslide kernels is one
  stream of the search: its outputs are integrated and clustered with
  ``aframe.search`` (the same code inference runs), giving event statistics
  and the run's livetime (one ``1/inference_sampling_rate`` per complete
  integration window). ``T`` is the livetime of all runs.
- **Threshold at FAR f**: ``aframe.ledger.far.threshold_from_statistics``,
  the rule of the analysis: the k-th loudest event with ``k = ⌊T·f⌋``, and a
  signal is found when its statistic reaches it (``+∞`` when ``T·f < 1``:
  validate on ``valid_livetime ≥ 1/f`` for a meaningful value).
- **Foreground statistic** of a signal: the largest integrated output over
  the kernels of the inference grid around it.
- **recall at FAR**: the fraction of validation signals (SNRs uniform on
  ``valid_snr_range``) found. **loud recall**: the fraction found among
  signals with network SNR ≥ ``loud_snr``, each weighted by ``ρ⁻⁴ / p(ρ)``
  so that it estimates the recall of a population uniform in Euclidean
  volume (``p(ρ) ∝ ρ⁻⁴``), which is what the loud test injections are: the
  same number the analysis reports for SNR ≥ ``loud_snr``.
- **AUROC**: ``torchmetrics`` ``BinaryAUROC(max_fpr)`` (McClish standardised
  partial AUC) of signal statistics against background event statistics, on
  a seeded shuffle so that ties cannot favour either class.
- **loss**: mean binary cross-entropy over background kernels (label 0) and
  each signal's loudest kernel (label 1).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.classification import BinaryAUROC

from aframe.ledger.far import seconds_per, threshold_from_statistics
from aframe.ledger.sensitive_volume import euclidean_weights
from train.validation import SearchSettings, background_events, signal_statistics

FARS = {"per_hour": "hour", "per_day": "day"}

#: metrics that grow as the network gets better: what a checkpoint may be chosen by
MONITORS = (
    *(f"valid_{loud}recall_{name}" for loud in ("", "loud_") for name in FARS),
    "valid_auroc",
)


def validation_metrics(
    background: Tensor,
    runs: Tensor,
    foreground: Tensor,
    snr: Tensor,
    search: SearchSettings,
    snr_range: tuple[float, float],
    loud_snr: float,
    max_fpr: float,
    seed: int = 0,
) -> dict[str, float]:
    """All validation metrics (see the module docstring).

    Args:
        background: (N,) logits of timeslide kernel pairs, in run order
        runs: (R, 3) ``(segment, shift, length)`` rows of the pairs
        foreground: (n_signals, num_kernels) logits
        snr: (n_signals,) injected network SNRs
        search: the search settings (rate, integration, clustering)
        snr_range: [low, high] the validation SNRs were drawn uniformly on
        loud_snr: SNR from which a signal counts as loud
        max_fpr: ``max_fpr`` of the partial AUROC
        seed: seeds the shuffle before the AUROC

    Returns:
        metric name → value
    """
    events, _, _, livetime = background_events(background, runs, search)
    statistic = signal_statistics(foreground, search.integration_samples)
    snr = snr.double().cpu().numpy()
    loud = snr >= loud_snr
    weights = euclidean_weights(snr, *snr_range)

    metrics: dict[str, float] = {}
    for name, unit in FARS.items():
        threshold = (
            threshold_from_statistics(events, livetime, 1.0, unit)
            if livetime > 0
            else math.inf
        )
        found = statistic >= threshold
        metrics[f"valid_recall_{name}"] = float(found.mean())
        metrics[f"valid_loud_recall_{name}"] = (
            float(np.average(found[loud], weights=weights[loud]))
            if loud.any()
            else math.nan
        )
        metrics[f"valid_threshold_{name}"] = float(threshold)

    scores = torch.cat([torch.from_numpy(events), torch.from_numpy(statistic)]).float()
    labels = torch.cat([torch.zeros(len(events)), torch.ones(len(statistic))]).long()
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(scores), generator=gen)
    auroc = BinaryAUROC(max_fpr=max_fpr)
    metrics["valid_auroc"] = float(auroc(scores[order], labels[order]))

    loudest = foreground.double().cpu().amax(dim=1)
    background = background.double().cpu()
    loss_bg = F.binary_cross_entropy_with_logits(
        background, torch.zeros_like(background), reduction="sum"
    )
    loss_fg = F.binary_cross_entropy_with_logits(
        loudest, torch.ones_like(loudest), reduction="sum"
    )
    metrics["valid_loss"] = float(
        (loss_bg + loss_fg) / (background.numel() + loudest.numel())
    )
    metrics["valid_livetime_h"] = livetime / seconds_per("hour")
    metrics["valid_loudest_background"] = (
        float(events.max()) if len(events) else -math.inf
    )
    return metrics
