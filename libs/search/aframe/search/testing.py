"""Small inputs for the tests of the search and of its users (infer, vizapp).

Built without training and without the export project:

- ``preprocessing_config``: 512 Hz, 1 s kernels, short PSDs, so streams are
  cheap;
- ``write_noise``: white Gaussian background files (``aframe.utils.background``);
- ``make_injections``: IMRPhenomPv2 injections (lalsimulation), projected with
  fixed antenna factors and scaled to a chosen network SNR against the
  white-noise PSD;
- ``EndPower``: a hand-built network whose output is the log of the whitened
  power near the end of the kernel, so it responds to loud signals untrained;
- ``write_onnx_model``: a network as one complete version of a model
  repository, written with ``torch.onnx`` and the repository contract
  (``aframe.search.repository``); export-model writes the same layout with
  hermes.quiver and checks the ONNX network against torch, which this skips;
- ``chirp_responses``, ``white_snr`` and ``CoherentMatchedFilter``: a BBH
  chirp at any sample rate, its SNR in white noise, and a fixed, deterministic
  stand-in for a trained detector: a quadrature matched filter with that chirp
  in every detector, whose output rises with the power the template matches
  *coincidently* in all of them (so a loud glitch or a signal in one detector
  alone scores like noise), for tests and benchmarks that need detections.
"""

from __future__ import annotations

import dataclasses
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from aframe.architectures import PreprocessingConfig
from aframe.architectures.snr import ifo_snr
from aframe.ledger import SOURCE_PARAMETERS, InjectionSet
from aframe.search.repository import (
    INPUT_NAME,
    MODEL_NAME,
    ONNX_FILE,
    OUTPUT_NAME,
    PREPROCESSING_FILE,
    ExportedModel,
    mark_complete,
    read_exported_model,
    version_dirs,
    version_metadata,
    write_version_files,
)
from aframe.utils.background import background_filename, write_background

SAMPLE_RATE = 512.0
"""Hz, of the test strain and of ``preprocessing_config``"""
SIGMA = 1e-21
"""strain standard deviation of the white noise"""
IFOS = ("H1", "L1")
WAVEFORM_DURATION = 4.0
"""seconds of each injection's response"""
COALESCENCE_TIME = 3.5
"""seconds from the start of a response to its merger"""


def preprocessing_config(**changes) -> PreprocessingConfig:
    """The tests' preprocessing: 512 Hz, 1 s kernels, 4 s PSDs, H1 and L1.

    Args:
        changes: fields to set otherwise (e.g. ``sample_rate=256.0``)

    Returns:
        the configuration
    """
    config = PreprocessingConfig(
        sample_rate=SAMPLE_RATE,
        kernel_length=1.0,
        fduration=0.5,
        psd_length=4.0,
        fftlength=1.0,
        highpass=32.0,
        ifos=IFOS,
    )
    return dataclasses.replace(config, **changes)


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
        # (batch, ifo, time) -> (batch, 1)
        power = (x.square() * self.weights).sum(-1).mean(-1, keepdim=True)
        return torch.log(power)


