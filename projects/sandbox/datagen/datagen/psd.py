"""Named detector noise curves: bilby's bundled curves, lalsimulation, files.

A curve is looked up by name, in this order: a path to a two-column text file
(frequency in Hz, then ASD in 1/√Hz or PSD in 1/Hz); a curve shipped with bilby
(``aLIGO_O4_high_asd.txt``, with or without ``.txt``); a lalsimulation analytic
PSD (``aLIGOZeroDetHighPower`` for ``SimNoisePSDaLIGOZeroDetHighPower``).
Every curve is returned as a one-sided PSD in 1/Hz.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

DEFAULT_PSD = "aLIGO_O4_high_asd.txt"
"""bilby's O4 high-sensitivity aLIGO design curve (LIGO-T2000012)"""

_LALSIM_PREFIX = "SimNoisePSD"
# a PSD is ~1e-46 /Hz where an ASD is ~1e-23 /√Hz: anything below this is a PSD
_PSD_MAGNITUDE = 1e-30


class PSDError(ValueError):
    """A noise curve that cannot be found or read."""


def _bilby_directory() -> Path:
    # located without importing bilby, whose import takes seconds
    spec = importlib.util.find_spec("bilby")
    if spec is None or not spec.submodule_search_locations:
        raise PSDError("bilby is not installed: its noise curves are unavailable")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "gw" / "detector" / "noise_curves"


def bilby_curves() -> dict[str, Path]:
    """The noise curves bundled with bilby.

    Returns:
        file name → path
    """
    return {p.name: p for p in sorted(_bilby_directory().glob("*.txt"))}


def lalsimulation_curves() -> list[str]:
    """Names of lalsimulation's analytic and tabulated PSDs (without prefix).

    Returns:
        e.g. ``["aLIGOZeroDetHighPower", ...]``
    """
    import lalsimulation

    return sorted(
        name[len(_LALSIM_PREFIX) :]
        for name in dir(lalsimulation)
        if name.startswith(_LALSIM_PREFIX)
        and not name.endswith("Ptr")
        and name not in (_LALSIM_PREFIX, f"{_LALSIM_PREFIX}FromFile")
    )


def read_curve_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a two-column noise curve file as a PSD.

    Whether the second column is an ASD or a PSD is taken from the file name
    (``asd`` or ``psd`` in it), else from its magnitude.

    Args:
        path: the text file

    Returns:
        frequencies in Hz and the one-sided PSD in 1/Hz
    """
    path = Path(path).expanduser()
    try:
        data = np.loadtxt(path, ndmin=2)
    except (OSError, ValueError) as err:
        raise PSDError(f"{path}: not a two-column noise curve ({err})") from err
    if data.shape[1] < 2 or len(data) < 2:
        raise PSDError(f"{path}: expected two columns (frequency, ASD or PSD)")
    frequencies, values = data[:, 0], data[:, 1]
    if np.any(np.diff(frequencies) <= 0) or frequencies[0] < 0:
        raise PSDError(f"{path}: frequencies must be positive and increasing")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise PSDError(f"{path}: noise values must be finite and positive")
    name = path.name.lower()
    if "asd" in name:
        is_asd = True
    elif "psd" in name:
        is_asd = False
    else:
        is_asd = np.median(values) > _PSD_MAGNITUDE
    return frequencies, values**2 if is_asd else values


def _log_interpolator(
    frequencies: np.ndarray, psd: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    keep = frequencies > 0
    log_f, log_p = np.log(frequencies[keep]), np.log(psd[keep])

    def evaluate(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=float)
        # below and above the tabulated band the curve is held at its edge values
        clipped = np.clip(f, np.exp(log_f[0]), np.exp(log_f[-1]))
        return np.exp(np.interp(np.log(clipped), log_f, log_p))

    return evaluate


def _lalsimulation_curve(name: str) -> Callable[[np.ndarray], np.ndarray]:
    import lal
    import lalsimulation

    function = getattr(lalsimulation, _LALSIM_PREFIX + name)
    try:
        function(100.0)
        scalar = True
    except TypeError:
        scalar = False
    # tabulate once, finely enough for the steep low-frequency wall
    df, fmax = 0.0625, 8192.0
    grid = np.arange(0.0, fmax + df, df)
    if scalar:
        values = np.array([function(f) if f > 0 else 0.0 for f in grid])
    else:
        series = lal.CreateREAL8FrequencySeries(
            name, 0, 0.0, df, lal.DimensionlessUnit, len(grid)
        )
        series.data.data[:] = 0.0
        function(series, 0.0)
        values = np.array(series.data.data)
    good = np.isfinite(values) & (values > 0)
    if good.sum() < 2:
        raise PSDError(f"lalsimulation PSD {name} returned no positive values")
    return _log_interpolator(grid[good], values[good])


@functools.lru_cache(maxsize=16)
def load_psd(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """A noise curve by name, as a function of frequency.

    Args:
        name: a file path, a bilby curve name or a lalsimulation PSD name

    Returns:
        ``psd(frequencies)``: the one-sided PSD in 1/Hz at frequencies in Hz,
        held constant outside the curve's tabulated band
    """
    path = Path(name).expanduser()
    if path.is_file():
        return _log_interpolator(*read_curve_file(path))
    curves = bilby_curves()
    for candidate in (name, f"{name}.txt"):
        if candidate in curves:
            return _log_interpolator(*read_curve_file(curves[candidate]))
    known = lalsimulation_curves()
    bare = name[len(_LALSIM_PREFIX) :] if name.startswith(_LALSIM_PREFIX) else name
    if bare in known:
        return _lalsimulation_curve(bare)
    examples = [
        DEFAULT_PSD,
        "aLIGO_ZERO_DET_high_P_psd.txt",
        "aLIGO_mid_asd.txt",
        "aLIGOZeroDetHighPower",
        "aLIGODesignSensitivityT1800044",
    ]
    raise PSDError(
        f"unknown PSD {name!r}: not a file, a bilby curve or a lalsimulation PSD "
        f"(e.g. {', '.join(examples)}; {len(curves)} bilby curves, "
        f"{len(known)} lalsimulation PSDs available)"
    )


def psd_on_grid(name: str, frequencies: np.ndarray) -> np.ndarray:
    """Evaluate a named noise curve.

    Args:
        name: a file path, a bilby curve name or a lalsimulation PSD name
        frequencies: frequencies in Hz

    Returns:
        the one-sided PSD in 1/Hz
    """
    return load_psd(str(name))(frequencies)
