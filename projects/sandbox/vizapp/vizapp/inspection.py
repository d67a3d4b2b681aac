"""Re-run the exported network around one event, as inference ran it.

The strain comes from the test background files, each detector read at its
own shift; a foreground event gets the test injections of its shift added
back (``InjectionSet.inject``). The stretch goes through
``aframe.search.stream.run_streams``, the function inference itself uses (the
training ``Preprocessor`` and the exported ONNX network in onnxruntime), so
the outputs are the ones the search saw. The whitened strain and the Q-scans
(gwpy) are for the eye: they whiten with an ASD of the displayed stretch.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from gwpy.timeseries import TimeSeries

from aframe.architectures import PreprocessingConfig, Preprocessor
from aframe.ledger import EventSet, InjectionSet, RecoveredInjectionSet
from aframe.search.backends import LocalBackend
from aframe.search.postprocess import integrate, window_samples
from aframe.search.repository import ExportedModel
from aframe.search.stream import StreamGeometry, run_streams
from aframe.utils.background import BackgroundFile, read_background

logger = logging.getLogger(__name__)

KINDS = ("background", "zero-lag", "foreground")


class InspectionError(ValueError):
    """An event that cannot be re-analysed (e.g. no strain covers it)."""


@dataclass(frozen=True)
class Candidate:
    """One event (or injection) to inspect.

    Attributes:
        kind: ``background``, ``zero-lag`` or ``foreground``
        index: its record in the artifact
        time: GPS time on the unshifted (H1) axis: the detection time, or the
            injection time of a missed injection, s
        shift: (n_ifo,) seconds added to each detector's time
        statistic: detection statistic (``-inf`` for a missed injection)
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


def _shift_text(shift: Sequence[float], ifos: Sequence[str]) -> str:
    return ", ".join(f"{i} {s:+g} s" for i, s in zip(ifos, shift))


def candidate(
    kind: str,
    index: int,
    background: EventSet | None = None,
    zero_lag: EventSet | None = None,
    foreground: RecoveredInjectionSet | None = None,
) -> Candidate:
    """The candidate ``index`` of one artifact.

    Args:
        kind: which artifact (``KINDS``)
        index: the record
        background: background events (for ``background``)
        zero_lag: zero-lag events (for ``zero-lag``)
        foreground: recovered injections (for ``foreground``)

    Returns:
        the candidate
    """
    records = {"background": background, "zero-lag": zero_lag, "foreground": foreground}
    if kind not in records:
        raise InspectionError(
            f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})"
        )
    records = records[kind]
    if records is None or not 0 <= index < len(records):
        raise InspectionError(f"no {kind} record {index}")
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
            + (f"statistic {stat:.2f}" if found else "missed")
            + f", GPS {t_inj:.2f}, {_shift_text(shift, ifos)}"
        )
        return Candidate(kind, index, time, shift, stat, t_inj, label)
    time = float(p["detection_time"][index])
    label = (
        f"{kind} event {index}: statistic {stat:.2f}, GPS {time:.2f}, "
        f"{_shift_text(shift, ifos)}"
    )
    return Candidate(kind, index, time, shift, stat, None, label)


