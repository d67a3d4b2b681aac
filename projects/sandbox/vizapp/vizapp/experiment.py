"""The artifacts of one experiment the app shows, and which step makes each.

Every loader either returns the artifact or raises ``MissingArtifact``, which
names the file, what it holds and the pipeline step that writes it, so a page
can say what is missing instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py

from aframe.ledger import (
    CandidateSet,
    EventSet,
    LedgerError,
    RecoveredInjectionSet,
    RejectedParameterSet,
)
from aframe.ledger.recordset import normalize_attr
from aframe.ledger.results import AnalysisResults, read_results
from aframe.search.repository import ExportedModel, RepositoryError, read_exported_model
from aframe.utils.background import BackgroundError, BackgroundFile, list_background
from aframe.utils.io import ArtifactError


class MissingArtifact(Exception):
    """An artifact a page needs is missing or unreadable.

    Args:
        what: plain words for the artifact
        path: where it should be
        step: the pipeline step that writes it
        reason: why it cannot be used (missing, unreadable: the reader's message)
    """

    def __init__(self, what: str, path: Path, step: str, reason: str = "missing"):
        self.what, self.path, self.step, self.reason = what, Path(path), step, reason
        super().__init__(f"{what} ({path}): {reason}; made by `{step}`")


@dataclass(frozen=True)
class Experiment:
    """Where an experiment's artifacts live.

    Attributes:
        basedir: BASE_DIR of the experiment (``infer/``, ``analysis/``,
            ``model_repo/``, ``training/`` under it)
        datadir: DATA_DIR (``test/background/``, ``test/waveforms.hdf5``)
        inference_sampling_rate: network outputs per second (Hz) the
            inspector uses when the event files do not record it
        integration_length: boxcar length (s) the inspector uses when the
            event files do not record it
        veto_dir: where the veto segment files are (default
            ``BASE_DIR/vetoes``): one file per detector and veto category,
            named ``{IFO}-{name}.txt`` (two columns or segwizard, GPS s)
        search_dir: the ``search`` script's output folder (default
            ``BASE_DIR/search``): ``candidates.hdf5`` and the strain it
            analysed (``data/``) of an offline search, ``candidates/*.json``
            of an online one
    """

    basedir: Path
    datadir: Path
    inference_sampling_rate: float = 4.0
    integration_length: float = 1.0
    veto_dir: Path | None = None
    search_dir: Path | None = None

    @property
    def summary_path(self) -> Path:
        return self.basedir / "analysis" / "summary.json"

    @property
    def results_path(self) -> Path:
        return self.basedir / "analysis" / "sensitive-volume.hdf5"

    @property
    def background_path(self) -> Path:
        return self.basedir / "infer" / "background.hdf5"

    @property
    def foreground_path(self) -> Path:
        return self.basedir / "infer" / "foreground.hdf5"

    @property
    def zero_lag_path(self) -> Path:
        return self.basedir / "infer" / "zero-lag.hdf5"

    @property
    def model_repo(self) -> Path:
        return self.basedir / "model_repo"

    @property
    def test_background_dir(self) -> Path:
        return self.datadir / "test" / "background"

    @property
    def injections_path(self) -> Path:
        return self.datadir / "test" / "waveforms.hdf5"

    @property
    def rejected_path(self) -> Path:
        return self.datadir / "test" / "rejected-parameters.hdf5"

    @property
    def vetoes_path(self) -> Path:
        return Path(self.veto_dir) if self.veto_dir else self.basedir / "vetoes"

    @property
    def search_path(self) -> Path:
        return Path(self.search_dir) if self.search_dir else self.basedir / "search"

    @property
    def candidates_path(self) -> Path:
        return self.search_path / "candidates.hdf5"

    @property
    def search_data_dir(self) -> Path:
        return self.search_path / "data"

    @property
    def alerts_dir(self) -> Path:
        return self.search_path / "candidates"

    def veto_files(self, ifos: list[str]) -> dict[str, tuple[str, Path]]:
        """The veto segment files on offer: file name → (ifo, path).

        A file belongs to the detector its name starts with (``H1-CAT2.txt``,
        ``L1_hveto.seg``); other files are ignored.
        """
        folder = self.vetoes_path
        if not folder.is_dir():
            return {}
        out = {}
        for path in sorted(folder.iterdir()):
            ifo = path.name[:2]
            if path.is_file() and ifo in ifos and path.name[2:3] in ("-", "_"):
                out[path.name] = (ifo, path)
        return out

    # ---------------------------------------------------------------- loaders
    def summary(self) -> dict[str, Any]:
        """The run summary (``summary.json``)."""
        path = self.summary_path
        what, step = "the run summary", "sensitive-volume"
        if not path.is_file():
            raise MissingArtifact(what, path, step)
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise MissingArtifact(what, path, step, f"unreadable ({err})") from err

    def results(self) -> AnalysisResults:
        """The sensitive-volume and efficiency curves."""
        path = self.results_path
        what, step = "the sensitive-volume results", "sensitive-volume"
        if not path.is_file():
            raise MissingArtifact(what, path, step)
        try:
            return read_results(path)
        except ArtifactError as err:
            raise MissingArtifact(what, path, step, str(err)) from err

    def _events(self, cls, path: Path, what: str):
        if not path.is_file():
            raise MissingArtifact(what, path, "infer")
        try:
            return cls.read(path)
        except LedgerError as err:
            raise MissingArtifact(what, path, "infer", str(err)) from err

    def background(self) -> EventSet:
        """Timeslide background events."""
        return self._events(EventSet, self.background_path, "the background events")

    def foreground(self) -> RecoveredInjectionSet:
        """Recovered injections."""
        return self._events(
            RecoveredInjectionSet, self.foreground_path, "the recovered injections"
        )

    def zero_lag(self) -> EventSet | None:
        """Zero-lag events, or None when infer did not analyse zero-lag."""
        if not self.zero_lag_path.is_file():
            return None
        return self._events(EventSet, self.zero_lag_path, "the zero-lag events")

    def search_candidates(self) -> CandidateSet | None:
        """The offline search's candidates, or None when no search has run."""
        path = self.candidates_path
        if not path.is_file():
            return None
        try:
            return CandidateSet.read(path)
        except LedgerError as err:
            raise MissingArtifact(
                "the search candidates", path, "search", str(err)
            ) from err

    def search_strain(self, ifos: list[str]) -> list[BackgroundFile]:
        """The strain the offline search analysed (its ``data/`` segments)."""
        try:
            return list_background(self.search_data_dir, ifos, check_finite=False)
        except BackgroundError as err:
            raise MissingArtifact(
                "the strain the search analysed",
                self.search_data_dir,
                "search",
                str(err),
            ) from err

    def alerts(self) -> list[dict[str, Any]]:
        """The online search's candidate files (``candidate-*.json``), by GPS.

        A file that is not a candidate record is reported in the list as
        ``{"file", "problem"}`` rather than dropped.
        """
        folder = self.alerts_dir
        if not folder.is_dir():
            return []
        out = []
        for path in sorted(folder.glob("candidate-*.json")):
            try:
                record = json.loads(path.read_text())
                float(record["gps"]), float(record["far_per_year"])
            except (OSError, ValueError, KeyError, TypeError) as err:
                out.append({"file": path.name, "problem": f"unreadable ({err})"})
                continue
            out.append({**record, "file": path.name})
        return out

    def rejected(self) -> RejectedParameterSet:
        """The draws below the hopeless SNR (the rest of the campaign)."""
        path = self.rejected_path
        what, step = "the rejected injection draws", "generate-timeslide-waveforms"
        if not path.is_file():
            raise MissingArtifact(what, path, step)
        try:
            return RejectedParameterSet.read(path)
        except LedgerError as err:
            raise MissingArtifact(what, path, step, str(err)) from err

    def model(self, version: int | None = None) -> ExportedModel:
        """The exported network (ONNX) and its preprocessing.

        Args:
            version: the version that made the events (default the latest
                complete one)
        """
        try:
            return read_exported_model(self.model_repo, version=version)
        except RepositoryError as err:
            raise MissingArtifact(
                "the exported model", self.model_repo, "export-model", str(err)
            ) from err

    def noise(self) -> str:
        """The test noise in words, from the first test background file's attrs."""
        paths = sorted(self.test_background_dir.glob("background-*.hdf5"))
        if not paths:
            return "unknown (no test background files)"
        try:
            with h5py.File(paths[0], "r") as f:
                source = str(normalize_attr(f.attrs.get("source", "")))
                psd = str(normalize_attr(f.attrs.get("psd", "")))
        except OSError:
            return f"unknown ({paths[0].name} is unreadable)"
        if source == "simulated":
            return f"simulated from the {psd or 'unnamed'} noise curve"
        return {"gwosc": "GWOSC open data", "frames": "frame files"}.get(
            source, source or "of unrecorded origin"
        )

    def test_background(self, ifos: list[str]) -> list[BackgroundFile]:
        """The test background files (strain the events were found in)."""
        try:
            return list_background(self.test_background_dir, ifos, check_finite=False)
        except BackgroundError as err:
            raise MissingArtifact(
                "the test background strain",
                self.test_background_dir,
                "generate-background",
                str(err),
            ) from err
