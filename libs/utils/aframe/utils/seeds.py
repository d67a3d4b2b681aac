"""Seeds derived from keys: the one seed derivation of every stage.

A seed depends only on the run's seed and a key naming what it is for (e.g.
a job's segment start, duration and shift index; ``"background"``, a rank
and a batch index in training; ``"noise"``, a detector and a start time in
simulation), never on worker count or completion order. The key is hashed
with BLAKE2b: unlike a 32-bit checksum such as adler32 of a short string,
distinct keys do not collide in practice.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

SEED_BITS = 63
"""seeds are below 2**63, valid for numpy, torch and Python's random"""


def _canonical(value: Any) -> Any:
    # numbers that are equal must hash equally whatever their type, so that
    # t0 = 1240579783 (int), 1240579783.0 (float) and np.int64 give one seed
    if isinstance(value, np.ndarray):
        return tuple(_canonical(v) for v in value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, int | float | str | bytes) or value is None:
        return value
    raise TypeError(
        f"job key element {value!r} of type {type(value).__name__} cannot seed a "
        "job: use numbers, strings or sequences of them"
    )


def job_seed(seed: int, *key: Any) -> int:
    """A deterministic seed for the job identified by ``key``.

    Args:
        seed: the run's seed
        *key: the job's identity: numbers, strings, or sequences/arrays of
            them (integral floats and ints are the same key element)

    Returns:
        an integer in ``[0, 2**63)``, the same on every machine and run
    """
    payload = repr((int(seed), _canonical(key))).encode()
    digest = hashlib.blake2b(payload, digest_size=8, person=b"aframe-job").digest()
    return int.from_bytes(digest, "little") >> (64 - SEED_BITS)
