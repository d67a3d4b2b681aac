"""The validation set: timeslide background and injected signals, built once.

**Background.** Each held-out segment is whitened detector by detector with
``Preprocessor.stream`` at ``1 / valid_stride`` kernels per second: kernel ``i``
of a detector is whitened with the PSD of the ``psd_length`` s right before its
own window, exactly as in training and inference. Whitening acts on each
detector alone, so a timeslide only changes which kernels are paired: under
shift ``k`` (``k = 1, 2, …``; zero-lag is never background), detector ``j``'s
kernel ``i + j·k·m`` is paired with H1's kernel ``i``, with ``m = valid_shift /
valid_stride``. Shifts cycle over the segments until the pairs add up to
``valid_livetime`` seconds (each pair stands for ``valid_stride`` s).

**Foreground.** Each held-out waveform is projected from a random sky position,
scaled to a network SNR drawn uniformly from ``valid_snr_range`` against the
PSD of a random stretch of held-out background, and injected into that
stretch's window at ``num_valid_views`` coalescence positions evenly sweeping
the signal region; every view is whitened with that stretch's PSD.

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
from train.injection import SignalInjector
from train.inputs import Segment
from train.seeds import generator, seeded

logger = logging.getLogger(__name__)


@dataclass
class ValidationData:
    """Whitened validation kernels and how background kernels pair up.

    Attributes:
        background: per segment, (n_s, ifo, kernel_size) whitened kernels
        runs: (R, 3) int64 rows ``(segment, shift index k, number of pairs)``;
            one row is one stretch of contiguous background windows
        step: kernel offset per unit of shift between consecutive detectors (m)
        foreground: (n_signals, views, ifo, kernel_size) whitened injections
        snr: (n_signals,) injected network SNRs
        stride: seconds between consecutive background windows
    """

    background: list[Tensor]
    runs: Tensor
    step: int
    foreground: Tensor
    snr: Tensor
    stride: float

    @property
    def num_background(self) -> int:
        """Background windows (timeslide pairs)."""
        return int(self.runs[:, 2].sum()) if len(self.runs) else 0

    @property
    def livetime(self) -> float:
        """Seconds of background the windows stand for."""
        return self.num_background * self.stride

    @property
    def num_views(self) -> int:
        return self.foreground.shape[1]


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
    segments: list[Segment], preprocessor: Preprocessor, stride: float
) -> list[Tensor]:
    """Whitened kernels of every held-out segment, one every ``stride`` s.

    Returns:
        per segment, (n, ifo, kernel_size) float32 kernels
    """
    out = []
    for segment in tqdm(segments, desc="whitening validation background", leave=False):
        strain = torch.from_numpy(segment.strain)
        if preprocessor.num_kernels(strain.shape[-1], 1 / stride) < 1:
            out.append(torch.zeros(0, strain.shape[0], preprocessor.config.kernel_size))
            continue
        with torch.no_grad():
            out.append(preprocessor.stream(strain, 1 / stride))
    return out


def inject_foreground(
    segments: list[Segment],
    waveforms: np.ndarray,
    preprocessor: Preprocessor,
    injector: SignalInjector,
    snr_range: tuple[float, float],
    num_views: int,
    seed: int,
    chunk_size: int = 64,
) -> tuple[Tensor, Tensor]:
    """Whitened views of validation signals in held-out background.

    Args:
        segments: held-out background
        waveforms: (N, 2, T) validation polarisations
        preprocessor: the preprocessing
        injector: projection, rescaling and placement
        snr_range: network SNRs are uniform on this [low, high]
        num_views: coalescence positions per signal
        seed: the run's seed

    Returns:
        (N, views, ifo, kernel_size) kernels and (N,) SNRs
    """
    config = preprocessor.config
    low, high = snr_range
    if not 0 < low <= high:
        raise ValueError(
            f"valid_snr_range must satisfy 0 < low <= high, got {snr_range}"
        )
    sizes = torch.tensor([s.num_samples - config.sample_size + 1 for s in segments])
    usable = sizes.clamp_min(0)
    gen = generator(seed, "validation-background")
    n = len(waveforms)
    which = torch.multinomial(usable.double(), n, replacement=True, generator=gen)
    offsets = (torch.rand(n, generator=gen, dtype=torch.float64) * usable[which]).long()
    positions = injector.view_positions(num_views)
    kernels, snrs = [], []
    polarizations = torch.as_tensor(waveforms)
    with seeded(seed, "validation-signals"), torch.no_grad():
        target = low + (high - low) * torch.rand(n)
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            raw = torch.stack(
                [
                    torch.from_numpy(
                        segments[int(s)].strain[:, int(o) : int(o) + config.sample_size]
                    )
                    for s, o in zip(which[start:stop], offsets[start:stop])
                ]
            )
            psd = preprocessor.psd(raw[..., : config.psd_size])
            count = stop - start
            waveforms_chunk = polarizations[start:stop]
            sky = injector.random_sky(count)
            snr = injector.snr(waveforms_chunk, sky, psd)
            scale = (target[start:stop] / snr.clamp_min(1e-12))[:, None, None]
            views = []
            for position in positions:
                placed = injector.responses(
                    waveforms_chunk, sky, position.repeat(count)
                )
                window = raw[..., config.psd_size :] + placed * scale
                views.append(preprocessor.whiten(window, psd))
            kernels.append(torch.stack(views, dim=1))
            snrs.append(target[start:stop])
    return torch.cat(kernels), torch.cat(snrs)


def build_validation(
    segments: list[Segment],
    waveforms: np.ndarray,
    preprocessor: Preprocessor,
    injector: SignalInjector,
    stride: float,
    shift: float,
    livetime: float,
    snr_range: tuple[float, float],
    num_views: int,
    seed: int,
) -> ValidationData:
    """Build the validation set (see the module docstring).

    Args:
        segments: held-out background
        waveforms: (N, 2, T) validation polarisations
        preprocessor: the preprocessing
        injector: projection, rescaling and placement
        stride: seconds between background windows
        shift: timeslide step, s (a multiple of ``stride``)
        livetime: seconds of timeslide background wanted
        snr_range: [low, high] of the uniform injected SNRs
        num_views: coalescence positions per signal
        seed: the run's seed

    Returns:
        the validation data
    """
    step = shift / stride
    if step < 1 or not math.isclose(step, round(step)):
        raise ValueError(
            f"valid_shift = {shift} s must be a whole multiple (≥ 1) of "
            f"valid_stride = {stride} s"
        )
    step = round(step)
    num_ifos = len(preprocessor.config.ifos)
    background = whiten_background(segments, preprocessor, stride)
    runs = plan_timeslides(
        [len(b) for b in background], num_ifos, step, int(math.ceil(livetime / stride))
    )
    if len(runs) == 0:
        raise ValueError(
            "validation background too short for a single timeslide of "
            f"{shift} s: lengthen valid_length"
        )
    foreground, snr = inject_foreground(
        segments, waveforms, preprocessor, injector, snr_range, num_views, seed
    )
    data = ValidationData(background, runs, step, foreground, snr, stride)
    if data.livetime < livetime:
        logger.warning(
            "validation background reaches %.0f s of timeslide livetime, not the "
            "%.0f s asked for (too few shifts fit the held-out background)",
            data.livetime,
            livetime,
        )
    logger.info(
        "validation: %d background windows (%.1f h of timeslides, shifts up to %d), "
        "%d signals × %d views",
        data.num_background,
        data.livetime / 3600,
        int(runs[:, 1].max()),
        len(foreground),
        num_views,
    )
    return data


class ValidationBatches(Dataset):
    """Validation inputs, one batch per item.

    Items ``0 … num_background - 1`` are background pairs in run order, the rest
    foreground views (signal-major). Each batch is a dict: ``X`` (b, ifo,
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
        self.total = self.num_background + data.foreground.shape[0] * data.num_views
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
            out[~is_bg] = foreground[fg // data.num_views, fg % data.num_views]
        return {"X": out, "ids": ids}
