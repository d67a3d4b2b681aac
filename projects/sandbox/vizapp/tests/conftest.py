"""Experiments and a running app for the vizapp tests.

- ``experiment_dirs``: a small, complete synthetic experiment with everything
  the app reads, written with the libraries as the pipeline's steps would
  write it: event ledgers from ``aframe.ledger.synthetic``, analysis results
  and a run summary computed from them with the ledger's FAR and
  sensitive-volume estimators, a 1024 s test background at 256 Hz, the test
  injections, a tiny convolutional network written as a model repository by
  ``aframe.search.testing``, and two veto segment files.
- ``searched_dirs``: an experiment whose events the search itself made: white
  noise, loud IMRPhenomPv2 injections and ``EndPower`` (``aframe.search
  .testing``) run through the real ``infer`` in a subprocess (the projects
  stay independent), for the test that the inspector reproduces the search.
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from aframe.ledger import (
    CandidateSet,
    EventSet,
    RecoveredInjectionSet,
    RejectedParameterSet,
)
from aframe.ledger.far import far, far_grid, seconds_per, threshold_at_far
from aframe.ledger.results import AnalysisResults, EfficiencyResult, PopulationResult
from aframe.ledger.sensitive_volume import (
    campaign,
    efficiency_vs_snr,
    sensitive_distance,
    sensitive_volume,
)
from aframe.ledger.synthetic import write_synthetic_experiment
from aframe.search.testing import preprocessing_config, write_onnx_model
from aframe.utils.background import background_filename, write_background
from vizapp.browser import chromium

T0, DURATION, SAMPLE_RATE = 1_000_000_000, 1024, 256.0
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
#: volume normalisation of the synthetic population, Gpc³ (its value only
#: scales the volumes)
V0 = 10.0
SNR_EDGES = np.array([4, 5, 6, 8, 10, 12, 15, 20, 30, 50, 100], dtype=float)


class TinyNet(torch.nn.Module):
    """(batch, ifo, time) → (batch, 1): enough to exercise the real path."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(2, 4, kernel_size=9, padding=4)
        self.out = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.out(torch.relu(self.conv(x)).pow(2).mean(dim=-1))


def write_analysis(base: Path, data: Path) -> None:
    """``analysis/sensitive-volume.hdf5`` and ``summary.json`` of the ledgers.

    The injection prior's own population (equal weights), efficiencies at 1
    per hour and 1 per day, and the summary fields the app shows.
    """
    background = EventSet.read(base / "infer" / "background.hdf5")
    zero_lag = EventSet.read(base / "infer" / "zero-lag.hdf5")
    rejected = RejectedParameterSet.read(data / "test" / "rejected-parameters.hdf5")
    draws = campaign(
        RecoveredInjectionSet.read(base / "infer" / "foreground.hdf5"), rejected
    )
    prior = str(rejected.attrs["prior"])
    log_weight = np.zeros(len(draws))  # the injection prior itself: equal weights
    per_year = seconds_per("year") / seconds_per("day")
    thresholds, fars = far_grid(background, 24.0 * per_year)
    curve = sensitive_volume(draws.statistic, log_weight, V0, thresholds)
    rates = {"1 per hour": 24.0, "1 per day": 1.0}
    cuts = {label: threshold_at_far(background, r, "day") for label, r in rates.items()}
    efficiencies = [
        EfficiencyResult(
            label,
            rates[label],
            efficiency_vs_snr(draws.snr, draws.statistic, cut, SNR_EDGES),
        )
        for label, cut in cuts.items()
    ]
    AnalysisResults(
        thresholds=thresholds,
        fars=fars,
        populations={
            prior: PopulationResult(
                prior, curve.volume, curve.error, V0, curve.effective_samples
            )
        },
        efficiencies=efficiencies,
        attrs={
            "Tb": background.Tb,
            "num_injections": len(draws),
            "num_background_events": len(background),
            "injection_prior": prior,
            "ifos": background.ifos,
        },
    ).write(base / "analysis" / "sensitive-volume.hdf5")

    day = sensitive_volume(draws.statistic, log_weight, V0, cuts["1 per day"])
    efficiency = efficiencies[1].curve
    loudest = zero_lag.parameters["detection_statistic"].max()
    summary = {
        "Tb": background.Tb,
        "Tb_days": background.Tb / seconds_per("day"),
        "num_background_events": len(background),
        "num_injections": len(draws),
        "num_found_at_1_per_day": int(draws.found(cuts["1 per day"]).sum()),
        "threshold_at_1_per_day": cuts["1 per day"],
        "far_per_day_of_loudest_zero_lag": far(background, loudest, "day"),
        "sensitive_volume_gpc3_at_1_per_day": float(day.volume[0]),
        "sensitive_volume_err_gpc3_at_1_per_day": float(day.error[0]),
        "sensitive_distance_mpc_at_1_per_day": sensitive_distance(day.volume[0]),
        "efficiency_at_snr": {f"{s:g}": efficiency.at(s) for s in (8, 12, 20)},
        "far_for_efficiency_per_day": 1.0,
        "snr_50_at_1_per_day": efficiency.snr_at(0.5),
        "notes": [],
    }
    (base / "analysis" / "summary.json").write_text(json.dumps(summary, indent=2))


