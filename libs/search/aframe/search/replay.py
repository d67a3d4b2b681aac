"""Replaying a stretch of one search job: the outputs and events it had there.

A search job streams one (segment, shift) pair from the start of its analysed
span (``aframe.ledger.livetime.analysed_span``): kernel ``j`` ends at
``t_first + j/isr`` and depends only on the samples ``[j·stride, j·stride +
span)`` of that span (``aframe.search.stream``). A stretch read from the same
span on the same kernel grid, whitened and run through the same network,
therefore gives the job's outputs there to float32 rounding. ``replay`` picks
the kernels that decide every event peaking in a time range
(``kernel_windows``), streams them (``run_streams``, with or without the
job's injections) and finds the events as the job did
(``find_window_events``): the same statistics at the same times. This is how
the app's inspector re-analyses an event; a stretch off the job's grid would
whiten and score other windows, and give other outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aframe.architectures import Preprocessor
from aframe.ledger import InjectionSet
from aframe.ledger.livetime import analysed_span
from aframe.search.backends import Backend
from aframe.search.postprocess import (
    find_window_events,
    integrate,
    kernel_windows,
    window_samples,
)
from aframe.search.stream import Reader, StreamGeometry, run_streams

__all__ = ["Replay", "ReplayError", "analysed_span", "replay"]


class ReplayError(ValueError):
    """A stretch that the job did not analyse (or too short to analyse)."""


@dataclass
class Replay:
    """What a job computed on a stretch of its stream.

    Attributes:
        t_first: GPS end of kernel 0 of the job's stream (uncalibrated clock)
        kernels: ``(j0, j1)``: the job's kernels replayed
        start: GPS time (H1 axis) of the first sample read
        data: (n_ifo, T) the strain read (each detector at its shift), float64
        kernel_times: (N,) GPS end of each replayed kernel
        outputs: stream (``background``, ``foreground``) → (N,) network output
        integrated: stream → (N,) causal boxcar of the outputs, NaN where the
            window is not complete within the replayed kernels
        events: stream → ``(statistics, peak times)``: the events the job has
            in the replayed range (peak-centre times, uncalibrated: subtract
            the calibrated offset for the event time)
    """

    t_first: float
    kernels: tuple[int, int]
    start: float
    data: np.ndarray
    kernel_times: np.ndarray
    outputs: dict[str, np.ndarray]
    integrated: dict[str, np.ndarray]
    events: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def replay(
    read: Reader,
    span_start: float,
    num_samples: int,
    preprocessor: Preprocessor,
    backend: Backend,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
    t_lo: float,
    t_hi: float,
    injections: InjectionSet | None = None,
    background: bool = True,
) -> Replay:
    """Re-run the part of a job's stream that decides events in ``[t_lo, t_hi]``.

    Args:
        read: reads samples ``[i0, i1)`` of the job's analysed span (each
            detector at its shift), as ``run_streams``'s reader
        span_start: GPS start of the analysed span (``analysed_span``), s
        num_samples: samples in the analysed span (``floor(length·fs)``)
        preprocessor: the training preprocessing
        backend: runs the network
        inference_sampling_rate: kernels per second, Hz
        integration_length: boxcar length, s
        cluster_window_length: clustering window, s
        t_lo: start of the range of (uncalibrated) peak times, GPS s
        t_hi: its end
        injections: the job's injections for the ``foreground`` stream
        background: whether to run the un-injected ``background`` stream

    Returns:
        the replayed outputs and the job's events in ``[t_lo, t_hi]``
    """
    isr = inference_sampling_rate
    geometry = StreamGeometry.of(preprocessor, isr)
    fs, stride = geometry.sample_rate, geometry.stride
    num_kernels = geometry.num_kernels(num_samples)
    t_first = geometry.kernel_end(span_start)
    windows = kernel_windows(
        np.array([t_lo]),
        np.array([t_hi]),
        t_first,
        isr,
        integration_length,
        cluster_window_length,
        num_kernels,
    )
    if not windows:
        raise ReplayError(
            f"GPS [{t_lo:.3f}, {t_hi:.3f}] is outside the {num_kernels} kernels "
            f"the job streamed from GPS {span_start:.3f}"
        )
    ((j0, j1),) = windows
    i0, i1 = j0 * stride, (j1 - 1) * stride + geometry.span
    data = np.asarray(read(i0, i1), dtype=np.float64)
    start = span_start + i0 / fs
    outputs = run_streams(
        lambda a, b: data[:, a:b],
        i1 - i0,
        start,
        preprocessor,
        backend,
        isr,
        injections=injections,
        background=background,
    )
    n = window_samples(integration_length, isr, "integration_length")
    integrated, events = {}, {}
    for name, y in outputs.items():
        z = np.full(len(y), np.nan)
        z[n - 1 :] = integrate(y, n)
        integrated[name] = z
        events[name] = find_window_events(
            [y],
            [(j0, j1)],
            num_kernels,
            t_first,
            isr,
            integration_length,
            cluster_window_length,
        )
    return Replay(
        t_first=t_first,
        kernels=(j0, j1),
        start=start,
        data=data,
        kernel_times=t_first + (j0 + np.arange(j1 - j0)) / isr,
        outputs=outputs,
        integrated=integrated,
        events=events,
    )
