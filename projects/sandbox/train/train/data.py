"""The Lightning data module: raw training batches and validation batches."""

from __future__ import annotations

from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader

from train.sampling import BackgroundSampler, GlitchSampler, TrainingBatches
from train.validation import ValidationBatches, ValidationData


class DetectorData(LightningDataModule):
    """Serve training and validation batches.

    Args:
        background: training background sampler
        glitches: glitch sampler, or None
        validation: the validation set
        batch_size: training samples per batch
        batches_per_epoch: training batches per epoch
        valid_batch_size: validation kernels per batch
        seed: the run's seed
        num_workers: data-loading processes for training batches (0: in the
            training process, best on a laptop)
    """

    def __init__(
        self,
        background: BackgroundSampler,
        glitches: GlitchSampler | None,
        validation: ValidationData,
        batch_size: int,
        batches_per_epoch: int,
        valid_batch_size: int,
        seed: int,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.background = background
        self.glitches = glitches
        self.validation = validation
        self.batch_size = batch_size
        self.batches_per_epoch = batches_per_epoch
        self.valid_batch_size = valid_batch_size
        self.seed = seed
        self.num_workers = num_workers

    def current_epoch(self) -> int:
        """The epoch the trainer is about to run (restored on resume)."""
        return self.trainer.current_epoch if self.trainer is not None else 0

    def training_batches(self, rank: int = 0) -> TrainingBatches:
        """The training dataset of process ``rank``."""
        return TrainingBatches(
            self.background,
            self.glitches,
            self.batch_size,
            self.batches_per_epoch,
            self.seed,
            self.current_epoch,
            rank,
        )

    def train_dataloader(self) -> DataLoader:
        rank = self.trainer.global_rank if self.trainer is not None else 0
        return DataLoader(
            self.training_batches(rank),
            batch_size=None,
            num_workers=self.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(
            ValidationBatches(self.validation, self.valid_batch_size),
            batch_size=None,
            shuffle=False,
        )
