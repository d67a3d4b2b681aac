"""Small inputs for the inference tests, built here (no training, no network).

- a preprocessing config at 512 Hz with short lengths, so streams are cheap;
- white Gaussian background files written with ``aframe.utils.background``;
- IMRPhenomPv2 injections (lalsimulation), projected with fixed antenna
  factors and scaled to a chosen network SNR against the white-noise PSD;
- two networks exported through ``export.exporter.export_network`` (the one
  export path): a fresh, untrained ``ResNet1D`` and ``EndPower``, a hand-built
  network whose output is the log of the whitened power near the end of the
  kernel, so it responds to loud signals without training.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import lal
import lalsimulation as ls
import numpy as np
import pytest
import torch

from aframe.architectures import PreprocessingConfig, Preprocessor, ResNet1D
from aframe.ledger import SOURCE_PARAMETERS, InjectionSet
from aframe.utils.background import background_filename, write_background
from export.exporter import export_network
from export.repository import read_exported_model

SAMPLE_RATE = 512.0
SIGMA = 1e-21  # strain standard deviation of the white noise
IFOS = ("H1", "L1")
WAVEFORM_DURATION = 4.0
COALESCENCE_TIME = 3.5
ISR = 4.0
BATCH_SIZE = 16


class EndPower(torch.nn.Module):
    """log of the whitened power, weighted by a triangle over the kernel's end.

    The weight rises linearly from ``length`` s before the kernel's end to a
    peak at ``length/2`` s before it and falls to zero at the end, so the output
    for a loud, short signal is a smooth bump as the signal moves through the
    kernel: a stand-in for a trained detector with a known response.

    Args:
        kernel_size: samples per kernel
        sample_rate: Hz
        length: seconds covered by the triangle
    """

    def __init__(self, kernel_size: int, sample_rate: float, length: float = 1.0):
        super().__init__()
        tau = (kernel_size - 1 - torch.arange(kernel_size)) / sample_rate
        half = length / 2
        weights = torch.clamp(1 - (tau - half).abs() / half, min=0)
        self.register_buffer("weights", weights / weights.sum())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        power = (x.square() * self.weights).sum(-1).mean(-1, keepdim=True)
        return torch.log(power)


@pytest.fixture(scope="session")
def config() -> PreprocessingConfig:
    return PreprocessingConfig(
        sample_rate=SAMPLE_RATE,
        kernel_length=1.0,
        fduration=0.5,
        psd_length=4.0,
        fftlength=1.0,
        highpass=32.0,
        ifos=IFOS,
    )


def write_noise(directory: Path, t0: int, duration: int, seed: int) -> Path:
    """A white Gaussian background file of ``duration`` s from GPS ``t0``."""
    rng = np.random.default_rng(seed)
    n = int(duration * SAMPLE_RATE)
    strain = {ifo: SIGMA * rng.standard_normal(n) for ifo in IFOS}
    path = Path(directory) / background_filename(t0, duration)
    write_background(
        path,
        strain,
        t0,
        SAMPLE_RATE,
        {"source": "simulated", "psd": "white", "seed": seed},
    )
    return path


def network_snr(responses: dict[str, np.ndarray], highpass: float = 32.0) -> float:
    """Network SNR of responses in white noise of std ``SIGMA`` (f ≥ highpass)."""
    psd = 2 * SIGMA**2 / SAMPLE_RATE
    total = 0.0
    for h in responses.values():
        freqs = np.fft.rfftfreq(len(h), 1 / SAMPLE_RATE)
        hf = np.fft.rfft(h) / SAMPLE_RATE
        df = SAMPLE_RATE / len(h)
        keep = freqs >= highpass
        total += 4 * np.sum(np.abs(hf[keep]) ** 2 / psd) * df
    return float(np.sqrt(total))


def responses(mass_1: float, mass_2: float, phase: float) -> dict[str, np.ndarray]:
    """IMRPhenomPv2 responses in H1 and L1, coalescence at COALESCENCE_TIME."""
    hp, hc = ls.SimInspiralChooseTDWaveform(
        mass_1 * lal.MSUN_SI, mass_2 * lal.MSUN_SI, 0, 0, 0, 0, 0, 0,
        500e6 * lal.PC_SI, 0.4, phase, 0, 0, 0, 1 / SAMPLE_RATE, 20.0, 50.0,
        lal.CreateDict(), ls.IMRPhenomPv2,
    )  # fmt: skip
    n = int(WAVEFORM_DURATION * SAMPLE_RATE)
    merger = int(round(-float(hp.epoch) * SAMPLE_RATE))
    target = int(COALESCENCE_TIME * SAMPLE_RATE)
    out = {}
    for ifo, (fp, fc, delay) in zip(IFOS, [(0.6, 0.3, 0), (-0.5, 0.4, 3)]):
        h = fp * hp.data.data + fc * hc.data.data
        full = np.zeros(n)
        start = target - merger + delay
        lo, hi = max(start, 0), min(start + len(h), n)
        full[lo:hi] = h[lo - start : hi - start]
        out[ifo] = full
    return out


def make_injections(
    times: np.ndarray, shifts: np.ndarray, snr: float, seed: int = 0
) -> InjectionSet:
    """An ``InjectionSet`` of loud BBHs at ``times`` (H1 axis) with ``shifts``."""
    rng = np.random.default_rng(seed)
    n = len(times)
    params = {name: rng.uniform(0.1, 1.0, n) for name in SOURCE_PARAMETERS}
    params["mass_1"] = rng.uniform(28, 36, n)
    params["mass_2"] = rng.uniform(22, 28, n)
    params["phase"] = rng.uniform(0, 2 * np.pi, n)
    params.update(
        ra=rng.uniform(0, 2 * np.pi, n),
        dec=rng.uniform(-1, 1, n),
        psi=rng.uniform(0, np.pi, n),
        injection_time=np.asarray(times, dtype=float),
        shift=np.asarray(shifts, dtype=float),
    )
    waves = {ifo: np.zeros((n, int(WAVEFORM_DURATION * SAMPLE_RATE))) for ifo in IFOS}
    snrs = {ifo: np.zeros(n) for ifo in IFOS}
    network = np.zeros(n)
    for k in range(n):
        r = responses(params["mass_1"][k], params["mass_2"][k], params["phase"][k])
        scale = snr / network_snr(r)
        for ifo in IFOS:
            waves[ifo][k] = r[ifo] * scale
            snrs[ifo][k] = network_snr({ifo: waves[ifo][k]})
        network[k] = snr
    params["snr"] = network
    for ifo in IFOS:
        params[f"{ifo}_snr"] = snrs[ifo]
    attrs = {
        "sample_rate": SAMPLE_RATE,
        "duration": WAVEFORM_DURATION,
        "coalescence_time": COALESCENCE_TIME,
        "approximant": "IMRPhenomPv2",
        "minimum_frequency": 20.0,
        "reference_frequency": 50.0,
        "prior": "test",
        "seed": seed,
        "ifos": list(IFOS),
        "num_injections": n,
        "snr_threshold": 4.0,
    }
    return InjectionSet(params, waves, attrs)


def whitened_batch(config: PreprocessingConfig, n: int, seed: int) -> np.ndarray:
    """``n`` whitened kernels of white noise, as training would save them."""
    rng = np.random.default_rng(seed)
    x = SIGMA * rng.standard_normal((n, len(IFOS), config.sample_size))
    with torch.no_grad():
        return Preprocessor(config)(torch.from_numpy(x)).numpy()


def export(net: torch.nn.Module, config: PreprocessingConfig, directory: Path):
    """Export ``net`` into ``directory/model_repo`` and read it back."""
    directory.mkdir(parents=True, exist_ok=True)
    config.save(directory / "preprocessing.json")
    batch = whitened_batch(config, 24, seed=5)
    export_network(
        net,
        directory / "preprocessing.json",
        batch,
        directory / "model_repo",
        batch_size=BATCH_SIZE,
        tensorrt="never",
    )
    return read_exported_model(directory / "model_repo")


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The constants and builders above, for tests (which cannot import this)."""
    return SimpleNamespace(
        SAMPLE_RATE=SAMPLE_RATE,
        SIGMA=SIGMA,
        IFOS=IFOS,
        ISR=ISR,
        BATCH_SIZE=BATCH_SIZE,
        EndPower=EndPower,
        write_noise=write_noise,
        network_snr=network_snr,
        responses=responses,
        make_injections=make_injections,
        whitened_batch=whitened_batch,
        export=export,
    )


@pytest.fixture(scope="session")
def resnet(config):
    torch.manual_seed(0)
    return ResNet1D(len(IFOS), layers=(1, 1), widths=(8, 16)).eval()


@pytest.fixture(scope="session")
def resnet_model(tmp_path_factory, resnet, config):
    return export(resnet, config, tmp_path_factory.mktemp("resnet"))


@pytest.fixture(scope="session")
def endpower(config):
    return EndPower(config.kernel_size, config.sample_rate).eval()


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
        write_noise(background, t0, duration, seed=10 + i)
    times, shifts = [], []
    for k in (1, 2):
        for t0, duration in segments:
            grid = np.arange(t0 + 12, t0 + duration - k - 6, 24.0)
            grid = grid + 0.37 * k  # off the kernel grid
            times.extend(grid)
            shifts.extend([[0.0, float(k)]] * len(grid))
    injections = make_injections(np.array(times), np.array(shifts), snr=30.0, seed=3)
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
