"""The online search: frames from a directory, analysed as they appear.

Every frame (``search.frames``) goes through the same preprocessing, network,
integration and clustering as the offline search, with the stream state kept
between frames (``aframe.search.online``): the outputs and events are those
the offline search finds on the same data.

**Frames in order.** The search keeps the GPS time it needs next. A frame
whose span ends at or before it is a repeat (or arrived after its gap was
declared: late) and is skipped and reported once. A frame that has not
appeared ``late_timeout`` seconds after a later one was first seen is
missing: the stream ends there (its last events are decided with the gap as
an edge, as the offline search decides them at a segment's end), the gap is
reported (log and state) and a new stream starts at the next frame present,
with a fresh state and its burn-in. A frame holding NaN or infinities is a
gap too; one that cannot be read is retried until the same timeout.

**Alerts.** ``alert_far`` (per day) sets a threshold on the statistic from
the background (``threshold_at_far``). As soon as an integrated output
crosses it while being larger than the ``h`` before it (every event is),
an event at least that loud is certain to follow within the clustering
window (the first event after an output that is a left maximum is at least
as loud), so a *preliminary* candidate file is written at once, with that
output's statistic and an upper bound on its FAR. When the clustering decides
the event (``h`` outputs after its peak), the same file is rewritten as
*final* with the event's statistic, peak-centre time and FAR: the values the
offline search gives that event. One file per candidate,
``candidates/candidate-{GPS}.json``, written atomically.

**Restarts.** ``follow-state.json`` (written atomically after every frame)
holds the next GPS time, the start of the current stream, the gaps and the
skipped frames. A restart with the same settings replays the frames already
on disk before that time, back far enough (a kernel's input span, the
integration window and two clustering half-windows) to rebuild the stream
state and decide again every event that was not certain yet, then goes on.
Candidates are matched with the files already written (within half a
clustering window), so nothing is written twice: a candidate already final
is left alone, a preliminary one is completed. SIGINT and SIGTERM end the
loop after the frame at hand, with the state saved.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aframe.architectures import PreprocessingConfig, Preprocessor
from aframe.ledger import EventSet
from aframe.ledger.far import far, threshold_at_far
from aframe.search.backends import Backend
from aframe.search.online import OnlineEvents, OnlineStream, OnlineUpdate
from aframe.search.repository import ExportedModel
from aframe.search.stream import StreamGeometry
from aframe.utils.io import atomic_path, ensure_writable_dir
from search.frames import FrameError, FrameFile, read_frames, scan_frames
from search.report import utc

logger = logging.getLogger(__name__)

STATE_FILE = "follow-state.json"
CANDIDATES_DIR = "candidates"


class FollowError(ValueError):
    """Online-search inputs that do not fit together."""


def _identity(frame: FrameFile) -> tuple[str, int]:
    """A frame file's name and modification time: a rewrite is a new arrival."""
    try:
        return frame.path.name, frame.path.stat().st_mtime_ns
    except FileNotFoundError:
        return frame.path.name, -1


@dataclass(frozen=True)
class FollowSettings:
    """What the online search runs with.

    Attributes:
        inference_sampling_rate: kernels per second, Hz
        integration_length: boxcar length, s
        cluster_window_length: events are maxima over this window, s
        time_offset: seconds from the merger to the peak centre
        alert_far: alert on candidates with a FAR of at most this, per day
        channel: the strain channel in the frames (``OPEN``: by ifo)
        late_timeout: seconds a frame may lag behind a later one
        poll_interval: seconds between scans of the directory
        start: GPS time to start at (None: the first frame present)
        stop: GPS time to stop at (None: run until stopped)
    """

    inference_sampling_rate: float
    integration_length: float
    cluster_window_length: float
    time_offset: float
    alert_far: float
    channel: str = "OPEN"
    late_timeout: float = 2.0
    poll_interval: float = 0.05
    start: float | None = None
    stop: float | None = None

    def signature(self) -> dict[str, Any]:
        """The settings a state file must have been made with to be resumed."""
        return {
            "inference_sampling_rate": self.inference_sampling_rate,
            "integration_length": self.integration_length,
            "cluster_window_length": self.cluster_window_length,
            "channel": self.channel,
        }


