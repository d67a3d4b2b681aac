"""Small inputs for the search tests, built here (no training, no export step).

The network is ``aframe.search.testing.CoherentMatchedFilter``: a fixed
quadrature matched filter with a 35+30 M☉ chirp in each detector whose output
is the log of the power matched coincidently in both (the weaker detector's),
a deterministic stand-in for a trained detector that finds chirps and
ignores power in one detector alone. Strain is white Gaussian noise at 256 Hz
(preprocessing: 1 s kernels, 0.5 s fduration, 2 s PSDs) with chirps of chosen
network SNR and sine-Gaussian glitches of chosen SNR added.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from aframe.architectures import PreprocessingConfig
from aframe.search import testing
from aframe.search.repository import ExportedModel
from aframe.utils.strain import channel_name

IFOS = testing.IFOS
FS = 256.0
BATCH_SIZE = 32
SETTINGS = {
    "inference_sampling_rate": 2.0,
    "integration_length": 0.5,
    "cluster_window_length": 4.0,
}


@pytest.fixture(scope="session")
def config() -> PreprocessingConfig:
    return testing.preprocessing_config(sample_rate=FS, psd_length=2.0, fftlength=0.5)


@pytest.fixture(scope="session")
def model(tmp_path_factory, config) -> ExportedModel:
    """The matched-filter stand-in, exported as ``model_repo``."""
    net = testing.CoherentMatchedFilter(testing.chirp_template(config), FS)
    repository = tmp_path_factory.mktemp("experiment") / "model_repo"
    return testing.write_onnx_model(net, config, repository, BATCH_SIZE)


def simulate(
    t0: float,
    duration: float,
    signals: list[tuple[float, float]] = (),
    glitches: list[tuple[float, float, str]] = (),
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """White noise with chirps ``(merger GPS, network SNR)`` and glitches
    ``(peak GPS, SNR, ifo)`` (100 Hz sine-Gaussians, Q = 9)."""
    rng = np.random.default_rng(seed)
    n = int(round(duration * FS))
    strain = {ifo: testing.SIGMA * rng.standard_normal(n) for ifo in IFOS}
    for k, (merger, snr) in enumerate(signals):
        responses = testing.chirp_responses(FS, phase=0.7 * k)
        scale = snr / np.sqrt(
            sum(testing.white_snr(h, FS) ** 2 for h in responses.values())
        )
        i0 = int(round((merger - testing.COALESCENCE_TIME - t0) * FS))
        for ifo, h in responses.items():
            strain[ifo][i0 : i0 + len(h)] += scale * h
    t = t0 + np.arange(n) / FS
    for peak, snr, ifo in glitches:
        tau = 9 / (2 * np.pi * 100.0)
        shape = np.exp(-(((t - peak) / tau) ** 2)) * np.sin(
            2 * np.pi * 100.0 * (t - peak)
        )
        strain[ifo] += shape * snr / testing.white_snr(shape, FS)
    return strain


def write_hdf5(path: Path, strain: dict[str, np.ndarray], t0: float, channel: str):
    """A user's HDF5 file: one dataset per ifo named by channel, ``x0``/``dx``."""
    with h5py.File(path, "w") as f:
        for ifo, values in strain.items():
            dataset = f.create_dataset(channel_name(ifo, channel), data=values)
            dataset.attrs["x0"] = float(t0)
            dataset.attrs["dx"] = 1 / FS
    return path


def write_gwf(path: Path, strain: dict[str, np.ndarray], t0: float, channel: str):
    """A GWF frame file (gwpy), one channel ``{ifo}:{channel}`` per ifo."""
    from gwpy.timeseries import TimeSeries, TimeSeriesDict

    data = TimeSeriesDict()
    for ifo, values in strain.items():
        name = channel_name(ifo, channel)
        data[name] = TimeSeries(values, t0=t0, sample_rate=FS, name=name, channel=name)
    data.write(str(path))
    return path


def write_frame(
    directory: Path,
    strain: dict[str, np.ndarray],
    gps: int,
    duration: int = 1,
    kind: str = "hdf5",
    description: str = "HL-TEST",
    channel: str = "GDS-CALIB_STRAIN",
) -> list[Path]:
    """Frame file(s) for ``[gps, gps + duration)`` of ``strain`` (whole arrays
    from GPS ``strain["t0"]``), written elsewhere and renamed, as sites do.

    ``kind``: ``hdf5`` (one file, every ifo) or ``gwf`` (one file per ifo,
    ``H-H1_TEST-…`` and ``L-L1_TEST-…``).
    """
    i0 = int(round((gps - strain["t0"]) * FS))
    i1 = i0 + int(duration * FS)
    piece = {ifo: strain[ifo][i0:i1] for ifo in IFOS}
    if kind == "hdf5":
        groups = {f"{description}-{gps}-{duration}.hdf5": piece}
    else:
        groups = {
            f"{ifo[0]}-{ifo}_TEST-{gps}-{duration}.gwf": {ifo: piece[ifo]}
            for ifo in IFOS
        }
    paths = []
    for name, values in groups.items():
        tmp = directory / f".{name}.tmp{Path(name).suffix}"
        writer = write_hdf5 if kind == "hdf5" else write_gwf
        writer(tmp, values, gps, channel)
        tmp.rename(directory / name)
        paths.append(directory / name)
    return paths


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """Constants and builders for tests (which cannot import this conftest)."""
    return SimpleNamespace(
        IFOS=list(IFOS),
        FS=FS,
        SETTINGS=dict(SETTINGS),
        simulate=simulate,
        write_hdf5=write_hdf5,
        write_gwf=write_gwf,
        write_frame=write_frame,
    )


@pytest.fixture(scope="session")
def noise_background(tmp_path_factory, model) -> Path:
    """The offline search's background over 400 s of noise (Tb ≈ 20 000 s)."""
    from search.main import search

    root = tmp_path_factory.mktemp("noise")
    t0 = 1_000_000_000
    write_hdf5(root / f"N-NOISE-{t0}-400.hdf5", simulate(t0, 400, seed=11), t0, "OPEN")
    written = search(
        repository=model.repository,
        outdir=root / "search",
        ifos=list(IFOS),
        start=t0,
        stop=t0 + 400,
        data_files=[str(root / "N-NOISE-*.hdf5")],
        Tb=20000.0,
        num_workers=1,
        **SETTINGS,
    )
    return written["background"]
