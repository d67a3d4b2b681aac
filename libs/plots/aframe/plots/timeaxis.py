"""GPS times for people: UTC dates and the milliseconds a datetime axis wants.

GPS time runs ahead of UTC by the leap seconds since 1980; astropy converts
with its bundled leap-second table (``aframe.utils.offline`` keeps it from
downloading a newer one), so nothing here needs a network.
"""

from __future__ import annotations

import numpy as np
from astropy.time import Time


def gps_to_utc_ms(gps: np.ndarray | float) -> np.ndarray:
    """UTC as milliseconds since the Unix epoch, for Bokeh ``datetime`` axes.

    Args:
        gps: GPS time(s), s

    Returns:
        float array of the same shape (NaN where ``gps`` is not finite)
    """
    gps = np.asarray(gps, dtype=np.float64)
    out = np.full(gps.shape, np.nan)
    ok = np.isfinite(gps)
    if ok.any():
        out[ok] = Time(gps[ok], format="gps").utc.unix * 1000.0
    return out


def gps_to_utc_iso(gps: np.ndarray | float, precision: int = 3) -> list[str]:
    """UTC dates ``YYYY-MM-DD hh:mm:ss.sss`` of GPS times.

    Args:
        gps: GPS time(s), s
        precision: decimals of the seconds

    Returns:
        one string per time ("" where not finite)
    """
    gps = np.atleast_1d(np.asarray(gps, dtype=np.float64))
    out = [""] * len(gps)
    ok = np.flatnonzero(np.isfinite(gps))
    if len(ok):
        t = Time(gps[ok], format="gps", precision=precision).utc.iso
        for i, text in zip(ok, np.atleast_1d(t)):
            out[i] = str(text)
    return out
