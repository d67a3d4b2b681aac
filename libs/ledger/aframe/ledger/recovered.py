"""``RecoveredInjectionSet``: each injection with the event that found it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np

from aframe.ledger.errors import LedgerError
from aframe.ledger.events import EventSet
from aframe.ledger.injections import InjectionSet
from aframe.ledger.recordset import RecordSet, shift_mask


def _match_one_shift(
    injection_time: np.ndarray,
    event_time: np.ndarray,
    event_stat: np.ndarray,
    match_window: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Match injections to events of one shift.

    Each event is claimed by the injection nearest to it in time (the earlier
    one on a tie) if that injection lies within ``match_window``; each
    injection then keeps the loudest event it claimed.

    Returns:
        (event index or -1 per injection, found mask)
    """
    matched = np.full(len(injection_time), -1, dtype=np.int64)
    if len(injection_time) == 0 or len(event_time) == 0:
        return matched, matched >= 0
    order = np.argsort(injection_time, kind="stable")
    times = injection_time[order]
    pos = np.searchsorted(times, event_time)
    before = np.clip(pos - 1, 0, len(times) - 1)
    after = np.clip(pos, 0, len(times) - 1)
    dt_before = np.abs(event_time - times[before])
    dt_after = np.abs(times[after] - event_time)
    nearest = np.where(dt_after < dt_before, after, before)
    dt = np.minimum(dt_before, dt_after)
    claimed = np.flatnonzero(dt <= match_window)
    if len(claimed) == 0:
        return matched, matched >= 0
    owner = order[nearest[claimed]]
    # sort by (owner, statistic): the last event of each owner is its loudest
    by = np.lexsort((event_stat[claimed], owner))
    owner, claimed = owner[by], claimed[by]
    last = np.flatnonzero(np.append(owner[1:] != owner[:-1], True))
    matched[owner[last]] = claimed[last]
    return matched, matched >= 0


class RecoveredInjectionSet(RecordSet):
    """Injection parameters with the detection statistic of the matching event.

    Parameters: those of ``InjectionSet`` (no waveforms) plus
    ``detection_statistic`` (-inf when missed), ``detection_time`` (GPS, NaN
    when missed) and ``recovered`` (bool). Attrs: ``Tb`` (s), ``num_injections``
    (both add on append), ``ifos``, ``match_window`` (s), and the injection
    set's other metadata.
    """

    required_parameters: ClassVar[tuple[str, ...]] = (
        *InjectionSet.required_parameters,
        "detection_statistic",
        "detection_time",
        "recovered",
    )
    required_attrs: ClassVar[tuple[str, ...]] = (
        "Tb",
        "num_injections",
        "ifos",
        "match_window",
    )
    additive_attrs: ClassVar[tuple[str, ...]] = ("Tb", "num_injections")
    time_field: ClassVar[str | None] = "injection_time"

    def all_required_parameters(self) -> tuple[str, ...]:
        ifos = self.attrs.get("ifos")
        ifos = ifos if isinstance(ifos, list) else []
        return (*self.required_parameters, *(f"{ifo}_snr" for ifo in ifos))

    @property
    def Tb(self) -> float:  # noqa: N802 (the field's name)
        """Livetime of the background the injections were searched in, s."""
        return float(self.attrs["Tb"])

    @property
    def recovered(self) -> np.ndarray:
        """(N,) bool: whether an event matched the injection."""
        return self.parameters["recovered"]

    @classmethod
    def recover(
        cls,
        events: EventSet,
        injections: InjectionSet | Mapping[str, Any],
        match_window: float,
        num_injections: int | None = None,
    ) -> Self:
        """Match injections to the events found in the injected data.

        For each shift separately, every event is claimed by the injection
        of that shift nearest to it in time, provided that injection lies
        within ``match_window`` seconds; an event is therefore claimed by at
        most one injection. Each injection keeps the loudest event it
        claimed. Unmatched injections get ``recovered=False``,
        ``detection_statistic=-inf`` and ``detection_time=NaN``.

        Call this once with the complete injection set (or pieces from
        disjoint injection files): ``num_injections`` is taken from it and
        adds when recovered sets are appended.

        Args:
            events: events of the injected (foreground) streams
            injections: an ``InjectionSet`` (waveforms are dropped) or its
                parameters (name → array; needs ``injection_time`` and
                ``shift``)
            match_window: largest |detection_time - injection_time| of a
                match, seconds; finite and positive
            num_injections: total draws; required when ``injections`` is a
                mapping, otherwise taken from its attrs

        Returns:
            one record per injection, in the injections' order; attrs
            ``Tb`` and ``ifos`` from ``events``
        """
        if not np.isfinite(match_window) or match_window <= 0:
            raise LedgerError(
                f"{cls.__name__}: match_window is {match_window}, expected a "
                f"finite positive number of seconds"
            )
        if isinstance(injections, InjectionSet):
            attrs = dict(injections.attrs)
            params = dict(injections.parameters)
            source = injections.source
            if injections.ifos != events.ifos:
                raise LedgerError(
                    f"{source}: ifos {injections.ifos} differ from the events' "
                    f"{events.ifos} ({events.source})"
                )
        else:
            if num_injections is None:
                raise LedgerError(
                    f"{cls.__name__}: num_injections is needed when injections "
                    f"are given as parameters"
                )
            attrs = {}
            params = {k: np.asarray(v) for k, v in injections.items()}
            source = cls.__name__
        if num_injections is not None:
            attrs["num_injections"] = int(num_injections)
        for name in ("injection_time", "shift"):
            if name not in params:
                raise LedgerError(f"{source}: parameters/{name} missing")
        attrs.update(Tb=events.Tb, ifos=events.ifos, match_window=float(match_window))

        t_inj = params["injection_time"]
        inj_shift = params["shift"]
        t_ev = events.detection_time
        stat_ev = events.detection_statistic
        ev_shift = events.parameters["shift"]
        if inj_shift.ndim != 2 or inj_shift.shape[1] != ev_shift.shape[1]:
            raise LedgerError(
                f"{source}: parameters/shift has shape {inj_shift.shape}, expected "
                f"(records, {ev_shift.shape[1]}) like the events'"
            )

        statistic = np.full(len(t_inj), -np.inf)
        time = np.full(len(t_inj), np.nan)
        found = np.zeros(len(t_inj), dtype=bool)
        unique = np.unique(inj_shift, axis=0) if len(inj_shift) else inj_shift
        for shift in unique:
            inj = np.flatnonzero(shift_mask(inj_shift, shift))
            ev = np.flatnonzero(shift_mask(ev_shift, shift))
            match, ok = _match_one_shift(
                t_inj[inj], t_ev[ev], stat_ev[ev], match_window
            )
            statistic[inj[ok]] = stat_ev[ev[match[ok]]]
            time[inj[ok]] = t_ev[ev[match[ok]]]
            found[inj[ok]] = True

        params.update(
            detection_statistic=statistic, detection_time=time, recovered=found
        )
        return cls(params, None, attrs, source=source)