def write_onnx_model(
    net: torch.nn.Module,
    config: PreprocessingConfig,
    repository: str | Path,
    batch_size: int,
    name: str = MODEL_NAME,
) -> ExportedModel:
    """Write ``net`` as the next complete version of model ``name``.

    Args:
        net: (batch_size, n_ifo, kernel_size) → (batch_size, 1)
        config: the preprocessing it goes with
        repository: the model repository's root (created)
        batch_size: kernels per network call, fixed in the ONNX shapes
        name: the model's name in the repository

    Returns:
        the version, read back
    """
    repository = Path(repository)
    version = max(version_dirs(repository / name), default=0) + 1
    vdir = repository / name / str(version)
    vdir.mkdir(parents=True)
    shape = (batch_size, len(config.ifos), config.kernel_size)
    with warnings.catch_warnings():
        # the TorchScript exporter (as hermes.quiver uses it) warns that it is
        # deprecated and that tracing fixes the batch size, as intended here
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            net.eval().to("cpu"),
            torch.zeros(shape),
            str(vdir / ONNX_FILE),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=17,
            dynamo=False,
        )
    metadata = version_metadata(vdir / ONNX_FILE, config, name, version, batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        # the contract copies the preprocessing file training wrote
        config.save(Path(tmp) / PREPROCESSING_FILE)
        write_version_files(vdir, Path(tmp) / PREPROCESSING_FILE, metadata)
    mark_complete(vdir, {"max_abs_diff": None, "written_by": __name__})
    return read_exported_model(repository, name, version)


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
    return float(
        np.sqrt(
            sum(
                white_snr(h, SAMPLE_RATE, highpass=highpass) ** 2
                for h in responses.values()
            )
        )
    )


def responses(mass_1: float, mass_2: float, phase: float) -> dict[str, np.ndarray]:
    """IMRPhenomPv2 responses in H1 and L1, coalescence at COALESCENCE_TIME."""
    # lalsuite comes with the workspace's datagen; only these test inputs need it
    import lal
    import lalsimulation as ls

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


def _band_limit(x: np.ndarray, rate_in: float, rate_out: float) -> np.ndarray:
    """``x`` resampled from ``rate_in`` to ``rate_out`` by truncating its spectrum."""
    n_out = int(round(len(x) * rate_out / rate_in))
    spectrum = np.fft.rfft(x)[: n_out // 2 + 1]
    return np.fft.irfft(spectrum, n_out) * (n_out / len(x))


def chirp_responses(
    sample_rate: float,
    mass_1: float = 35.0,
    mass_2: float = 30.0,
    duration: float = WAVEFORM_DURATION,
    coalescence_time: float = COALESCENCE_TIME,
    phase: float = 0.0,
) -> dict[str, np.ndarray]:
    """IMRPhenomPv2 responses in H1 and L1 at any sample rate.

    Drawn at 4096 Hz (face-on, 500 Mpc, from 20 Hz), tapered over its first
    0.1 s, band-limited to ``sample_rate`` and projected with fixed antenna
    factors (H1: 0.6, 0.3; L1: -0.5, 0.4, arriving 6 ms later).

    Args:
        sample_rate: Hz (4096 divided by a whole number)
        mass_1: detector-frame primary mass, solar masses
        mass_2: detector-frame secondary mass, solar masses
        duration: seconds of each response
        coalescence_time: seconds from the response's start to its merger
        phase: orbital phase at the reference frequency, radians

    Returns:
        ifo → (duration·sample_rate,) strain, merger at ``coalescence_time``
    """
    import lal
    import lalsimulation as ls

    fs = 4096.0
    hp, hc = ls.SimInspiralChooseTDWaveform(
        mass_1 * lal.MSUN_SI, mass_2 * lal.MSUN_SI, 0, 0, 0, 0, 0, 0,
        500e6 * lal.PC_SI, 0.0, phase, 0, 0, 0, 1 / fs, 20.0, 50.0,
        lal.CreateDict(), ls.IMRPhenomPv2,
    )  # fmt: skip
    merger = int(round(-float(hp.epoch) * fs))
    taper = np.ones(len(hp.data.data))
    ramp = int(0.1 * fs)
    taper[:ramp] = 0.5 * (1 - np.cos(np.pi * np.arange(ramp) / ramp))
    n = int(round(duration * fs))
    out = {}
    for ifo, (fp, fc, delay) in zip(IFOS, [(0.6, 0.3, 0.0), (-0.5, 0.4, 0.006)]):
        h = (fp * hp.data.data + fc * hc.data.data) * taper
        full = np.zeros(n)
        start = int(round((coalescence_time + delay) * fs)) - merger
        lo, hi = max(start, 0), min(start + len(h), n)
        full[lo:hi] = h[lo - start : hi - start]
        out[ifo] = _band_limit(full, fs, sample_rate)
    return out


def white_snr(
    h: np.ndarray, sample_rate: float, sigma: float = SIGMA, highpass: float = 32.0
) -> float:
    """Optimal SNR of ``h`` in white noise of standard deviation ``sigma``.

    The one-sided PSD of such noise is ``2·sigma²/sample_rate``; frequencies
    below ``highpass`` are left out, as the whitening does.

    Args:
        h: the strain, shape (T,)
        sample_rate: Hz
        sigma: the noise's standard deviation per sample
        highpass: Hz

    Returns:
        the SNR
    """
    # white noise of this std has a flat one-sided PSD of 2·sigma²/sample_rate
    psd = np.full((1, len(h) // 2 + 1), 2 * sigma**2 / sample_rate)
    return float(ifo_snr(np.asarray(h, float)[None], psd, sample_rate, highpass)[0])


class CoherentMatchedFilter(torch.nn.Module):
    """A quadrature matched filter whose output needs the chirp in every detector.

    Each detector's whitened kernel is correlated with a unit-norm template
    and its 90° rotation (its Hilbert transform), so ``P(τ) = c_cos² + c_sin²``
    is the matched power at lag ``τ`` whatever the signal's phase: about
    ``ρ²`` for a signal of matched SNR ``ρ``, an exponential of mean 2 in
    Gaussian noise. Each detector's power is maximised over lags within
    ``max_delay`` (the light travel time), the minimum over detectors taken
    at every lag, and the output is the log of its maximum over the kernel:
    a stand-in for a trained network with a known response, monotonic in the
    weaker detector's matched SNR and blind to power in one detector alone.

    Args:
        template: (L,) the whitened chirp to match, L < kernel_size
        sample_rate: Hz
        max_delay: seconds either way a detector's peak may lie from another's
    """

    def __init__(
        self, template: np.ndarray, sample_rate: float, max_delay: float = 0.012
    ):
        super().__init__()
        t = np.asarray(template, dtype=np.float64)
        t = t / np.linalg.norm(t)
        spectrum = np.fft.rfft(t)
        quadrature = np.fft.irfft(-1j * spectrum, len(t))
        quadrature -= (quadrature @ t) * t
        quadrature /= np.linalg.norm(quadrature)
        weights = np.stack([t, quadrature])[:, None, :]  # (2, 1, L)
        self.register_buffer("weights", torch.tensor(weights, dtype=torch.float32))
        self.pool = 2 * int(round(max_delay * sample_rate)) + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (batch, ifo, time) -> (batch, 1)
        batch, ifos, size = x.shape
        c = torch.nn.functional.conv1d(x.reshape(batch * ifos, 1, size), self.weights)
        power = c.square().sum(1).reshape(batch, ifos, -1)
        power = torch.nn.functional.max_pool1d(
            power, self.pool, stride=1, padding=self.pool // 2
        )
        coincident = power.amin(dim=1)  # (batch, lags)
        return torch.log(coincident.amax(dim=-1, keepdim=True) + 1e-3)


def chirp_template(
    config: PreprocessingConfig,
    length: float = 0.5,
    mass_1: float = 35.0,
    mass_2: float = 30.0,
    after: float = 0.05,
) -> np.ndarray:
    """The whitened chirp a ``CoherentMatchedFilter`` matches, for white noise.

    In white noise the whitening is a highpass and a scale, so the template is
    the H1 response highpassed at ``config.highpass``, over the ``length`` s
    ending ``after`` s past the merger.

    Args:
        config: the preprocessing (sample rate, highpass)
        length: seconds of template
        mass_1: detector-frame primary mass, solar masses
        mass_2: detector-frame secondary mass, solar masses
        after: seconds of ringdown kept after the merger

    Returns:
        (length·sample_rate,) the template (any norm)
    """
    fs = config.sample_rate
    h = chirp_responses(fs, mass_1, mass_2)["H1"]
    spectrum = np.fft.rfft(h)
    spectrum[np.fft.rfftfreq(len(h), 1 / fs) < (config.highpass or 0.0)] = 0
    h = np.fft.irfft(spectrum, len(h))
    end = int(round((COALESCENCE_TIME + after) * fs))
    return h[end - int(round(length * fs)) : end]
