"""Two small exported networks for the search's tests (no training, no export step).

A fresh, untrained ``ResNet1D`` and ``EndPower`` (``aframe.search.testing``),
each written as a model repository with a batch size of 16.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from aframe.architectures import PreprocessingConfig, ResNet1D
from aframe.search import testing
from aframe.search.repository import ExportedModel

ISR = 4.0
BATCH_SIZE = 16


@pytest.fixture(scope="session")
def config() -> PreprocessingConfig:
    return testing.preprocessing_config()


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """Constants and builders for tests (which cannot import this conftest)."""
    return SimpleNamespace(
        SIGMA=testing.SIGMA,
        ISR=ISR,
        BATCH_SIZE=BATCH_SIZE,
        make_injections=testing.make_injections,
    )


@pytest.fixture(scope="session")
def resnet(config):
    torch.manual_seed(0)
    return ResNet1D(len(config.ifos), layers=(1, 1), widths=(8, 16)).eval()


@pytest.fixture(scope="session")
def resnet_model(tmp_path_factory, resnet, config) -> ExportedModel:
    repository = tmp_path_factory.mktemp("resnet") / "model_repo"
    return testing.write_onnx_model(resnet, config, repository, BATCH_SIZE)


@pytest.fixture(scope="session")
def endpower(config):
    return testing.EndPower(config.kernel_size, config.sample_rate).eval()


@pytest.fixture(scope="session")
def endpower_model(tmp_path_factory, endpower, config) -> ExportedModel:
    repository = tmp_path_factory.mktemp("endpower") / "model_repo"
    return testing.write_onnx_model(endpower, config, repository, BATCH_SIZE)
