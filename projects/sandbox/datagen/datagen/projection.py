"""Projection of polarisations onto interferometers: antenna patterns and delays.

The response of ifo ``d`` to a signal arriving at the geocentre at GPS time
``t`` is ``h_d(t') = F+ h+(t' - dt_d) + Fx hx(t' - dt_d)``, where the antenna
patterns ``F+``, ``Fx`` are evaluated at the Greenwich mean sidereal time of
``t`` (so ``ra`` is a true right ascension) and ``dt_d`` is the light travel
time from the geocentre to the ifo. The delay is applied exactly, as a phase
``exp(-2 pi i f dt)`` on the spectrum, not rounded to whole samples.
"""

from __future__ import annotations

import numpy as np


class ProjectionError(ValueError):
    """An interferometer or sky position that cannot be projected onto."""


def detector(ifo: str):
    """lal's description of an interferometer (location and response tensor).

    Args:
        ifo: prefix such as ``H1``, ``L1``, ``V1``

    Returns:
        the ``lal.Detector``
    """
    import lal

    try:
        return lal.cached_detector_by_prefix[ifo]
    except KeyError:
        known = ", ".join(sorted(lal.cached_detector_by_prefix))
        raise ProjectionError(
            f"unknown interferometer {ifo!r} (known: {known})"
        ) from None


def antenna_response(
    ifo: str, ra: np.ndarray, dec: np.ndarray, psi: np.ndarray, gps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Plus and cross antenna patterns.

    Args:
        ifo: interferometer prefix
        ra: right ascension, rad
        dec: declination, rad
        psi: polarisation angle, rad
        gps: GPS time of the signal at the geocentre, seconds

    Returns:
        ``(F+, Fx)`` arrays of the broadcast shape of the inputs
    """
    import lal

    response = detector(ifo).response
    ra, dec, psi, gps = np.broadcast_arrays(*map(np.asarray, (ra, dec, psi, gps)))
    fplus = np.empty(ra.shape)
    fcross = np.empty(ra.shape)
    for i in np.ndindex(ra.shape):
        gmst = lal.GreenwichMeanSiderealTime(float(gps[i]))
        fplus[i], fcross[i] = lal.ComputeDetAMResponse(
            response, float(ra[i]), float(dec[i]), float(psi[i]), gmst
        )
    return fplus, fcross


def geocenter_delay(
    ifo: str, ra: np.ndarray, dec: np.ndarray, gps: np.ndarray
) -> np.ndarray:
    """Arrival time at the ifo minus arrival time at the geocentre.

    Args:
        ifo: interferometer prefix
        ra: right ascension, rad
        dec: declination, rad
        gps: GPS time at the geocentre, seconds

    Returns:
        delays in seconds, of the broadcast shape of the inputs
    """
    import lal

    location = detector(ifo).location
    ra, dec, gps = np.broadcast_arrays(*map(np.asarray, (ra, dec, gps)))
    out = np.empty(ra.shape)
    for i in np.ndindex(ra.shape):
        out[i] = lal.TimeDelayFromEarthCenter(
            location, float(ra[i]), float(dec[i]), float(gps[i])
        )
    return out


def delay_phase(frequencies: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """The spectral factor that delays a signal by ``delay`` seconds.

    Args:
        frequencies: (F,) Hz
        delay: (...,) seconds

    Returns:
        (..., F) complex ``exp(-2 pi i f delay)``
    """
    return np.exp(-2j * np.pi * np.asarray(delay)[..., None] * frequencies)


def project_spectra(
    cross: np.ndarray,
    plus: np.ndarray,
    frequencies: np.ndarray,
    fplus: np.ndarray,
    fcross: np.ndarray,
    delay: np.ndarray,
) -> np.ndarray:
    """One ifo's response in the frequency domain.

    Args:
        cross: (..., F) spectrum of the cross polarisation
        plus: (..., F) spectrum of the plus polarisation
        frequencies: (F,) Hz
        fplus: (...,) plus antenna pattern
        fcross: (...,) cross antenna pattern
        delay: (...,) seconds from geocentre to ifo

    Returns:
        (..., F) spectrum of ``F+ h+ + Fx hx`` delayed by ``delay``
    """
    fplus, fcross = np.asarray(fplus)[..., None], np.asarray(fcross)[..., None]
    return (fplus * plus + fcross * cross) * delay_phase(frequencies, delay)


def project(
    cross: np.ndarray,
    plus: np.ndarray,
    ifos: list[str],
    ra: np.ndarray,
    dec: np.ndarray,
    psi: np.ndarray,
    gps: np.ndarray,
    sample_rate: float,
) -> np.ndarray:
    """Time-domain responses of several ifos to geocentre polarisations.

    The waveforms are treated as periodic over their length when delayed;
    with a tapered start and zeros after the ringdown nothing wraps around.

    Args:
        cross: (N, T) cross polarisation at the geocentre
        plus: (N, T) plus polarisation at the geocentre
        ifos: interferometer prefixes
        ra: (N,) right ascension, rad
        dec: (N,) declination, rad
        psi: (N,) polarisation angle, rad
        gps: (N,) geocentre GPS time of each signal's coalescence, seconds
        sample_rate: Hz

    Returns:
        (n_ifo, N, T) float64 responses; sample ``i`` of ifo ``d`` is the
        strain at the time sample ``i`` of the geocentre waveform has, on that
        ifo's clock (the light travel delay is inside the response)
    """
    size = cross.shape[-1]
    frequencies = np.fft.rfftfreq(size, 1 / sample_rate)
    cross_fd, plus_fd = np.fft.rfft(cross), np.fft.rfft(plus)
    out = np.empty((len(ifos), *cross.shape))
    for k, ifo in enumerate(ifos):
        fplus, fcross = antenna_response(ifo, ra, dec, psi, gps)
        delay = geocenter_delay(ifo, ra, dec, gps)
        spectrum = project_spectra(cross_fd, plus_fd, frequencies, fplus, fcross, delay)
        out[k] = np.fft.irfft(spectrum, n=size)
    return out