def read_background(
    path: Path, model: ExportedModel, settings: FollowSettings
) -> EventSet:
    """The background the alerts' FARs come from, checked against the search.

    Args:
        path: an ``EventSet`` (``BASE_DIR/infer/background.hdf5`` or the
            offline search's ``background.hdf5``)
        model: the exported model the online search runs
        settings: the online settings

    Returns:
        the background
    """
    if not Path(path).is_file():
        raise FollowError(
            f"{path}: no such background (run infer, or the offline search on "
            "data like those to follow, and pass its background.hdf5)"
        )
    background = EventSet.read(path)
    attrs = background.attrs
    if "model" in attrs and attrs["model"] != model.key:
        raise FollowError(
            f"{Path(path).name}: made with model {attrs['model']}, but the search "
            f"runs {model.key}: its FARs do not apply"
        )
    for name in ("inference_sampling_rate", "integration_length"):
        if name in attrs and not np.isclose(attrs[name], getattr(settings, name)):
            raise FollowError(
                f"{Path(path).name}: {name} = {attrs[name]}, but the search uses "
                f"{getattr(settings, name)}"
            )
    name = "cluster_window_length"
    if name in attrs and not np.isclose(attrs[name], settings.cluster_window_length):
        raise FollowError(
            f"{Path(path).name}: {name} = {attrs[name]}, but the search uses "
            f"{settings.cluster_window_length}"
        )
    return background


