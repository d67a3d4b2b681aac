"""The training directory: what a training leaves for export, infer and vizapp.

``outdir/`` holds ``config.yaml`` (the resolved arguments, written first),
``checkpoints/`` (``last.ckpt`` after every epoch, ``best.ckpt`` at the best
monitored value), ``logs/`` (Lightning's CSV logs), ``metrics.csv`` (one row
per epoch) and, once training is done, ``validation-background.hdf5`` and
``validation-signals.hdf5`` (the selected network's validation pass:
``EventSet`` and ``SignalScoreSet``), ``preprocessing.json``, ``batch.hdf5``
(a whitened training batch ``X`` (B, ifo, kernel_size) and its labels ``y``
(B, 1), from which export reads the input shape), ``model.torchscript`` (the
best network traced on the CPU) and last ``model.pt``, whose presence marks
the training complete. Every file is written atomically.

A rerun with the same arguments finds ``model.pt`` and does nothing; with
``last.ckpt`` but no ``model.pt`` it resumes; with different arguments it
stops with an error unless ``force`` is set.
"""

from __future__ import annotations

import json
import logging
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
import yaml

from aframe.architectures import (
    MODEL_FILE,
    PREPROCESSING_FILE,
    ModelFileError,
    PreprocessingConfig,
    read_model_file,
    save_model,
)
from aframe.ledger import RecordSet
from aframe.utils.io import atomic_h5, atomic_path

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
BATCH_FILE = "batch.hdf5"
TORCHSCRIPT_FILE = "model.torchscript"
METRICS_FILE = "metrics.csv"
VALIDATION_BACKGROUND_FILE = "validation-background.hdf5"
VALIDATION_SIGNALS_FILE = "validation-signals.hdf5"
CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"

#: arguments that change how a training runs, not what it produces
RUNTIME_ARGS = frozenset(
    {"resume", "force", "max_time", "num_workers", "num_threads", "progress_bar"}
)


class TrainingConfigError(ValueError):
    """Arguments that contradict the training already in the output directory."""


def normalise(config: dict[str, Any]) -> dict[str, Any]:
    """The arguments as YAML would give them back (paths and tuples as text/lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value

    return yaml.safe_load(yaml.safe_dump(plain(config), sort_keys=True))


def _result_args(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in RUNTIME_ARGS}


def write_config(outdir: Path, config: dict[str, Any]) -> None:
    """Write ``config.yaml`` atomically."""
    with atomic_path(outdir / CONFIG_FILE) as tmp:
        tmp.write_text(yaml.safe_dump(normalise(config), sort_keys=True))


def clear(outdir: Path) -> None:
    """Remove everything a training writes in ``outdir`` (and nothing else)."""
    for name in (
        MODEL_FILE,
        TORCHSCRIPT_FILE,
        PREPROCESSING_FILE,
        BATCH_FILE,
        METRICS_FILE,
        CONFIG_FILE,
        VALIDATION_BACKGROUND_FILE,
        VALIDATION_SIGNALS_FILE,
    ):
        (outdir / name).unlink(missing_ok=True)
    for name in (CHECKPOINT_DIR, LOG_DIR):
        shutil.rmtree(outdir / name, ignore_errors=True)


def previous_state(outdir: Path, config: dict[str, Any]) -> str:
    """What ``outdir`` holds relative to a training with ``config``.

    Args:
        outdir: the training directory
        config: the resolved arguments of this run

    Returns:
        ``"done"`` (complete with these arguments), ``"resume"`` (a last
        checkpoint of these arguments) or ``"fresh"`` (nothing of ours)
    """
    config_file = outdir / CONFIG_FILE
    ours = [n for n in (MODEL_FILE, CHECKPOINT_DIR) if (outdir / n).exists()]
    if not config_file.exists():
        if ours:
            raise TrainingConfigError(
                f"{outdir}: holds {', '.join(ours)} but no {CONFIG_FILE}, so its "
                "arguments are unknown; pass --force to start over"
            )
        return "fresh"
    try:
        previous = yaml.safe_load(config_file.read_text()) or {}
    except yaml.YAMLError as err:
        raise TrainingConfigError(f"{config_file}: not valid YAML ({err})") from err
    now, before = _result_args(normalise(config)), _result_args(previous)
    differ = sorted(k for k in set(now) | set(before) if now.get(k) != before.get(k))
    if differ:
        details = "; ".join(
            f"{k}: {before.get(k)!r} → {now.get(k)!r}" for k in differ[:6]
        )
        raise TrainingConfigError(
            f"{outdir}: holds a training with other arguments ({details}); pass "
            "--force to start over or choose another outdir"
        )
    if is_complete(outdir, config):
        return "done"
    last = outdir / CHECKPOINT_DIR / "last.ckpt"
    if last.exists():
        problem = checkpoint_problem(last)
        if problem is None:
            return "resume"
        # e.g. a disk that filled while it was written: what it held is lost
        # either way, and resuming from it would fail on every later run
        logger.warning("%s is unreadable (%s): training from the start", last, problem)
        last.unlink()
    return "fresh"


def checkpoint_problem(path: Path) -> str | None:
    """Why a torch checkpoint cannot be read, or None when it is whole.

    torch saves a zip archive; a truncated file fails the archive's own
    check (its central directory and every member's CRC).

    Args:
        path: the checkpoint file

    Returns:
        the problem, or None
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile) as err:
        return f"not a complete checkpoint archive: {err}"
    if bad is not None:
        return f"member {bad} fails its CRC"
    return None


