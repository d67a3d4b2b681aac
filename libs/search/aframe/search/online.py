"""The search as data arrive: a stream fed piece by piece, events decided online.

``OnlineStream`` is ``run_streams`` for data that come in pieces of any length
(a 1-s frame, a 4-s frame): its ``Snapshotter`` keeps the samples the next
kernels still need, every piece's complete kernels are whitened with the
training preprocessing and sent to the backend, and their outputs come back.
Kernel ``j`` ends at ``t_first + j/isr`` and depends only on its own samples,
so the outputs are those ``run_streams`` gives on the same stretch, however
the data were cut into pieces.

``OnlineEvents`` turns those outputs into the events ``find_events`` finds on
the whole stream, as soon as they are certain: integrated output ``i`` is an
event once the ``h`` outputs after it have arrived (the clustering's right
half-window), and its peak centre needs nothing beyond them. It keeps only the
outputs that undecided events still depend on. ``finish`` ends the stream (at
a gap, or at the end of the data) and decides the rest with the stream's end
as an edge, as ``find_events`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from aframe.architectures import Preprocessor
from aframe.search.backends import Backend
from aframe.search.postprocess import cluster, integrate, peak_centre, window_lengths
from aframe.search.snapshotter import Snapshotter
from aframe.search.stream import StreamGeometry


class OnlineStream:
    """Whitening and the network on a stream that arrives in pieces.

    Args:
        preprocessor: the training preprocessing
        backend: runs the network
        inference_sampling_rate: kernels per second, Hz
        start: GPS time of the stream's first sample, seconds
    """

    def __init__(
        self,
        preprocessor: Preprocessor,
        backend: Backend,
        inference_sampling_rate: float,
        start: float,
    ):
        self.preprocessor = preprocessor
        self.backend = backend
        self.inference_sampling_rate = inference_sampling_rate
        self.geometry = StreamGeometry.of(preprocessor, inference_sampling_rate)
        self.start = float(start)
        self.num_samples = 0
        self.snapshotter = Snapshotter(
            self.geometry.span, self.geometry.stride, len(preprocessor.config.ifos)
        )

    @property
    def t_first(self) -> float:
        """GPS end of kernel 0, the time stamped on output 0."""
        return self.geometry.kernel_end(self.start)

    @property
    def end(self) -> float:
        """GPS time just after the last sample received."""
        return self.start + self.num_samples / self.geometry.sample_rate

    @property
    def num_kernels(self) -> int:
        """Kernels (outputs) produced so far."""
        return self.snapshotter.num_kernels

    def update(self, x: np.ndarray) -> np.ndarray:
        """Append the next samples and run the kernels they complete.

        Args:
            x: (n_ifo, U) strain following the samples received so far

        Returns:
            (n,) network outputs of the kernels completed, in order; the
            first is output ``num_kernels - n`` of the stream
        """
        buffer, n = self.snapshotter.update(x)
        self.num_samples += x.shape[1]
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        with torch.no_grad():
            kernels = self.preprocessor.stream(
                torch.from_numpy(buffer), self.inference_sampling_rate
            )
        return self.backend(kernels.numpy())


@dataclass(frozen=True)
class OnlineUpdate:
    """What one update of ``OnlineEvents`` made.

    Attributes:
        index: (M,) stream indices of the integrated outputs that became
            available (integrated output ``k`` averages outputs ``k … k+n-1``)
        integrated: (M,) their values
        left_max: (M,) whether each is larger than the ``h`` integrated
            outputs before it (every event is; see ``OnlineEvents``)
        times: (M,) GPS time of each (the end of its last kernel)
        event_index: (E,) integrated indices of the events decided
        statistic: (E,) their detection statistics
        event_times: (E,) their peak centres (GPS, uncalibrated)
    """

    index: np.ndarray
    integrated: np.ndarray
    left_max: np.ndarray
    times: np.ndarray
    event_index: np.ndarray
    statistic: np.ndarray
    event_times: np.ndarray


class OnlineEvents:
    """Integration and clustering of a stream's outputs as they arrive.

    The events are those of ``find_events`` on all of the stream's outputs
    (the same indices, statistics and peak centres), each reported once, by
    the first update after which it is certain.

    Args:
        t_first: GPS time stamped on output 0 of the stream (its kernel's end)
        inference_sampling_rate: outputs per second, Hz
        integration_length: boxcar length, seconds
        cluster_window_length: full width of the clustering window, seconds
    """

    def __init__(
        self,
        t_first: float,
        inference_sampling_rate: float,
        integration_length: float,
        cluster_window_length: float,
    ):
        isr = inference_sampling_rate
        self.t_first = float(t_first)
        self.isr = isr
        self.n, self.h = window_lengths(integration_length, cluster_window_length, isr)
        self.num_outputs = 0
        self._y = np.zeros(0, dtype=np.float64)  # outputs kept, from _base on
        self._base = 0  # stream index of _y[0]
        self._decided = 0  # integrated indices below this are decided
        self._finished = False

    @property
    def num_integrated(self) -> int:
        """Integrated outputs so far (complete boxcar windows)."""
        return max(self.num_outputs - self.n + 1, 0)

    @property
    def livetime(self) -> float:
        """Seconds of livetime so far: one ``1/isr`` per integrated output."""
        return self.num_integrated / self.isr

    def time_of(self, index: np.ndarray | int) -> np.ndarray | float:
        """GPS time of integrated output ``index`` (its last kernel's end)."""
        return self.t_first + (np.asarray(index) + self.n - 1) / self.isr

    def update(self, y: np.ndarray) -> OnlineUpdate:
        """Add the next outputs and decide the events they make certain.

        Args:
            y: (N,) network outputs following those given so far

        Returns:
            the new integrated outputs and the events decided
        """
        if self._finished:
            raise RuntimeError("the stream has finished")
        before = self.num_integrated
        self._y = np.concatenate([self._y, np.asarray(y, dtype=np.float64)])
        self.num_outputs += len(y)
        return self._decide(before, final=False)

    def finish(self) -> OnlineUpdate:
        """End the stream: decide the remaining events, its end an edge."""
        update = self._decide(self.num_integrated, final=True)
        self._finished = True
        return update

    def _decide(self, before: int, final: bool) -> OnlineUpdate:
        n, h, base = self.n, self.h, self._base
        z = integrate(self._y, n)  # z[i] is integrated output base + i
        new = np.arange(max(before - base, 0), len(z))
        left = np.array(
            [z[i] > z[max(i - h, 0) : i].max(initial=-np.inf) for i in new],
            dtype=bool,
        )
        last = len(z) - 1 if final else len(z) - 1 - h
        idx = cluster(z, h)
        # an event needs h integrated outputs on either side (or the start)
        keep = idx[(idx >= self._decided - base) & (idx <= last)]
        if base > 0:
            keep = keep[keep >= h]
        centres = np.array([peak_centre(z, i, h) for i in keep], dtype=np.float64)
        if last >= 0:
            self._decided = max(self._decided, base + last + 1)
        # the next decisions look back h integrated outputs from _decided
        drop = max(self._decided - h - base, 0)
        if drop:
            self._y = self._y[drop:]
            self._base = base + drop
        return OnlineUpdate(
            index=base + new,
            integrated=z[new],
            left_max=left,
            times=np.asarray(self.time_of(base + new), dtype=np.float64),
            event_index=base + keep,
            statistic=z[keep],
            event_times=self.t_first + (base + centres + n - 1) / self.isr,
        )
