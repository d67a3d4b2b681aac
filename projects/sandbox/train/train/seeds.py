"""Seeds derived from keys, so every random draw is a function of what it is for.

A batch's background offsets, glitches and augmentation depend only on
``(seed, purpose, rank, batch index)``: an interrupted and resumed training
draws exactly what an uninterrupted one would, whatever the number of data
workers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from aframe.utils.seeds import job_seed


def derive_seed(seed: int, purpose: str, *keys: int) -> int:
    """``aframe.utils.seeds.job_seed`` of ``(purpose, *keys)``.

    Args:
        seed: the run's seed
        purpose: what the draws are for (e.g. ``"background"``)
        *keys: further integers (rank, batch index, ...)

    Returns:
        a non-negative 63-bit seed
    """
    return job_seed(seed, purpose, *map(int, keys))


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
