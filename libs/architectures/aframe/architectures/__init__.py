"""Networks and the one preprocessing module shared by train, export and infer.

- ``PreprocessingConfig``: sample_rate, kernel_length, fduration, psd_length,
  fftlength, highpass, psd_average, ifos; saved as ``preprocessing.json``.
- ``Preprocessor``: Welch PSD of the strain before each window and ml4gw
  whitening of the window; ``forward`` for training batches, ``stream`` for a
  contiguous stretch at an inference sampling rate.
- ``ResNet1D`` and ``build_model``/``save_model``/``load_model``.
"""

from aframe.architectures.config import PreprocessingConfig, PreprocessingConfigError
from aframe.architectures.models import (
    ARCHITECTURES,
    MODEL_FILE,
    PREPROCESSING_FILE,
    ModelFileError,
    build_model,
    load_model,
    read_model_file,
    save_model,
)
from aframe.architectures.preprocessor import Preprocessor
from aframe.architectures.resnet import ArchitectureError, ResNet1D

__all__ = [
    "ARCHITECTURES",
    "MODEL_FILE",
    "PREPROCESSING_FILE",
    "ArchitectureError",
    "ModelFileError",
    "PreprocessingConfig",
    "PreprocessingConfigError",
    "Preprocessor",
    "ResNet1D",
    "build_model",
    "load_model",
    "read_model_file",
    "save_model",
]
