"""Timeslide arithmetic: how much background livetime a set of shifts buys.

Background for the false-alarm rate comes from shifting one detector's strain
against the other's by multiples of ``shift_step`` seconds, far longer than the
light travel time, so no real signal stays coincident. H1 is never shifted;
ifo ``i`` is shifted by ``i * k * shift_step`` for shift index ``k = 1..K``.

Within one segment of ``duration`` seconds, a shift of ``s`` seconds leaves
``duration - |s|`` seconds where both detectors have data, and the first
``burn_in`` seconds of each stream only fill the PSD/whitening state, so they
produce no statistic. The livetime is counted per segment and per shift, and a
(segment, shift) pair that leaves no analysable time contributes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def burn_in(
    psd_length: float,
    kernel_length: float,
    fduration: float,
    integration_length: float,
) -> float:
    """Seconds at the start of a stream before the search's first statistic.

    The one definition (datagen plans injections and shifts with it, infer
    counts livetime with it): the PSD estimate, then a whole whitening
    window (the kernel and the filter's ``fduration``), then a full
    integration window of network outputs.

    Args:
        psd_length: strain before each window whose PSD whitens it, in seconds
        kernel_length: the network's input, in seconds
        fduration: the whitening filter's length, in seconds
        integration_length: the boxcar over the network's outputs, in seconds

    Returns:
        ``psd_length + kernel_length + fduration + integration_length``
    """
    parts = {
        "psd_length": psd_length,
        "kernel_length": kernel_length,
        "fduration": fduration,
        "integration_length": integration_length,
    }
    for name, value in parts.items():
        if not value >= 0:
            raise ValueError(f"{name} must not be negative, got {value} s")
    return float(psd_length + kernel_length + fduration + integration_length)


def shift_livetime(duration: float, shift: float, burn_in: float) -> float:
    """Analysable seconds of one segment under one shift.

    Args:
        duration: length of the segment, in seconds
        shift: offset of one detector relative to the other, in seconds; its
            magnitude is lost at the end of the segment
        burn_in: seconds at the start spent filling the PSD/whitening state

    Returns:
        ``max(0, duration - |shift| - burn_in)``, in seconds
    """
    return max(0.0, float(duration) - abs(float(shift)) - float(burn_in))


def _check(shift_step: float, burn_in: float) -> None:
    if not shift_step > 0:
        raise ValueError(f"shift_step must be positive, got {shift_step} s")
    if burn_in < 0:
        raise ValueError(f"burn_in must not be negative, got {burn_in} s")


def livetime_for_shifts(
    durations: Sequence[float], num_shifts: int, shift_step: float, burn_in: float
) -> float:
    """Background livetime of shifts ``k = 1..num_shifts`` over all segments.

    Zero-lag (``k = 0``) is not background and is excluded.

    Args:
        durations: length of each segment, in seconds
        num_shifts: the number of shifts, K
        shift_step: the shift increment, in seconds
        burn_in: seconds at the start of each stream spent filling the
            PSD/whitening state

    Returns:
        the summed livetime, in seconds
    """
    _check(shift_step, burn_in)
    if num_shifts < 0:
        raise ValueError(f"num_shifts must not be negative, got {num_shifts}")
    d = np.asarray(durations, dtype=float).reshape(-1, 1)
    k = np.arange(1, int(num_shifts) + 1, dtype=float).reshape(1, -1)
    live = np.clip(d - k * shift_step - burn_in, 0.0, None)
    return float(live.sum())


def _max_useful_shifts(durations: np.ndarray, shift_step: float, burn_in: float) -> int:
    # the largest k with d - k * step - burn_in > 0 for some segment; beyond it
    # no shift adds livetime
    if durations.size == 0:
        return 0
    room = float(durations.max()) - burn_in
    if room <= 0:
        return 0
    return int(np.ceil(room / shift_step)) - 1


def num_shifts_for_livetime(
    durations: Sequence[float],
    Tb: float,
    shift_step: float,
    burn_in: float,
    max_shifts: int = 100_000,
) -> int:
    """The fewest shifts whose background livetime reaches ``Tb``.

    Args:
        durations: length of each segment, in seconds
        Tb: the background livetime wanted, in seconds
        shift_step: the shift increment, in seconds
        burn_in: seconds at the start of each stream spent filling the
            PSD/whitening state
        max_shifts: the most shifts to consider

    Returns:
        the smallest K with ``livetime_for_shifts(durations, K, ...) >= Tb``;
        0 when ``Tb`` is 0

    Raises:
        ValueError: when no number of shifts up to ``max_shifts`` reaches
            ``Tb``; the message gives the largest reachable livetime
    """
    _check(shift_step, burn_in)
    if Tb < 0:
        raise ValueError(f"Tb must not be negative, got {Tb} s")
    if Tb == 0:
        return 0
    d = np.asarray(durations, dtype=float).ravel()
    limit = min(int(max_shifts), _max_useful_shifts(d, shift_step, burn_in))
    # cumulative livetime after each k; evaluated in blocks so a large
    # max_shifts does not allocate (segments x max_shifts) at once
    total = 0.0
    block = 4096
    for start in range(1, limit + 1, block):
        k = np.arange(start, min(start + block, limit + 1), dtype=float)
        per_shift = np.clip(d[:, None] - k[None, :] * shift_step - burn_in, 0.0, None)
        cumulative = total + np.cumsum(per_shift.sum(axis=0))
        reached = np.nonzero(cumulative >= Tb)[0]
        if reached.size:
            return int(k[reached[0]])
        total = float(cumulative[-1])
    raise ValueError(
        f"Tb = {Tb} s cannot be reached: at most {total} s of background with "
        f"{limit} shifts of {shift_step} s over {d.size} segment(s) "
        f"(total duration {float(d.sum())} s, burn-in {burn_in} s, "
        f"max_shifts {max_shifts})"
    )


def shift_vectors(
    num_shifts: int, shift_step: float, num_ifos: int = 2, zero_lag: bool = False
) -> np.ndarray:
    """The seconds added to each ifo's time for every shift index.

    Args:
        num_shifts: the number of shifts, K
        shift_step: the shift increment, in seconds
        num_ifos: the number of detectors; the first (H1) is never shifted
        zero_lag: prepend a row of zeros for the unshifted (zero-lag) analysis

    Returns:
        array of shape (K, num_ifos), or (K + 1, num_ifos) with ``zero_lag``,
        whose row k holds ``i * k * shift_step`` for ifo ``i``
    """
    if num_shifts < 0:
        raise ValueError(f"num_shifts must not be negative, got {num_shifts}")
    first = 0 if zero_lag else 1
    k = np.arange(first, int(num_shifts) + 1, dtype=float)
    return k[:, None] * np.arange(num_ifos, dtype=float)[None, :] * shift_step
