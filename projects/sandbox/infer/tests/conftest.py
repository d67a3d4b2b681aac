"""Small inputs for the inference tests, built here (no training, no export step).

From ``aframe.search.testing``: a preprocessing config at 512 Hz with short
lengths, so streams are cheap; white Gaussian background files; IMRPhenomPv2
injections scaled to a chosen network SNR against the white-noise PSD; and
``EndPower``, a hand-built network whose output is the log of the whitened
power near the end of the kernel, so it responds to loud signals without
training, written as a model repository with the repository contract.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from aframe.architectures import PreprocessingConfig
from aframe.search import testing

IFOS = testing.IFOS
ISR = 4.0
BATCH_SIZE = 16


@pytest.fixture(scope="session")
def config() -> PreprocessingConfig:
    return testing.preprocessing_config()


def export(net, config: PreprocessingConfig, directory: Path):
    """Write ``net`` into ``directory/model_repo`` and read it back."""
    return testing.write_onnx_model(net, config, directory / "model_repo", BATCH_SIZE)


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """Constants and builders for tests (which cannot import this conftest)."""
    return SimpleNamespace(IFOS=IFOS, export=export)


@pytest.fixture(scope="session")
def endpower(config):
    return testing.EndPower(config.kernel_size, config.sample_rate).eval()


@pytest.fixture(scope="session")
def endpower_model(tmp_path_factory, endpower, config):
    return export(endpower, config, tmp_path_factory.mktemp("endpower"))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory, config):
    """DATA_DIR-like inputs: two white-noise segments and SNR-30 injections.

    Injections every 24 s from 12 s after each segment's start, for the
    shifts 1 s and 2 s (and none in zero-lag).
    """
    root = tmp_path_factory.mktemp("data")
    background = root / "test" / "background"
    background.mkdir(parents=True)
    segments = [(1_000_000_000, 160), (1_000_000_400, 128)]
    for i, (t0, duration) in enumerate(segments):
        testing.write_noise(background, t0, duration, seed=10 + i)
    times, shifts = [], []
    for k in (1, 2):
        for t0, duration in segments:
            grid = np.arange(t0 + 12, t0 + duration - k - 6, 24.0)
            grid = grid + 0.37 * k  # off the kernel grid
            times.extend(grid)
            shifts.extend([[0.0, float(k)]] * len(grid))
    injections = testing.make_injections(
        np.array(times), np.array(shifts), snr=30.0, seed=3
    )
    injections.write(root / "test" / "waveforms.hdf5")
    return root


SETTINGS = dict(
    ifos=list(IFOS),
    inference_sampling_rate=ISR,
    Tb=600.0,
    shift_step=1.0,
    integration_length=0.5,
    cluster_window_length=4.0,
    match_window=1.0,
)


@pytest.fixture(scope="session")
def settings() -> dict:
    """The search settings of the sandbox runs (4 Hz, 0.5 s boxcar, 4 s clusters)."""
    return dict(SETTINGS)


def _run_infer(basedir, datadir, repository, **kwargs):
    from infer.main import infer

    return infer(
        basedir=basedir,
        datadir=datadir,
        repository_dir=repository,
        **{**SETTINGS, "num_workers": 1, **kwargs},
    )


@pytest.fixture(scope="session")
def run_infer():
    """``infer`` on given directories with the sandbox settings (in-process)."""
    return _run_infer


@pytest.fixture(scope="session")
def local_run(tmp_path_factory, sandbox, endpower_model):
    """One in-process infer run on the sandbox with EndPower: (basedir, artifacts)."""
    basedir = tmp_path_factory.mktemp("experiment")
    return basedir, _run_infer(basedir, sandbox, endpower_model.repository)


@pytest.fixture(scope="session")
def mlserver_url(tmp_path_factory, endpower_model):
    """MLServer serving the EndPower export over KServe-V2 gRPC, for the session.

    On teardown the server must be gone: nothing listens on its port any more.
    """
    import socket

    from infer.serve import mlserver_server

    with mlserver_server(endpower_model, tmp_path_factory.mktemp("mlserver")) as url:
        yield url
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", int(url.rsplit(":", 1)[1]))) != 0
