"""Streaming a stretch of (shifted) strain through whitening and the network.

The data arrive in updates of ``batch_size / isr`` seconds (the first one
``psd_length + window_length - 1/isr`` seconds longer, so that it already
yields a full batch). Each stream keeps its state in a ``Snapshotter``; every
update's complete kernels are whitened with ``Preprocessor.stream``, exactly
the training preprocessing (each kernel with the PSD of the ``psd_length`` s
right before its window), and sent to the backend as one batch. The last
update is whatever is left: a partial batch of real kernels, never zero-padded
strain (whitening is an FFT, and zeros would leak into the last kernels).

Several streams can share the reads: the background stream gets the data as
read, and an injected stream gets the same update plus the injections'
responses. The injected stream has its own snapshotter, so its kernels are
whitened with ITS OWN PSD, estimated from the injected data of the preceding
``psd_length`` s (what a search would see), not the background's.

``run_windows`` computes chosen stretches of kernels of such an injected
stream (e.g. only around its injections): kernel ``j`` depends only on the
samples ``[j·stride, j·stride + psd_size + window_size)``, so a stretch read,
injected and whitened on its own gives the kernels the whole stream would have
there (to float32 rounding).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from aframe.architectures import Preprocessor
from aframe.ledger import InjectionSet
from aframe.search.backends import Backend
from aframe.search.snapshotter import Snapshotter


@dataclass(frozen=True)
class StreamGeometry:
    """Where the kernels of a stream fall, in samples of its data.

    Attributes:
        sample_rate: Hz
        stride: samples between kernels (``sample_rate / isr``)
        span: samples each kernel's input covers (``psd_size + window_size``)
        end_offset: samples from a kernel's first input sample to its last
            whitened sample, exclusive (``psd_size + window_size - pad_size``)
    """

    sample_rate: float
    stride: int
    span: int
    end_offset: int

    @classmethod
    def of(
        cls, preprocessor: Preprocessor, inference_sampling_rate: float
    ) -> StreamGeometry:
        """The geometry of ``preprocessor`` at ``inference_sampling_rate`` Hz."""
        c = preprocessor.config
        return cls(
            sample_rate=float(c.sample_rate),
            stride=preprocessor.stride(inference_sampling_rate),
            span=c.sample_size,
            end_offset=c.sample_size - c.pad_size,
        )

    def num_kernels(self, num_samples: int) -> int:
        """Kernels in a stream of ``num_samples`` samples."""
        if num_samples < self.span:
            return 0
        return (num_samples - self.span) // self.stride + 1

    def kernel_end(self, t0: float) -> float:
        """GPS end time of kernel 0 of a stream whose first sample is at ``t0``."""
        return t0 + self.end_offset / self.sample_rate


Reader = Callable[[int, int], np.ndarray]
"""reads samples ``[i0, i1)`` of a stream's data as a (n_ifo, i1 - i0) array"""


def run_streams(
    read: Reader,
    num_samples: int,
    t0: float,
    preprocessor: Preprocessor,
    backend: Backend,
    inference_sampling_rate: float,
    injections: InjectionSet | None = None,
    background: bool = True,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Network outputs for every kernel of a stretch of data.

    Args:
        read: reads samples ``[i0, i1)`` of the stretch
        num_samples: length of the stretch, in samples
        t0: GPS time of sample 0 on the unshifted (H1) axis, seconds
        preprocessor: the training preprocessing
        backend: runs the network
        inference_sampling_rate: kernels per second, Hz
        injections: responses to add for the ``foreground`` stream (already
            restricted to this stretch's shift); None: no foreground stream
        background: whether to run the un-injected ``background`` stream
        progress: show a progress bar over updates

    Returns:
        ``{"background": (N,), "foreground": (N,)}`` (the streams that ran):
        the output of kernel ``j``, which ends at
        ``StreamGeometry.kernel_end(t0) + j / isr``
    """
    geometry = StreamGeometry.of(preprocessor, inference_sampling_rate)
    fs, stride = geometry.sample_rate, geometry.stride
    ifos = list(preprocessor.config.ifos)
    names = (["background"] if background else []) + (
        ["foreground"] if injections is not None else []
    )
    total = geometry.num_kernels(num_samples)
    outputs = {name: np.empty(total, dtype=np.float32) for name in names}
    if total == 0 or not names:
        return outputs
    snapshots = {name: Snapshotter(geometry.span, stride, len(ifos)) for name in names}
    update = backend.batch_size * stride
    # the first update also fills the state, so it yields a full batch too
    bounds = [0, min(num_samples, geometry.span - stride + update)]
    while bounds[-1] < num_samples:
        bounds.append(min(num_samples, bounds[-1] + update))
    done = 0
    for i0, i1 in tqdm(
        list(zip(bounds[:-1], bounds[1:])), desc="updates", disable=not progress
    ):
        x = read(i0, i1)
        for name in names:
            data = x
            if name == "foreground":
                data = injections.inject(x, t0 + i0 / fs, fs, ifos=ifos)
            buffer, n = snapshots[name].update(data)
            if n == 0:
                continue
            with torch.no_grad():
                kernels = preprocessor.stream(
                    torch.from_numpy(buffer), inference_sampling_rate
                )
            outputs[name][done : done + n] = backend(kernels.numpy())
        done += n
    if done != total:
        raise RuntimeError(f"streamed {done} kernels, expected {total}")
    return outputs


def run_windows(
    read: Reader,
    t0: float,
    preprocessor: Preprocessor,
    backend: Backend,
    inference_sampling_rate: float,
    injections: InjectionSet,
    windows: list[tuple[int, int]],
) -> list[np.ndarray]:
    """Network outputs of chosen kernel ranges of an injected stream.

    Each range ``[j0, j1)`` is read (samples ``[j0·stride, (j1-1)·stride +
    span)``), injected and whitened on its own, with its own PSDs as in the
    full stream; kernels of consecutive ranges share network batches.

    Args:
        read: reads samples ``[i0, i1)`` of the stretch
        t0: GPS time of sample 0 on the unshifted (H1) axis, seconds
        preprocessor: the training preprocessing
        backend: runs the network
        inference_sampling_rate: kernels per second, Hz
        injections: responses to add (already restricted to the shift)
        windows: kernel index ranges ``(j0, j1)``, ``j1 > j0``

    Returns:
        one array of ``j1 - j0`` outputs per range, in order
    """
    geometry = StreamGeometry.of(preprocessor, inference_sampling_rate)
    fs, stride = geometry.sample_rate, geometry.stride
    ifos = list(preprocessor.config.ifos)
    batch = backend.batch_size
    results: list[np.ndarray] = []  # network outputs, in kernel order
    queue: list[np.ndarray] = []  # whitened kernels not yet sent
    queued = 0
    for j0, j1 in windows:
        i0, i1 = j0 * stride, (j1 - 1) * stride + geometry.span
        data = injections.inject(read(i0, i1), t0 + i0 / fs, fs, ifos=ifos)
        with torch.no_grad():
            kernels = preprocessor.stream(
                torch.from_numpy(data), inference_sampling_rate
            )
        queue.append(kernels.numpy())
        queued += len(kernels)
        if queued >= batch:
            # send whole batches only; the rest waits for the next range
            stacked = np.concatenate(queue)
            full = queued - queued % batch
            results.append(backend(stacked[:full]))
            queue, queued = [stacked[full:]], queued - full
    if queued:
        results.append(backend(np.concatenate(queue)))
    flat = np.concatenate(results) if results else np.zeros(0, np.float32)
    bounds = np.cumsum([0] + [j1 - j0 for j0, j1 in windows])
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
