"""``EventSet``: clustered network triggers with the livetime that produced them."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from aframe.ledger.recordset import RecordSet


class Detections:
    """The columns events and the candidates made of them share.

    A mixin of ``RecordSet`` subclasses with the parameters
    ``detection_statistic`` and ``detection_time`` and the attr ``ifos``.
    """

    parameters: dict[str, np.ndarray]
    attrs: dict[str, Any]

    @property
    def ifos(self) -> list[str]:
        """Interferometer names, in the column order of ``shift`` (``ifo_time``)."""
        return list(self.attrs["ifos"])

    @property
    def detection_statistic(self) -> np.ndarray:
        """(N,) network output statistic of each record."""
        return self.parameters["detection_statistic"]

    @property
    def detection_time(self) -> np.ndarray:
        """(N,) GPS time of each record on the unshifted H1 axis."""
        return self.parameters["detection_time"]


class EventSet(Detections, RecordSet):
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
