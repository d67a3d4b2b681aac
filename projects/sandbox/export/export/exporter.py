"""Export a torch network and its preprocessing into a Triton model repository.

``export_network`` is the one export path: ``export-model`` calls it with the
trained network, benchmarks with networks they build. It writes the network
with hermes.quiver; the layout and the files that complete a version are the
repository contract of ``aframe.search.repository``.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from hermes.quiver import ModelRepository, Platform

from aframe.architectures import PreprocessingConfig
from aframe.search.repository import (
    INPUT_NAME,
    METADATA_FILE,
    MODEL_NAME,
    ONNX_FILE,
    OUTPUT_NAME,
    PREPROCESSING_FILE,
    TENSORRT_SUFFIX,
    RepositoryError,
    is_complete,
    mark_complete,
    sha256,
    version_dirs,
    version_metadata,
    write_version_files,
)
from aframe.utils.io import ArtifactError
from export.verify import VerificationError, max_abs_difference

logger = logging.getLogger(__name__)


class ExportError(ArtifactError):
    """Export cannot start or its result is wrong."""


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def tensorrt_available() -> bool:
    """Whether a TensorRT plan can be built here (tensorrt imports, CUDA present)."""
    if not torch.cuda.is_available():
        return False
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return False
    return True


def remove_incomplete(repository: Path) -> None:
    """Drop what a killed export left: versions without a report, bare models.

    Args:
        repository: the model repository's root
    """
    if not repository.is_dir():
        return
    for model_dir in sorted(repository.iterdir()):
        if not model_dir.is_dir() or model_dir.name.startswith("."):
            continue
        base = model_dir.name.removesuffix(TENSORRT_SUFFIX)
        for version, vdir in version_dirs(model_dir).items():
            # a plan is complete when the ONNX version it was built from is
            if not is_complete(repository / base / str(version)):
                logger.warning("removing incomplete export %s", vdir)
                shutil.rmtree(vdir)
        if not (model_dir / "config.pbtxt").exists():
            logger.warning(
                "removing %s: no config.pbtxt (incomplete export)", model_dir
            )
            shutil.rmtree(model_dir)


def _open_repository(repository_dir: Path, clean: bool) -> ModelRepository:
    if clean and repository_dir.exists():
        logger.info("cleaning %s", repository_dir)
        shutil.rmtree(repository_dir)
    if repository_dir.exists() and not repository_dir.is_dir():
        raise RepositoryError(f"{repository_dir}: exists and is not a directory")
    repository_dir.mkdir(parents=True, exist_ok=True)
    remove_incomplete(repository_dir)
    try:
        return ModelRepository(repository_dir)
    except ValueError as err:
        raise RepositoryError(
            f"{repository_dir}: not a model repository ({err})"
        ) from err


def export_network(
    model: torch.nn.Module,
    preprocessing_path: str | Path,
    batch: np.ndarray,
    repository_dir: str | Path,
    batch_size: int = 128,
    model_name: str = MODEL_NAME,
    clean: bool = False,
    tensorrt: Literal["auto", "never"] = "auto",
    fp16: bool = False,
    instances: int | None = None,
    tolerance: float = 1e-4,
    opset: int = 17,
    sources: dict[str, Any] | None = None,
) -> Path:
    """Export a network, verify it, and record how it was made.

    Writes model ``model_name`` (ONNX, input ``whitened`` of shape
    ``(batch_size, n_ifo, kernel_size)``, output ``discriminator`` of shape
    ``(batch_size, 1)``) as version max + 1 (unless it is byte for byte the
    latest complete version, ONNX and preprocessing: that version is reused,
    so an identical re-export changes nothing downstream), copies the
    preprocessing file
    beside it, writes ``metadata.json``, runs the ONNX network with
    onnxruntime on ``batch`` against torch, builds a TensorRT plan
    (``model_name-trt``, same version) when possible, and finally writes
    ``export-report.json`` with the maximum absolute difference. A difference
    above ``tolerance`` (or any failure) removes the new version and raises.

    Args:
        model: the network, (B, n_ifo, kernel_size) → (B, 1)
        preprocessing_path: its ``preprocessing.json``
        batch: whitened kernels to verify on, (N, n_ifo, kernel_size)
        repository_dir: the model repository
        batch_size: kernels per network call, fixed in the exported shapes
        model_name: the network's name in the repository
        clean: wipe the repository first (versions restart at 1)
        tensorrt: ``auto`` also builds a TensorRT plan when tensorrt imports
            and CUDA is available; ``never`` writes ONNX only
        fp16: build the TensorRT plan in half precision
        instances: Triton instances of each model (None: Triton's default)
        tolerance: largest acceptable |onnx - torch| on ``batch``
        opset: ONNX opset version
        sources: extra provenance for ``metadata.json`` (e.g. the training
            directory and the weights' hash)

    Returns:
        the new (or reused) version's directory
    """
    repository_dir = Path(repository_dir).expanduser()
    preprocessing_path = Path(preprocessing_path)
    preprocessing = PreprocessingConfig.load(preprocessing_path)
    if batch_size < 1:
        raise ExportError(f"batch_size must be positive, got {batch_size}")
    shape = (batch_size, len(preprocessing.ifos), preprocessing.kernel_size)
    if batch.ndim != 3 or batch.shape[1:] != shape[1:]:
        raise ExportError(
            f"verification batch has shape {batch.shape}, but {preprocessing_path} "
            f"gives kernels of shape {shape[1:]}"
        )
    model = model.eval().to("cpu")

    repo = _open_repository(repository_dir, clean)
    onnx_model = repo.models.get(model_name) or repo.add(model_name, Platform.ONNX)
    if onnx_model.platform != Platform.ONNX:
        raise RepositoryError(
            f"{repository_dir / model_name}: platform {onnx_model.platform.value}, "
            "expected onnxruntime_onnx (re-export with clean)"
        )
    if instances and not len(onnx_model.config.instance_group):
        onnx_model.config.add_instance_group(kind="auto", count=instances)
    version = max(onnx_model.versions, default=0) + 1
    vdir = repository_dir / model_name / str(version)
    logger.info("exporting %s version %d to %s", model_name, version, vdir)
    try:
        with warnings.catch_warnings():
            # hermes uses torch's TorchScript-based ONNX exporter (the dynamo
            # one needs onnxscript, not installed); its deprecation notices and
            # the tracer's notes on the fixed batch size are expected
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            onnx_model.export_version(
                model,
                version=version,
                input_shapes={INPUT_NAME: shape},
                output_names=[OUTPUT_NAME],
                opset_version=opset,
            )
    except ValueError as err:
        shutil.rmtree(vdir, ignore_errors=True)
        raise RepositoryError(
            f"{repository_dir / model_name}: cannot add version {version} ({err}); "
            "the existing config has other shapes: re-export with clean"
        ) from err

    try:
        diff = max_abs_difference(model, vdir / ONNX_FILE, batch, batch_size)
        if not diff <= tolerance:
            raise VerificationError(
                f"{vdir / ONNX_FILE}: ONNX and torch outputs differ by up to "
                f"{diff:.3g} on the saved batch (tolerance {tolerance:g})"
            )
        logger.info(
            "ONNX matches torch on %d kernels: max |diff| = %.3g", len(batch), diff
        )
        same = _identical_version(
            repository_dir / model_name, version, preprocessing_path
        )
        if same is not None:
            # re-exporting the same network must not change what infer uses
            shutil.rmtree(vdir, ignore_errors=True)
            logger.info(
                "the export is identical to %s (same ONNX, same preprocessing): "
                "reusing that version",
                same,
            )
            return same
        metadata = {
            **version_metadata(
                vdir / ONNX_FILE, preprocessing, model_name, version, batch_size
            ),
            "architecture": type(model).__name__,
            "num_parameters": int(sum(p.numel() for p in model.parameters())),
            "opset": opset,
            "versions": {
                "torch": torch.__version__,
                "onnxruntime": _version("onnxruntime"),
                "ml4gw-hermes": _version("ml4gw-hermes"),
                "python": sys.version.split()[0],
            },
            **(sources or {}),
        }
        write_version_files(vdir, preprocessing_path, metadata)

        plan = None
        if tensorrt == "auto" and tensorrt_available():
            plan = _export_tensorrt(
                repo, model, shape, model_name, version, fp16, instances
            )
        elif tensorrt == "auto":
            logger.info("no TensorRT plan: tensorrt does not import or no CUDA device")

        report = {
            "max_abs_diff": diff,
            "tolerance": tolerance,
            "num_kernels_checked": int(len(batch)),
            "onnx": str((vdir / ONNX_FILE).resolve()),
            "tensorrt_plan": str(plan) if plan else None,
            "passed": True,
        }
        # written last: its presence marks the version complete
        mark_complete(vdir, report)
    except BaseException:
        shutil.rmtree(vdir, ignore_errors=True)
        shutil.rmtree(
            repository_dir / f"{model_name}{TENSORRT_SUFFIX}" / str(version),
            ignore_errors=True,
        )
        raise
    logger.info(
        "exported %s version %d (max |onnx - torch| = %.3g)", model_name, version, diff
    )
    return vdir


def _identical_version(
    model_dir: Path, version: int, preprocessing_path: Path
) -> Path | None:
    """The latest complete earlier version with this ONNX and preprocessing."""
    new = model_dir / str(version)
    earlier = [v for v in version_dirs(model_dir) if v < version]
    for number in sorted(earlier, reverse=True):
        old = model_dir / str(number)
        if not is_complete(old):
            continue
        try:
            metadata = json.loads((old / METADATA_FILE).read_text())
            preprocessing = (old / PREPROCESSING_FILE).read_bytes()
        except (OSError, ValueError):
            return None
        if metadata.get("onnx_sha256") == sha256(new / ONNX_FILE) and (
            preprocessing == Path(preprocessing_path).read_bytes()
        ):
            return old
        return None  # only the latest complete version counts
    return None


def _export_tensorrt(
    repo: ModelRepository,
    model: torch.nn.Module,
    shape: tuple[int, int, int],
    model_name: str,
    version: int,
    fp16: bool,
    instances: int | None,
) -> Path:
    name = f"{model_name}{TENSORRT_SUFFIX}"
    trt = repo.models.get(name) or repo.add(name, Platform.TENSORRT)
    if not len(trt.config.instance_group):
        trt.config.add_instance_group(kind="gpu", count=instances or 1)
    logger.info("building TensorRT plan %s version %d (fp16=%s)", name, version, fp16)
    # from the torch module: hermes builds an ONNX graph with the same shapes
    # and names, then converts it with TensorRT's ONNX parser
    path = trt.export_version(
        model,
        version=version,
        input_shapes={INPUT_NAME: shape},
        output_names=[OUTPUT_NAME],
        use_fp16=fp16,
    )
    return Path(repo.fs.root) / path
