"""The validation set: the search's own view of held-out data, built once.

Validation is meant to predict what inference will measure, so it looks at
held-out background and signals exactly the way the search does
(``aframe.search``): kernels on the inference grid, ``inference_sampling_rate``
per second, each whitened with the PSD of the ``psd_length`` s before it;
outputs integrated over ``integration_length`` and clustered over
``cluster_window_length``; signal loudness measured with the one SNR of
``aframe.architectures.snr`` against the segment's PSD, as for the test
injections.

**Background.** Each held-out segment is whitened detector by detector with
``Preprocessor.stream`` at the inference rate. Whitening acts on each detector
alone, so a timeslide only changes which kernels are paired: under shift ``k``
(``k = 1, 2, …``; zero-lag is never background), detector ``j``'s kernel
``i + j·k·m`` is paired with H1's kernel ``i``, with ``m = valid_shift ·
inference_sampling_rate``. Shifts cycle over the segments until the pairs add
up to ``valid_livetime`` seconds. Each run of contiguous pairs is integrated
and clustered like one inference job, giving background events and their
livetime.

**Foreground.** Each held-out waveform is projected from a random sky
position and scaled to a network SNR drawn uniformly from
``valid_snr_range`` against its segment's PSD. It is injected, whole, into a
stretch of held-out background long enough for ``num_kernels`` consecutive
kernels of the inference grid, with its merger at a uniformly random phase of
that grid: the first kernel ends a quarter second (plus up to one stride)
before the merger and the last ``kernel_length + integration_length`` after
it, so every kernel whose output the search could integrate into this
signal's event is there. The stretch is whitened exactly as inference
whitens an injected stream (its own PSDs, the signal included). A signal's
statistic is the largest integrated output over those kernels.

Everything is drawn from seeds, so every epoch (and every run with the same
seed) validates on the same data.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset
from tqdm import tqdm

from aframe.architectures import Preprocessor
from aframe.ledger import EventSet, SignalScoreSet
from aframe.search import find_events, integrate, window_samples
from train.injection import SignalInjector
from train.inputs import Segment
from train.seeds import generator, seeded

logger = logging.getLogger(__name__)

#: seconds between the first kernel's end and the merger (before the grid phase)
LEAD = 0.25


@dataclass(frozen=True)
class SearchSettings:
    """How the search turns network outputs into events (``aframe.search``).

    Attributes:
        inference_sampling_rate: kernels per second, Hz
        integration_length: causal boxcar over the outputs, s
        cluster_window_length: events are maxima over this window, s
    """

    inference_sampling_rate: float
    integration_length: float
    cluster_window_length: float

    @property
    def stride(self) -> float:
        """Seconds between kernels."""
        return 1 / self.inference_sampling_rate

    @property
    def integration_samples(self) -> int:
        """Outputs per integration window."""
        return window_samples(
            self.integration_length,
            self.inference_sampling_rate,
            "integration_length",
        )

    @property
    def cluster_half_width(self) -> int:
        """Outputs on either side of an event within its cluster window."""
        return window_samples(
            self.cluster_window_length / 2,
            self.inference_sampling_rate,
            "cluster_window_length/2",
        )

    def num_kernels(self, kernel_length: float) -> int:
        """Kernels of the inference grid around each validation signal."""
        span = LEAD + self.stride + kernel_length + self.integration_length
        return int(math.ceil(span * self.inference_sampling_rate)) + 1


@dataclass
class ValidationData:
    """Whitened validation kernels and how background kernels pair up.

    Attributes:
        background: per segment, (n_s, ifo, kernel_size) whitened kernels
        runs: (R, 3) int64 rows ``(segment, shift index k, number of pairs)``;
            one row is one stretch of contiguous background kernels
        step: kernel offset per unit of shift between consecutive detectors (m)
        foreground: (n_signals, num_kernels, ifo, kernel_size) whitened kernels
            of each signal's stretch of the inference grid
        snr: (n_signals,) injected network SNRs
        search: the search settings the kernels follow
        kernel_ends: per segment, GPS end of its background kernel 0, s
        shift: timeslide step, s
        snr_range: [low, high] the SNRs were drawn uniformly on
    """

    background: list[Tensor]
    runs: Tensor
    step: int
    foreground: Tensor
    snr: Tensor
    search: SearchSettings
    kernel_ends: list[float]
    shift: float
    snr_range: tuple[float, float]

    @property
    def num_background(self) -> int:
        """Background kernel pairs."""
        return int(self.runs[:, 2].sum()) if len(self.runs) else 0

    @property
    def num_kernels(self) -> int:
        """Kernels per signal."""
        return self.foreground.shape[1]

    @property
    def num_items(self) -> int:
        """Network inputs per validation pass."""
        return self.num_background + self.foreground.shape[0] * self.num_kernels


def plan_timeslides(
    sizes: list[int], num_ifos: int, step: int, num_windows: int
) -> Tensor:
    """Runs of timeslide pairs adding up to ``num_windows`` windows.

    Shift ``k`` of a segment with ``n`` kernels yields ``n - (num_ifos - 1)·k·step``
    pairs. Shifts ``k = 1, 2, …`` are taken in turn, each over every segment, the
    last run cut to the exact total.

    Args:
        sizes: kernels per segment
        num_ifos: detectors
        step: kernel offset per unit of shift (m)
        num_windows: windows wanted

    Returns:
        (R, 3) int64 rows ``(segment, k, pairs)``; fewer windows in all than
        asked when the segments run out of shifts
    """
    runs, total, k = [], 0, 1
    while total < num_windows:
        added = False
        for s, n in enumerate(sizes):
            pairs = n - (num_ifos - 1) * k * step
            if pairs <= 0:
                continue
            pairs = min(pairs, num_windows - total)
            runs.append((s, k, pairs))
            total += pairs
            added = True
            if total >= num_windows:
                break
        if not added:
            break
        k += 1
    return torch.tensor(runs, dtype=torch.int64).reshape(-1, 3)


def whiten_background(
    segments: list[Segment], preprocessor: Preprocessor, rate: float
) -> list[Tensor]:
    """Whitened kernels of every held-out segment, ``rate`` per second.

    Returns:
        per segment, (n, ifo, kernel_size) float32 kernels
    """
    out = []
    for segment in tqdm(segments, desc="whitening validation background", leave=False):
        strain = torch.from_numpy(segment.strain)
        if preprocessor.num_kernels(strain.shape[-1], rate) < 1:
            out.append(torch.zeros(0, strain.shape[0], preprocessor.config.kernel_size))
            continue
        with torch.no_grad():
            out.append(preprocessor.stream(strain, rate))
    return out


def inject_foreground(
    segments: list[Segment],
    waveforms: np.ndarray,
    preprocessor: Preprocessor,
    injector: SignalInjector,
    search: SearchSettings,
    snr_range: tuple[float, float],
    seed: int,
    chunk_size: int = 32,
) -> tuple[Tensor, Tensor]:
    """Whitened inference-grid kernels around validation signals.

    Args:
        segments: held-out background, each with its reference PSD
        waveforms: (N, 2, T) validation polarisations
        preprocessor: the preprocessing
        injector: projection, rescaling and placement
        search: the inference grid and integration
        snr_range: network SNRs are uniform on this [low, high]
        seed: the run's seed
        chunk_size: signals processed at once

    Returns:
        (N, num_kernels, ifo, kernel_size) kernels and (N,) SNRs
    """
    config = preprocessor.config
    low, high = snr_range
    if not 0 < low <= high:
        raise ValueError(
            f"valid_snr_range must satisfy 0 < low <= high, got {snr_range}"
        )
    rate = search.inference_sampling_rate
    stride = preprocessor.stride(rate)
    num_kernels = search.num_kernels(config.kernel_length)
    size = config.sample_size + (num_kernels - 1) * stride
    # the merger, in samples of the stretch: LEAD s plus a random phase of the
    # grid after the end of kernel 0
    first_end = config.sample_size - config.pad_size
    lead = int(round(LEAD * config.sample_rate))
    sizes = torch.tensor([s.num_samples - size + 1 for s in segments])
    usable = sizes.clamp_min(0)
    if int(usable.sum()) == 0:
        raise ValueError(
            f"no held-out background piece holds {size / config.sample_rate:g} s "
            "for a validation signal's stretch of kernels: raise valid_length"
        )
    gen = generator(seed, "validation-background")
    n = len(waveforms)
    which = torch.multinomial(usable.double(), n, replacement=True, generator=gen)
    offsets = (torch.rand(n, generator=gen, dtype=torch.float64) * usable[which]).long()
    phase = torch.randint(stride, (n,), generator=gen)
    kernels, snrs = [], []
    polarizations = torch.as_tensor(waveforms)
    psds = torch.stack([torch.as_tensor(s.psd) for s in segments])
    with seeded(seed, "validation-signals"), torch.no_grad():
        target = low + (high - low) * torch.rand(n)
        for start in tqdm(
            range(0, n, chunk_size), desc="validation signals", leave=False
        ):
            stop = min(start + chunk_size, n)
            count = stop - start
            raw = torch.stack(
                [
                    torch.from_numpy(segments[int(s)].strain[:, int(o) : int(o) + size])
                    for s, o in zip(which[start:stop], offsets[start:stop])
                ]
            )
            sky = injector.random_sky(count)
            chunk = polarizations[start:stop]
            merger = first_end + lead + phase[start:stop]
            placed = injector.inject(
                chunk,
                sky,
                psds[which[start:stop]],
                target[start:stop],
                merger,
                size=size,
            )
            data = raw + placed
            kernels.append(
                torch.stack([preprocessor.stream(x, rate) for x in data.unbind(0)])
            )
            snrs.append(target[start:stop])
    return torch.cat(kernels), torch.cat(snrs)


def build_validation(
    segments: list[Segment],
    waveforms: np.ndarray,
    preprocessor: Preprocessor,
    injector: SignalInjector,
    search: SearchSettings,
    shift: float,
    livetime: float,
    snr_range: tuple[float, float],
    seed: int,
) -> ValidationData:
    """Build the validation set (see the module docstring).

    Args:
        segments: held-out background, each with its reference PSD
        waveforms: (N, 2, T) validation polarisations
        preprocessor: the preprocessing
        injector: projection, rescaling and placement
        search: the inference grid, integration and clustering
        shift: timeslide step, s (a multiple of the kernel stride)
        livetime: seconds of timeslide background wanted
        snr_range: [low, high] of the uniform injected SNRs
        seed: the run's seed

    Returns:
        the validation data
    """
    rate = search.inference_sampling_rate
    preprocessor.stride(rate)  # the rate must divide the sample rate
    step = shift * rate
    if step < 1 or not math.isclose(step, round(step)):
        raise ValueError(
            f"valid_shift = {shift} s must be a whole multiple (≥ 1) of the "
            f"kernel stride 1/inference_sampling_rate = {search.stride:g} s"
        )
    step = round(step)
    search.integration_samples, search.cluster_half_width  # noqa: B018 (checks)
    num_ifos = len(preprocessor.config.ifos)
    background = whiten_background(segments, preprocessor, rate)
    runs = plan_timeslides(
        [len(b) for b in background], num_ifos, step, int(math.ceil(livetime * rate))
    )
    # a run shorter than one integration window yields no event
    runs = runs[runs[:, 2] >= search.integration_samples]
    if len(runs) == 0:
        raise ValueError(
            "validation background too short for a single timeslide of "
            f"{shift} s: lengthen valid_length"
        )
    foreground, snr = inject_foreground(
        segments, waveforms, preprocessor, injector, search, snr_range, seed
    )
    config = preprocessor.config
    kernel_ends = [
        s.t0 + (config.sample_size - config.pad_size) / config.sample_rate
        for s in segments
    ]
    data = ValidationData(
        background,
        runs,
        step,
        foreground,
        snr,
        search,
        kernel_ends,
        shift,
        tuple(snr_range),
    )
    seconds = data.num_background / rate
    if seconds < livetime:
        logger.warning(
            "validation background reaches %.0f s of timeslide livetime, not the "
            "%.0f s asked for (too few shifts fit the held-out background)",
            seconds,
            livetime,
        )
    logger.info(
        "validation: %d background kernel pairs (%.1f h of timeslides, shifts up "
        "to %d), %d signals × %d kernels at %g Hz",
        data.num_background,
        seconds / 3600,
        int(runs[:, 1].max()),
        len(foreground),
        data.num_kernels,
        rate,
    )
    return data


class ValidationBatches(Dataset):
    """Validation inputs, one batch per item.

    Items ``0 … num_background - 1`` are background pairs in run order, the rest
    foreground kernels (signal-major). Each batch is a dict: ``X`` (b, ifo,
    kernel_size) and ``ids`` (b,) item numbers, from which the metrics recover
    what each output was.

    Args:
        data: the validation data
        batch_size: items per batch
    """

    def __init__(self, data: ValidationData, batch_size: int) -> None:
        self.data = data
        self.batch_size = batch_size
        self.num_background = data.num_background
        self.total = data.num_items
        counts = data.runs[:, 2]
        self.run_ends = torch.cumsum(counts, 0)
        self.run_starts = self.run_ends - counts

    def __len__(self) -> int:
        return -(-self.total // self.batch_size)

    def __getitem__(self, item: int) -> dict[str, Tensor]:
        data = self.data
        ids = torch.arange(
            item * self.batch_size, min((item + 1) * self.batch_size, self.total)
        )
        foreground = data.foreground
        out = torch.empty(len(ids), *foreground.shape[2:])
        is_bg = ids < self.num_background
        bg = ids[is_bg]
        if len(bg):
            run = torch.searchsorted(self.run_ends, bg, right=True)
            position = bg - self.run_starts[run]
            segment, shift = data.runs[run, 0], data.runs[run, 1]
            rows = is_bg.nonzero()[:, 0]
            for s in segment.unique():
                mine = segment == s
                kernels = data.background[int(s)]
                for j in range(out.shape[1]):
                    index = position[mine] + j * shift[mine] * data.step
                    out[rows[mine], j] = kernels[index, j]
        fg = ids[~is_bg] - self.num_background
        if len(fg):
            k = data.num_kernels
            out[~is_bg] = foreground[fg // k, fg % k]
        return {"X": out, "ids": ids}


def split_outputs(outputs: Tensor, data: ValidationData) -> tuple[Tensor, Tensor]:
    """Background and foreground parts of one pass's outputs, in item order.

    Args:
        outputs: (num_items,) network outputs of ``ValidationBatches``' items
        data: the validation data

    Returns:
        (num_background,) background outputs in run order and
        (n_signals, num_kernels) foreground outputs in grid order
    """
    background = outputs[: data.num_background]
    foreground = outputs[data.num_background :].reshape(-1, data.num_kernels)
    return background, foreground


def background_events(
    outputs: Tensor,
    runs: Tensor,
    search: SearchSettings,
    kernel_ends: list[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Events and livetime of timeslide runs, as the search makes them.

    Each run is one stream for ``aframe.search.find_events``.

    Args:
        outputs: (N,) background outputs in run order
        runs: (R, 3) ``(segment, shift, length)`` rows
        search: the search settings
        kernel_ends: per segment, GPS end of its kernel 0 (None: event times
            relative to each run's first kernel end)

    Returns:
        (E,) event statistics, (E,) event times (GPS of the peak, on the
        unshifted first detector's axis), (E,) the run of each event and the
        livetime in seconds
    """
    values = outputs.double().cpu().numpy()
    stats, times, which, livetime, start = [], [], [], 0.0, 0
    for run, (segment, _, count) in enumerate(runs.tolist()):
        t_first = 0.0 if kernel_ends is None else kernel_ends[segment]
        found, when, seconds = find_events(
            values[start : start + count],
            t_first,
            search.inference_sampling_rate,
            search.integration_length,
            search.cluster_window_length,
        )
        start += count
        stats.append(found)
        times.append(when)
        which.append(np.full(len(found), run))
        livetime += seconds
    if not stats:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), 0.0
    return (
        np.concatenate(stats),
        np.concatenate(times),
        np.concatenate(which).astype(np.int64),
        livetime,
    )