def write_experiment(root: Path):
    base, data = root / "base", root / "data"
    write_synthetic_experiment(
        base,
        data,
        seed=5,
        t0=T0,
        duration=DURATION,
        waveforms={"sample_rate": SAMPLE_RATE, "duration": 4.0, "amplitude": 0.4},
    )
    rng = np.random.default_rng(7)
    n = int(DURATION * SAMPLE_RATE)
    path = data / "test" / "background" / background_filename(T0, DURATION)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_background(
        path,
        {ifo: rng.normal(size=n) for ifo in ("H1", "L1")},
        T0,
        SAMPLE_RATE,
        {"source": "simulated", "psd": "white", "seed": 7},
    )
    config = preprocessing_config(sample_rate=SAMPLE_RATE, fduration=1.0)
    write_onnx_model(TinyNet(), config, base / "model_repo", batch_size=16)
    write_analysis(base, data)
    write_vetoes(base / "vetoes")
    return base, data


#: the veto files of the synthetic experiment: name → GPS segments
VETOES = {
    # [T0 + 45, T0 + 50) holds the found injections at T0 + 48
    "H1-CAT2.txt": [
        (T0 + 45.0, T0 + 50.0),
        (T0 + 100.0, T0 + 160.0),
        (T0 + 500.0, T0 + 520.0),
    ],
    "L1-CAT2.txt": [(T0 + 300.0, T0 + 340.0)],
}


@pytest.fixture(scope="session")
def synthetic():
    """The synthetic experiment's constants (tests cannot import conftest)."""
    return SimpleNamespace(T0=T0, DURATION=DURATION, VETOES=VETOES)


def write_vetoes(folder: Path) -> None:
    """Two-column veto segment files, one per detector, and a file to ignore."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, segments in VETOES.items():
        (folder / name).write_text("".join(f"{a} {b}\n" for a, b in segments))
    (folder / "README").write_text("not a veto file\n")


SEARCH_SCRIPT = """
import sys
from pathlib import Path
import numpy as np
from aframe.utils.offline import disable_network_features
disable_network_features()
from aframe.search import testing
from infer.main import infer

root = Path(sys.argv[1])
data, base = root / "data", root / "base"
folder = data / "test" / "background"
folder.mkdir(parents=True)
t0, duration = 1_000_000_000, 160
testing.write_noise(folder, t0, duration, seed=10)
times, shifts = [], []
for k in (1, 2):
    grid = np.arange(t0 + 12, t0 + duration - k - 6, 24.0) + 0.37 * k
    times.extend(grid)
    shifts.extend([[0.0, float(k)]] * len(grid))
