"""Training callbacks: a wall-time budget and a resumable per-epoch metrics table."""

from __future__ import annotations

import csv
import io
import logging
import math
import time
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from aframe.utils.io import atomic_path

logger = logging.getLogger(__name__)


class TimeBudget(Callback):
    """Stop training at an epoch boundary before ``max_time`` seconds run out.

    After each validation, if the time spent so far plus the longest epoch
    (training and validation) seen would exceed the budget, training stops
    there, so the last epoch is validated and checkpointed. A run that still
    overshoots (an epoch much longer than before) stops after the batch that
    crosses the budget. The time spent is kept in checkpoints, so a resumed
    run continues the same budget.

    Args:
        max_time: seconds of training allowed (None: no budget)
    """

    def __init__(self, max_time: float | None) -> None:
        self.max_time = max_time
        self.spent = 0.0
        self.longest_epoch = 0.0
        self._since = time.monotonic()
        self._epoch_start = self._since

    @property
    def state_key(self) -> str:
        return "TimeBudget"

    def elapsed(self) -> float:
        """Seconds of training so far, over every run of this training."""
        return self.spent + time.monotonic() - self._since

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._since = time.monotonic()

    def on_train_epoch_start(
        self, trainer: Trainer, pl_module: LightningModule
    ) -> None:
        self._epoch_start = time.monotonic()

    def on_train_batch_end(self, trainer: Trainer, *args: Any) -> None:
        if self.max_time is not None and self.elapsed() > self.max_time:
            if not trainer.should_stop:
                logger.info("time budget of %.0f s spent: stopping now", self.max_time)
            trainer.should_stop = True

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.longest_epoch = max(
            self.longest_epoch, time.monotonic() - self._epoch_start
        )
        elapsed = self.elapsed()
        if self.max_time is not None and elapsed + self.longest_epoch > self.max_time:
            logger.info(
                "%.0f s of the %.0f s budget spent and an epoch takes up to %.0f s: "
                "stopping after this epoch",
                elapsed,
                self.max_time,
                self.longest_epoch,
            )
            trainer.should_stop = True

    def state_dict(self) -> dict[str, float]:
        return {"spent": self.elapsed(), "longest_epoch": self.longest_epoch}

    def load_state_dict(self, state_dict: dict[str, float]) -> None:
        self.spent = float(state_dict["spent"])
        self.longest_epoch = float(state_dict["longest_epoch"])
        self._since = time.monotonic()


class MetricsTable(Callback):
    """One row of metrics per epoch, rewritten atomically to a CSV file.

    The rows travel in checkpoints, so a resumed training's table holds exactly
    the epochs of its trajectory.

    Args:
        path: the CSV file (``metrics.csv``)
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, float]] = []

    @property
    def state_key(self) -> str:
        return "MetricsTable"

    def on_train_epoch_start(
        self, trainer: Trainer, pl_module: LightningModule
    ) -> None:
        self._loss_sum, self._batches, self._samples = 0.0, 0, 0
        self._epoch_start = time.monotonic()
        self._train_time = math.nan

    def on_train_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        *args: Any,
    ) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self._loss_sum += float(loss)
        self._batches += 1
        self._samples += len(batch["X"])

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if hasattr(self, "_epoch_start"):
            self._train_time = time.monotonic() - self._epoch_start

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # before ModelCheckpoint saves, so the checkpoint holds this row too
        if trainer.sanity_checking:
            return
        batches = getattr(self, "_batches", 0)
        row: dict[str, float] = {
            "epoch": float(trainer.current_epoch),
            "step": float(trainer.global_step),
            "train_loss": self._loss_sum / batches if batches else math.nan,
            "lr": float(trainer.optimizers[0].param_groups[0]["lr"]),
            # augmentation, forward and backward: the training throughput
            "train_samples_per_s": getattr(self, "_samples", 0)
            / getattr(self, "_train_time", math.nan),
        }
        for name, value in trainer.callback_metrics.items():
            if name.startswith("valid_"):
                row[name] = float(value)
        budget = next((c for c in trainer.callbacks if isinstance(c, TimeBudget)), None)
        if budget is not None:
            row["elapsed_s"] = budget.elapsed()
        self.rows.append(row)
        if trainer.is_global_zero:
            self.write()

    def write(self) -> None:
        """Write the table (atomically)."""
        names: list[str] = []
        for row in self.rows:
            names += [k for k in row if k not in names]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=names)
        writer.writeheader()
        for row in self.rows:
            writer.writerow(
                {k: ("" if math.isnan(v) else repr(v)) for k, v in row.items()}
            )
        with atomic_path(self.path) as tmp:
            tmp.write_text(buffer.getvalue())

    def state_dict(self) -> dict[str, Any]:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = list(state_dict["rows"])
