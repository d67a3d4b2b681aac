"""Validation metrics: recall at a false-alarm rate from timeslide background.

Definitions (outputs are logits):

- **Foreground statistic** of a signal: the largest output over its views (the
  coalescence swept across the signal region), as an event's statistic at
  inference is the peak over the kernels the signal passes through.
- **Background events**: within each run of contiguous timeslide windows, the
  maximum output over non-overlapping blocks of ``cluster_length`` s (a last
  partial block counts). A block stands for one clustered trigger of the
  search, so the number of events above a threshold per second of livetime ``T``
  is a false-alarm rate.
- **Threshold at FAR f**: the statistic exceeded by at most ``k = ⌊T·f⌋``
  events, i.e. the (k+1)-th largest event statistic (−∞ if there are no more
  than ``k`` events). A signal is found when its statistic exceeds it. With
  ``T < 1/f`` (k = 0) the threshold is the loudest event: the FAR is then only
  bounded by 1/T; validate on ``valid_livetime ≥ 1/f`` for a meaningful value.
- **recall at FAR** for all signals, and ("loud") for signals with network SNR
  ≥ ``loud_snr``.
- **recall at FPR**: the threshold exceeded by a fraction ``fpr`` of background
  *windows*; **AUROC**: ``torchmetrics`` ``BinaryAUROC(max_fpr)`` (McClish
  standardised partial AUC) over background windows and signals, computed on a
  seeded shuffle so that ties cannot favour either class.
- **loss**: mean binary cross-entropy over background windows (label 0) and
  signal views (label 1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.classification import BinaryAUROC

SECONDS_PER_HOUR = 3600.0
FARS = {"per_hour": 1 / SECONDS_PER_HOUR, "per_day": 1 / (24 * SECONDS_PER_HOUR)}

#: metrics that grow as the network gets better: what a checkpoint may be chosen by
MONITORS = (
    *(f"valid_{loud}recall_{name}" for loud in ("", "loud_") for name in FARS),
    "valid_recall_at_fpr",
    "valid_auroc",
)


def block_maxima(outputs: Tensor, runs: Tensor, block: int) -> Tensor:
    """Maximum output over non-overlapping blocks of each run.

    Args:
        outputs: (N,) background outputs in run order
        runs: (R, 3) rows whose last column is the run's length
        block: windows per block

    Returns:
        (E,) event statistics
    """
    events = []
    start = 0
    for count in runs[:, 2].tolist():
        run = outputs[start : start + count]
        start += count
        pad = (-len(run)) % block
        if pad:
            run = torch.cat([run, run.new_full((pad,), -torch.inf)])
        events.append(run.reshape(-1, block).amax(dim=1))
    return torch.cat(events) if events else outputs.new_zeros(0)


def threshold_at_far(events: Tensor, livetime: float, far: float) -> float:
    """The statistic exceeded by at most ``⌊livetime·far⌋`` events.

    Args:
        events: (E,) event statistics
        livetime: seconds of background
        far: false-alarm rate, per second

    Returns:
        the threshold (−inf when there are too few events)
    """
    k = int(math.floor(livetime * far))
    if k >= len(events):
        return -math.inf
    return float(torch.sort(events, descending=True).values[k])


def threshold_at_fpr(background: Tensor, fpr: float) -> float:
    """The output exceeded by at most a fraction ``fpr`` of background windows."""
    k = int(math.floor(len(background) * fpr))
    if k >= len(background):
        return -math.inf
    return float(torch.sort(background, descending=True).values[k])


def validation_metrics(
    background: Tensor,
    runs: Tensor,
    foreground: Tensor,
    snr: Tensor,
    stride: float,
    cluster_length: float,
    loud_snr: float,
    fpr: float,
    max_fpr: float,
    seed: int = 0,
) -> dict[str, float]:
    """All validation metrics (see the module docstring).

    Args:
        background: (N,) logits of timeslide windows, in run order
        runs: (R, 3) ``(segment, shift, length)`` rows of the windows
        foreground: (n_signals, views) logits
        snr: (n_signals,) injected network SNRs
        stride: seconds per background window
        cluster_length: seconds per event block
        loud_snr: SNR from which a signal counts as loud
        fpr: window false-positive rate for ``valid_recall_at_fpr``
        max_fpr: ``max_fpr`` of the partial AUROC
        seed: seeds the shuffle before the AUROC

    Returns:
        metric name → value
    """
    background = background.double().cpu()
    foreground = foreground.double().cpu()
    snr = snr.cpu()
    livetime = len(background) * stride
    statistic = foreground.amax(dim=1)
    block = max(1, int(round(cluster_length / stride)))
    events = block_maxima(background, runs, block)
    loud = snr >= loud_snr

    metrics: dict[str, float] = {}
    for name, far in FARS.items():
        threshold = threshold_at_far(events, livetime, far)
        found = statistic > threshold
        metrics[f"valid_recall_{name}"] = float(found.double().mean())
        metrics[f"valid_loud_recall_{name}"] = (
            float(found[loud].double().mean()) if loud.any() else math.nan
        )
        metrics[f"valid_threshold_{name}"] = threshold
    metrics["valid_recall_at_fpr"] = float(
        (statistic > threshold_at_fpr(background, fpr)).double().mean()
    )

    scores = torch.cat([background, statistic]).float()
    labels = torch.cat(
        [torch.zeros(len(background)), torch.ones(len(statistic))]
    ).long()
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(scores), generator=gen)
    auroc = BinaryAUROC(max_fpr=max_fpr)
    metrics["valid_auroc"] = float(auroc(scores[order], labels[order]))

    loss_bg = F.binary_cross_entropy_with_logits(
        background, torch.zeros_like(background), reduction="sum"
    )
    loss_fg = F.binary_cross_entropy_with_logits(
        foreground, torch.ones_like(foreground), reduction="sum"
    )
    metrics["valid_loss"] = float(
        (loss_bg + loss_fg) / (background.numel() + foreground.numel())
    )
    metrics["valid_livetime_h"] = livetime / SECONDS_PER_HOUR
    return metrics
