"""Training inputs: background split into training and validation, waveforms, glitches.

Every check here runs before any training starts, and each failure is one
``TrainingInputError`` (a ``ValueError``) naming the file and the problem.

Background files are sorted by GPS start; the latest ``valid_length`` seconds
are held out for validation (taken from the end, a file split in two when the
boundary falls inside it), the rest is training background. Glitch snippets
that reach into the held-out span are dropped, so validation never sees strain
that training saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from aframe.architectures import PreprocessingConfig
from aframe.architectures.snr import background_psd
from aframe.ledger import GlitchSet, LedgerError, WaveformSet
from aframe.utils.background import BackgroundError, list_background, read_background

logger = logging.getLogger(__name__)


class TrainingInputError(ValueError):
    """Input data that cannot be trained on."""


@dataclass
class Segment:
    """A contiguous stretch of background strain.

    Attributes:
        t0: GPS start, s
        strain: (ifo, T) float32 strain
        source: the file it came from
        psd: (ifo, F) its reference PSD, against which signal SNRs are
            measured (``attach_reference_psds``), or None before that
    """

    t0: float
    strain: np.ndarray
    source: str
    psd: np.ndarray | None = None

    @property
    def num_samples(self) -> int:
        """Samples per ifo."""
        return self.strain.shape[-1]

    def span(self, sample_rate: float) -> tuple[float, float]:
        """GPS [start, stop) of the segment."""
        return self.t0, self.t0 + self.num_samples / sample_rate


def load_background(
    directory: Path,
    config: PreprocessingConfig,
    valid_length: float,
    min_valid_length: float,
) -> tuple[list[Segment], list[Segment]]:
    """Read the background and hold out the latest ``valid_length`` seconds.

    Args:
        directory: the training background directory
        config: preprocessing (gives ifos, sample rate and the sample length)
        valid_length: seconds of the latest background held out for validation
        min_valid_length: the least held-out background validation can work
            with, s (a held-out piece shorter than this is not split off)

    Returns:
        training and validation segments (strain as float32)
    """
    try:
        files = list_background(directory, config.ifos, sample_rate=config.sample_rate)
    except BackgroundError as err:
        raise TrainingInputError(f"training background: {err}") from err
    fs = config.sample_rate
    sample_length = config.sample_size / fs
    total = sum(f.duration for f in files)
    if total - valid_length < sample_length:
        raise TrainingInputError(
            f"{directory}: {total:g} s of background, but {valid_length:g} s are held "
            f"out for validation and one training sample needs {sample_length:g} s "
            f"(psd_length + kernel_length + fduration): need at least "
            f"{valid_length + sample_length:g} s"
        )

    train, valid = [], []
    remaining = valid_length
    for item in reversed(files):
        if remaining <= 0:
            train.insert(0, (item, item.t0, item.stop))
            continue
        if item.duration <= remaining:
            valid.insert(0, (item, item.t0, item.stop))
            remaining -= item.duration
            continue
        split = item.stop - remaining
        valid.insert(0, (item, split, item.stop))
        train.insert(0, (item, item.t0, split))
        remaining = 0

    def read(parts) -> list[Segment]:
        out = []
        for item, start, stop in parts:
            strain = read_background(item.path, config.ifos, start, stop)
            out.append(Segment(start, strain.astype(np.float32), item.path.name))
        return out

    train_segments = [s for s in read(train) if s.num_samples >= config.sample_size]
    if len(train_segments) < len(train):
        logger.warning(
            "dropped %d training background piece(s) shorter than one sample (%g s)",
            len(train) - len(train_segments),
            sample_length,
        )
    if not train_segments:
        raise TrainingInputError(
            f"{directory}: no training background piece is as long as one sample "
            f"({sample_length:g} s)"
        )
    valid_segments = read(valid)
    held_out = sum(s.num_samples for s in valid_segments) / fs
    longest = max((s.num_samples for s in valid_segments), default=0) / fs
    if longest < min_valid_length:
        raise TrainingInputError(
            f"{directory}: the held-out validation background's longest piece is "
            f"{longest:g} s ({held_out:g} s in all); validation needs at least "
            f"{min_valid_length:g} s in one piece (one sample plus the timeslide "
            "shift); raise valid_length or provide more background"
        )
    logger.info(
        "background: %.0f s for training (%d pieces), %.0f s held out for validation",
        sum(s.num_samples for s in train_segments) / fs,
        len(train_segments),
        held_out,
    )
    return train_segments, valid_segments


def attach_reference_psds(
    segments: list[Segment], sample_rate: float, fftlength: float
) -> None:
    """Give every segment its reference PSD, in place.

    The PSD that defines a signal's SNR is the median-Welch PSD of the whole
    segment with segments as long as the waveforms
    (``aframe.architectures.snr.background_psd``), as for the test injections.
    A piece too short for one such segment borrows the PSD of the longest
    piece (the noise changes slowly; such pieces hold few samples).

    Args:
        segments: background segments
        sample_rate: Hz
        fftlength: the waveforms' duration, s
    """
    if not segments:
        return
    size = int(round(fftlength * sample_rate))
    longest = max(segments, key=lambda s: s.num_samples)
    if longest.num_samples < size:
        raise TrainingInputError(
            f"{longest.source}: the longest background piece is "
            f"{longest.num_samples / sample_rate:g} s, shorter than the "
            f"{fftlength:g} s waveforms whose SNRs its PSD defines"
        )
    fallback = None
    for segment in segments:
        if segment.num_samples < size:
            if fallback is None:
                fallback = background_psd(
                    longest.strain.astype(np.float64), sample_rate, fftlength
                )
            segment.psd = fallback
            logger.info(
                "%s: a %.1f s piece is shorter than the %g s waveforms; it "
                "borrows the reference PSD of %s",
                segment.source,
                segment.num_samples / sample_rate,
                fftlength,
                longest.source,
            )
            continue
        segment.psd = background_psd(
            segment.strain.astype(np.float64), sample_rate, fftlength
        )


@dataclass
class WaveformFile:
    """A checked training-signal file (``WaveformSet`` layout), read in blocks.

    Attributes:
        path: the file
        num_waveforms: signals in the file
        size: samples per waveform
        coalescence_sample: index of the coalescence in every waveform
    """

    path: Path
    num_waveforms: int
    size: int
    coalescence_sample: int

    def duration(self, sample_rate: float) -> float:
        """Seconds per waveform."""
        return self.size / sample_rate

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start … stop - 1`` as (n, 2, T) float32 (cross, plus).

        Args:
            start: first row
            stop: one past the last row

        Returns:
            the polarisations
        """
        with h5py.File(self.path, "r") as f:
            cross = f["waveforms/cross"][start:stop]
            plus = f["waveforms/plus"][start:stop]
        out = np.stack([cross, plus], axis=1).astype(np.float32, copy=False)
        if not np.isfinite(out).all():
            row = start + int(np.argmin(np.isfinite(out).all(axis=(1, 2))))
            raise TrainingInputError(
                f"{self.path.name}: waveform {row} holds non-finite values"
            )
        return out


