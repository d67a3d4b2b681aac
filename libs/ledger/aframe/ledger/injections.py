"""``InjectionSet`` (accepted test injections) and ``RejectedParameterSet``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from aframe.ledger.recordset import RecordSet
from aframe.ledger.waveforms import (
    SOURCE_PARAMETERS,
    WAVEFORM_ATTRS,
    SampledWaveforms,
)

#: sky position and polarisation of an injection, radians
EXTRINSIC_PARAMETERS: tuple[str, ...] = ("ra", "dec", "psi")


def _ifos_of(attrs: dict) -> list[str]:
    ifos = attrs.get("ifos")
    return list(ifos) if isinstance(ifos, list) else []


class InjectionSet(SampledWaveforms, RecordSet):
    """Projected detector responses of the accepted test injections.

    Parameters: everything of ``WaveformSet`` plus ``ra``, ``dec``, ``psi``,
    ``injection_time`` (GPS geocentre coalescence time on the unshifted H1
    axis), ``shift`` (N, n_ifo) seconds added to each ifo's data time,
    ``snr`` (network) and ``{ifo}_snr``.
    Waveforms: one (N, T) float32 response per ifo, named by the ifo.
    Attrs: those of ``WaveformSet`` plus ``ifos``, ``num_injections`` (every
    draw, accepted and rejected; adds on append) and ``snr_threshold``.

    ``read`` filters on ``injection_time`` (start/end) and ``shift``; the
    ``num_injections`` of a filtered read is still the file's total.
    """

    required_parameters: ClassVar[tuple[str, ...]] = (
        *SOURCE_PARAMETERS,
        *EXTRINSIC_PARAMETERS,
        "injection_time",
        "shift",
        "snr",
    )
    required_attrs: ClassVar[tuple[str, ...]] = (
        *WAVEFORM_ATTRS,
        "ifos",
        "num_injections",
        "snr_threshold",
    )
    additive_attrs: ClassVar[tuple[str, ...]] = ("num_injections",)
    time_field: ClassVar[str | None] = "injection_time"
    waveform_dtype: ClassVar[type | None] = np.float32

    def all_required_parameters(self) -> tuple[str, ...]:
        return (
            *self.required_parameters,
            *(f"{ifo}_snr" for ifo in _ifos_of(self.attrs)),
        )

    def required_waveforms(self) -> tuple[str, ...]:
        return tuple(_ifos_of(self.attrs))

    @property
    def ifos(self) -> list[str]:
        """Interferometer names, in the column order of ``shift``."""
        return list(self.attrs["ifos"])

    def inject(
        self,
        x: np.ndarray,
        t0: float,
        sample_rate: float | None = None,
        ifos: Sequence[str] | None = None,
        inplace: bool = False,
    ) -> np.ndarray:
        """Add every response that overlaps ``x`` to it.

        Record k's response is placed so that its coalescence sample
        (``attrs["coalescence_time"]``) lands on the sample of ``x`` nearest
        to ``injection_time[k]`` (ties round up): sub-sample timing is rounded
        to the nearest sample, an error of at most half a sample. Responses
        that straddle either edge of ``x`` contribute the part inside it;
        overlapping responses add up. Every record of this set is used:
        select one shift first (``get_shift`` or ``read(shifts=...)``).

        Args:
            x: (n_ifo, T) strain, rows ordered as ``ifos``
            t0: GPS time of ``x[:, 0]`` on the unshifted (H1) time axis,
                seconds; for shifted data pass the unshifted axis' time
            sample_rate: sample rate of ``x`` in Hz; must equal the set's
                (checked when given)
            ifos: names of the rows of ``x`` (default: ``attrs["ifos"]``)
            inplace: add into ``x`` itself (a float array) instead of a copy

        Returns:
            ``x`` plus the overlapping responses (``x`` itself if
            ``inplace``, otherwise a new array with ``x``'s float dtype)
        """
        if not self.waveforms:
            raise self._error("cannot inject: this set holds parameters only")
        fs = self.sample_rate
        if sample_rate is not None and abs(sample_rate - fs) > 1e-9 * fs:
            raise self._error(
                f"cannot inject into data at {sample_rate} Hz: responses are "
                f"sampled at {fs} Hz"
            )
        ifos = list(ifos) if ifos is not None else self.ifos
        x = (
            np.asarray(x)
            if inplace
            else np.array(x, dtype=np.result_type(x, np.float32))
        )
        if x.ndim != 2 or x.shape[0] != len(ifos):
            raise self._error(
                f"cannot inject into data of shape {x.shape}: expected "
                f"({len(ifos)}, samples) for ifos {', '.join(ifos)}"
            )
        for ifo in ifos:
            if ifo not in self.waveforms:
                raise self._error(f"cannot inject into {ifo}: no waveforms/{ifo}")
        if len(self) == 0:
            return x

        size = x.shape[1]
        length = self.waveforms[ifos[0]].shape[1]
        offset = (self.parameters["injection_time"] - t0) * fs
        starts = np.floor(offset + 0.5).astype(np.int64) - self.coalescence_sample
        overlapping = np.flatnonzero((starts < size) & (starts + length > 0))
        # one slice per response: consecutive adds into the same samples
        # accumulate, unlike a single fancy-indexed `x[:, idx] += w`
        for k in overlapping:
            lo, hi = max(starts[k], 0), min(starts[k] + length, size)
            for row, ifo in enumerate(ifos):
                x[row, lo:hi] += self.waveforms[ifo][k, lo - starts[k] : hi - starts[k]]
        return x


class RejectedParameterSet(RecordSet):
    """Draws that failed the SNR threshold: parameters only, with their SNR.

    Needed so the sensitive-volume Monte Carlo sees every draw.
    Parameters: ``SOURCE_PARAMETERS``, ``ra``, ``dec``, ``psi``, ``snr`` (and
    any other key the generator stored). Attrs: ``num_injections`` (the
    same total as the accepted set's; adds on append), ``snr_threshold``,
    ``prior``.
    """

    required_parameters: ClassVar[tuple[str, ...]] = (
        *SOURCE_PARAMETERS,
        *EXTRINSIC_PARAMETERS,
        "snr",
    )
    required_attrs: ClassVar[tuple[str, ...]] = (
        "num_injections",
        "snr_threshold",
        "prior",
    )
    additive_attrs: ClassVar[tuple[str, ...]] = ("num_injections",)
