"""Seeds derived from keys, so every random draw is a function of what it is for.

A batch's background offsets, glitches and augmentation depend only on
``(seed, purpose, rank, batch index)``: an interrupted and resumed training
draws exactly what an uninterrupted one would, whatever the number of data
workers.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator

import numpy as np
import torch


def derive_seed(seed: int, purpose: str, *keys: int) -> int:
    """A 63-bit seed for one purpose and one set of integer keys.

    Args:
        seed: the run's seed
        purpose: what the draws are for (e.g. ``"background"``)
        *keys: further integers (rank, batch index, ...)

    Returns:
        a non-negative seed
    """
    entropy = [int(seed) & 0xFFFFFFFF, zlib.crc32(purpose.encode()), *map(int, keys)]
    state = np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & 0x7FFFFFFFFFFFFFFF


def generator(seed: int, purpose: str, *keys: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``derive_seed``."""
    g = torch.Generator()
    g.manual_seed(derive_seed(seed, purpose, *keys))
    return g


@contextlib.contextmanager
def seeded(seed: int, purpose: str, *keys: int) -> Iterator[None]:
    """Seed torch's global CPU generator inside the block, restoring it after.

    Libraries that draw from the global generator (ml4gw's distributions) then
    draw reproducibly, and the rest of the program's stream is untouched.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, purpose, *keys))
        yield
