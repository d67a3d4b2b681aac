"""From network outputs to events: integration, clustering and peak timing.

The network emits one output per kernel, ``inference_sampling_rate`` (isr)
times a second. Three steps turn that series into events:

1. **Integrate** with a causal boxcar of exactly ``integration_length`` seconds,
   i.e. ``n = round(integration_length·isr)`` outputs: the integrated value at
   output ``j`` is the mean of outputs ``j-n+1 … j``. Only complete windows are
   kept, so the first ``n-1`` outputs of a stream produce no integrated value
   (they are part of the burn-in and not counted in the livetime).
2. **Cluster**: output ``i`` is an event when it is the maximum of the
   integrated series over ``[i-h, i+h]`` with ``h = round(cluster_window_length
   ·isr/2)``; ties go to the earliest sample. Two events are therefore always
   more than ``h`` outputs apart, and every output within ``h`` of an event is
   no larger than it.
3. **Time** each event at the centre of its peak: the midpoint of the two
   half-maximum crossings (linearly interpolated between outputs) of the
   integrated series around the event, where "maximum" is measured above the
   median of the series over the cluster window. This is a sub-sample estimate
   of where the peak sits, robust to the flat tops a boxcar produces; the fixed
   delay between that centre and the merger is calibrated with injections
   (see ``infer.calibration``), not assumed.
"""

from __future__ import annotations

import numpy as np


class PostprocessError(ValueError):
    """Postprocessing parameters that do not fit the output sampling."""


def window_samples(length: float, rate: float, name: str) -> int:
    """The number of outputs spanned by ``length`` seconds at ``rate`` Hz.

    Args:
        length: duration, in seconds
        rate: output rate, in Hz
        name: the parameter's name, for the error message

    Returns:
        the integer number of outputs

    Raises:
        PostprocessError: unless ``length·rate`` is a positive integer
    """
    n = length * rate
    if n < 1 - 1e-9 or abs(n - round(n)) > 1e-6:
        raise PostprocessError(
            f"{name} = {length} s is not a whole, positive number of outputs "
            f"at inference_sampling_rate = {rate} Hz"
        )
    return int(round(n))


def window_lengths(
    integration_length: float,
    cluster_window_length: float,
    inference_sampling_rate: float,
) -> tuple[int, int]:
    """The boxcar and the cluster half-window, in outputs.

    Args:
        integration_length: boxcar length, seconds
        cluster_window_length: clustering window, seconds
        inference_sampling_rate: outputs per second, Hz

    Returns:
        ``(n, h)``: outputs per boxcar and per half clustering window

    Raises:
        PostprocessError: unless both are whole, positive numbers of outputs
    """
    isr = inference_sampling_rate
    n = window_samples(integration_length, isr, "integration_length")
    h = window_samples(cluster_window_length / 2, isr, "cluster_window_length/2")
    return n, h


def integrate(y: np.ndarray, n: int) -> np.ndarray:
    """Causal boxcar mean of ``y`` over ``n`` outputs, complete windows only.

    Args:
        y: network outputs, shape (N,)
        n: boxcar length in outputs

    Returns:
        shape (max(N-n+1, 0),): element ``k`` is ``mean(y[k : k+n])`` and
        belongs to output ``k+n-1``
    """
    y = np.asarray(y, dtype=np.float64)
    if len(y) < n:
        return np.zeros(0)
    # a cumulative sum is O(N) but accumulates rounding over long streams;
    # the convolution is exact per window and fast enough at these lengths
    return np.convolve(y, np.full(n, 1.0 / n), mode="valid")


