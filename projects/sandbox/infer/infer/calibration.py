"""Calibrating event times with loud injections.

An event is stamped at the centre of its integrated-output peak
(``aframe.search.postprocess``), on the clock of the kernel ends. Where that
centre sits relative to the merger depends on where in the kernel the network
responds and on the integration window, so the delay is measured rather than
assumed (reference §12.5 replaces the heuristic ``- fduration/2 -
integration_length``):

1. draw ``num_injections`` test injections (seeded) from the injection file and
   rescale each response to network SNR ``snr`` (by its recorded SNR);
2. place them, with sub-sample jitter, every ``spacing`` seconds in the
   unshifted test background, and stream that data through the same
   preprocessing, network, integration and clustering as the search;
3. for each injection take the loudest event whose (uncalibrated) time lies
   where its kernel can see the merger, ``[t - 1/isr, t + kernel_length +
   integration_length + 1/isr]``, and record ``event time - merger time``;
4. the offset is the median of those delays; their spread is recorded too.

The model counts as responding when at least three quarters of the injections
produce an event louder than all of the integrated output away from every
injection, and their delays agree to within one output (median absolute
deviation ≤ 1/isr). A model that does not respond (e.g. untrained) gets the
fallback offset ``(kernel_length + integration_length) / 2``, the middle of the
range where the peak can lie, and the method ``heuristic`` in the record.

The result is stored once per model and search setting in
``BASE_DIR/infer/calibration.json`` and reused while those match.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from aframe.architectures import PreprocessingConfig, Preprocessor
from aframe.ledger import InjectionSet
from aframe.search.backends import Backend
from aframe.search.jobs import ShiftedReader
from aframe.search.postprocess import (
    cluster,
    fallback_time_offset,
    integrate,
    peak_centre,
    window_lengths,
)
from aframe.search.repository import ExportedModel
from aframe.search.stream import StreamGeometry, run_streams
from aframe.utils.background import BackgroundFile
from aframe.utils.io import atomic_path

logger = logging.getLogger(__name__)


class CalibrationError(ValueError):
    """Calibration cannot run with the data at hand."""


def _select(path: Path, num: int, seed: int) -> InjectionSet:
    """``num`` injections of the file, drawn with ``seed``, waveforms included."""
    params = InjectionSet.read(path, waveforms=False)
    if len(params) == 0:
        raise CalibrationError(f"{path}: no injections to calibrate event times with")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(params), size=min(num, len(params)), replace=False))
    waveforms = {}
    with h5py.File(path, "r") as f:
        for ifo in params.ifos:
            waveforms[ifo] = f[f"waveforms/{ifo}"][rows]
    chosen = params[rows]
    return InjectionSet(chosen.parameters, waveforms, chosen.attrs, source=path.name)


def _place(
    injections: InjectionSet,
    files: Sequence[BackgroundFile],
    first_time: float,
    spacing: float,
    tail: float,
    snr: float,
    inference_sampling_rate: float,
    seed: int,
) -> tuple[BackgroundFile, InjectionSet, float]:
    """Put the injections on a grid in the longest segment, rescaled to ``snr``."""
    f = max(files, key=lambda item: item.duration)
    room = f.duration - first_time - tail
    n = min(len(injections), int(room // spacing) + 1) if room >= 0 else 0
    if n < 1:
        raise CalibrationError(
            f"{f.path.name}: {f.duration:g} s is too short to hold a calibration "
            f"injection ({first_time + tail:g} s needed)"
        )
    rng = np.random.default_rng(seed + 1)
    times = f.t0 + first_time + spacing * np.arange(n)
    times = times + rng.uniform(0, 1 / inference_sampling_rate, size=n)
    chosen = injections[np.arange(n)]
    params = dict(chosen.parameters)
    scale = snr / params["snr"]
    params["injection_time"] = times
    params["shift"] = np.zeros_like(params["shift"])
    for key in [k for k in params if k == "snr" or k.endswith("_snr")]:
        params[key] = params[key] * scale
    waveforms = {
        ifo: chosen.waveforms[ifo] * scale[:, None].astype(np.float32)
        for ifo in chosen.ifos
    }
    return (
        f,
        InjectionSet(params, waveforms, chosen.attrs, source="calibration"),
        float(times[-1] + tail - f.t0),
    )


def calibration_settings(
    model: ExportedModel,
    waveforms: str | Path,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
    num_injections: int,
    snr: float,
    seed: int,
) -> dict[str, Any]:
    """What a calibration depends on (its record is reused while these match).

    Args:
        model: the exported model
        waveforms: the test injection file
        inference_sampling_rate: kernels per second, Hz
        integration_length: boxcar length, seconds
        cluster_window_length: clustering window, seconds
        num_injections: injections to measure with
        snr: network SNR of the injections
        seed: the calibration's seed

    Returns:
        a JSON-ready mapping
    """
    return {
        "model": model.key,
        "waveforms": str(Path(waveforms).resolve()),
        "inference_sampling_rate": float(inference_sampling_rate),
        "integration_length": float(integration_length),
        "cluster_window_length": float(cluster_window_length),
        "num_injections": int(num_injections),
        "snr": float(snr),
        "seed": int(seed),
    }


def calibrate_time_offset(
    model: ExportedModel,
    backend: Backend,
    files: Sequence[BackgroundFile],
    waveforms: str | Path,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
    num_injections: int = 16,
    snr: float = 30.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Measure the delay between an event's peak centre and the merger.

    Args:
        model: the exported model
        backend: runs the network
        files: the test background files (the longest one is used, unshifted)
        waveforms: the test injection file
        inference_sampling_rate: kernels per second, Hz
        integration_length: boxcar length, seconds
        cluster_window_length: clustering window, seconds
        num_injections: injections to measure with
        snr: network SNR the injections are rescaled to
        seed: selects the injections and their sub-sample jitter

    Returns:
        the calibration record: ``offset`` (s, subtract from peak times),
        ``method`` (``injections`` or ``heuristic``), ``delays`` (s, one per
        responding injection), ``spread`` (s, median absolute deviation),
        ``num_responding`` and the settings it was made with
    """
    waveforms = Path(waveforms)
    config = PreprocessingConfig.load(model.preprocessing_path)
    preprocessor = Preprocessor(config)
    geometry = StreamGeometry.of(preprocessor, inference_sampling_rate)
    isr = inference_sampling_rate
    n_int, h = window_lengths(integration_length, cluster_window_length, isr)
    reach = config.kernel_length + integration_length + 1 / isr

    injections = _select(waveforms, num_injections, seed)
    duration = float(injections.attrs["duration"])
    coalescence = float(injections.attrs["coalescence_time"])
    burn_in = geometry.end_offset / geometry.sample_rate
    first = burn_in + coalescence + 1.0
    tail = max(duration - coalescence, reach) + cluster_window_length
    spacing = duration + reach + cluster_window_length / 2
    f, placed, length = _place(injections, files, first, spacing, tail, snr, isr, seed)

    zero = [0.0] * len(config.ifos)
    reader = ShiftedReader(f.path, config.ifos, f.t0, config.sample_rate, zero, f.t0)
    try:
        y = run_streams(
            reader,
            int(round(length * config.sample_rate)),
            f.t0,
            preprocessor,
            backend,
            isr,
            injections=placed,
            background=False,
        )["foreground"]
    finally:
        reader.close()

    z = integrate(y, n_int)
    t_z = geometry.kernel_end(f.t0) + (np.arange(len(z)) + n_int - 1) / isr
    events = cluster(z, h)
    centres = np.array([peak_centre(z, i, h) for i in events])
    t_events = geometry.kernel_end(f.t0) + (centres + n_int - 1) / isr
    t_inj = placed.parameters["injection_time"]

    quiet = np.ones(len(z), dtype=bool)
    for t in t_inj:
        quiet &= ~((t_z > t - duration) & (t_z < t + reach + cluster_window_length))
    noise = float(z[quiet].max()) if quiet.any() else -np.inf

    delays, loud = [], []
    for t in t_inj:
        inside = np.flatnonzero((t_events >= t - 1 / isr) & (t_events <= t + reach))
        if len(inside) == 0:
            loud.append(False)
            continue
        best = inside[np.argmax(z[events[inside]])]
        loud.append(bool(z[events[best]] > noise))
        if loud[-1]:
            delays.append(float(t_events[best] - t))
    responding = int(sum(loud))
    record: dict[str, Any] = {
        "settings": calibration_settings(
            model,
            waveforms,
            isr,
            integration_length,
            cluster_window_length,
            num_injections,
            snr,
            seed,
        ),
        "num_placed": len(t_inj),
        "num_responding": responding,
        "noise_max": noise,
        "delays": delays,
        "background_file": f.path.name,
    }
    offset = float(np.median(delays)) if delays else np.nan
    spread = float(np.median(np.abs(np.asarray(delays) - offset))) if delays else np.nan
    if responding >= 0.75 * len(t_inj) and spread <= 1 / isr:
        record.update(method="injections", offset=offset, spread=spread)
        logger.info(
            "calibrated event times with %d of %d injections at SNR %g: "
            "peak centre - merger = %.3f s (median absolute deviation %.3f s)",
            responding,
            len(t_inj),
            snr,
            offset,
            record["spread"],
        )
    else:
        record.update(
            method="heuristic",
            offset=fallback_time_offset(config.kernel_length, integration_length),
            spread=None if np.isnan(spread) else spread,
        )
        logger.warning(
            "the model clearly responded to %d of %d SNR-%g injections (delay "
            "spread %s s): event times use the fallback offset %.3f s instead of "
            "a calibrated one",
            responding,
            len(t_inj),
            snr,
            "n/a" if np.isnan(spread) else f"{spread:.3f}",
            record["offset"],
        )
    return record


def load_or_calibrate(
    path: str | Path, settings: dict[str, Any], calibrate: Any
) -> dict[str, Any]:
    """Reuse a stored calibration made with ``settings``, or make and store one.

    Args:
        path: ``BASE_DIR/infer/calibration.json``
        settings: what the calibration must have been made with
        calibrate: a callable returning a new calibration record

    Returns:
        the calibration record
    """
    path = Path(path)
    if path.is_file():
        try:
            with open(path) as f:
                stored = json.load(f)
            if stored.get("settings") == settings:
                logger.info("using the event-time calibration in %s", path)
                return stored
        except (OSError, json.JSONDecodeError):
            logger.warning("ignoring unreadable %s", path)
    record = {**calibrate(), "settings": settings}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
    return record
