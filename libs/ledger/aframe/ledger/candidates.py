"""``CandidateSet``: search candidates with their false-alarm rates."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from aframe.ledger.events import Detections, EventSet
from aframe.ledger.far import far, livetime, seconds_per
from aframe.ledger.recordset import RecordSet


class CandidateSet(Detections, RecordSet):
    """Events of a search (zero-lag) ranked against a timeslide background.

    Parameters: ``detection_statistic``, ``detection_time`` (GPS seconds on
    the unshifted H1 axis, the estimated merger time), ``shift`` (N, n_ifo)
    seconds added to each ifo's data time (zeros for zero-lag), ``ifo_time``
    (N, n_ifo) GPS time of the event in each ifo's own data
    (``detection_time + shift``), ``far`` (per ``far_unit``: ``max(nb, 1)/Tb``,
    ``aframe.ledger.far.far``) and ``ifar`` (``1/far``, in ``far_unit``s).
    Attrs: ``Tb`` (seconds of background livetime the rates come from),
    ``ifos``, ``model`` (the key of the exported model), ``far_unit``
    (``year``), ``num_background_events``.
    """

    required_parameters: ClassVar[tuple[str, ...]] = (
        "detection_statistic",
        "detection_time",
        "shift",
        "ifo_time",
        "far",
        "ifar",
    )
    required_attrs: ClassVar[tuple[str, ...]] = (
        "Tb",
        "ifos",
        "model",
        "far_unit",
        "num_background_events",
    )
    time_field: ClassVar[str | None] = "detection_time"

    def _empty_parameter(self, name: str) -> np.ndarray:
        if name == "ifo_time" and isinstance(self.attrs.get("ifos"), list):
            return np.zeros((0, len(self.attrs["ifos"])))
        return super()._empty_parameter(name)

    def validate(self) -> None:
        """The record-set checks, and ``ifo_time`` shaped like ``shift``."""
        super().validate()
        times, shift = self.parameters["ifo_time"], self.parameters["shift"]
        if times.shape != shift.shape:
            raise self._error(
                f"parameters/ifo_time has shape {times.shape}, expected "
                f"{shift.shape} (that of parameters/shift)"
            )
        seconds_per(str(self.attrs["far_unit"]))

    @classmethod
    def from_events(
        cls,
        events: EventSet,
        background: EventSet,
        model: str,
        unit: str = "year",
        attrs: dict[str, Any] | None = None,
    ) -> CandidateSet:
        """Rank events against a background, loudest first.

        Args:
            events: the candidates' events (zero-lag)
            background: the timeslide background (``Tb`` > 0)
            model: the exported model's key
            unit: the rates' time unit
            attrs: more metadata (the search's settings)

        Returns:
            the candidates, sorted by decreasing statistic
        """
        order = np.argsort(-events.detection_statistic, kind="stable")
        stats = events.detection_statistic[order]
        times = events.detection_time[order]
        shift = np.asarray(events.parameters["shift"], dtype=float)[order]
        shift = shift.reshape(len(stats), len(events.ifos))
        rates = np.atleast_1d(far(background, stats, unit=unit)) if len(stats) else []
        rates = np.asarray(rates, dtype=np.float64)
        return cls(
            {
                "detection_statistic": stats,
                "detection_time": times,
                "shift": shift,
                "ifo_time": times[:, None] + shift,
                "far": rates,
                "ifar": 1.0 / rates,
            },
            attrs={
                **(attrs or {}),
                "Tb": livetime(background),
                "ifos": list(events.ifos),
                "model": model,
                "far_unit": unit,
                "num_background_events": len(background),
            },
        )

    @property
    def far(self) -> np.ndarray:
        """(N,) false-alarm rate of each candidate, per ``far_unit``."""
        return self.parameters["far"]

    @property
    def ifar(self) -> np.ndarray:
        """(N,) inverse false-alarm rate, in ``far_unit``s."""
        return self.parameters["ifar"]