def load_waveforms(
    path: Path, config: PreprocessingConfig, num_valid: int
) -> WaveformFile:
    """Check the training signals without reading every waveform.

    The parameters and attributes are validated by ``WaveformSet``; the
    waveform datasets' shapes, the sample rate and the coalescence sample here.

    Args:
        path: ``signals.hdf5`` (a ``WaveformSet``)
        config: preprocessing (gives the sample rate)
        num_valid: waveforms to hold out for validation (the last ones); at
            least one must remain for training

    Returns:
        the file, to read in blocks
    """
    path = Path(path).expanduser()
    try:
        signals = WaveformSet.read(path, waveforms=False)
    except LedgerError as err:
        raise TrainingInputError(f"training signals: {err}") from err
    name = path.name
    rate = signals.sample_rate
    if not np.isclose(rate, config.sample_rate):
        raise TrainingInputError(
            f"{name}: waveforms are sampled at {rate:g} Hz, the background and "
            f"preprocessing at {config.sample_rate:g} Hz"
        )
    with h5py.File(path, "r") as f:
        shapes = {}
        for key in ("cross", "plus"):
            dataset = f.get(f"waveforms/{key}")
            if not isinstance(dataset, h5py.Dataset):
                raise TrainingInputError(
                    f"{name}: waveforms/{key} missing (required by WaveformSet)"
                )
            if dataset.ndim != 2 or dataset.dtype.kind != "f":
                raise TrainingInputError(
                    f"{name}: waveforms/{key} has shape {dataset.shape} and dtype "
                    f"{dataset.dtype}, expected (N, T) floats"
                )
            shapes[key] = dataset.shape
    if shapes["cross"] != shapes["plus"] or shapes["cross"][0] != len(signals):
        raise TrainingInputError(
            f"{name}: waveforms/cross {shapes['cross']} and waveforms/plus "
            f"{shapes['plus']} must both be ({len(signals)}, T), one row per signal"
        )
    num, size = shapes["cross"]
    expected = int(round(float(signals.attrs["duration"]) * rate))
    if size != expected:
        raise TrainingInputError(
            f"{name}: waveforms hold {size} samples, expected {expected} "
            f"(duration {signals.attrs['duration']} s at {rate:g} Hz)"
        )
    coalescence = signals.coalescence_sample
    if not 0 <= coalescence < size:
        raise TrainingInputError(
            f"{name}: coalescence_time {signals.attrs['coalescence_time']} s lies "
            f"outside the {signals.attrs['duration']} s waveforms"
        )
    if num < num_valid + 1:
        raise TrainingInputError(
            f"{name}: {num} waveforms, but {num_valid} are held out for "
            "validation and training needs at least one"
        )
    return WaveformFile(path, num, size, coalescence)


