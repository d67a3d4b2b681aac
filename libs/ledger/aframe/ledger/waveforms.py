"""``WaveformSet``: the training signals (plus and cross polarisations)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from aframe.ledger.recordset import RecordSet

#: the prior draws every signal record carries (masses in solar masses,
#: ``mass_1``/``mass_2`` in the detector frame, distance in Mpc, angles in rad)
SOURCE_PARAMETERS: tuple[str, ...] = (
    "mass_1",
    "mass_2",
    "mass_1_source",
    "mass_2_source",
    "redshift",
    "luminosity_distance",
    "a_1",
    "a_2",
    "tilt_1",
    "tilt_2",
    "phi_12",
    "phi_jl",
    "theta_jn",
    "phase",
)

#: metadata describing how the waveforms were generated
WAVEFORM_ATTRS: tuple[str, ...] = (
    "sample_rate",
    "duration",
    "coalescence_time",
    "approximant",
    "minimum_frequency",
    "reference_frequency",
    "prior",
    "seed",
)


class SampledWaveforms:
    """Sample-rate helpers of sets whose waveforms share ``coalescence_time``."""

    attrs: dict

    @property
    def sample_rate(self) -> float:
        """Sample rate of the waveforms, Hz."""
        return float(self.attrs["sample_rate"])

    @property
    def coalescence_sample(self) -> int:
        """Index of the coalescence sample in every waveform."""
        return int(round(self.attrs["coalescence_time"] * self.sample_rate))


class WaveformSet(SampledWaveforms, RecordSet):
    """Polarisations of simulated signals with the parameters that made them.

    Parameters: ``SOURCE_PARAMETERS`` plus any other key of the prior.
    Waveforms: ``cross`` and ``plus`` (N, T) float32 strain.
    Attrs: ``sample_rate`` (Hz), ``duration`` (s), ``coalescence_time`` (s
    from a waveform's first sample to its coalescence sample),
    ``approximant``, ``minimum_frequency`` and ``reference_frequency`` (Hz),
    ``prior`` (name), ``seed``.
    """

    required_parameters: ClassVar[tuple[str, ...]] = SOURCE_PARAMETERS
    required_attrs: ClassVar[tuple[str, ...]] = WAVEFORM_ATTRS
    waveform_dtype: ClassVar[type | None] = np.float32

    def required_waveforms(self) -> tuple[str, ...]:
        return ("cross", "plus")

    def polarizations(self) -> np.ndarray:
        """(N, 2, T) float32 array, polarisations in the order (cross, plus)."""
        return np.stack([self.waveforms["cross"], self.waveforms["plus"]], axis=1)