def cluster(z: np.ndarray, h: int) -> np.ndarray:
    """Indices of the events of ``z``: maxima over ``[i-h, i+h]``.

    Output ``i`` is an event when ``z[i] > z[j]`` for ``i-h <= j < i`` and
    ``z[i] >= z[j]`` for ``i < j <= i+h`` (ties go to the earliest).

    Args:
        z: integrated outputs, shape (N,)
        h: cluster half-window in outputs

    Returns:
        the event indices, increasing
    """
    z = np.asarray(z, dtype=np.float64)
    if len(z) == 0:
        return np.zeros(0, dtype=np.int64)
    if h <= 0:
        return np.arange(len(z))
    padded = np.concatenate([np.full(h, -np.inf), z, np.full(h, -np.inf)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, h)
    # windows[k] covers padded[k : k+h] = z[k-h : k]: the h outputs before k
    left = windows[: len(z)].max(axis=1)
    right = windows[h + 1 : h + 1 + len(z)].max(axis=1)
    return np.flatnonzero((z > left) & (z >= right))


def peak_centre(z: np.ndarray, i: int, h: int) -> float:
    """Fractional index of the centre of the peak of ``z`` at ``i``.

    The centre is the midpoint of the half-maximum crossings on either side of
    ``i``, searched within ``[i-h, i+h]``. Half-maximum is half-way between
    ``z[i]`` and the median of ``z`` over that range; crossings are linearly
    interpolated between outputs. A peak with no crossing inside the range is
    bounded by the range's edge.

    Args:
        z: integrated outputs, shape (N,)
        i: index of the event (a maximum of ``z``)
        h: cluster half-window in outputs

    Returns:
        the centre, in (fractional) outputs
    """
    lo, hi = max(i - h, 0), min(i + h, len(z) - 1)
    base = float(np.median(z[lo : hi + 1]))
    half = base + 0.5 * (float(z[i]) - base)
    if not z[i] > half:
        return float(i)

    left = float(lo)
    k = i
    while k > lo and z[k - 1] > half:
        k -= 1
    if k > lo:
        # crossing between k-1 (<= half) and k (> half)
        left = k - (z[k] - half) / (z[k] - z[k - 1])

    right = float(hi)
    k = i
    while k < hi and z[k + 1] > half:
        k += 1
    if k < hi:
        right = k + (z[k] - half) / (z[k] - z[k + 1])
    return 0.5 * (left + right)


def find_events(
    y: np.ndarray,
    t_first: float,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Integrate, cluster and time the events of one output series.

    Args:
        y: network outputs, one per kernel, shape (N,)
        t_first: GPS time stamped on output 0 (the end of its kernel), in s
        inference_sampling_rate: outputs per second, in Hz
        integration_length: boxcar length, in seconds
        cluster_window_length: full width of the clustering window, in seconds

    Returns:
        detection statistics, uncalibrated peak times (GPS s, the peak centre
        on the same clock as ``t_first``; subtract the calibrated offset to
        estimate the merger time) and the livetime in seconds (one
        ``1/isr`` per complete integration window)
    """
    isr = inference_sampling_rate
    n, h = window_lengths(integration_length, cluster_window_length, isr)
    z = integrate(y, n)
    idx = cluster(z, h)
    centres = np.array([peak_centre(z, i, h) for i in idx], dtype=np.float64)
    # integrated sample k belongs to output k+n-1
    times = t_first + (centres + n - 1) / isr
    return z[idx], times, len(z) / isr


def kernel_windows(
    t_lo: np.ndarray,
    t_hi: np.ndarray,
    t_first: float,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
    num_kernels: int,
) -> list[tuple[int, int]]:
    """Kernel ranges that decide every event peaking within given time spans.

    An event's peak centre lies within ``h`` outputs of its index, and whether
    an index is an event (and where its centre is) depends on the integrated
    outputs within ``h`` of it, which depend on ``n - 1`` kernels before them.
    The ranges returned cover all of that for every span, merged where they
    touch, so ``find_window_events`` on them gives the events the whole stream
    has there.

    Args:
        t_lo: start of each span of peak-centre times (GPS s, uncalibrated)
        t_hi: end of each span
        t_first: GPS time stamped on output 0 (the end of kernel 0), s
        inference_sampling_rate: outputs per second, Hz
        integration_length: boxcar length, seconds
        cluster_window_length: clustering window, seconds
        num_kernels: kernels in the whole stream

    Returns:
        sorted, disjoint kernel index ranges ``(j0, j1)``
    """
    isr = inference_sampling_rate
    n, h = window_lengths(integration_length, cluster_window_length, isr)
    # peak-centre time τ sits at integrated index (τ - t_first)·isr - (n - 1)
    c_lo = np.floor((np.asarray(t_lo) - t_first) * isr - (n - 1)).astype(np.int64)
    c_hi = np.ceil((np.asarray(t_hi) - t_first) * isr - (n - 1)).astype(np.int64)
    starts = np.clip(c_lo - 2 * h, 0, num_kernels)
    stops = np.clip(c_hi + 2 * h + n, 0, num_kernels)
    merged: list[list[int]] = []
    for j0, j1 in sorted(zip(starts.tolist(), stops.tolist())):
        if j1 - j0 < n:
            continue
        if merged and j0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], j1)
        else:
            merged.append([j0, j1])
    return [(a, b) for a, b in merged]


def find_window_events(
    outputs: list[np.ndarray],
    windows: list[tuple[int, int]],
    num_kernels: int,
    t_first: float,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The events of a stream computed only on kernel ranges.

    Within each range, only events at least ``h`` integrated outputs from a
    cut edge are kept (at the stream's own edges, all of them): those are
    the whole stream's events there, with the same statistic and time (up to
    the float32 rounding of kernels whitened within a stretch).

    Args:
        outputs: network outputs of each range
        windows: the kernel ranges ``(j0, j1)`` (from ``kernel_windows``)
        num_kernels: kernels in the whole stream
        t_first: GPS time stamped on output 0 (the end of kernel 0), s
        inference_sampling_rate: outputs per second, Hz
        integration_length: boxcar length, seconds
        cluster_window_length: clustering window, seconds

    Returns:
        detection statistics and uncalibrated peak times, as ``find_events``
    """
    isr = inference_sampling_rate
    n, h = window_lengths(integration_length, cluster_window_length, isr)
    stats, times = [], []
    for (j0, j1), y in zip(windows, outputs):
        z = integrate(y, n)
        idx = cluster(z, h)
        lo = 0 if j0 == 0 else h
        hi = len(z) - 1 if j1 == num_kernels else len(z) - 1 - h
        keep = idx[(idx >= lo) & (idx <= hi)]
        centres = np.array([peak_centre(z, i, h) for i in keep], dtype=np.float64)
        stats.append(z[keep])
        times.append(t_first + (centres + j0 + n - 1) / isr)
    if not stats:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(stats), np.concatenate(times)


def fallback_time_offset(kernel_length: float, integration_length: float) -> float:
    """The event-time offset used when no calibration with injections exists.

    A network responds while the merger lies within its kernel, and the causal
    boxcar delays the integrated peak by up to ``integration_length``; the
    middle of that range, ``(kernel_length + integration_length) / 2``, is
    the guess used for an untrained (or unresponsive) model, or for data
    without injections to calibrate with (infer measures the offset instead,
    ``infer.calibration``).

    Args:
        kernel_length: seconds of each kernel
        integration_length: boxcar length, seconds

    Returns:
        seconds from the merger to the peak centre
    """
    return (kernel_length + integration_length) / 2
