"""A tiny training directory, as train writes it, built without training."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from aframe.architectures import PreprocessingConfig, Preprocessor, ResNet1D, save_model

ARCH_KWARGS = {"layers": [1, 1], "widths": [8, 16]}


@pytest.fixture(scope="session")
def config() -> PreprocessingConfig:
    return PreprocessingConfig(
        sample_rate=512.0,
        kernel_length=1.0,
        fduration=0.5,
        psd_length=4.0,
        fftlength=1.0,
        highpass=32.0,
        ifos=("H1", "L1"),
    )


def write_training_dir(
    directory: Path, config: PreprocessingConfig, seed: int = 0
) -> Path:
    """model.pt, preprocessing.json and batch.hdf5 of an untrained ResNet1D."""
    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = ResNet1D(len(config.ifos), **ARCH_KWARGS)
    save_model(directory, model, "resnet", ARCH_KWARGS, config)
    config.save(directory / "preprocessing.json")
    rng = np.random.default_rng(seed)
    x = 1e-21 * rng.standard_normal((40, len(config.ifos), config.sample_size))
    with torch.no_grad():
        kernels = Preprocessor(config)(torch.from_numpy(x)).numpy()
    with h5py.File(directory / "batch.hdf5", "w") as f:
        f["X"] = kernels
        f["y"] = rng.integers(0, 2, (len(kernels), 1)).astype(np.float32)
    return directory


@pytest.fixture
def basedir(tmp_path, config) -> Path:
    """BASE_DIR with a fresh training/ directory."""
    write_training_dir(tmp_path / "training", config)
    return tmp_path
