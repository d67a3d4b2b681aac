"""Small record sets built in memory for the ledger tests."""

from __future__ import annotations

import numpy as np
import pytest

from aframe.ledger import (
    SOURCE_PARAMETERS,
    EventSet,
    InjectionSet,
    RejectedParameterSet,
    WaveformSet,
)

IFOS = ["H1", "L1"]


def waveform_attrs(sample_rate: float = 16.0, duration: float = 1.0) -> dict:
    return {
        "sample_rate": sample_rate,
        "duration": duration,
        "coalescence_time": duration / 2,
        "approximant": "IMRPhenomPv2",
        "minimum_frequency": 20.0,
        "reference_frequency": 50.0,
        "prior": "end_o3_ratesandpops",
        "seed": 1,
    }


def source_parameters(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    params = {name: rng.uniform(0.1, 1.0, n) for name in SOURCE_PARAMETERS}
    params["mass_1"] = rng.uniform(10, 50, n)
    params["redshift"] = rng.uniform(0, 1, n)
    return params


@pytest.fixture
def make_waveforms():
    def make(n: int = 5, length: int = 16, seed: int = 0) -> WaveformSet:
        rng = np.random.default_rng(seed)
        return WaveformSet(
            source_parameters(n, rng),
            {
                "cross": rng.normal(size=(n, length)),
                "plus": rng.normal(size=(n, length)),
            },
            waveform_attrs(duration=length / 16),
        )

    return make


@pytest.fixture
def make_injections():
    def make(
        times,
        shifts=None,
        length: int = 16,
        sample_rate: float = 16.0,
        waveforms: dict | None = None,
        num_injections: int | None = None,
        seed: int = 0,
    ) -> InjectionSet:
        rng = np.random.default_rng(seed)
        times = np.asarray(times, dtype=float)
        n = len(times)
        shifts = np.zeros((n, 2)) if shifts is None else np.asarray(shifts, float)
        if shifts.ndim == 1:
            shifts = np.tile(shifts, (n, 1))
        params = source_parameters(n, rng)
        params.update(
            ra=rng.uniform(0, 6, n),
            dec=rng.uniform(-1, 1, n),
            psi=rng.uniform(0, 3, n),
            injection_time=times,
            shift=shifts,
            snr=rng.uniform(4, 20, n),
            H1_snr=rng.uniform(3, 15, n),
            L1_snr=rng.uniform(3, 15, n),
        )
        if waveforms is None:
            waveforms = {ifo: rng.normal(size=(n, length)) for ifo in IFOS}
        attrs = waveform_attrs(sample_rate, length / sample_rate)
        attrs.update(
            ifos=IFOS,
            num_injections=num_injections if num_injections is not None else 2 * n,
            snr_threshold=4.0,
        )
        return InjectionSet(params, waveforms, attrs)

    return make


@pytest.fixture
def make_events():
    def make(times, stats=None, shifts=None, Tb: float = 100.0) -> EventSet:  # noqa: N803
        times = np.asarray(times, dtype=float)
        n = len(times)
        stats = np.arange(n, dtype=float) if stats is None else np.asarray(stats, float)
        shifts = np.zeros((n, 2)) if shifts is None else np.asarray(shifts, float)
        if shifts.ndim == 1:
            shifts = np.tile(shifts, (n, 1))
        return EventSet(
            {"detection_statistic": stats, "detection_time": times, "shift": shifts},
            attrs={"Tb": Tb, "ifos": IFOS},
        )

    return make


@pytest.fixture
def make_rejected():
    def make(n: int = 4, num_injections: int = 10) -> RejectedParameterSet:
        rng = np.random.default_rng(3)
        params = source_parameters(n, rng)
        params.update(
            ra=rng.uniform(0, 6, n),
            dec=rng.uniform(-1, 1, n),
            psi=rng.uniform(0, 3, n),
            snr=rng.uniform(0, 4, n),
        )
        return RejectedParameterSet(
            params,
            attrs={
                "num_injections": num_injections,
                "snr_threshold": 4.0,
                "prior": "end_o3_ratesandpops",
            },
        )

    return make
