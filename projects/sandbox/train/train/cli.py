"""``train``: fit a network that finds BBH mergers in whitened H1/L1 strain.

``train --typeo ../pyproject.toml:train:resnet`` reads the pipeline's
``[tool.typeo.scripts.train]`` table; ``train -h`` lists every argument.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from aframe.architectures import (
    ArchitectureError,
    PreprocessingConfig,
    PreprocessingConfigError,
    Preprocessor,
    build_model,
)
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError, ensure_writable_dir
from train.architectures import COMMANDS, Architecture
from train.augment import Augmentor
from train.callbacks import MetricsTable, TimeBudget
from train.checkpointing import AtomicCheckpointIO, last_checkpoint
from train.curriculum import SnrSchedule
from train.data import DetectorData
from train.injection import SignalInjector
from train.inputs import (
    TrainingInputError,
    attach_reference_psds,
    load_background,
    load_glitches,
    load_waveforms,
)
from train.metrics import MONITORS
from train.model import DetectorModule
from train.outputs import (
    CHECKPOINT_DIR,
    LOG_DIR,
    METRICS_FILE,
    MODEL_FILE,
    TrainingConfigError,
    best_weights,
    clear,
    previous_state,
    write_config,
    write_outputs,
)
from train.sampling import BackgroundSampler, GlitchSampler
from train.validation import (
    SearchSettings,
    build_validation,
    evaluate,
    validation_results,
)
from train.waveforms import WaveformBank

logger = logging.getLogger("train")


def train(
    background_dir: Path,
    signals: Path,
    outdir: Path,
    architecture: Architecture,
    inference_sampling_rate: float,
    integration_length: float,
    cluster_window_length: float,
    glitches: Path | None = None,
    ifos: list[str] = ["H1", "L1"],  # noqa: B006 (jsonargparse needs the literal)
    sample_rate: float = 2048.0,
    kernel_length: float = 1.5,
    fduration: float = 1.0,
    psd_length: float = 8.0,
    fftlength: float = 2.5,
    highpass: float | None = 32.0,
    psd_average: Literal["median", "mean"] = "median",
    waveform_prob: float = 0.5,
    swap_prob: float = 0.05,
    mute_prob: float = 0.05,
    glitch_prob: float = 0.1,
    invert_prob: float = 0.5,
    reverse_prob: float = 0.5,
    max_min_snr: float = 12.0,
    min_snr: float = 6.0,
    max_snr: float = 100.0,
    snr_decay_steps: int = 600,
    snr_index: float = -3.0,
    left_pad: float = 0.25,
    right_pad: float = 0.05,
    valid_length: float = 1800.0,
    valid_livetime: float = 14400.0,
    valid_shift: float = 1.0,
    num_valid_waveforms: int = 500,
    waveform_block: int | None = 4000,
    valid_snr_range: tuple[float, float] = (4.0, 30.0),
    valid_loud_snr: float = 12.0,
    max_fpr: float = 1e-3,
    valid_batch_size: int = 256,
    batch_size: int = 128,
    batches_per_epoch: int = 300,
    max_epochs: int = 12,
    lr: float = 2e-3,
    lr_ramp: float = 0.1,
    weight_decay: float = 0.0,
    margin_slope: float = 0.5,
    margin_snr: float = 12.0,
    monitor: str = "valid_recall_per_hour",
    early_stop: int | None = None,
    max_time: float | None = 20.0,
    seed: int = 1122,
    accelerator: Literal["auto", "cpu", "gpu"] = "auto",
    devices: int = 1,
    num_workers: int = 0,
    num_threads: int | None = None,
    progress_bar: bool = True,
    resume: bool = True,
    force: bool = False,
) -> Path:
    """Train a BBH detector on whitened two-detector strain.

    Each batch draws background samples (psd_length + kernel_length + fduration
    seconds) with independent offsets per detector, puts in glitches, injects
    signals with random sky positions at SNRs from a curriculum, swaps/mutes
    some (labelled 0), and whitens each window with the PSD of the strain right
    before it: the preprocessing saved as ``preprocessing.json`` and reused by
    export and inference. Validation scores the recall of held-out signals at
    false-alarm rates estimated from timeslides of held-out background.

    Args:
        background_dir: training background files background-{t0}-{dur}.hdf5;
            the latest ``valid_length`` seconds are held out for validation
        signals: training waveforms (WaveformSet: cross, plus polarisations)
        outdir: training directory (model.pt, model.torchscript,
            preprocessing.json, batch.hdf5, metrics.csv, config.yaml,
            checkpoints/)
        architecture: the network (subcommand, e.g. ``resnet``)
        inference_sampling_rate: kernels per second of the search the
            validation imitates (infer's), Hz
        integration_length: the search's boxcar over the outputs, s
        cluster_window_length: the search's clustering window, s
        glitches: glitch snippets (GlitchSet) for augmentation; None, a
            missing or an empty file trains without glitches
        ifos: detectors, in channel order
        sample_rate: strain sample rate, Hz
        kernel_length: whitened input the network sees, s
        fduration: whitening filter length, s (fduration/2 cropped per side)
        psd_length: strain before each window whose PSD whitens it, s
        fftlength: Welch segment length of the PSD, s
        highpass: whitening highpass, Hz (None: none)
        psd_average: Welch average, median (bias-corrected) or mean
        waveform_prob: fraction of samples labelled positive (a coherent signal)
        swap_prob: probability an injected sample has one detector's signal
            replaced by another source's (labelled 0)
        mute_prob: probability an injected sample has one detector's signal
            removed (labelled 0)
        glitch_prob: probability each detector of a sample is replaced by a
            glitch snippet (label unchanged)
        invert_prob: probability each background channel is sign-flipped
        reverse_prob: probability each background channel is time-reversed
        max_min_snr: smallest training SNR at the first batch
        min_snr: smallest training SNR once the curriculum has decayed
        max_snr: largest training SNR
        snr_decay_steps: batches over which the smallest SNR decays from
            max_min_snr to min_snr (0: a fixed power law from min_snr)
        snr_index: power-law index of the training SNR distribution
        left_pad: least time from the kernel's start to the coalescence, s
        right_pad: least time from the coalescence to the kernel's end, s
        valid_length: latest background held out for validation, s
        valid_livetime: timeslide background livetime to validate on, s
        valid_shift: timeslide step, s (a multiple of the kernel stride)
        num_valid_waveforms: last waveforms of ``signals`` held out for
            validation
        waveform_block: training waveforms in memory at once; epoch e draws
            from block e mod (blocks) of the training rows (None or 0: all)
        valid_snr_range: validation network SNRs are uniform on [low, high]
        valid_loud_snr: SNR from which a validation signal counts as loud
            (``valid_loud_recall_*``, weighted to a population ∝ ρ⁻⁴)
        max_fpr: max_fpr of the partial AUROC ``valid_auroc``
        valid_batch_size: kernels per validation batch
        batch_size: samples per training batch
        batches_per_epoch: training batches between validations
        max_epochs: epochs (the learning-rate schedule spans them all)
        lr: peak learning rate (AdamW, one-cycle schedule)
        lr_ramp: fraction of the steps over which the learning rate rises
        weight_decay: AdamW weight decay
        margin_slope: logit margin per unit of SNR above ``margin_snr`` a
            training signal must clear (``train.model.detection_loss``; 0:
            plain cross-entropy)
        margin_snr: SNR from which that margin rises
        monitor: metric choosing the best checkpoint (maximised):
            valid_recall_per_hour, valid_recall_per_day, valid_loud_recall_per_hour,
            valid_loud_recall_per_day, valid_auroc
        early_stop: stop after this many epochs without improvement of
            ``monitor`` (None: never)
        max_time: training wall time budget, minutes (None or 0: none);
            training stops at the last epoch boundary that fits
        seed: seeds initialisation, sampling and augmentation
        accelerator: cpu, gpu or auto (gpu when available; 16-bit mixed
            precision on gpu)
        devices: devices to train on (DDP when more than one)
        num_workers: data-loading processes (0: in the training process)
        num_threads: torch CPU threads (None: torch's default)
        progress_bar: show a progress bar
        resume: continue from ``checkpoints/last.ckpt`` when present
        force: discard what ``outdir`` holds and train from scratch

    Returns:
        the path of ``model.pt``
    """
    start = time.monotonic()
    _quiet_lightning()
    config_args = {
        k: v for k, v in locals().items() if k not in ("start", "architecture")
    }
    config_args["architecture"] = {"name": architecture.name, **architecture.kwargs}
    outdir = ensure_writable_dir(Path(outdir).expanduser())
    if num_threads is not None:
        torch.set_num_threads(num_threads)

    if force:
        clear(outdir)
    state = previous_state(outdir, config_args)
    if state == "done":
        logger.info(
            "%s already holds this training; nothing to do", outdir / MODEL_FILE
        )
        return outdir / MODEL_FILE
    if state == "resume" and not resume:
        clear(outdir)
        state = "fresh"

    try:
        preprocessing = PreprocessingConfig(
            sample_rate=sample_rate,
            kernel_length=kernel_length,
            fduration=fduration,
            psd_length=psd_length,
            fftlength=fftlength,
            highpass=highpass,
            psd_average=psd_average,
            ifos=tuple(ifos),
        )
        schedule = SnrSchedule(
            max_min_snr, min_snr, max_snr, snr_decay_steps, snr_index
        )
        for name, value in (
            ("batch_size", batch_size),
            ("batches_per_epoch", batches_per_epoch),
            ("max_epochs", max_epochs),
        ):
            if value < 1:
                raise ValueError(f"{name} must be ≥ 1, got {value}")
        if monitor not in MONITORS:
            raise ValueError(
                f"monitor must be one of {', '.join(MONITORS)}, got {monitor!r}"
            )
        if not 0 < lr_ramp < 1:
            raise ValueError(f"lr_ramp must lie in (0, 1), got {lr_ramp}")
        if num_valid_waveforms < 1:
            raise ValueError(
                f"num_valid_waveforms must be ≥ 1, got {num_valid_waveforms}"
            )
        model = build_model(architecture.name, len(ifos), **architecture.kwargs)
    except (ValueError, ArchitectureError) as err:
        raise TrainingConfigError(str(err)) from err

    # ---- inputs, all checked before anything trains
    preprocessor = Preprocessor(preprocessing)
    sample_length = preprocessing.sample_size / sample_rate
    search = SearchSettings(
        inference_sampling_rate, integration_length, cluster_window_length
    )
    min_valid_length = (
        sample_length + valid_shift * (len(ifos) - 1) + integration_length
    )
    train_segments, valid_segments = load_background(
        Path(background_dir), preprocessing, valid_length, min_valid_length
    )
    waveforms = load_waveforms(Path(signals), preprocessing, num_valid_waveforms)
    first_valid = waveforms.num_waveforms - num_valid_waveforms
    valid_waveforms = waveforms.read(first_valid, waveforms.num_waveforms)
    exclude = [s.span(sample_rate) for s in valid_segments]
    glitch_set = load_glitches(glitches, preprocessing, exclude)
    # signal SNRs are defined against each segment's own whole-segment PSD
    attach_reference_psds(
        train_segments + valid_segments, sample_rate, waveforms.duration(sample_rate)
    )
    reference_psd = torch.from_numpy(np.stack([s.psd for s in train_segments]))
    try:
        injector = SignalInjector(
            preprocessing, waveforms.coalescence_sample, left_pad, right_pad
        )
        augmentor = Augmentor(
            preprocessor,
            injector,
            WaveformBank(waveforms, 0, first_valid, waveform_block, batches_per_epoch),
            schedule,
            reference_psd,
            waveform_prob,
            swap_prob,
            mute_prob,
            invert_prob,
            reverse_prob,
            seed,
        )
        glitch_sampler = (
            GlitchSampler(glitch_set, preprocessing, glitch_prob)
            if glitch_set
            else None
        )
        validation = build_validation(
            valid_segments,
            valid_waveforms,
            preprocessor,
            injector,
            search,
            valid_shift,
            valid_livetime,
            tuple(valid_snr_range),
            seed,
        )
    except ValueError as err:
        raise TrainingConfigError(str(err)) from err

    write_config(outdir, config_args)
    seed_everything(seed, workers=True)
    # the network's initial weights come from the seed, after every data draw
    model = build_model(architecture.name, len(ifos), **architecture.kwargs)
    module = DetectorModule(
        model,
        augmentor,
        validation,
        lr=lr,
        weight_decay=weight_decay,
        lr_ramp=lr_ramp,
        margin_slope=margin_slope,
        margin_snr=margin_snr,
        total_steps=max_epochs * batches_per_epoch,
        valid_snr_range=tuple(valid_snr_range),
        valid_loud_snr=valid_loud_snr,
        max_fpr=max_fpr,
        seed=seed,
    )
    data = DetectorData(
        BackgroundSampler(train_segments, preprocessing.sample_size),
        glitch_sampler,
        validation,
        batch_size,
        batches_per_epoch,
        valid_batch_size,
        seed,
        num_workers,
    )

    trainer, checkpoints, table = build_trainer(
        outdir,
        monitor,
        early_stop,
        max_time,
        max_epochs,
        batches_per_epoch,
        accelerator,
        devices,
        progress_bar,
    )
    last = outdir / CHECKPOINT_DIR / "last.ckpt"
    ckpt_path = str(last) if state == "resume" and last.exists() else None
    if ckpt_path:
        logger.info("resuming from %s", last)
    fit_start = time.monotonic()
    trainer.fit(module, datamodule=data, ckpt_path=ckpt_path)
    fit_time = time.monotonic() - fit_start
    throughput = [r["train_samples_per_s"] for r in table.rows]
    if not trainer.is_global_zero:
        return outdir / MODEL_FILE

    best = Path(checkpoints.best_model_path) if checkpoints.best_model_path else None
    if best is not None and best.exists():
        model.load_state_dict(best_weights(best))
    else:
        logger.warning(
            "no best checkpoint (no completed validation); keeping the last weights"
        )
    # the selected network's validation pass, kept for the analysis
    validation_records = validation_results(
        evaluate(model, validation, valid_batch_size), validation, list(ifos)
    )
    augmentor.cpu()
    with torch.no_grad():
        first = data.training_batches(0).batch(0)
        x, y, _ = augmentor(first["X"], first["segment"], 0)
    score = checkpoints.best_model_score
    metadata = {
        "monitor": monitor,
        "best_score": None if score is None else float(score),
        "epochs": trainer.current_epoch,
        "steps": trainer.global_step,
        "signal_region": [left_pad, kernel_length - right_pad],
        "fit_seconds": fit_time,
        "train_samples_per_second": float(np.nanmedian(throughput))
        if throughput
        else None,
    }
    path = write_outputs(
        outdir,
        model,
        architecture.name,
        architecture.kwargs,
        preprocessing,
        (x, y),
        config_args,
        metadata,
        validation_records,
    )
    logger.info(
        "trained in %.0f s; best %s = %s; wrote %s",
        time.monotonic() - start,
        monitor,
        metadata["best_score"],
        path,
    )
    return path


def build_trainer(
    outdir: Path,
    monitor: str,
    early_stop: int | None,
    max_time: float | None,
    max_epochs: int,
    batches_per_epoch: int,
    accelerator: str,
    devices: int,
    progress_bar: bool,
) -> tuple[Trainer, ModelCheckpoint, MetricsTable]:
    """The Lightning trainer of a training run (arguments as ``train``'s).

    Returns:
        the trainer, its checkpoint callback and its metrics table
    """
    use_gpu = accelerator in ("auto", "gpu") and torch.cuda.is_available()
    checkpoints = ModelCheckpoint(
        dirpath=outdir / CHECKPOINT_DIR,
        filename="best",
        monitor=monitor,
        mode="max",
        save_top_k=1,
        enable_version_counter=False,
    )
    table = MetricsTable(outdir / METRICS_FILE)
    # the budget and the table record their epoch before the checkpoint saves
    callbacks = [TimeBudget(max_time * 60 if max_time else None), table]
    if early_stop is not None:
        callbacks.append(
            EarlyStopping(monitor=monitor, mode="max", patience=early_stop)
        )
    callbacks += [checkpoints, last_checkpoint(outdir / CHECKPOINT_DIR)]
    trainer = Trainer(
        accelerator="gpu" if use_gpu else "cpu",
        devices=devices,
        strategy="ddp" if devices > 1 else "auto",
        precision="16-mixed" if use_gpu else "32-true",
        max_epochs=max_epochs,
        callbacks=callbacks,
        plugins=[AtomicCheckpointIO()],
        logger=CSVLogger(outdir, name=LOG_DIR),
        default_root_dir=outdir,
        enable_progress_bar=progress_bar,
        num_sanity_val_steps=0,
        log_every_n_steps=min(50, batches_per_epoch),
        deterministic="warn" if use_gpu else True,
        benchmark=False,
    )
    return trainer, checkpoints, table


def _quiet_lightning() -> None:
    # our loader is an IterableDataset whose workers split batches themselves,
    # and augmentation belongs to the module: both warnings are moot here
    warnings.filterwarnings(
        "ignore", message=".*IterableDataset.*has `__len__` defined.*"
    )
    warnings.filterwarnings(
        "ignore", message=".*overridden `on_after_batch_transfer`.*"
    )
    warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\)")
    # validation metrics come from outputs gathered from every process, so
    # they are equal on all; train_loss is the first process's
    warnings.filterwarnings("ignore", message=".*sync_dist=True.*")
    # resuming writes into the checkpoint directory it resumes from, by design
    warnings.filterwarnings(
        "ignore", message=".*Checkpoint directory .* is not empty.*"
    )
    lightning_logger = logging.getLogger("lightning")
    if lightning_logger.handlers:
        # Lightning prints its own records; do not print them twice
        lightning_logger.propagate = False


EXPECTED_ERRORS = (
    TrainingInputError,
    TrainingConfigError,
    PreprocessingConfigError,
    ArchitectureError,
    ArtifactError,
)


def main(argv: list[str] | None = None) -> None:
    """The ``train`` entry point."""
    cli(
        train,
        subcommands=COMMANDS,
        subcommand_dest="architecture",
        args=argv,
        script="train",
        expected_errors=EXPECTED_ERRORS,
    )


if __name__ == "__main__":
    main()