def signal_statistics(outputs: Tensor, integration: int) -> np.ndarray:
    """The largest integrated output of each signal's kernels.

    Args:
        outputs: (n_signals, num_kernels) outputs, in grid order
        integration: outputs per integration window

    Returns:
        (n_signals,) statistics
    """
    values = outputs.double().cpu().numpy()
    return np.array([integrate(row, integration).max() for row in values])


def evaluate(model: torch.nn.Module, data: ValidationData, batch_size: int) -> Tensor:
    """The network's output for every validation item, in item order.

    Args:
        model: the network (evaluated in eval mode, on its device)
        data: the validation data
        batch_size: kernels per forward pass

    Returns:
        (num_items,) float32 outputs on the CPU
    """
    device = next(model.parameters()).device
    batches = ValidationBatches(data, batch_size)
    was_training = model.training
    model.eval()
    outputs = []
    with torch.no_grad():
        for i in range(len(batches)):
            x = batches[i]["X"].to(device)
            outputs.append(model(x)[:, 0].float().cpu())
    model.train(was_training)
    return torch.cat(outputs)


def validation_results(
    outputs: Tensor, data: ValidationData, ifos: list[str]
) -> tuple[EventSet, SignalScoreSet]:
    """The ledger records of one validation pass.

    Args:
        outputs: (num_items,) outputs of ``ValidationBatches``' items
        data: the validation data
        ifos: detectors, in channel order

    Returns:
        the background events (times on the unshifted H1 axis, shifts
        ``j·k·valid_shift`` for detector ``j``, ``Tb`` their livetime) and the
        signals with their statistics
    """
    search = data.search
    background, foreground = split_outputs(outputs, data)
    stats, times, run, livetime = background_events(
        background, data.runs, search, data.kernel_ends
    )
    # detector j is shifted by j·k·valid_shift under shift index k
    offsets = np.arange(len(ifos), dtype=np.float64) * data.shift
    shifts = offsets[None] * data.runs[run, 1].numpy()[:, None].astype(np.float64)
    events = EventSet(
        {
            "detection_statistic": stats,
            "detection_time": times,
            "shift": shifts.reshape(-1, len(ifos)),
        },
        attrs={"Tb": livetime, "ifos": list(ifos)},
        source="validation background",
    )
    statistic = signal_statistics(foreground, search.integration_samples)
    signals = SignalScoreSet(
        {"snr": data.snr.double().numpy(), "detection_statistic": statistic},
        attrs={
            "snr_range": list(data.snr_range),
            "inference_sampling_rate": search.inference_sampling_rate,
            "integration_length": search.integration_length,
            "cluster_window_length": search.cluster_window_length,
        },
        source="validation signals",
    )
    return events, signals