@dataclass
class Candidates:
    """The candidate files of an online search, matched by time.

    Args:
        directory: ``outdir/candidates``
        window: seconds within which two times are the same candidate
    """

    directory: Path
    window: float
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ensure_writable_dir(self.directory)
        for path in sorted(self.directory.glob("candidate-*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                logger.warning("ignoring unreadable %s", path)
                continue
            self.records[record["id"]] = record

    def find(self, gps: float) -> dict[str, Any] | None:
        """The candidate a time belongs to, if one was written."""
        for record in self.records.values():
            times = (record["gps"], record["opened_gps"])
            if min(abs(gps - t) for t in times) <= self.window:
                return record
        return None

    def write(self, record: dict[str, Any]) -> Path:
        """Write (or rewrite) a candidate's file atomically."""
        record["written_unix"] = time.time()
        record.setdefault("first_written_unix", record["written_unix"])
        path = self.directory / f"{record['id']}.json"
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
        self.records[record["id"]] = record
        return path


class Follower:
    """The online search over one directory of frames.

    Args:
        directory: where the frames appear
        outdir: where candidates and the state go
        model: the exported model
        backend: runs the network
        background: the background the FARs come from
        settings: the online settings
        timing_file: append one JSON line per frame processed (arrival, end
            of processing), for latency measurements
    """

    def __init__(
        self,
        directory: Path,
        outdir: Path,
        model: ExportedModel,
        backend: Backend,
        background: EventSet,
        settings: FollowSettings,
        timing_file: Path | None = None,
    ):
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FollowError(f"{self.directory}: no such frame directory")
        self.outdir = ensure_writable_dir(outdir)
        self.model = model
        self.config = PreprocessingConfig.load(model.preprocessing_path)
        self.preprocessor = Preprocessor(self.config)
        self.backend = backend
        self.background = background
        self.settings = settings
        self.timing_file = timing_file
        self.threshold = float(threshold_at_far(background, settings.alert_far, "day"))
        if not np.isfinite(self.threshold):
            logger.warning(
                "the background (Tb = %.0f s) cannot resolve a FAR of %g/day: no "
                "candidate can be alerted on",
                background.Tb,
                settings.alert_far,
            )
        self.candidates = Candidates(
            self.outdir / CANDIDATES_DIR, settings.cluster_window_length / 2
        )
        self.stopping = False
        self.stream: OnlineStream | None = None
        self.events: OnlineEvents | None = None
        self.open: dict[str, Any] | None = None
        self.quiet_until = 0  # integrated outputs of a replayed stream's edge
        self.restored = False
        self.replay_until: float | None = None  # where a replay catches up
        self.seen: dict[Path, float] = {}
        # (name, mtime) of the frame files analysed or reported as skipped
        self.handled: set[tuple[str, int]] = set()
        self.state: dict[str, Any] = {
            "model": model.key,
            "directory": str(self.directory.resolve()),
            "settings": settings.signature(),
            "next_gps": None,
            "stream_start": None,
            "gaps": [],
            "skipped_frames": [],
            "frames_analysed": 0,
        }

    # ---------------------------------------------------------------- state
    @property
    def next_gps(self) -> float | None:
        """The GPS time the search needs next."""
        return self.state["next_gps"]

    def _saved_state(self) -> dict[str, Any]:
        state = dict(self.state)
        if self.replay_until is not None and (
            state["next_gps"] is None or state["next_gps"] < self.replay_until
        ):
            # stopped while replaying: what was analysed still ends there
            state["next_gps"] = self.replay_until
        return state

    def _save(self) -> None:
        with atomic_path(self.outdir / STATE_FILE) as tmp:
            tmp.write_text(json.dumps(self._saved_state(), indent=2) + "\n")

    def _lookback(self) -> float:
        """Seconds of frames to replay to rebuild the state and undecided events."""
        isr = self.settings.inference_sampling_rate
        geometry = StreamGeometry.of(self.preprocessor, isr)
        events = self._new_events(0.0)
        outputs = events.n - 1 + 2 * events.h + 2
        return geometry.span / geometry.sample_rate + outputs / events.isr

    def restore(self) -> None:
        """Resume from the state file, replaying frames to rebuild the stream.

        Done once, before the first frame (``step`` and ``run`` call it).
        """
        if self.restored:
            return
        self.restored = True
        path = self.outdir / STATE_FILE
        if not path.is_file():
            return
        try:
            stored = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise FollowError(f"{path}: not a readable state ({err})") from err
        for key in ("model", "settings", "directory"):
            if stored.get(key) != self.state[key]:
                raise FollowError(
                    f"{path}: the state of a search with another {key} "
                    f"({stored.get(key)!r}); use another outdir or remove it"
                )
        self.state.update(stored)
        if self.next_gps is None:
            return
        resume = float(self.next_gps)
        earliest = max(
            float(self.state["stream_start"] or resume), resume - self._lookback()
        )
        frames = scan_frames(self.directory)
        ends = {f.stop: f.gps for f in frames}
        start = resume
        while start > earliest and start in ends:
            start = float(ends[start])
        # the frames before are the previous run's, not repeats
        self.handled.update(_identity(f) for f in frames if f.stop <= start)
        if start < resume:
            logger.info(
                "resuming at GPS %.1f: replaying %.0f s of frames to rebuild the "
                "stream state",
                resume,
                resume - start,
            )
            self.state["next_gps"] = start
            self.replay_until = resume
            if start > float(self.state["stream_start"] or start):
                # the replay starts within a stream: its first outputs lack the
                # context the original stream had, so they alert on nothing
                self.quiet_until = self._new_events(0.0).h
        else:
            logger.info("resuming at GPS %.1f with a fresh stream", resume)

    # ---------------------------------------------------------------- stream
    def _new_events(self, t_first: float) -> OnlineEvents:
        s = self.settings
        return OnlineEvents(
            t_first,
            s.inference_sampling_rate,
            s.integration_length,
            s.cluster_window_length,
        )

    def _start_stream(self, gps: float) -> None:
        self.stream = OnlineStream(
            self.preprocessor,
            self.backend,
            self.settings.inference_sampling_rate,
            gps,
        )
        self.events = self._new_events(self.stream.t_first)
        if self.state["stream_start"] is None:
            self.state["stream_start"] = gps

    def _end_stream(self) -> None:
        if self.events is not None:
            self._alerts(self.events.finish(), frame="")
        self.stream, self.events, self.open = None, None, None
        self.quiet_until = 0

    def _report_gap(self, start: float, stop: float, reason: str) -> None:
        gap = {"start": start, "stop": stop, "reason": reason}
        self.state["gaps"].append(gap)
        logger.warning(
            "gap: no usable data in [%.1f, %.1f) (%s); the stream ends and "
            "restarts after it",
            start,
            stop,
            reason,
        )
        self._end_stream()
        self.state["next_gps"] = stop
        self.state["stream_start"] = None
        self.replay_until = None
        self._save()

    # ---------------------------------------------------------------- alerts
    def _record(self, gps: float, statistic: float, stage: str) -> dict[str, Any]:
        rate = float(far(self.background, statistic, unit="year"))
        return {
            "stage": stage,
            "gps": gps,
            "utc": utc(gps)[0],
            "statistic": statistic,
            "far_per_year": rate,
            "far_per_day": rate / 365.25,
            "ifar_years": 1 / rate,
            "times": {ifo: gps for ifo in self.config.ifos},
            "model": self.model.key,
            "alert_far_per_day": self.settings.alert_far,
            "threshold": self.threshold,
            "Tb": self.background.Tb,
        }

    def _open(self, gps: float, statistic: float, frame: str) -> None:
        existing = self.candidates.find(gps)
        if existing is not None:
            self.open = existing
            return
        record = self._record(gps, statistic, "preliminary")
        record.update(id=f"candidate-{gps:.3f}", opened_gps=gps, frame=frame)
        path = self.candidates.write(record)
        self.open = record
        logger.info(
            "preliminary candidate at GPS %.3f: statistic %.3f, FAR ≤ %.3g/year (%s)",
            gps,
            statistic,
            record["far_per_year"],
            path.name,
        )

    def _final(self, gps: float, statistic: float, frame: str) -> None:
        record = self.open or self.candidates.find(gps)
        self.open = None
        if record is not None and record["stage"] == "final":
            return
        update = self._record(gps, statistic, "final")
        if record is None:
            record = {"id": f"candidate-{gps:.3f}", "opened_gps": gps}
        record.update(update, frame=frame)
        path = self.candidates.write(record)
        logger.info(
            "candidate at GPS %.3f (%s): statistic %.3f, FAR %.3g/year (%s)",
            gps,
            record["utc"],
            statistic,
            record["far_per_year"],
            path.name,
        )

    def _alerts(self, update: OnlineUpdate, frame: str) -> None:
        offset = self.settings.time_offset
        # in stream order; a crossing before the event it announces
        actions = [
            (int(update.index[j]), 0, j)
            for j in np.flatnonzero(
                (update.integrated >= self.threshold) & update.left_max
            )
        ]
        actions += [
            (int(update.event_index[j]), 1, j)
            for j in np.flatnonzero(update.statistic >= self.threshold)
        ]
        for index, kind, j in sorted(actions):
            if index < self.quiet_until:
                continue
            if kind == 0 and self.open is None:
                gps = float(update.times[j]) - offset
                self._open(gps, float(update.integrated[j]), frame)
            elif kind == 1:
                gps = float(update.event_times[j]) - offset
                self._final(gps, float(update.statistic[j]), frame)

    # ---------------------------------------------------------------- frames
    def _skip_old(self, frames: list[FrameFile]) -> None:
        gaps = self.state["gaps"]
        for frame in frames:
            if frame.stop > self.next_gps:
                continue
            identity = _identity(frame)
            if identity in self.handled:
                continue
            self.handled.add(identity)
            late = any(g["start"] < frame.stop and frame.gps < g["stop"] for g in gaps)
            reason = "late" if late else "repeated"
            self.state["skipped_frames"].append(
                {"file": frame.path.name, "gps": frame.gps, "reason": reason}
            )
            self.state["skipped_frames"] = self.state["skipped_frames"][-1000:]
            logger.warning(
                "%s frame %s skipped (GPS %d is before %.1f, already %s)",
                reason,
                frame.path.name,
                frame.gps,
                self.next_gps,
                "declared a gap" if late else "analysed",
            )

    def step(self) -> bool:
        """Analyse the next frame if it is there, or declare it missing.

        Returns:
            whether the search moved on (a frame or a gap)
        """
        self.restore()
        frames = scan_frames(self.directory)
        now = time.monotonic()
        for frame in frames:
            self.seen.setdefault(frame.path, now)
        s = self.settings
        if self.next_gps is None:
            first = [f.gps for f in frames if s.start is None or f.stop > s.start]
            if not first:
                return False
            self.state["next_gps"] = float(
                min(first) if s.start is None else max(min(first), s.start)
            )
        self._skip_old(frames)
        gps = float(self.next_gps)
        covering = [f for f in frames if f.gps <= gps < f.stop]
        later = [f for f in frames if f.gps > gps]
        problem = "missing"
        if covering:
            stop = float(min(f.stop for f in covering))
            if s.stop is not None:
                stop = min(stop, float(s.stop))
            try:
                x, used = read_frames(
                    covering,
                    self.config.ifos,
                    s.channel,
                    self.config.sample_rate,
                    gps,
                    stop,
                )
            except FrameError as err:
                problem = f"unreadable or incomplete: {err}"
            else:
                self.handled.update(_identity(f) for f in used)
                if not np.isfinite(x).all():
                    self._report_gap(gps, stop, "non-finite values in the frame")
                    return True
                self._analyse(x, used, gps, stop, now)
                return True
        if later:
            waited = now - min(self.seen[f.path] for f in later)
            if waited > s.late_timeout:
                self.handled.update(_identity(f) for f in covering)
                self._report_gap(gps, float(min(f.gps for f in later)), problem)
                return True
        return False

    def _analyse(
        self, x: np.ndarray, files: list[FrameFile], gps: float, stop: float, seen
    ) -> None:
        if self.stream is None:
            self._start_stream(gps)
        outputs = self.stream.update(x)
        update = self.events.update(outputs)
        frame = ",".join(f.path.name for f in files)
        self._alerts(update, frame)
        self.state["next_gps"] = stop
        self.state["frames_analysed"] += 1
        self._save()
        if self.timing_file is not None:
            arrival = max(f.path.stat().st_mtime for f in files)
            done = time.time()
            record = {
                "gps": gps,
                "stop": stop,
                "arrival_unix": arrival,
                "seen_delay": time.monotonic() - seen,
                "done_unix": done,
                "processing": done - arrival,
                "outputs": len(outputs),
            }
            with open(self.timing_file, "a") as f:
                f.write(json.dumps(record) + "\n")

    # ---------------------------------------------------------------- loop
    def _on_signal(self, signum, frame) -> None:
        logger.info("%s: stopping after the frame at hand", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> dict[str, Any]:
        """Follow the directory until ``stop`` is reached or a signal arrives.

        Returns:
            the final state
        """
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.restore()
            logger.info(
                "following %s from GPS %s: alerts at FAR ≤ %g/day (statistic ≥ "
                "%.3f, background Tb = %.0f s)",
                self.directory,
                "the first frame" if self.next_gps is None else f"{self.next_gps}",
                self.settings.alert_far,
                self.threshold,
                self.background.Tb,
            )
            stop = self.settings.stop
            while not self.stopping:
                if stop is not None and self.next_gps is not None:
                    if self.next_gps >= stop:
                        self._end_stream()
                        break
                if not self.step():
                    time.sleep(self.settings.poll_interval)
            self._save()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        state = self._saved_state()
        logger.info(
            "stopped at GPS %s: %d frames analysed, %d gaps, %d candidate file(s)",
            state["next_gps"],
            state["frames_analysed"],
            len(state["gaps"]),
            len(self.candidates.records),
        )
        return state
