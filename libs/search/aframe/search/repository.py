"""The exported model repository: its layout, its reader and the files that
complete a version.

``export-model`` writes a Triton model repository (hermes.quiver) and
completes each version with ``write_version_files`` and ``mark_complete``::

    model_repo/
      aframe/                        the network, ONNX (onnxruntime_onnx)
        config.pbtxt                 explicit shapes: (batch_size, n_ifo, kernel_size)
        {version}/model.onnx
        {version}/preprocessing.json the training preprocessing, copied verbatim
        {version}/metadata.json      tensor names, batch size, ifos, sources
        {version}/export-report.json ONNX-vs-torch check; written last
      aframe-trt/                    the same network as a TensorRT plan (GPU
        config.pbtxt                 machines with tensorrt only)
        {version}/model.plan

A version directory is complete only once its ``export-report.json`` exists:
that file is written last and atomically, so a killed export never leaves a
version that ``read_exported_model`` accepts. Triton ignores the extra JSON files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aframe.architectures import PreprocessingConfig
from aframe.utils.io import ArtifactError, atomic_path

MODEL_NAME = "aframe"
"""name of the ONNX network in the repository"""
TENSORRT_SUFFIX = "-trt"
"""the TensorRT plan of model ``NAME`` is model ``NAME-trt``"""
ONNX_FILE = "model.onnx"
PREPROCESSING_FILE = "preprocessing.json"
METADATA_FILE = "metadata.json"
REPORT_FILE = "export-report.json"
INPUT_NAME = "whitened"
"""the network's input tensor: whitened kernels, (batch_size, n_ifo, kernel_size)"""
OUTPUT_NAME = "discriminator"
"""the network's output tensor: one logit per kernel, (batch_size, 1)"""
METADATA_FIELDS = ("input_name", "output_name", "batch_size", "num_ifos", "kernel_size")
"""the ``metadata.json`` fields every reader relies on"""


class RepositoryError(ArtifactError):
    """A model repository that is missing, incomplete or inconsistent."""


@dataclass(frozen=True)
class ExportedModel:
    """One complete exported version of the network.

    Attributes:
        repository: the model repository's root
        name: the model's name in the repository
        version: the version number
        onnx_path: the ONNX file
        preprocessing_path: the preprocessing JSON the network was trained with
        metadata: the version's ``metadata.json`` (``input_name``,
            ``output_name``, ``batch_size``, ``num_ifos``, ``kernel_size``,
            ``ifos``, ``sample_rate``, ...)
        report: the version's ``export-report.json`` (``max_abs_diff``, ...)
    """

    repository: Path
    name: str
    version: int
    onnx_path: Path
    preprocessing_path: Path
    metadata: dict[str, Any]
    report: dict[str, Any]

    @property
    def batch_size(self) -> int:
        """Kernels per network call (the exported, fixed batch size)."""
        return int(self.metadata["batch_size"])

    @property
    def input_name(self) -> str:
        """Name of the network's input tensor."""
        return str(self.metadata["input_name"])

    @property
    def output_name(self) -> str:
        """Name of the network's output tensor."""
        return str(self.metadata["output_name"])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(batch_size, num_ifos, kernel_size) of the network's input."""
        m = self.metadata
        return (int(m["batch_size"]), int(m["num_ifos"]), int(m["kernel_size"]))

    @property
    def ifos(self) -> list[str]:
        """The detectors the network was trained on, in input channel order."""
        return list(self.metadata["ifos"])

    @property
    def sample_rate(self) -> float:
        """Sample rate of the strain the network was trained on, in Hz."""
        return float(self.metadata["sample_rate"])

    @property
    def key(self) -> str:
        """A short identity of this model version (name, version, ONNX hash)."""
        digest = str(self.metadata.get("onnx_sha256", ""))[:12]
        return f"{self.name}-v{self.version}-{digest}"


def version_dirs(model_dir: Path) -> dict[int, Path]:
    """The numbered version directories of a model directory.

    Args:
        model_dir: ``repository/NAME``

    Returns:
        version → directory, complete or not
    """
    if not model_dir.is_dir():
        return {}
    return {
        int(p.name): p for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()
    }


def is_complete(version_dir: Path) -> bool:
    """Whether a version directory holds a finished, verified export."""
    return (version_dir / REPORT_FILE).is_file()


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def version_metadata(
    onnx_path: str | Path,
    preprocessing: PreprocessingConfig,
    name: str,
    version: int,
    batch_size: int,
) -> dict[str, Any]:
    """The contract fields of a version's ``metadata.json``.

    Args:
        onnx_path: the version's ONNX network (hashed into ``onnx_sha256``)
        preprocessing: the preprocessing the network was trained with
        name: the model's name in the repository
        version: the version number
        batch_size: kernels per network call, fixed in the exported shapes

    Returns:
        a JSON-ready mapping; a writer adds its own provenance to it
    """
    return {
        "onnx_sha256": sha256(onnx_path),
        "name": name,
        "version": int(version),
        "input_name": INPUT_NAME,
        "output_name": OUTPUT_NAME,
        "batch_size": int(batch_size),
        "num_ifos": len(preprocessing.ifos),
        "kernel_size": preprocessing.kernel_size,
        "ifos": list(preprocessing.ifos),
        "sample_rate": preprocessing.sample_rate,
        "output": "logit, one per kernel",
    }


