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
from train.validation import ValidationData

_PROGRESS = ("valid_auroc", "valid_recall_per_hour")


class DetectorModule(LightningModule):
    """Train a network to tell coherent signals from background.

    Args:
        model: the network, whitened (B, ifo, kernel_size) → logits (B, 1)
        augmentor: raw samples → whitened kernels and labels
        validation: the validation set (None: no validation)
        lr: peak learning rate of the one-cycle schedule
        weight_decay: AdamW weight decay
        lr_ramp: fraction of all steps spent ramping the learning rate up
        total_steps: optimiser steps the schedule spans
        valid_cluster_length: seconds per background event block
        valid_loud_snr: SNR from which a signal counts as loud
        valid_fpr: window false-positive rate of ``valid_recall_at_fpr``
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
        total_steps: int,
        valid_cluster_length: float,
        valid_loud_snr: float,
        valid_fpr: float,
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
        self.total_steps = total_steps
        self.valid_cluster_length = valid_cluster_length
        self.valid_loud_snr = valid_loud_snr
        self.valid_fpr = valid_fpr
        self.max_fpr = max_fpr
        self.seed = seed
        self._outputs: list[tuple[Tensor, Tensor]] = []

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        if "index" not in batch:
            return batch
        with torch.no_grad():
            x, y = self.augmentor(batch["X"], int(batch["index"]), self.global_rank)
        return {"X": x, "y": y}

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        logits = self.model(batch["X"])
        loss = F.binary_cross_entropy_with_logits(logits.float(), batch["y"])
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
        total = data.num_background + data.foreground.shape[0] * data.num_views
        outputs = torch.full((total,), torch.nan, device=logits.device)
        outputs[ids] = logits
        if torch.isnan(outputs).any():
            raise RuntimeError("validation outputs are missing for some items")
        outputs = outputs.cpu()
        background = outputs[: data.num_background]
        foreground = outputs[data.num_background :].reshape(-1, data.num_views)
        metrics = validation_metrics(
            background,
            data.runs,
            foreground,
            data.snr,
            data.stride,
            self.valid_cluster_length,
            self.valid_loud_snr,
            self.valid_fpr,
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
