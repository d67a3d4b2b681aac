"""Excess-power glitch triggers from a multi-Q transform (gwpy's Q tiling).

The strain is cut into overlapping chunks; each chunk is whitened with gwpy and
transformed on every plane of gwpy's ``QTiling`` (the tiles Omicron uses: Q
planes between ``qrange``, frequency rows between ``frange``, bi-square windows
with at most ``mismatch`` energy loss between neighbours). Each row's tile
energies are normalised by their median, so Gaussian noise has mean energy 1,
and a tile's SNR is ``sqrt(2 (E - 1))`` (a signal of optimal SNR ρ matched by a
tile adds ρ²/2 to its mean energy). Tiles above the threshold are clustered in
time (gaps under ``cluster_dt``) and each cluster is reported by its loudest
tile: time, SNR, frequency and Q.

gwpy's ``QPlane.transform`` wraps every row in a TimeSeries; for hours of data
that bookkeeping dominates, so the rows' windows and indices are taken from
gwpy's tiles once per chunk length and the transforms are done with numpy.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import fft

logger = logging.getLogger(__name__)

TRIGGER_FIELDS = ("time", "snr", "frequency", "quality")
_MEDIAN_SAMPLES = 4096


@dataclass
class _Row:
    q: float
    frequency: float
    indices: np.ndarray  # rfft bins the window covers
    window: np.ndarray  # bi-square window over those bins
    destination: np.ndarray  # where the windowed bins go in the ifft buffer
    ntiles: int


class QScanner:
    """The multi-Q transform of chunks of one length and sample rate.

    Args:
        duration: chunk length, in seconds
        sample_rate: sample rate, in Hz
        qrange: ``(low, high)`` Q of the planes
        frange: ``(low, high)`` frequencies of the rows, in Hz (gwpy lowers the
            high end where the lowest Q's tiles would pass Nyquist)
        mismatch: largest fractional energy loss between neighbouring tiles
    """

    def __init__(
        self,
        duration: float,
        sample_rate: float,
        qrange: tuple[float, float],
        frange: tuple[float, float],
        mismatch: float = 0.2,
    ):
        from gwpy.signal.qtransform import QTiling

        self.duration = float(duration)
        self.sample_rate = float(sample_rate)
        with warnings.catch_warnings():
            # gwpy warns when it trims frange to what the Q range allows
            warnings.simplefilter("ignore", UserWarning)
            tiling = QTiling(
                self.duration,
                self.sample_rate,
                mismatch=mismatch,
                qrange=tuple(qrange),
                frange=tuple(frange),
            )
            self.rows: list[_Row] = []
            for plane in tiling:
                for tile in plane:
                    n = tile.ntiles
                    left, _ = tile.padding
                    size = tile.windowsize
                    self.rows.append(
                        _Row(
                            q=float(tile.q),
                            frequency=float(tile.frequency),
                            indices=tile.get_data_indices(),
                            window=tile.get_window().astype(np.float32),
                            destination=(left + np.arange(size) - n // 2) % n,
                            ntiles=n,
                        )
                    )
        frequencies = [row.frequency for row in self.rows]
        self.frange = (min(frequencies), max(frequencies))
        self.qs = sorted({row.q for row in self.rows})

    def tiles(
        self, whitened: np.ndarray, snr_threshold: float
    ) -> dict[str, np.ndarray]:
        """Tiles of one chunk above an SNR threshold.

        Args:
            whitened: the whitened chunk, ``duration * sample_rate`` samples
            snr_threshold: smallest tile SNR kept

        Returns:
            ``time`` (seconds from the chunk start), ``snr``, ``frequency`` (Hz)
            and ``quality`` arrays of the kept tiles
        """
        n = len(whitened)
        # single precision: tile energies need ~1e-3 accuracy, not 1e-12
        spectrum = (fft.rfft(whitened) / n).astype(np.complex64)
        spectrum[1:] *= 2
        # median-normalised energies are exponential with mean 1 / ln 2
        threshold = (1 + snr_threshold**2 / 2) / np.log(2)
        out = {k: [] for k in TRIGGER_FIELDS}
        for row in self.rows:
            buffer = np.zeros(row.ntiles, dtype=np.complex64)
            buffer[row.destination] = spectrum[row.indices] * row.window
            tiles = fft.ifft(buffer, overwrite_x=True)
            energy = tiles.real**2 + tiles.imag**2
            # neighbouring tiles overlap, so a thinned sample gives the same
            # median for a fraction of the cost
            stride = max(1, row.ntiles // _MEDIAN_SAMPLES)
            energy /= np.median(energy[::stride])
            (loud,) = np.nonzero(energy >= threshold)
            if loud.size == 0:
                continue
            out["time"].append(loud * (self.duration / row.ntiles))
            mean_one = energy[loud] * np.log(2)
            out["snr"].append(np.sqrt(2 * np.maximum(mean_one - 1, 0)))
            out["frequency"].append(np.full(loud.size, row.frequency))
            out["quality"].append(np.full(loud.size, row.q))
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}


def cluster(tiles: dict[str, np.ndarray], cluster_dt: float) -> dict[str, np.ndarray]:
    """Merge tiles closer than ``cluster_dt`` in time; keep each cluster's loudest.

    Args:
        tiles: ``time``, ``snr``, ``frequency``, ``quality`` arrays
        cluster_dt: largest gap between consecutive tiles of one cluster, in
            seconds

    Returns:
        one row per cluster, sorted by time
    """
    if len(tiles["time"]) == 0:
        return {k: np.zeros(0) for k in TRIGGER_FIELDS}
    order = np.argsort(tiles["time"], kind="stable")
    times = tiles["time"][order]
    starts = np.concatenate([[0], np.nonzero(np.diff(times) > cluster_dt)[0] + 1])
    loudest = []
    for a, b in zip(starts, [*starts[1:], len(times)]):
        loudest.append(order[a + int(np.argmax(tiles["snr"][order[a:b]]))])
    loudest = np.array(loudest)
    return {k: tiles[k][loudest] for k in TRIGGER_FIELDS}


def find_triggers(
    strain: np.ndarray,
    t0: float,
    sample_rate: float,
    snr_threshold: float,
    frange: tuple[float, float],
    qrange: tuple[float, float] = (3.3166, 108.0),
    cluster_dt: float = 0.5,
    chunk_duration: float = 256.0,
    pad: float = 4.0,
    mismatch: float = 0.2,
    fftlength: float = 2.0,
) -> dict[str, np.ndarray]:
    """Glitch triggers in a stretch of strain.

    Args:
        strain: the raw (unwhitened) strain of one ifo
        t0: GPS time of ``strain[0]``, in seconds
        sample_rate: sample rate, in Hz
        snr_threshold: smallest tile SNR of a trigger
        frange: ``(low, high)`` frequency range searched, in Hz
        qrange: ``(low, high)`` Q range searched
        cluster_dt: tiles closer than this are one trigger, in seconds
        chunk_duration: length of each transformed chunk, in seconds
        pad: seconds at each chunk edge left to the neighbouring chunk
            (whitening and transform edge effects); the first and last ``pad``
            seconds of the strain are not searched
        mismatch: largest energy loss between neighbouring tiles
        fftlength: FFT length of the whitening PSD estimate, in seconds

    Returns:
        ``time`` (GPS), ``snr``, ``frequency`` (Hz), ``quality`` arrays of the
        clustered triggers
    """
    from gwpy.timeseries import TimeSeries

    total = len(strain) / sample_rate
    duration = min(float(chunk_duration), total)
    if duration <= 2 * pad + fftlength:
        logger.warning(
            "%.1f s of strain is too short to search (needs > %.1f s)",
            total,
            2 * pad + fftlength,
        )
        return {k: np.zeros(0) for k in TRIGGER_FIELDS}
    size = int(round(duration * sample_rate))
    scanner = QScanner(duration, sample_rate, qrange, frange, mismatch)
    step = duration - 2 * pad
    starts = list(np.arange(0.0, total - duration, step))
    starts.append(total - duration)

    found = {k: [] for k in TRIGGER_FIELDS}
    kept_until = pad
    for start in starts:
        i0 = int(round(start * sample_rate))
        chunk = TimeSeries(strain[i0 : i0 + size], sample_rate=sample_rate, t0=0.0)
        whitened = chunk.whiten(
            fftlength=fftlength, overlap=fftlength / 2, method="median", fduration=2
        ).value
        tiles = scanner.tiles(whitened, snr_threshold)
        tiles["time"] = tiles["time"] + start
        stop = start + duration - pad
        keep = (tiles["time"] >= kept_until) & (tiles["time"] < stop)
        for k in TRIGGER_FIELDS:
            found[k].append(tiles[k][keep])
        kept_until = stop
    tiles = {k: np.concatenate(v) for k, v in found.items()}
    triggers = cluster(tiles, cluster_dt)
    triggers["time"] = triggers["time"] + t0
    return triggers