def _write_json(path: Path, values: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")


def write_version_files(
    version_dir: Path, preprocessing_path: str | Path, metadata: dict[str, Any]
) -> None:
    """Put the preprocessing and ``metadata.json`` beside a version's network.

    Args:
        version_dir: ``repository/NAME/VERSION``, holding ``model.onnx``
        preprocessing_path: the ``preprocessing.json`` the network was trained
            with (copied verbatim)
        metadata: the version's metadata (``version_metadata`` and more)

    Raises:
        RepositoryError: a field every reader relies on is missing
    """
    missing = [key for key in METADATA_FIELDS if key not in metadata]
    if missing:
        raise RepositoryError(
            f"{version_dir / METADATA_FILE}: fields {missing} missing "
            f"(expected {list(METADATA_FIELDS)})"
        )
    shutil.copyfile(preprocessing_path, version_dir / PREPROCESSING_FILE)
    _write_json(version_dir / METADATA_FILE, metadata)


def mark_complete(version_dir: Path, report: dict[str, Any]) -> Path:
    """Write ``export-report.json``, last: from now on the version is complete.

    Args:
        version_dir: ``repository/NAME/VERSION``
        report: how the export was checked (``max_abs_diff``, ...)

    Returns:
        the report's path
    """
    path = version_dir / REPORT_FILE
    _write_json(path, report)
    return path


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError as err:
        raise RepositoryError(f"{path}: no such file") from err
    except (OSError, json.JSONDecodeError) as err:
        raise RepositoryError(f"{path}: not readable JSON ({err})") from err


def read_exported_model(
    repository: str | Path, name: str = MODEL_NAME, version: int | None = None
) -> ExportedModel:
    """Find an exported version of the network in a model repository.

    Args:
        repository: the repository's root (``BASE_DIR/model_repo``)
        name: the model's name in the repository
        version: the version to read; the latest complete one when None

    Returns:
        the exported model

    Raises:
        RepositoryError: the repository, the model or a complete version is
            missing, or a version's files are missing or unreadable
    """
    repository = Path(repository).expanduser()
    if not repository.is_dir():
        raise RepositoryError(
            f"{repository}: no such model repository (run export-model first)"
        )
    model_dir = repository / name
    versions = version_dirs(model_dir)
    complete = sorted(v for v, d in versions.items() if is_complete(d))
    if not complete:
        raise RepositoryError(
            f"{repository}: no complete export of model {name!r} "
            f"(found versions {sorted(versions) or 'none'}; run export-model)"
        )
    if version is None:
        version = complete[-1]
    elif version not in complete:
        raise RepositoryError(
            f"{model_dir}: version {version} is not a complete export "
            f"(complete versions: {complete})"
        )
    vdir = versions[version]
    onnx_path = vdir / ONNX_FILE
    preprocessing_path = vdir / PREPROCESSING_FILE
    for path in (onnx_path, preprocessing_path):
        if not path.is_file():
            raise RepositoryError(f"{path}: missing from version {version}")
    metadata = _read_json(vdir / METADATA_FILE)
    for key in METADATA_FIELDS:
        if key not in metadata:
            raise RepositoryError(f"{vdir / METADATA_FILE}: field {key!r} missing")
    return ExportedModel(
        repository=repository,
        name=name,
        version=version,
        onnx_path=onnx_path,
        preprocessing_path=preprocessing_path,
        metadata=metadata,
        report=_read_json(vdir / REPORT_FILE),
    )


def read_model_for_ifos(
    repository: str | Path,
    ifos: Sequence[str],
    name: str = MODEL_NAME,
    version: int | None = None,
    error: type[Exception] = ValueError,
) -> tuple[ExportedModel, PreprocessingConfig]:
    """An exported version and its preprocessing, checked against the ifos given.

    Args:
        repository: the repository's root (``BASE_DIR/model_repo``)
        ifos: the detectors asked for, in channel order
        name: the model's name in the repository
        version: version to use (default: the latest complete one)
        error: the exception raised when the ifos are not the model's

    Returns:
        ``(model, its preprocessing)``

    Raises:
        RepositoryError: as ``read_exported_model``
        error: the model was trained on other ifos, or in another order
    """
    model = read_exported_model(repository, name, version)
    config = PreprocessingConfig.load(model.preprocessing_path)
    if list(ifos) != list(config.ifos):
        raise error(
            f"ifos {list(ifos)} given, but the model in {repository} was trained "
            f"on {list(config.ifos)} ({model.preprocessing_path})"
        )
    return model, config
