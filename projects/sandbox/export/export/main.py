"""export-model: write the trained network as a Triton model repository.

Reads ``BASE_DIR/training`` (``model.pt``, ``preprocessing.json``,
``batch.hdf5``) and writes ``BASE_DIR/model_repo`` through
``export.exporter.export_network``: ONNX always, a TensorRT plan where
tensorrt and CUDA are available, the preprocessing and metadata beside the
network, and an export report with the ONNX-vs-torch check.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from aframe.architectures import MODEL_FILE, PREPROCESSING_FILE, load_model
from aframe.search.repository import MODEL_NAME, sha256
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError
from export.exporter import ExportError, export_network
from export.verify import read_saved_batch

logger = logging.getLogger(__name__)

BATCH_FILE = "batch.hdf5"


def _check_training_dir(training_dir: Path) -> None:
    if not training_dir.is_dir():
        raise ExportError(
            f"{training_dir}: no such training directory (run train first)"
        )
    for name in (MODEL_FILE, PREPROCESSING_FILE, BATCH_FILE):
        if not (training_dir / name).is_file():
            raise ExportError(f"{training_dir}: {name} missing (written by train)")


def export_model(
    basedir: Path,
    inference_batch_size: int = 128,
    training_dir: Path | None = None,
    repository_dir: Path | None = None,
    model_name: str = MODEL_NAME,
    clean: bool = False,
    tensorrt: Literal["auto", "never"] = "auto",
    fp16: bool = False,
    instances: int | None = None,
    tolerance: float = 1e-4,
    opset: int = 17,
) -> Path:
    """Export the trained network to a Triton model repository.

    The network goes in as model ``model_name`` (ONNX) with a fixed input
    ``whitened`` of shape ``(inference_batch_size, n_ifo, kernel_size)`` and
    output ``discriminator`` of shape ``(inference_batch_size, 1)`` (the
    logit), plus ``model_name-trt`` (TensorRT plan) where tensorrt imports
    and CUDA is available. Each export adds version max + 1 (one identical
    to the latest version, ONNX and preprocessing, reuses it) with the training
    ``preprocessing.json`` and ``metadata.json`` beside the network and an
    ``export-report.json`` holding the largest |onnx - torch| on the batch
    training saved; above ``tolerance`` the export fails and keeps nothing.

    Args:
        basedir: the experiment's directory (BASE_DIR/profile)
        inference_batch_size: kernels per network call, fixed in the exported
            shapes (infer sends batches of this size)
        training_dir: where train wrote the model (default basedir/training)
        repository_dir: the model repository (default basedir/model_repo)
        model_name: the network's name in the repository
        clean: wipe the repository first (versions restart at 1)
        tensorrt: ``auto`` also builds a TensorRT plan when possible;
            ``never`` writes ONNX only
        fp16: build the TensorRT plan in half precision
        instances: Triton instances of each model (None: Triton's default)
        tolerance: largest acceptable |onnx - torch| on the saved batch
        opset: ONNX opset version

    Returns:
        the exported version's directory
    """
    basedir = Path(basedir).expanduser()
    training_dir = Path(training_dir or basedir / "training").expanduser()
    repository_dir = Path(repository_dir or basedir / "model_repo").expanduser()
    _check_training_dir(training_dir)
    try:
        model, _ = load_model(training_dir)
    except (ArtifactError, ValueError) as err:
        raise ExportError(
            f"{training_dir}: cannot load the trained model ({err})"
        ) from err
    batch = read_saved_batch(training_dir / BATCH_FILE)
    return export_network(
        model,
        training_dir / PREPROCESSING_FILE,
        batch,
        repository_dir,
        batch_size=inference_batch_size,
        model_name=model_name,
        clean=clean,
        tensorrt=tensorrt,
        fp16=fp16,
        instances=instances,
        tolerance=tolerance,
        opset=opset,
        sources={
            "training_dir": str(training_dir.resolve()),
            "weights_sha256": sha256(training_dir / MODEL_FILE),
            "batch": str((training_dir / BATCH_FILE).resolve()),
        },
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``export-model``."""
    cli(
        export_model,
        args=argv,
        script="export-model",
        expected_errors=(ArtifactError, ValueError),
    )


if __name__ == "__main__":
    main()
