"""How much of the loudest background comes from glitches.

When the test background is simulated with glitches, each background file
records the glitches added to each detector (``injected_glitches``). A
background event is *near a glitch* when, in some detector, its time as seen
there (``detection_time + shift[ifo]``) lies within ``window`` seconds of a
glitch of that detector. The share of the loudest events near a glitch,
against the share of all analysed time that is near one (what chance gives),
says how much the tail is made of glitches the network did not learn to
reject.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aframe.utils.background import (
    BackgroundError,
    list_background,
    read_injected_glitches,
)


def glitch_times(background_dir: Path, ifos: list[str]) -> dict[str, np.ndarray]:
    """Sorted GPS times of every recorded glitch, per detector.

    Args:
        background_dir: the test background directory
        ifos: detectors

    Returns:
        ifo → (n,) times (empty when nothing is recorded)
    """
    out = {ifo: [] for ifo in ifos}
    for item in list_background(background_dir, ifos):
        for ifo in ifos:
            out[ifo].append(read_injected_glitches(item.path, ifo)["time"])
    return {
        ifo: np.sort(np.concatenate(times)) if times else np.zeros(0)
        for ifo, times in out.items()
    }


def _near(times: np.ndarray, glitches: np.ndarray, window: float) -> np.ndarray:
    if len(glitches) == 0:
        return np.zeros(len(times), dtype=bool)
    i = np.clip(np.searchsorted(glitches, times), 1, len(glitches) - 1)
    nearest = np.minimum(np.abs(glitches[i] - times), np.abs(glitches[i - 1] - times))
    return nearest <= window


def loudest_near_glitches(
    background: Any,
    background_dir: Path,
    count: int = 100,
    window: float = 2.0,
) -> dict[str, Any] | None:
    """The share of the loudest background events within ``window`` of a glitch.

    Args:
        background: the background ``EventSet`` (``detection_time``, ``shift``,
            ``ifos``)
        background_dir: the test background directory
        count: how many of the loudest events to look at
        window: seconds either side of a glitch
    Returns:
        ``count``, ``near`` (how many of them are near a glitch), ``fraction``,
        ``window_s`` and ``chance`` (the share of all background events near
        one), or None when the background records no glitches
    """
    ifos = list(background.ifos)
    try:
        glitches = glitch_times(Path(background_dir), ifos)
    except BackgroundError:
        return None
    if not any(len(g) for g in glitches.values()):
        return None
    stat = np.asarray(background.parameters["detection_statistic"], dtype=float)
    time = np.asarray(background.parameters["detection_time"], dtype=float)
    shift = np.asarray(background.parameters["shift"], dtype=float).reshape(
        len(time), len(ifos)
    )
    near = np.zeros(len(time), dtype=bool)
    for j, ifo in enumerate(ifos):
        near |= _near(time + shift[:, j], glitches[ifo], window)
    loudest = np.argsort(stat)[::-1][:count]
    return {
        "count": int(len(loudest)),
        "near": int(near[loudest].sum()),
        "fraction": float(near[loudest].mean()) if len(loudest) else None,
        "window_s": float(window),
        "chance": float(near.mean()) if len(near) else None,
    }