@dataclass
class Glitches:
    """Per-ifo raw strain snippets around glitch triggers.

    Attributes:
        snippets: ifo index → (N, T) float32 snippets (possibly empty)
        trigger_sample: index of the trigger in every snippet
    """

    snippets: list[np.ndarray]
    trigger_sample: int

    @property
    def empty(self) -> bool:
        return all(len(s) == 0 for s in self.snippets)


def load_glitches(
    path: Path | None,
    config: PreprocessingConfig,
    exclude: list[tuple[float, float]],
) -> Glitches | None:
    """Read glitch snippets usable for augmentation.

    A snippet is usable when a full sample (psd_length + window) can be cut
    from it with the trigger inside the kernel. Snippets that overlap an
    excluded (validation) span are dropped.

    Args:
        path: ``glitches.hdf5`` (a ``GlitchSet``), or None for no glitches
        config: preprocessing (ifos, sample rate, sizes)
        exclude: GPS [start, stop) spans whose glitches are not used

    Returns:
        the glitches, or None when there are none to use
    """
    if path is None:
        return None
    path = Path(path).expanduser()
    if not path.exists():
        logger.warning("%s: no such file; training without glitch augmentation", path)
        return None
    try:
        glitches = GlitchSet.read(path, ifos=list(config.ifos))
    except LedgerError as err:
        raise TrainingInputError(f"training glitches: {err}") from err
    rate = float(glitches.attrs["sample_rate"])
    if not np.isclose(rate, config.sample_rate):
        raise TrainingInputError(
            f"{path.name}: glitch snippets are sampled at {rate:g} Hz, the "
            f"preprocessing at {config.sample_rate:g} Hz"
        )
    before, after = (float(p) for p in np.atleast_1d(glitches.attrs["pad"])[:2])
    trigger = int(round(before * rate))
    # the trigger must be able to sit anywhere in the kernel with a full sample
    need_before = config.psd_size + config.pad_size + config.kernel_size
    need_after = config.pad_size + config.kernel_size
    if trigger < need_before or int(round(after * rate)) < need_after:
        logger.warning(
            "%s: snippets keep %g s before and %g s after the trigger, fewer than "
            "the %g s and %g s a sample needs; training without glitches",
            path.name,
            before,
            after,
            need_before / rate,
            need_after / rate,
        )
        return None
    snippets = []
    for ifo in config.ifos:
        data = glitches[ifo]
        times = np.asarray(data["time"], dtype=float)
        keep = np.ones(len(times), dtype=bool)
        for start, stop in exclude:
            # no snippet may reach into an excluded span
            keep &= ~((times >= start - after) & (times < stop + before))
        snippets.append(np.asarray(data["snippets"][keep], dtype=np.float32))
    out = Glitches(snippets, trigger)
    counts = ", ".join(f"{ifo}: {len(s)}" for ifo, s in zip(config.ifos, snippets))
    if out.empty:
        logger.info("%s holds no usable glitches; training without them", path.name)
        return None
    if any(not np.isfinite(s).all() for s in snippets):
        raise TrainingInputError(f"{path.name}: glitch snippets hold non-finite values")
    logger.info("glitch augmentation with %s snippets", counts)
    return out
