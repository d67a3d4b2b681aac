"""The training waveforms the augmentation draws from, one block in memory at a time.

All training signals of a large file do not fit a laptop's memory (20 000
8-second, 2048 Hz waveforms are 2.6 GB). The training rows are cut into
consecutive blocks of ``block_size``; epoch ``e`` draws from block
``e mod num_blocks``, loaded (onto the training device) when the epoch's first
batch needs it. The signals in a file are independent draws from the prior, so
each block is a random sample of the population, and over the epochs every
waveform is used. The block is a function of the batch index alone, so resumed
and uninterrupted trainings draw the same waveforms.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import Tensor

from train.inputs import WaveformFile

logger = logging.getLogger(__name__)


class WaveformBank:
    """Training polarisations served block by block.

    Args:
        source: the signal file, or an (N, 2, T) array held in memory
        start: first training row
        stop: one past the last training row (default: all rows)
        block_size: rows in memory at once (None or 0: all)
        batches_per_epoch: batches per epoch (a block lasts one epoch)
    """

    def __init__(
        self,
        source: WaveformFile | np.ndarray,
        start: int = 0,
        stop: int | None = None,
        block_size: int | None = None,
        batches_per_epoch: int = 1,
    ) -> None:
        total = (
            source.num_waveforms if isinstance(source, WaveformFile) else len(source)
        )
        stop = total if stop is None else stop
        if not 0 <= start < stop <= total:
            raise ValueError(f"waveform rows [{start}, {stop}) outside [0, {total})")
        self.source = source
        self.start = start
        self.stop = stop
        self.block_size = min(block_size or (stop - start), stop - start)
        self.num_blocks = math.ceil((stop - start) / self.block_size)
        self.batches_per_epoch = batches_per_epoch
        self._block: int | None = None
        self._data: Tensor | None = None

    def __len__(self) -> int:
        return self.stop - self.start

    def block_of(self, step: int) -> int:
        """The block batch ``step`` draws from."""
        return (step // self.batches_per_epoch) % self.num_blocks

    def rows(self, block: int) -> tuple[int, int]:
        """The file rows [first, stop) of ``block``."""
        first = self.start + block * self.block_size
        return first, min(first + self.block_size, self.stop)

    def get(self, step: int, device: torch.device) -> Tensor:
        """The waveforms batch ``step`` draws from.

        Returns:
            (n, 2, T) float32 polarisations (cross, plus) on ``device``
        """
        block = self.block_of(step)
        if self._block != block or self._data is None or self._data.device != device:
            first, stop = self.rows(block)
            if isinstance(self.source, WaveformFile):
                if self.num_blocks > 1:
                    logger.info("loading training waveforms %d–%d", first, stop - 1)
                data = self.source.read(first, stop)
            else:
                data = self.source[first:stop]
            self._data = None  # free the previous block first
            self._data = torch.as_tensor(data, dtype=torch.float32).to(device)
            self._block = block
        return self._data
