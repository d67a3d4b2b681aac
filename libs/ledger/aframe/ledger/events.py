"""``EventSet``: clustered network triggers with the livetime that produced them."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from aframe.ledger.recordset import RecordSet


class EventSet(RecordSet):
    """Detection candidates from (time-shifted) background or zero-lag data.

    Parameters: ``detection_statistic``, ``detection_time`` (GPS seconds on
    the unshifted H1 axis), ``shift`` (N, n_ifo) seconds added to each ifo's
    data time. Attrs: ``Tb`` (seconds of analysed livetime; adds on append),
    ``ifos``.

    FAR maths lives in ``aframe.ledger.far``.
    """

    required_parameters: ClassVar[tuple[str, ...]] = (
        "detection_statistic",
        "detection_time",
        "shift",
    )
    required_attrs: ClassVar[tuple[str, ...]] = ("Tb", "ifos")
    additive_attrs: ClassVar[tuple[str, ...]] = ("Tb",)
    time_field: ClassVar[str | None] = "detection_time"

    @property
    def Tb(self) -> float:  # noqa: N802 (the field's name)
        """Analysed livetime, seconds."""
        return float(self.attrs["Tb"])

    @property
    def num_events(self) -> int:
        """Number of events."""
        return len(self)

    @property
    def ifos(self) -> list[str]:
        """Interferometer names, in the column order of ``shift``."""
        return list(self.attrs["ifos"])

    @property
    def detection_statistic(self) -> np.ndarray:
        """(N,) network output statistic of each event."""
        return self.parameters["detection_statistic"]

    @property
    def detection_time(self) -> np.ndarray:
        """(N,) GPS time of each event on the unshifted H1 axis."""
        return self.parameters["detection_time"]
