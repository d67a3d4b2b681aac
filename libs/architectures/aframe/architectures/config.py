"""The preprocessing a model was trained with, defined once and saved beside it.

``PreprocessingConfig`` names every parameter that turns raw strain into the
whitened kernels a network sees. Training writes it to ``preprocessing.json``;
export and inference read it back instead of being told again, so the three
stages cannot disagree (the bug of reference §12.1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

from aframe.utils.io import atomic_path

PSD_AVERAGES = ("median", "mean")
_FLOAT_FIELDS = (
    "sample_rate",
    "kernel_length",
    "fduration",
    "psd_length",
    "fftlength",
    "highpass",
)


class PreprocessingConfigError(ValueError):
    """A preprocessing configuration that is inconsistent or unreadable."""


def _samples(seconds: float, sample_rate: float, name: str) -> int:
    value = seconds * sample_rate
    size = round(value)
    if not math.isclose(value, size, rel_tol=0, abs_tol=1e-6):
        raise PreprocessingConfigError(
            f"{name} = {seconds} s is not a whole number of samples at "
            f"sample_rate = {sample_rate} Hz"
        )
    return size


@dataclass(frozen=True)
class PreprocessingConfig:
    """Parameters of the PSD estimate and whitening applied before the network.

    Args:
        sample_rate: rate of the strain, in Hz
        kernel_length: length of the whitened kernel the network sees, in s
        fduration: length of the whitening filter's impulse response, in s;
            ``fduration / 2`` is cropped from each side of the whitened window
        psd_length: length of the strain immediately preceding each window
            from which its PSD is estimated, in s
        fftlength: length of each Welch segment (50 % overlap, Hann window), in s
        highpass: the whitening filter removes frequencies below this, in Hz
            (None: no highpass)
        psd_average: how Welch segments are combined: ``median`` (with scipy's
            bias correction) or ``mean``
        ifos: the detectors, in the channel order of every tensor
    """

    sample_rate: float
    kernel_length: float
    fduration: float
    psd_length: float
    fftlength: float
    highpass: float | None = 32.0
    psd_average: Literal["median", "mean"] = "median"
    ifos: tuple[str, ...] = ("H1", "L1")

    def __post_init__(self) -> None:
        # JSON and typed CLIs hand lists over; keep the config hashable
        object.__setattr__(self, "ifos", tuple(self.ifos))
        for name in ("sample_rate", "kernel_length", "fduration", "psd_length"):
            if not getattr(self, name) > 0:
                raise PreprocessingConfigError(
                    f"{name} must be positive, got {getattr(self, name)}"
                )
        if not self.fftlength > 0:
            raise PreprocessingConfigError(
                f"fftlength must be positive, got {self.fftlength}"
            )
        if self.psd_average not in PSD_AVERAGES:
            raise PreprocessingConfigError(
                f"psd_average must be one of {PSD_AVERAGES}, got {self.psd_average!r}"
            )
        if not self.ifos:
            raise PreprocessingConfigError("ifos must name at least one detector")
        if len(set(self.ifos)) != len(self.ifos):
            raise PreprocessingConfigError(f"ifos repeat a detector: {self.ifos}")
        if self.fftlength > self.psd_length:
            raise PreprocessingConfigError(
                f"fftlength = {self.fftlength} s is longer than "
                f"psd_length = {self.psd_length} s"
            )
        nyquist = self.sample_rate / 2
        if self.highpass is not None and not 0 <= self.highpass < nyquist:
            raise PreprocessingConfigError(
                f"highpass = {self.highpass} Hz must lie in [0, {nyquist}) Hz"
            )
        # evaluate every size once so that a bad combination fails here
        fd = _samples(self.fduration, self.sample_rate, "fduration")
        if fd % 2 or fd < 2:
            raise PreprocessingConfigError(
                f"fduration = {self.fduration} s must span an even number "
                f"(≥ 2) of samples at {self.sample_rate} Hz"
            )
        _samples(self.kernel_length, self.sample_rate, "kernel_length")
        _samples(self.psd_length, self.sample_rate, "psd_length")
        if self.fft_size < 2:
            raise PreprocessingConfigError(
                f"fftlength = {self.fftlength} s spans fewer than 2 samples"
            )

    # ---- sizes in samples -------------------------------------------------
    @property
    def kernel_size(self) -> int:
        """Samples in the whitened kernel."""
        return _samples(self.kernel_length, self.sample_rate, "kernel_length")

    @property
    def window_length(self) -> float:
        """Seconds of raw strain whitened into one kernel (kernel + fduration)."""
        return self.kernel_length + self.fduration

    @property
    def window_size(self) -> int:
        """Samples of raw strain whitened into one kernel."""
        return self.kernel_size + self.pad_size * 2

    @property
    def pad_size(self) -> int:
        """Samples cropped from each side of a whitened window (fduration / 2)."""
        return _samples(self.fduration, self.sample_rate, "fduration") // 2

    @property
    def psd_size(self) -> int:
        """Samples of strain from which each window's PSD is estimated."""
        return _samples(self.psd_length, self.sample_rate, "psd_length")

    @property
    def sample_size(self) -> int:
        """Samples of one training sample: PSD segment followed by the window."""
        return self.psd_size + self.window_size

    @property
    def fft_size(self) -> int:
        """Samples per Welch segment."""
        return int(round(self.fftlength * self.sample_rate))

    @property
    def fft_stride(self) -> int:
        """Samples between Welch segments (50 % overlap, as scipy's default)."""
        return self.fft_size - self.fft_size // 2

    @property
    def num_freqs(self) -> int:
        """Frequency bins of the PSD (0 to Nyquist, 1 / fftlength apart)."""
        return self.fft_size // 2 + 1

    # ---- persistence --------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready values."""
        out = asdict(self)
        out["ifos"] = list(self.ifos)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "") -> PreprocessingConfig:
        """Build a config from a mapping, naming missing or unknown keys.

        Args:
            values: parameter name → value
            source: where the values came from, for error messages

        Returns:
            the config
        """
        where = f"{source}: " if source else ""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise PreprocessingConfigError(
                f"{where}unknown preprocessing field(s) {', '.join(unknown)}"
            )
        required = {
            "sample_rate",
            "kernel_length",
            "fduration",
            "psd_length",
            "fftlength",
        }
        missing = sorted(required - set(values))
        if missing:
            raise PreprocessingConfigError(
                f"{where}missing preprocessing field(s) {', '.join(missing)}"
            )
        try:
            return cls(**values)
        except PreprocessingConfigError as err:
            raise PreprocessingConfigError(f"{where}{err}") from err
        except TypeError as err:
            raise PreprocessingConfigError(f"{where}{err}") from err

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], source: str = ""
    ) -> PreprocessingConfig:
        """The preprocessing a pipeline's settings define (its typeo ``base``).

        Keys that name no preprocessing field are ignored; lengths and rates
        are read as floats.

        Args:
            settings: setting name → value
            source: where the settings came from, for error messages

        Returns:
            the config
        """
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in settings.items() if k in names}
        for name in _FLOAT_FIELDS:
            if values.get(name) is not None:
                values[name] = float(values[name])
        return cls.from_dict(values, source)

    def save(self, path: str | Path) -> None:
        """Write the config as JSON, atomically.

        Args:
            path: the file (conventionally ``preprocessing.json``)
        """
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> PreprocessingConfig:
        """Read a config written by ``save``.

        Args:
            path: the JSON file

        Returns:
            the config
        """
        path = Path(path).expanduser()
        if not path.exists():
            raise PreprocessingConfigError(f"{path}: no such file")
        try:
            values = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise PreprocessingConfigError(f"{path}: not valid JSON ({err})") from err
        if not isinstance(values, dict):
            raise PreprocessingConfigError(f"{path}: expected a JSON object")
        return cls.from_dict(values, source=str(path))