def is_complete(outdir: Path, config: dict[str, Any]) -> bool:
    """Whether ``outdir`` holds a finished training of ``config``."""
    needed = (MODEL_FILE, TORCHSCRIPT_FILE, PREPROCESSING_FILE, BATCH_FILE)
    if not all((outdir / n).exists() for n in needed):
        return False
    try:
        payload = read_model_file(outdir / MODEL_FILE)
    except ModelFileError as err:
        logger.warning("%s; training again", err)
        return False
    stored = payload.get("metadata", {}).get("config", {})
    return _result_args(stored) == _result_args(normalise(config))


def best_weights(checkpoint: Path, prefix: str = "model.") -> dict[str, torch.Tensor]:
    """The network's weights in a Lightning checkpoint."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def write_batch(
    path: Path, x: torch.Tensor, y: torch.Tensor, config: PreprocessingConfig
) -> None:
    """Write a whitened batch and its labels (``X``, ``y``) atomically."""
    with atomic_h5(path) as f:
        f.create_dataset("X", data=x.detach().cpu().numpy().astype("float32"))
        f.create_dataset("y", data=y.detach().cpu().numpy().astype("float32"))
        f.attrs["preprocessing"] = json.dumps(config.to_dict())
        f.attrs["ifos"] = list(config.ifos)
        f.attrs["sample_rate"] = config.sample_rate
        f.attrs["kernel_length"] = config.kernel_length


def write_outputs(
    outdir: Path,
    model: torch.nn.Module,
    architecture: str,
    kwargs: dict[str, Any],
    preprocessing: PreprocessingConfig,
    batch: tuple[torch.Tensor, torch.Tensor],
    config: dict[str, Any],
    metadata: dict[str, Any],
    validation: tuple[RecordSet, RecordSet] | None = None,
) -> Path:
    """Write the finished training's artifacts, ``model.pt`` last.

    Args:
        outdir: the training directory
        model: the selected network
        architecture: its registry name
        kwargs: its arguments
        preprocessing: its preprocessing
        batch: a whitened batch and its labels
        config: the resolved arguments of the run
        metadata: more to keep in ``model.pt`` (metrics, signal region, …)
        validation: the selected network's validation background events
            (``EventSet``) and signals (``SignalScoreSet``), or None

    Returns:
        the path of ``model.pt``
    """
    model = model.cpu().eval()
    if validation is not None:
        events, signals = validation
        events.write(outdir / VALIDATION_BACKGROUND_FILE)
        signals.write(outdir / VALIDATION_SIGNALS_FILE)
    preprocessing.save(outdir / PREPROCESSING_FILE)
    x, y = batch
    write_batch(outdir / BATCH_FILE, x, y, preprocessing)
    with warnings.catch_warnings():
        # torch 2.10 deprecates TorchScript, but it is still what libtorch
        # and Triton's pytorch backend load; GroupNorm's batch-size check is
        # a constant for any batch of more than one sample per channel
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        with torch.no_grad():
            traced = torch.jit.trace(model, x[:1].cpu())
        with atomic_path(outdir / TORCHSCRIPT_FILE) as tmp:
            torch.jit.save(traced, str(tmp))
    return save_model(
        outdir / MODEL_FILE,
        model,
        architecture,
        kwargs,
        preprocessing,
        {**metadata, "config": normalise(config)},
    )
