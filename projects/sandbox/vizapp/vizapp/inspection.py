"""Re-run the search around one event, exactly as the search ran it.

An event was found by an inference job streaming one test segment under one
shift from the start of its analysed span (``aframe.ledger.livetime
.analysed_span``). The inspector finds that job, reads the same strain (each
detector at its shift), adds the injections of that shift back for a
foreground event, and replays the job's kernels around the event with
``aframe.search.replay``: the same preprocessing (``preprocessing.json`` of
the model repository), the same kernel grid, network, inference rate,
integration and clustering, and the calibrated time offset, all read from the
event files' attrs. The replayed event therefore has the recorded statistic
(to float32 rounding) at the recorded time. The whitened strain and the
Q-scans (gwpy) are for the eye: they whiten the replayed stretch with its own
ASD.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from gwpy.timeseries import TimeSeries

from aframe.architectures import PreprocessingConfig, Preprocessor
from aframe.ledger import (
    CandidateSet,
    EventSet,
    InjectionSet,
    RecoveredInjectionSet,
)
from aframe.ledger.livetime import analysed_span
from aframe.search.backends import LocalBackend
from aframe.search.postprocess import window_samples
from aframe.search.replay import ReplayError, replay
from aframe.search.repository import ExportedModel
from aframe.search.stream import StreamGeometry
from aframe.utils.background import BackgroundFile, read_background

logger = logging.getLogger(__name__)

KINDS = ("background", "zero-lag", "foreground", "search")
#: the attrs of the event files that say how the search ran
SETTINGS_ATTRS = (
    "inference_sampling_rate",
    "integration_length",
    "cluster_window_length",
    "time_offset",
)


class InspectionError(ValueError):
    """An event that cannot be re-analysed (e.g. no strain covers it)."""


@dataclass(frozen=True)
class SearchSettings:
    """How the search ran (the event files' attrs).

    Attributes:
        inference_sampling_rate: kernels per second, Hz
        integration_length: boxcar length, s
        cluster_window_length: clustering window, s
        time_offset: calibrated delay of the peak centre after the merger, s
        model: the model key that made the events (``name-vN-hash``), if known
        defaulted: the settings the files did not record (defaults used)
    """

    inference_sampling_rate: float = 4.0
    integration_length: float = 1.0
    cluster_window_length: float = 8.0
    time_offset: float = 0.0
    model: str | None = None
    defaulted: tuple[str, ...] = ()

    @classmethod
    def of(cls, events, defaults: SearchSettings | None = None) -> SearchSettings:
        """The settings recorded in an event set's attrs.

        Args:
            events: an ``EventSet`` or ``RecoveredInjectionSet`` (or None)
            defaults: what to use for settings it does not record

        Returns:
            the settings, ``defaulted`` naming the missing ones
        """
        defaults = defaults or cls()
        attrs = dict(events.attrs) if events is not None else {}
        values, missing = {}, []
        for name in SETTINGS_ATTRS:
            if attrs.get(name) is None:
                values[name] = getattr(defaults, name)
                missing.append(name)
            else:
                values[name] = float(attrs[name])
        model = attrs.get("model")
        return cls(
            **values,
            model=str(model) if model is not None else None,
            defaulted=tuple(missing),
        )

    @property
    def model_version(self) -> int | None:
        """The model version of ``model`` (``aframe-v3-…`` → 3)."""
        found = re.search(r"-v(\d+)-", self.model or "")
        return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Candidate:
    """One event (or injection) to inspect.

    Attributes:
        kind: ``background``, ``zero-lag`` or ``foreground``
        index: its record in the artifact
        time: GPS time on the unshifted (H1) axis: the detection time, or the
            injection time of a missed injection, s
        shift: (n_ifo,) seconds added to each detector's time
        statistic: the recorded detection statistic (``-inf`` for a missed
            injection)
        injection_time: GPS merger time of an injection (None otherwise)
        label: one line for a menu
    """

    kind: str
    index: int
    time: float
    shift: np.ndarray
    statistic: float
    injection_time: float | None
    label: str

    @property
    def key(self) -> str:
        """``kind:index``, the value a menu or a URL carries."""
        return f"{self.kind}:{self.index}"

    @property
    def found(self) -> bool:
        """Whether a recorded event goes with it (False for a missed injection)."""
        return bool(np.isfinite(self.statistic))


def _shift_text(shift: Sequence[float], ifos: Sequence[str]) -> str:
    return ", ".join(f"{i} {s:+g} s" for i, s in zip(ifos, shift))


def candidate(
    kind: str,
    index: int,
    background: EventSet | None = None,
    zero_lag: EventSet | None = None,
    foreground: RecoveredInjectionSet | None = None,
    search: CandidateSet | None = None,
) -> Candidate:
    """The candidate ``index`` of one artifact.

    Args:
        kind: which artifact (``KINDS``)
        index: the record
        background: background events (for ``background``)
        zero_lag: zero-lag events (for ``zero-lag``)
        foreground: recovered injections (for ``foreground``)
        search: the offline search's candidates (for ``search``)

    Returns:
        the candidate

    Raises:
        InspectionError: an unknown kind, a missing artifact or an index out
            of range, in words a reader can act on
    """
    sets = {
        "background": background,
        "zero-lag": zero_lag,
        "foreground": foreground,
        "search": search,
    }
    if kind not in sets:
        raise InspectionError(
            f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})"
        )
    records = sets[kind]
    if records is None:
        raise InspectionError(f"there are no {kind} events in this experiment")
    if not 0 <= index < len(records):
        last = f"0–{len(records) - 1}" if len(records) else "none"
        raise InspectionError(
            f"no {kind} record {index}: the file holds {len(records)} (indices {last})"
        )
    p = records.parameters
    ifos = list(records.attrs["ifos"])
    shift = np.asarray(p["shift"][index], dtype=float)
    stat = float(p["detection_statistic"][index])
    if kind == "foreground":
        t_inj = float(p["injection_time"][index])
        found = bool(p["recovered"][index]) and np.isfinite(stat)
        time = float(p["detection_time"][index]) if found else t_inj
        m1, m2, snr = (p[k][index] for k in ("mass_1_source", "mass_2_source", "snr"))
        label = (
            f"injection {index}: SNR {snr:.1f}, m1 {m1:.0f} m2 {m2:.0f} M☉, "
            + (f"statistic {stat:.3f}" if found else "missed")
            + f", GPS {t_inj:.2f}, {_shift_text(shift, ifos)}"
        )
        return Candidate(
            kind, index, time, shift, stat if found else -np.inf, t_inj, label
        )
    time = float(p["detection_time"][index])
    label = (
        f"{kind} event {index}: statistic {stat:.3f}, GPS {time:.2f}, "
        f"{_shift_text(shift, ifos)}"
    )
    if kind == "search":
        label = (
            f"search candidate {index}: statistic {stat:.3f}, GPS {time:.2f}, "
            f"FAR {float(p['far'][index]):.3g}/{records.attrs['far_unit']}"
        )
    return Candidate(kind, index, time, shift, stat, None, label)


def parse_query(arguments: dict[str, list[bytes]]) -> tuple[str, int] | None:
    """``kind`` and ``index`` of an inspector URL's query.

    Args:
        arguments: the request's query arguments (name → raw values)

    Returns:
        ``(kind, index)``, or None when the URL names no event

    Raises:
        InspectionError: a query that names an event badly (a kind without an
            index, an index that is not a whole number, an unknown kind)
    """
    kind = arguments.get("kind", [b""])[0].decode(errors="replace").strip()
    index = arguments.get("index", [b""])[0].decode(errors="replace").strip()
    if not kind and not index:
        return None
    if not kind:
        raise InspectionError(
            f"the link gives index={index!r} but no kind "
            f"(add kind=background, zero-lag, foreground or search)"
        )
    if kind not in KINDS:
        raise InspectionError(
            f"the link's kind={kind!r} is not one of {', '.join(KINDS)}"
        )
    if not index:
        raise InspectionError(f"the link gives kind={kind} but no index")
    try:
        return kind, int(index)
    except ValueError:
        raise InspectionError(
            f"the link's index={index!r} is not a whole number"
        ) from None


def menu(
    background: EventSet | None,
    zero_lag: EventSet | None,
    foreground: RecoveredInjectionSet | None,
    size: int = 25,
    search: CandidateSet | None = None,
) -> list[Candidate]:
    """The events worth inspecting: the loudest of each kind, and loud misses.

    Args:
        background: background events
        zero_lag: zero-lag events
        foreground: recovered injections
        size: how many of each
        search: the offline search's candidates

    Returns:
        candidates, the search's loudest first, then zero-lag, then
        background, then injections
    """
    out = []
    if search is not None and len(search):
        order = np.argsort(-search.detection_statistic, kind="stable")[:size]
        out += [candidate("search", int(i), search=search) for i in order]
    for kind, events in (("zero-lag", zero_lag), ("background", background)):
        if events is None or len(events) == 0:
            continue
        order = np.argsort(events.parameters["detection_statistic"])[::-1][:size]
        out += [candidate(kind, int(i), background, zero_lag) for i in order]
    if foreground is not None and len(foreground):
        p = foreground.parameters
        stat = np.asarray(p["detection_statistic"], float)
        found = np.asarray(p["recovered"], bool) & np.isfinite(stat)
        loud = np.flatnonzero(found)[np.argsort(stat[found])[::-1][:size]]
        missed = np.flatnonzero(~found)
        missed = missed[
            np.argsort(np.asarray(p["snr"])[missed])[::-1][: max(size // 5, 1)]
        ]
        out += [
            candidate("foreground", int(i), foreground=foreground)
            for i in (*loud, *missed)
        ]
    return out


@dataclass
class Inspection:
    """What the inspector shows for one candidate.

    Every time is in seconds relative to the candidate's time (H1 axis): the
    event's merger estimate (its detection time) or a missed injection's
    merger. Network outputs are placed at their kernel's end minus the
    calibrated ``time_offset``, the clock of the recorded detection times, so
    an event's integrated peak lines up with the strain and the Q-scans.

    Attributes:
        candidate: the event
        ifos: detectors
        settings: how the search ran (and what was defaulted)
        window: ``(start, end)`` of the common time window
        strain_times: (T,) times of the whitened strain
        whitened: ifo → (T,) whitened strain (with the injection for a
            foreground event)
        output_times: (N,) times of the network outputs
        outputs: stream (``background``, ``foreground``) → (N,) raw outputs
        integrated: stream → (N,) boxcar-integrated outputs (NaN before the
            first complete window)
        events: stream → ``(statistics, times)`` of the events the search has
            in the replayed stretch
        statistic: the replayed statistic of the event at the recorded time
            (None for a missed injection, or when no event is there)
        peak_time: its time
        merger_time: a foreground event's injected merger time (None else)
        qscans: ifo → (times, frequencies in Hz, log-spaced, normalised
            energy of shape (F, T))
        notes: remarks for the reader
    """

    candidate: Candidate
    ifos: list[str]
    settings: SearchSettings
    window: tuple[float, float]
    strain_times: np.ndarray
    whitened: dict[str, np.ndarray]
    output_times: np.ndarray
    outputs: dict[str, np.ndarray]
    integrated: dict[str, np.ndarray]
    events: dict[str, tuple[np.ndarray, np.ndarray]]
    statistic: float | None
    peak_time: float | None
    merger_time: float | None
    qscans: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    notes: list[str] = field(default_factory=list)

    @property
    def stream(self) -> str:
        """The stream the candidate's event came from."""
        return "foreground" if self.candidate.kind == "foreground" else "background"


class Inspector:
    """Re-analyses events with the exported network, as the search did.

    Args:
        model: the exported network (its ``preprocessing.json`` is used)
        files: the strain the events were found in: the test background
            files, or an offline search's ``data/`` segments
        injections: the test injections file (None: foreground events are
            shown without their injection)
        settings: how the search ran (``SearchSettings.of`` the event files)
        half_width: seconds shown on each side of the event
    """

    def __init__(
        self,
        model: ExportedModel,
        files: Sequence[BackgroundFile],
        injections: str | None,
        settings: SearchSettings,
        half_width: float = 4.0,
    ):
        self.config = PreprocessingConfig.load(model.preprocessing_path)
        self.preprocessor = Preprocessor(self.config)
        self.backend = LocalBackend(model)
        self.model = model
        self.files = list(files)
        self.injections = injections
        self.settings = settings
        self.half_width = float(half_width)
        isr = settings.inference_sampling_rate
        self.geometry = StreamGeometry.of(self.preprocessor, isr)
        self.n_int = window_samples(settings.integration_length, isr, "integration")

    def _job(self, c: Candidate) -> tuple[BackgroundFile, float, float]:
        """The test segment and analysed span of the job that saw ``c``."""
        for f in self.files:
            start, stop = analysed_span(f.t0, f.duration, c.shift)
            if start <= c.time < stop:
                return f, start, stop
        where = self.files[0].path.parent if self.files else "?"
        raise InspectionError(
            f"no strain file covers GPS {c.time:.2f} with shifts "
            f"{list(c.shift)} (files in {where})"
        )

    def _reader(self, f: BackgroundFile, shift: np.ndarray, start: float):
        """Samples ``[i0, i1)`` of the job's span, each detector at its shift."""
        fs = self.geometry.sample_rate
        ifos = list(self.config.ifos)
        offsets = []
        for ifo, s in zip(ifos, shift):
            value = (start + s - f.t0) * fs
            if abs(value - round(value)) > 1e-6:
                raise InspectionError(
                    f"{f.path.name}: shift {s} s of {ifo} is not a whole number "
                    f"of samples at {fs:g} Hz"
                )
            offsets.append(int(round(value)))

        def read(i0: int, i1: int) -> np.ndarray:
            return np.concatenate(
                [
                    read_background(
                        f.path, [ifo], f.t0 + (o + i0) / fs, f.t0 + (o + i1) / fs
                    )
                    for ifo, o in zip(ifos, offsets)
                ]
            )

        return read

    def _injections(self, c: Candidate, lo: float, hi: float) -> InjectionSet | None:
        if self.injections is None:
            return None
        pad = float(InjectionSet.read_attrs(self.injections)["duration"])
        found = InjectionSet.read(
            self.injections, start=lo - pad, end=hi + pad, shifts=c.shift
        )
        return found if len(found) else None

    def __call__(self, c: Candidate) -> Inspection:
        """Re-analyse one candidate.

        Args:
            c: the candidate

        Returns:
            strain, network outputs, events and Q-scans around it
        """
        s = self.settings
        ifos = list(self.config.ifos)
        fs = self.geometry.sample_rate
        f, start, stop = self._job(c)
        num_samples = int(math.floor((stop - start) * fs + 1e-6))
        centre = c.time + s.time_offset  # the (uncalibrated) peak centre
        t_lo, t_hi = centre - self.half_width, centre + self.half_width
        notes = []
        injections = None
        if c.kind == "foreground":
            # everything the replayed stretch can reach: the kernels that
            # decide events in [t_lo, t_hi] start this far before it
            reach = (
                s.cluster_window_length
                + s.integration_length
                + self.geometry.span / fs
                + 2 / s.inference_sampling_rate
            )
            injections = self._injections(c, t_lo - reach, t_hi + reach)
            if self.injections is None:
                notes.append(
                    "the injection file is missing: showing the data without it"
                )
        try:
            result = replay(
                self._reader(f, c.shift, start),
                start,
                num_samples,
                self.preprocessor,
                self.backend,
                s.inference_sampling_rate,
                s.integration_length,
                s.cluster_window_length,
                t_lo,
                t_hi,
                injections=injections,
                background=True,
            )
        except ReplayError as err:
            raise InspectionError(f"{f.path.name}: {err}") from err

        stream = "foreground" if injections is not None else "background"
        events = {
            name: (stats, times - s.time_offset - c.time)
            for name, (stats, times) in result.events.items()
        }
        statistic = peak_time = None
        stats, times = events[stream]
        if len(stats):
            k = int(np.argmin(np.abs(times)))
            # the recorded event is at time 0; a missed injection has none
            if c.found and abs(times[k]) < 0.5 / s.inference_sampling_rate:
                statistic, peak_time = float(stats[k]), float(times[k])
        if c.found and statistic is None:
            notes.append(
                "the replay has no event at the recorded time: the settings, "
                "the model or the data differ from the search's"
            )
        elif statistic is not None:
            diff = statistic - c.statistic
            notes.append(
                f"replayed statistic {statistic:.6f} at {peak_time * 1e3:+.3f} ms "
                f"(recorded {c.statistic:.6f}, difference {diff:+.2e})"
            )

        data = result.data
        if injections is not None:
            data = injections.inject(data, result.start, fs, ifos=ifos)
        window = (-self.half_width, self.half_width)
        whitened, qscans, strain_times = self._display(data, result.start, c, window)
        output_times = result.kernel_times - s.time_offset - c.time
        merger = None if c.injection_time is None else c.injection_time - c.time
        notes += self._setting_notes(c, f, ifos)
        return Inspection(
            candidate=c,
            ifos=ifos,
            settings=s,
            window=window,
            strain_times=strain_times,
            whitened=whitened,
            output_times=output_times,
            outputs=result.outputs,
            integrated=result.integrated,
            events=events,
            statistic=statistic,
            peak_time=peak_time,
            merger_time=merger,
            qscans=qscans,
            notes=notes,
        )

    def _display(self, data, start, c, window):
        """Whitened strain and log-frequency Q-scans over the common window."""
        fs = self.geometry.sample_rate
        lo = max(c.time + window[0], start + self.config.fduration)
        hi = min(c.time + window[1], start + data.shape[1] / fs)
        fmax = min(1024.0, fs / 2)
        whitened, qscans, strain_times = {}, {}, np.zeros(0)
        for row, ifo in enumerate(self.config.ifos):
            ts = TimeSeries(data[row], t0=start, sample_rate=fs)
            white = ts.whiten(
                fftlength=self.config.fftlength,
                overlap=self.config.fftlength / 2,
                fduration=self.config.fduration,
                highpass=self.config.highpass,
            ).crop(lo, hi)
            whitened[ifo] = np.asarray(white.value)
            strain_times = np.asarray(white.times.value) - c.time
            with warnings.catch_warnings():
                # gwpy lowers the top frequency to what the Q range allows
                warnings.simplefilter("ignore", UserWarning)
                q = ts.q_transform(
                    frange=(max(self.config.highpass, 16.0), fmax),
                    outseg=(lo, hi),
                    logf=True,
                    whiten=True,
                    fduration=self.config.fduration,
                )
            qscans[ifo] = (
                np.asarray(q.times.value) - c.time,
                np.asarray(q.frequencies.value),
                np.asarray(q.value).T,
            )
        return whitened, qscans, strain_times

    def _setting_notes(self, c: Candidate, f: BackgroundFile, ifos) -> list[str]:
        s = self.settings
        notes = [
            f"data from {f.path.name}; each detector is read at its shift "
            f"({_shift_text(c.shift, ifos)}); times are on the H1 axis relative "
            f"to GPS {c.time:.3f}",
            f"search settings: {s.inference_sampling_rate:g} outputs/s, "
            f"{s.integration_length:g} s integration, {s.cluster_window_length:g} "
            f"s clusters, time offset {s.time_offset:.4f} s, kernels on the job's "
            "grid from the start of its analysed span",
        ]
        if s.defaulted:
            notes.append(
                "the event files do not record "
                + ", ".join(s.defaulted)
                + ": defaults used, so the replayed statistic may differ"
            )
        if s.model is not None and s.model != self.model.key:
            notes.append(
                f"the events were made by model {s.model}; the repository's "
                f"is {self.model.key}"
            )
        return notes
