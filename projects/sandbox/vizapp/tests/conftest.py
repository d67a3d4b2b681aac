"""A small, complete synthetic experiment and a running app for the vizapp tests.

The experiment has everything the app reads: event ledgers from
``analysis.synthetic``, the analysis results made from them by the real
``sensitive-volume`` script, a 1024 s test background at 256 Hz, the test
injections, and a tiny convolutional network exported to ONNX by the real
``export_network``.
"""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from aframe.architectures import PreprocessingConfig
from aframe.utils.background import background_filename, write_background
from analysis.sensitive_volume import sensitive_volume
from analysis.synthetic import write_synthetic_experiment
from export.exporter import export_network

T0, DURATION, SAMPLE_RATE = 1_000_000_000, 1024, 256.0
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class TinyNet(torch.nn.Module):
    """(batch, ifo, time) → (batch, 1): enough to exercise the real path."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(2, 4, kernel_size=9, padding=4)
        self.out = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.out(torch.relu(self.conv(x)).pow(2).mean(dim=-1))


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
    config = PreprocessingConfig(
        sample_rate=SAMPLE_RATE,
        kernel_length=1.0,
        fduration=1.0,
        psd_length=4.0,
        fftlength=1.0,
        highpass=32.0,
    )
    training = base / "training"
    training.mkdir(parents=True)
    config.save(training / "preprocessing.json")
    batch = rng.normal(size=(8, 2, config.kernel_size)).astype(np.float32)
    export_network(
        TinyNet(),
        training / "preprocessing.json",
        batch,
        base / "model_repo",
        batch_size=16,
        tensorrt="never",
    )
    sensitive_volume(base, data)
    return base, data


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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1500,1300",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=options
    )
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()
