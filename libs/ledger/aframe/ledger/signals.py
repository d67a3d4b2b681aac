"""``SignalScoreSet``: simulated signals and the statistic the network gave each."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from aframe.ledger.recordset import RecordSet


class SignalScoreSet(RecordSet):
    """Signals of known loudness with their detection statistics.

    Training's validation writes one (``validation-signals.hdf5``) for its
    best network, beside the background ``EventSet`` of the same pass, so the
    analysis can put validation and test efficiency side by side with the
    same false-alarm code.

    Parameters: ``snr`` (network SNR, ``aframe.architectures.snr``) and
    ``detection_statistic`` (the largest integrated output around the
    signal). Attrs: ``snr_range`` ([low, high] the SNRs were drawn uniformly
    on), ``inference_sampling_rate``, ``integration_length``,
    ``cluster_window_length`` (the search settings the statistics follow).
    """

    required_parameters: ClassVar[tuple[str, ...]] = ("snr", "detection_statistic")
    required_attrs: ClassVar[tuple[str, ...]] = (
        "snr_range",
        "inference_sampling_rate",
        "integration_length",
        "cluster_window_length",
    )

    @property
    def snr(self) -> np.ndarray:
        """(N,) network SNR of each signal."""
        return self.parameters["snr"]

    @property
    def detection_statistic(self) -> np.ndarray:
        """(N,) statistic of each signal."""
        return self.parameters["detection_statistic"]
