"""Raw training samples: background with independent offsets per detector, glitches.

Every (sample, detector) pair draws its own start uniformly over all positions
where a whole sample (psd_length + window) fits inside one background
segment, so files are chosen in proportion to their usable length and H1 and
L1 are *not* time-coincident: an endless supply of independent timeslides.

With probability ``glitch_prob`` per (sample, detector), that channel is then
replaced by a stretch of a glitch snippet of the same detector, cut so that the
trigger lies uniformly inside the kernel and the preceding ``psd_length`` s of
the snippet give the PSD, as for any other sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import IterableDataset, get_worker_info

from aframe.architectures import PreprocessingConfig
from train.inputs import Glitches, Segment
from train.seeds import generator


class BackgroundSampler:
    """Draw raw samples from background segments.

    Args:
        segments: the training background
        sample_size: samples per sample (psd_size + window_size)
    """

    def __init__(self, segments: list[Segment], sample_size: int) -> None:
        self.sample_size = sample_size
        self.strain = torch.from_numpy(
            np.concatenate([s.strain for s in segments], axis=1)
        )  # (ifo, total)
        lengths = torch.tensor([s.num_samples for s in segments])
        starts = torch.cumsum(lengths, 0) - lengths
        counts = lengths - sample_size + 1
        if (counts < 1).any():
            raise ValueError("every segment must hold at least one sample")
        self.segment_starts = starts
        self.counts = counts
        self.cumulative = torch.cumsum(counts, 0)

    @property
    def num_positions(self) -> int:
        """Distinct sample starts per detector."""
        return int(self.cumulative[-1])

    def sample(self, batch_size: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """Raw samples with an independent start per (sample, detector).

        Args:
            batch_size: samples to draw
            gen: the generator to draw with

        Returns:
            (batch_size, ifo, sample_size) float32 strain and (batch_size, ifo)
            int64 index of the segment each channel was drawn from
        """
        num_ifos = self.strain.shape[0]
        u = torch.randint(self.num_positions, (batch_size, num_ifos), generator=gen)
        segment = torch.searchsorted(self.cumulative, u, right=True)
        offset = u - (self.cumulative[segment] - self.counts[segment])
        start = self.segment_starts[segment] + offset
        out = torch.empty(batch_size, num_ifos, self.sample_size)
        for i in range(num_ifos):
            # rows of a strided view: a copy per sample, no index tensor
            out[:, i] = self.strain[i].unfold(0, self.sample_size, 1)[start[:, i]]
        return out, segment


class GlitchSampler:
    """Replace detector channels of raw samples by glitch snippets.

    Args:
        glitches: the usable snippets of each detector
        config: preprocessing (sizes)
        prob: probability a (sample, detector) channel is replaced
    """

    def __init__(
        self, glitches: Glitches, config: PreprocessingConfig, prob: float
    ) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f"glitch_prob must lie in [0, 1], got {prob}")
        self.snippets = [torch.from_numpy(s) for s in glitches.snippets]
        self.trigger = glitches.trigger_sample
        self.config = config
        self.prob = prob

    def apply(self, x: Tensor, gen: torch.Generator) -> Tensor:
        """Put glitches into ``x`` in place.

        Args:
            x: (B, ifo, sample_size) raw samples
            gen: the generator to draw with

        Returns:
            (B, ifo) bool: which channels hold a glitch
        """
        c = self.config
        batch, num_ifos = x.shape[:2]
        chosen = torch.rand(batch, num_ifos, generator=gen) < self.prob
        for i, snippets in enumerate(self.snippets):
            rows = chosen[:, i].nonzero()[:, 0]
            if len(snippets) == 0:
                chosen[:, i] = False
                continue
            if len(rows) == 0:
                continue
            which = torch.randint(len(snippets), (len(rows),), generator=gen)
            # where the trigger lands in the sample: uniformly inside the kernel
            spot = (
                c.psd_size
                + c.pad_size
                + torch.randint(c.kernel_size, (len(rows),), generator=gen)
            )
            start = self.trigger - spot
            index = start[:, None] + torch.arange(c.sample_size)
            x[rows, i] = torch.gather(snippets[which], 1, index)
        return chosen


class TrainingBatches(IterableDataset):
    """Batches of raw samples; batch ``i`` of epoch ``e`` depends only on the seed.

    Each batch is a dict: ``X`` (B, ifo, sample_size) raw strain, ``segment``
    (B, ifo) the background segment of each channel (whose reference PSD
    defines injected SNRs) and ``index`` (the global batch index, ``e ·
    batches_per_epoch + i``), which seeds the augmentation on the device.

    Args:
        background: the background sampler
        glitches: the glitch sampler, or None
        batch_size: samples per batch
        batches_per_epoch: batches per epoch
        seed: the run's seed
        epoch: returns the epoch about to be iterated
        rank: the process's rank (distinct data per process)
    """

    def __init__(
        self,
        background: BackgroundSampler,
        glitches: GlitchSampler | None,
        batch_size: int,
        batches_per_epoch: int,
        seed: int,
        epoch: Callable[[], int],
        rank: int = 0,
    ) -> None:
        super().__init__()
        self.background = background
        self.glitches = glitches
        self.batch_size = batch_size
        self.batches_per_epoch = batches_per_epoch
        self.seed = seed
        self.epoch = epoch
        self.rank = rank

    def __len__(self) -> int:
        return self.batches_per_epoch

    def batch(self, index: int) -> dict[str, Tensor]:
        """The batch with global index ``index``."""
        gen = generator(self.seed, "background", self.rank, index)
        x, segment = self.background.sample(self.batch_size, gen)
        if self.glitches is not None:
            self.glitches.apply(x, gen)
        return {"X": x, "segment": segment, "index": torch.tensor(index)}

    def __iter__(self) -> Iterator[dict[str, Tensor]]:
        first = self.epoch() * self.batches_per_epoch
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        # workers take batches in turn; the loader hands them back in order
        for i in range(worker, self.batches_per_epoch, workers):
            yield self.batch(first + i)