testing.make_injections(
    np.array(times), np.array(shifts), snr=30.0, seed=3
).write(data / "test" / "waveforms.hdf5")
config = testing.preprocessing_config()
net = testing.EndPower(config.kernel_size, config.sample_rate).eval()
testing.write_onnx_model(net, config, base / "model_repo", 16)
infer(
    basedir=base, datadir=data, ifos=["H1", "L1"], inference_sampling_rate=4.0,
    Tb=300.0, shift_step=1.0, integration_length=0.5, cluster_window_length=4.0,
    match_window=1.0, num_workers=1,
)
"""


@pytest.fixture(scope="session")
def searched_dirs(tmp_path_factory):
    """(basedir, datadir) of an experiment the real ``infer`` searched.

    infer runs in its own process: this environment's Python when it has the
    infer project (the workspace's), else ``AFRAME_INFER_PYTHON``, the Python
    of infer's own environment (``pinto build infer``), so vizapp's
    environment needs nothing of infer's to check the inspector against it.
    """
    python = os.environ.get("AFRAME_INFER_PYTHON") or sys.executable
    if python == sys.executable and importlib.util.find_spec("infer") is None:
        pytest.fail(
            "the infer project is not installed in this environment: the "
            "inspector-equals-search test needs it to make real events (set "
            "AFRAME_INFER_PYTHON to the Python of an environment that has it)"
        )
    root = tmp_path_factory.mktemp("searched")
    done = subprocess.run(
        [python, "-c", SEARCH_SCRIPT, str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "AFRAME_LOG_LEVEL": "WARNING"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"infer failed:\n{done.stdout}\n{done.stderr}")
    return root / "base", root / "data"


@pytest.fixture(scope="session")
def search_dirs(searched_dirs, tmp_path_factory):
    """(basedir, datadir) of ``searched_dirs`` with a ``search`` script's output.

    ``BASE_DIR/search`` as the offline search writes it: the strain it
    analysed under ``data/`` (the test background's segment) and
    ``candidates.hdf5``, the zero-lag events the real search core found in
    that strain ranked against its timeslides (``CandidateSet.from_events``,
    as the search ranks them); and two online alert files, one of them
    damaged.
    """
    base, data = searched_dirs
    root = tmp_path_factory.mktemp("search")
    shutil.copytree(base, root / "base", ignore=shutil.ignore_patterns("search"))
    search = root / "base" / "search"
    shutil.copytree(data / "test" / "background", search / "data")
    background = EventSet.read(base / "infer" / "background.hdf5")
    zero_lag = EventSet.read(base / "infer" / "zero-lag.hdf5")
    attrs = {
        name: zero_lag.attrs[name]
        for name in (
            "inference_sampling_rate",
            "integration_length",
            "cluster_window_length",
            "time_offset",
        )
    }
    CandidateSet.from_events(
        zero_lag, background, str(zero_lag.attrs["model"]), attrs=attrs
    ).write(search / "candidates.hdf5")
    alerts = search / "candidates"
    alerts.mkdir()
    loudest = float(zero_lag.detection_time[zero_lag.detection_statistic.argmax()])
    record = {
        "gps": loudest,
        "utc": "2011-09-14T01:46:40",
        "statistic": float(zero_lag.detection_statistic.max()),
        "far_per_year": 3.0,
        "far_per_day": 3.0 / 365.25,
        "ifar_years": 1 / 3.0,
        "stage": "final",
    }
    (alerts / f"candidate-{loudest:.3f}.json").write_text(json.dumps(record))
    (alerts / "candidate-1000000001.000.json").write_text("{not json")
    return root / "base", data


@pytest.fixture(scope="session")
def experiment_dirs(tmp_path_factory):
    return write_experiment(tmp_path_factory.mktemp("vizapp"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """A vizapp server in a subprocess (``wait`` until it answers)."""

    def __init__(self, basedir: Path, datadir: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from vizapp.main import main; main()",
                "--basedir",
                str(basedir),
                "--datadir",
                str(datadir),
                "--port",
                str(self.port),
            ],
            stdout=open(log, "w"),
            stderr=subprocess.STDOUT,
        )

    def wait(self, timeout: float = 120.0) -> "App":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vizapp exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=5):
                    return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"vizapp did not start in {timeout} s: {self.log.read_text()}"
        )

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def servers(experiment_dirs, tmp_path_factory):
    """The app on the synthetic experiment and on an empty one, started together."""
    base, data = experiment_dirs
    empty = tmp_path_factory.mktemp("empty")
    (empty / "base").mkdir()
    (empty / "data").mkdir()
    logs = tmp_path_factory.mktemp("logs")
    apps = {
        "full": App(base, data, logs / "vizapp.log"),
        "empty": App(empty / "base", empty / "data", logs / "vizapp-empty.log"),
    }
    try:
        yield {name: app.wait() for name, app in apps.items()}
    finally:
        for app in apps.values():
            app.stop()


@pytest.fixture(scope="session")
def app(servers):
    return servers["full"]


@pytest.fixture(scope="session")
def empty_app(servers):
    return servers["empty"]


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's chromium and its "
            "driver (apt-get update && apt-get install -y chromium chromium-driver)"
        )
    driver = chromium(
        tmp_path_factory.mktemp("chromium-profile"),
        CHROMIUM,
        CHROMEDRIVER,
        page_load_timeout=120,
    )
    yield driver
    driver.quit()


#: lines the browser tests report at the end of the run (request log,
#: screenshots, load times), whether or not output is captured
REPORT: list[str] = []


@pytest.fixture(scope="session")
def report():
    """Add lines to the end-of-run report (``pytest_terminal_summary``)."""
    return REPORT


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("vizapp in the browser")
        for line in REPORT:
            terminalreporter.write_line(line)