def menu(
    background: EventSet | None,
    zero_lag: EventSet | None,
    foreground: RecoveredInjectionSet | None,
    size: int = 25,
) -> list[Candidate]:
    """The events worth inspecting: the loudest of each kind, and loud misses.

    Args:
        background: background events
        zero_lag: zero-lag events
        foreground: recovered injections
        size: how many of each

    Returns:
        candidates, loudest zero-lag first, then background, then injections
    """
    out = []
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

    Attributes:
        candidate: the event
        ifos: detectors
        strain_times: (T,) seconds relative to the event time (H1 axis)
        whitened: ifo → (T,) whitened strain
        output_times: (N,) kernel end times relative to the event time
        outputs: stream (``background``, ``foreground``) → (N,) raw output
        integrated: stream → (N,) boxcar-integrated output (NaN before the
            first complete window)
        qscans: ifo → (times relative to the event, frequencies in Hz,
            normalised energy of shape (F, T))
        notes: remarks for the reader
    """

    candidate: Candidate
    ifos: list[str]
    strain_times: np.ndarray
    whitened: dict[str, np.ndarray]
    output_times: np.ndarray
    outputs: dict[str, np.ndarray]
    integrated: dict[str, np.ndarray]
    qscans: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    notes: list[str] = field(default_factory=list)


class Inspector:
    """Re-analyses events with the exported network.

    Args:
        model: the exported network (its ``preprocessing.json`` is used)
        files: the test background files
        injections: the test injections file (None: foreground events are
            shown without their injection)
        inference_sampling_rate: network outputs per second, Hz
        integration_length: boxcar length, s
        half_width: seconds shown on each side of the event
    """

    def __init__(
        self,
        model: ExportedModel,
        files: Sequence[BackgroundFile],
        injections: str | None,
        inference_sampling_rate: float,
        integration_length: float,
        half_width: float = 8.0,
    ):
        self.config = PreprocessingConfig.load(model.preprocessing_path)
        self.preprocessor = Preprocessor(self.config)
        self.backend = LocalBackend(model)
        self.files = list(files)
        self.injections = injections
        self.isr = float(inference_sampling_rate)
        self.n_int = window_samples(integration_length, self.isr, "integration_length")
        self.half_width = float(half_width)
        self.geometry = StreamGeometry.of(self.preprocessor, self.isr)

    def _stretch(self, c: Candidate) -> tuple[BackgroundFile, float, float]:
        fs = self.geometry.sample_rate
        lead = self.geometry.end_offset / fs + self.n_int / self.isr
        start, end = c.time - self.half_width - lead, c.time + self.half_width
        lo, hi = float(np.min(c.shift)), float(np.max(c.shift))
        for f in self.files:
            if f.t0 <= c.time + lo and c.time + hi < f.stop:
                # clip to the file: every detector's shifted read must fit
                start = max(start, f.t0 - lo)
                end = min(end, f.stop - hi)
                # whole samples from the file's start keep every read aligned
                start = f.t0 + np.ceil((start - f.t0) * fs) / fs
                end = start + np.floor((end - start) * fs) / fs
                if (end - start) * fs < self.geometry.span:
                    raise InspectionError(
                        f"GPS {c.time:.2f} is too close to the edge of "
                        f"{f.path.name} to re-analyse"
                    )
                return f, start, end
        where = self.files[0].path.parent if self.files else "?"
        raise InspectionError(
            f"no test background file covers GPS {c.time:.2f} with shifts "
            f"{list(c.shift)} (files in {where})"
        )

    def __call__(self, c: Candidate) -> Inspection:
        """Re-analyse one candidate.

        Args:
            c: the candidate

        Returns:
            strain, network output and Q-scans around it
        """
        ifos = list(self.config.ifos)
        fs = self.geometry.sample_rate
        f, start, end = self._stretch(c)
        x = np.concatenate(
            [
                read_background(f.path, [ifo], start + s, start + s + (end - start))
                for ifo, s in zip(ifos, c.shift)
            ]
        )
        notes = []
        injections = None
        if c.kind == "foreground":
            if self.injections is None:
                notes.append(
                    "the injection file is missing: showing the data without it"
                )
            else:
                pad = 64.0
                injections = InjectionSet.read(
                    self.injections, start=start - pad, end=end + pad, shifts=c.shift
                )
        outputs = run_streams(
            lambda i0, i1: x[:, i0:i1],
            x.shape[1],
            start,
            self.preprocessor,
            self.backend,
            self.isr,
            injections=injections,
            background=True,
        )
        kernel_end = self.geometry.kernel_end(start) - c.time
        n = len(next(iter(outputs.values())))
        output_times = kernel_end + np.arange(n) / self.isr
        integrated = {}
        for name, y in outputs.items():
            z = np.full(n, np.nan)
            z[self.n_int - 1 :] = integrate(y, self.n_int)
            integrated[name] = z

        data = x if injections is None else injections.inject(x, start, fs, ifos=ifos)
        whitened, qscans = {}, {}
        strain_times = None
        show = (c.time - min(4.0, self.half_width), c.time + min(4.0, self.half_width))
        fmax = min(1024.0, fs / 2)
        for row, ifo in enumerate(ifos):
            ts = TimeSeries(data[row], t0=start, sample_rate=fs)
            white = ts.whiten(
                fftlength=self.config.fftlength,
                overlap=self.config.fftlength / 2,
                fduration=self.config.fduration,
                highpass=self.config.highpass,
            ).crop(*show)
            whitened[ifo] = np.asarray(white.value)
            strain_times = np.asarray(white.times.value) - c.time
            with warnings.catch_warnings():
                # gwpy lowers the top frequency to what the Q range allows
                warnings.simplefilter("ignore", UserWarning)
                q = ts.q_transform(
                    frange=(32.0, fmax),
                    outseg=(c.time - 1.0, c.time + 1.0),
                    logf=False,
                    whiten=True,
                    fduration=self.config.fduration,
                )
            qscans[ifo] = (
                np.asarray(q.times.value) - c.time,
                np.asarray(q.frequencies.value),
                np.asarray(q.value).T,
            )
        notes.append(
            f"data from {f.path.name}; each detector is read at its shift "
            f"({_shift_text(c.shift, ifos)}); times are on the H1 axis relative to "
            f"GPS {c.time:.3f}"
        )
        return Inspection(
            c,
            ifos,
            strain_times,
            whitened,
            output_times,
            outputs,
            integrated,
            qscans,
            notes,
        )
