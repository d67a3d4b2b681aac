"""A small synthetic experiment with a known detection model, for tests and demos.

It writes the files ``infer`` and ``generate-timeslide-waveforms`` would, in
their contract layout, without running either: background and zero-lag
``EventSet``s, the ``RecoveredInjectionSet`` of a campaign drawn from a real
prior, its ``RejectedParameterSet`` and (optionally) the ``InjectionSet`` of
the accepted draws with short chirp-like responses.

Detection model: network SNR ``ρ = ρ0·(Mc_det/25 M☉)^(5/6)·(1 Gpc/d_L)·Θ``
with ``Θ`` from the inclination and a uniform sky factor; draws with ``ρ <
snr_threshold`` are rejected. An accepted injection is recovered when ``ρ ≥
5`` with statistic ``ρ - 2 + N(0, 1)``; background statistics are ``2 +
Exp(1)``, one event per 16 s of livetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aframe.ledger import (
    EventSet,
    InjectionSet,
    RecoveredInjectionSet,
    RejectedParameterSet,
)
from aframe.priors import get_prior, sample

EVENT_SPACING = 16.0  # s of livetime per background event
INJECTION_SPACING = 24.0  # s between injections of one shift


@dataclass(frozen=True)
class SyntheticExperiment:
    """Paths of the files a synthetic experiment wrote.

    Attributes:
        basedir: BASE_DIR
        datadir: DATA_DIR
        background: ``infer/background.hdf5``
        foreground: ``infer/foreground.hdf5``
        zero_lag: ``infer/zero-lag.hdf5``
        rejected: ``test/rejected-parameters.hdf5``
        injections: ``test/waveforms.hdf5`` (None unless written)
    """

    basedir: Path
    datadir: Path
    background: Path
    foreground: Path
    zero_lag: Path
    rejected: Path
    injections: Path | None


def network_snr(
    draws: dict[str, np.ndarray], rng: np.random.Generator, rho0: float
) -> np.ndarray:
    """The synthetic detection model's network SNR of each draw."""
    chirp = (draws["mass_1"] * draws["mass_2"]) ** 0.6 / (
        draws["mass_1"] + draws["mass_2"]
    ) ** 0.2
    c = np.cos(draws["theta_jn"])
    inclination = np.sqrt(((1 + c**2) / 2) ** 2 + c**2) / np.sqrt(2)
    sky = rng.uniform(0.3, 1.0, len(c))
    return (
        rho0
        * (chirp / 25) ** (5 / 6)
        * (1000 / draws["luminosity_distance"])
        * inclination
        * sky
    )


def _chirps(
    draws: dict[str, np.ndarray],
    snr: np.ndarray,
    sample_rate: float,
    duration: float,
    amplitude: float,
) -> np.ndarray:
    """(N, T) chirp-like responses peaking at ``duration/2``."""
    t = np.arange(int(duration * sample_rate)) / sample_rate - duration / 2
    tau = np.clip(-t, 1e-3, None)[None, :]
    f = np.clip(30 * (tau / 1.0) ** (-3 / 8), 0, sample_rate / 2.5)
    phase = 2 * np.pi * np.cumsum(f, axis=1) / sample_rate + draws["phase"][:, None]
    envelope = np.where(
        t[None, :] <= 0, (f / 30) ** (2 / 3), np.exp(-t[None, :] / 0.01)
    )
    return (amplitude * snr[:, None] * envelope * np.sin(phase)).astype(np.float32)


