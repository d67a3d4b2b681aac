"""The Lightning module: network, augmentation on the device, loss, validation.

Training batches arrive as raw strain with their global index;
``on_after_batch_transfer`` augments and whitens them on whichever device the
network runs, seeded by that index. Validation batches arrive already
whitened; their outputs are gathered across processes and scored once per
epoch (``train.metrics``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from torch import Tensor

from train.augment import Augmentor
from train.metrics import validation_metrics
from train.validation import ValidationData, split_outputs

_PROGRESS = ("valid_auroc", "valid_recall_per_hour")


def detection_loss(
    logits: Tensor, labels: Tensor, snr: Tensor, slope: float, snr0: float
) -> Tensor:
    """Binary cross-entropy in which a loud signal's logit must keep rising with SNR.

    A positive of network SNR ρ is scored as if its logit were
    ``z - slope·max(ρ - snr0, 0)``: above ``snr0`` it must clear a margin
    that rises linearly with its loudness, so training keeps separating loud
    signals instead of stopping once they are confidently positive (where
    plain cross-entropy has no gradient left), and the network's loudness
    term (``aframe.architectures.resnet.AmplitudeTerm``) learns to carry the
    statistic past anything noise makes. Fainter positives and all negatives
    are plain cross-entropy, so the margin leaves the threshold region alone.

    Args:
        logits: (B, 1) network outputs
        labels: (B, 1) 1 for a coherent signal, else 0
        snr: (B, 1) network SNR of each positive's signal
        slope: logit margin per unit of SNR above ``snr0`` (0: plain
            cross-entropy)
        snr0: SNR from which the margin rises

    Returns:
        the mean loss
    """
    margin = slope * (snr - snr0).clamp_min(0)
    return F.binary_cross_entropy_with_logits(logits - labels * margin, labels)


class DetectorModule(LightningModule):
    """Train a network to tell coherent signals from background.

    Args:
        model: the network, whitened (B, ifo, kernel_size) → logits (B, 1)
        augmentor: raw samples → whitened kernels and labels
        validation: the validation set (None: no validation)
        lr: peak learning rate of the one-cycle schedule
        weight_decay: AdamW weight decay
        lr_ramp: fraction of all steps spent ramping the learning rate up
        margin_slope: logit margin per unit of SNR above ``margin_snr`` a
            signal must clear (``detection_loss``; 0: plain cross-entropy)
        margin_snr: SNR from which the margin rises
        total_steps: optimiser steps the schedule spans
        valid_snr_range: [low, high] the validation SNRs were drawn on
        valid_loud_snr: SNR from which a signal counts as loud
        max_fpr: ``max_fpr`` of the partial AUROC
        seed: the run's seed
    """

    def __init__(
        self,
        model: torch.nn.Module,
        augmentor: Augmentor,
        validation: ValidationData | None,
        lr: float,
        weight_decay: float,
        lr_ramp: float,
        margin_slope: float,
        margin_snr: float,
        total_steps: int,
        valid_snr_range: tuple[float, float],
        valid_loud_snr: float,
        max_fpr: float,
        seed: int,
    ) -> None:
        super().__init__()
        self.model = model
        self.augmentor = augmentor
        self.validation = validation
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_ramp = lr_ramp
        self.margin_slope = margin_slope
        self.margin_snr = margin_snr
        self.total_steps = total_steps
        self.valid_snr_range = tuple(valid_snr_range)
        self.valid_loud_snr = valid_loud_snr
        self.max_fpr = max_fpr
        self.seed = seed
        self._outputs: list[tuple[Tensor, Tensor]] = []

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        if "index" not in batch:
            return batch
        with torch.no_grad():
            x, y, snr = self.augmentor(
                batch["X"], batch["segment"], int(batch["index"]), self.global_rank
            )
        return {"X": x, "y": y, "snr": snr}

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        logits = self.model(batch["X"]).float()
        loss = detection_loss(
            logits, batch["y"], batch["snr"], self.margin_slope, self.margin_snr
        )
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log(
            "lr", self.optimizers().param_groups[0]["lr"], on_step=True, on_epoch=False
        )
        return loss

    def on_validation_epoch_start(self) -> None:
        self._outputs = []

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        logits = self.model(batch["X"])[:, 0].float()
        self._outputs.append((batch["ids"], logits))

    def on_validation_epoch_end(self) -> None:
        data = self.validation
        if data is None or not self._outputs:
            return
        ids = torch.cat([i for i, _ in self._outputs])
        logits = torch.cat([o for _, o in self._outputs])
        self._outputs = []
        ids, logits = self._gather(ids, logits)
        # a distributed sampler may repeat items to even out the processes
        outputs = torch.full((data.num_items,), torch.nan, device=logits.device)
        outputs[ids] = logits
        if torch.isnan(outputs).any():
            raise RuntimeError("validation outputs are missing for some items")
        background, foreground = split_outputs(outputs.cpu(), data)
        metrics = validation_metrics(
            background,
            data.runs,
            foreground,
            data.snr,
            data.search,
            self.valid_snr_range,
            self.valid_loud_snr,
            self.max_fpr,
            seed=self.seed,
        )
        # every process computed the same values from the gathered outputs
        for name, value in metrics.items():
            self.log(name, value, prog_bar=name in _PROGRESS, sync_dist=False)

    def _gather(self, ids: Tensor, logits: Tensor) -> tuple[Tensor, Tensor]:
        """Every process's validation outputs (processes may hold unequal counts)."""
        if self.trainer.world_size == 1:
            return ids, logits
        count = torch.tensor([len(ids)], device=ids.device)
        longest = int(self.all_gather(count).max())
        pad = longest - len(ids)
        ids = torch.cat([ids, ids.new_full((pad,), -1)])
        logits = torch.cat([logits, logits.new_zeros(pad)])
        ids = self.all_gather(ids).reshape(-1)
        logits = self.all_gather(logits).reshape(-1)
        keep = ids >= 0
        return ids[keep], logits[keep]

    def configure_optimizers(self) -> dict:
        optimiser = torch.optim.AdamW(
            self.model.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimiser,
            max_lr=self.lr,
            total_steps=max(self.total_steps, 2),
            pct_start=self.lr_ramp,
        )
        return {
            "optimizer": optimiser,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
