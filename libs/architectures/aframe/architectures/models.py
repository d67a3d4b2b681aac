"""Build networks by name and save/load them with their preprocessing.

``model.pt`` (written by ``save_model``) is a ``torch.save`` dictionary:
``architecture`` (registry name), ``num_ifos``, ``kwargs`` (the architecture's
arguments), ``state_dict``, ``preprocessing`` (``PreprocessingConfig.to_dict()``)
and ``metadata`` (free-form: training arguments, metric values, versions).
Together with ``preprocessing.json`` beside it, ``load_model`` rebuilds exactly
the network and preprocessing a training produced.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from aframe.architectures.config import PreprocessingConfig, PreprocessingConfigError
from aframe.architectures.resnet import ArchitectureError, ResNet1D
from aframe.utils.io import ArtifactError, atomic_path

MODEL_FILE = "model.pt"
PREPROCESSING_FILE = "preprocessing.json"

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {"resnet": ResNet1D}


class ModelFileError(ArtifactError):
    """A model file that is missing, unreadable or inconsistent."""


def build_model(name: str, num_ifos: int, **kwargs: Any) -> nn.Module:
    """Instantiate a registered architecture.

    Args:
        name: registry name (``resnet``)
        num_ifos: detectors (input channels)
        **kwargs: the architecture's arguments

    Returns:
        the network, freshly initialised
    """
    if name not in ARCHITECTURES:
        raise ArchitectureError(
            f"unknown architecture {name!r} (known: {', '.join(ARCHITECTURES)})"
        )
    try:
        return ARCHITECTURES[name](num_ifos=num_ifos, **kwargs)
    except TypeError as err:
        raise ArchitectureError(f"architecture {name!r}: {err}") from err


def save_model(
    path: str | Path,
    model: nn.Module,
    name: str,
    kwargs: dict[str, Any],
    preprocessing: PreprocessingConfig,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``model.pt`` atomically.

    Args:
        path: the file, or a directory to hold ``model.pt``
        model: the network (its state dict is saved, moved to CPU)
        name: its registry name
        kwargs: the arguments it was built with (besides ``num_ifos``)
        preprocessing: the preprocessing it was trained with
        metadata: anything else worth keeping with it

    Returns:
        the file written
    """
    path = Path(path).expanduser()
    if path.is_dir() or path.suffix != ".pt":
        path = path / MODEL_FILE
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "architecture": name,
        "num_ifos": len(preprocessing.ifos),
        "kwargs": dict(kwargs),
        "state_dict": state,
        "preprocessing": preprocessing.to_dict(),
        "metadata": dict(metadata or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_model_file(path: str | Path) -> dict[str, Any]:
    """The dictionary of a ``model.pt``, checked for its fields.

    Args:
        path: the file, or the training directory holding it

    Returns:
        the saved dictionary
    """
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.exists():
        raise ModelFileError(f"{path}: no such file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds for a corrupt pickle
        raise ModelFileError(f"{path}: not a readable model file ({err})") from err
    if not isinstance(payload, dict):
        raise ModelFileError(
            f"{path}: expected a dictionary, got {type(payload).__name__}"
        )
    missing = [
        key
        for key in ("architecture", "num_ifos", "kwargs", "state_dict", "preprocessing")
        if key not in payload
    ]
    if missing:
        raise ModelFileError(f"{path}: missing field(s) {', '.join(missing)}")
    return payload


def load_model(training_dir: str | Path) -> tuple[nn.Module, PreprocessingConfig]:
    """Rebuild a trained network and its preprocessing.

    Args:
        training_dir: the training output directory (or its ``model.pt``);
            ``preprocessing.json`` beside the model, when present, must agree
            with the copy inside it

    Returns:
        the network in eval mode on the CPU, and its preprocessing
    """
    path = Path(training_dir).expanduser()
    directory = path if path.is_dir() else path.parent
    payload = read_model_file(path)
    model_file = directory / MODEL_FILE if path.is_dir() else path
    try:
        config = PreprocessingConfig.from_dict(
            payload["preprocessing"], str(model_file)
        )
    except PreprocessingConfigError as err:
        raise ModelFileError(str(err)) from err
    json_file = directory / PREPROCESSING_FILE
    if json_file.exists():
        saved = PreprocessingConfig.load(json_file)
        if saved != config:
            raise ModelFileError(
                f"{json_file}: disagrees with the preprocessing stored in "
                f"{model_file} ({saved} != {config})"
            )
    try:
        model = build_model(
            payload["architecture"], payload["num_ifos"], **payload["kwargs"]
        )
    except ArchitectureError as err:
        raise ModelFileError(f"{model_file}: {err}") from err
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as err:
        raise ModelFileError(
            f"{model_file}: weights do not fit the network ({err})"
        ) from err
    return model.eval(), config