def write_synthetic_experiment(
    basedir: Path,
    datadir: Path,
    seed: int = 0,
    num_injections: int = 4000,
    t0: float = 1_000_000_000.0,
    duration: float = 1024.0,
    num_shifts: int = 170,
    prior: str = "end_o3_ratesandpops",
    ifos: tuple[str, ...] = ("H1", "L1"),
    rho0: float = 40.0,
    snr_threshold: float = 4.0,
    waveforms: dict[str, float] | None = None,
) -> SyntheticExperiment:
    """Write the ledgers of a synthetic search.

    Args:
        basedir: BASE_DIR (``infer/`` is written under it)
        datadir: DATA_DIR (``test/`` is written under it)
        seed: random seed
        num_injections: draws from the prior, accepted and rejected
        t0: GPS start of the (one) test segment, s
        duration: length of the test segment, s
        num_shifts: timeslides ``k·[0, 1]`` s, k = 1 … num_shifts
        prior: injection prior name
        ifos: detectors
        rho0: SNR of a 25 M☉ chirp mass at 1 Gpc, face-on, best sky position
        snr_threshold: hopeless SNR below which draws are rejected
        waveforms: also write ``test/waveforms.hdf5`` with responses of
            ``{"sample_rate": Hz, "duration": s, "amplitude": strain per SNR}``

    Returns:
        the paths written
    """
    # a stream of its own: the prior's draws use default_rng(seed) itself
    rng = np.random.default_rng([seed, 1])
    basedir, datadir = Path(basedir), Path(datadir)
    shifts = np.stack([np.zeros(num_shifts), np.arange(1, num_shifts + 1)], axis=1)
    livetime = np.array([duration - s[1] for s in shifts])
    tb = float(livetime.sum())

    # background: one event per EVENT_SPACING s of each shift's livetime
    counts = (livetime / EVENT_SPACING).astype(int)
    shift_index = np.repeat(np.arange(num_shifts), counts)
    times = t0 + rng.uniform(0, 1, len(shift_index)) * livetime[shift_index]
    background = EventSet(
        {
            "detection_statistic": 2 + rng.exponential(1.0, len(times)),
            "detection_time": times,
            "shift": shifts[shift_index],
        },
        attrs={"Tb": tb, "ifos": list(ifos)},
    )
    n0 = int(duration / EVENT_SPACING)
    zero_lag = EventSet(
        {
            "detection_statistic": 2 + rng.exponential(1.0, n0),
            "detection_time": np.sort(t0 + rng.uniform(0, duration, n0)),
            "shift": np.zeros((n0, len(ifos))),
        },
        attrs={"Tb": duration, "ifos": list(ifos)},
    )

    draws = sample(get_prior(prior), num_injections, seed)
    snr = network_snr(draws, rng, rho0)
    accepted = snr >= snr_threshold
    acc = {k: v[accepted] for k, v in draws.items()}
    n_acc = int(accepted.sum())
    slots_per_shift = int(
        (duration - num_shifts - 2 * INJECTION_SPACING) // INJECTION_SPACING
    )
    if n_acc > slots_per_shift * num_shifts:
        raise ValueError(
            f"{n_acc} injections do not fit {num_shifts} shifts of {duration} s"
        )
    k = np.arange(n_acc)
    acc["shift"] = shifts[k % num_shifts]
    acc["injection_time"] = t0 + INJECTION_SPACING * (1 + k // num_shifts)
    acc["snr"] = snr[accepted]
    share = rng.uniform(0.3, 0.7, n_acc)
    for ifo, part in zip(ifos, (share, 1 - share)):
        acc[f"{ifo}_snr"] = acc["snr"] * np.sqrt(part)

    recovered = acc["snr"] >= 5
    statistic = np.where(recovered, acc["snr"] - 2 + rng.normal(size=n_acc), -np.inf)
    foreground = RecoveredInjectionSet(
        {
            **acc,
            "detection_statistic": statistic,
            "detection_time": np.where(
                recovered, acc["injection_time"] + rng.normal(0, 0.05, n_acc), np.nan
            ),
            "recovered": recovered,
        },
        attrs={
            "Tb": tb,
            "num_injections": num_injections,
            "ifos": list(ifos),
            "match_window": 1.0,
            "prior": prior,
        },
    )
    rej = {k: v[~accepted] for k, v in draws.items()}
    rej["snr"] = snr[~accepted]
    rejected = RejectedParameterSet(
        rej,
        attrs={
            "num_injections": num_injections,
            "snr_threshold": snr_threshold,
            "prior": prior,
        },
    )

    infer = basedir / "infer"
    infer.mkdir(parents=True, exist_ok=True)
    test = datadir / "test"
    test.mkdir(parents=True, exist_ok=True)
    out = SyntheticExperiment(
        basedir=basedir,
        datadir=datadir,
        background=background.write(infer / "background.hdf5"),
        foreground=foreground.write(infer / "foreground.hdf5"),
        zero_lag=zero_lag.write(infer / "zero-lag.hdf5"),
        rejected=rejected.write(test / "rejected-parameters.hdf5"),
        injections=None,
    )
    if waveforms is None:
        return out

    fs, length = float(waveforms["sample_rate"]), float(waveforms["duration"])
    responses = _chirps(acc, acc["snr"], fs, length, float(waveforms["amplitude"]))
    injections = InjectionSet(
        {k: v for k, v in acc.items()},
        {ifo: responses * (0.8 if i else 1.0) for i, ifo in enumerate(ifos)},
        attrs={
            "sample_rate": fs,
            "duration": length,
            "coalescence_time": length / 2,
            "approximant": "synthetic-chirp",
            "minimum_frequency": 20.0,
            "reference_frequency": 50.0,
            "prior": prior,
            "seed": seed,
            "ifos": list(ifos),
            "num_injections": num_injections,
            "snr_threshold": snr_threshold,
        },
    )
    return SyntheticExperiment(
        **{**out.__dict__, "injections": injections.write(test / "waveforms.hdf5")}
    )
