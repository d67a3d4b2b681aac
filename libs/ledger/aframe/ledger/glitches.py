"""``GlitchSet``: per-detector strain snippets around glitch triggers.

Each ifo has its own number of glitches, so the file holds one group per ifo
(``{ifo}/snippets`` (N_ifo, T) float64 raw strain and ``{ifo}/time``,
``snr``, ``frequency``, ``quality``) rather than the shared-length layout of
``RecordSet``. Root attrs: ``ledger_type``, ``ifos``, ``sample_rate`` (Hz),
``pad`` (seconds kept before and after the trigger), ``snr_threshold``,
``method`` (``omicron`` or ``qtransform``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import h5py
import numpy as np

from aframe.ledger.errors import LedgerError
from aframe.ledger.recordset import (
    LEDGER_TYPES,
    _create_dataset,
    _read_rows,
    attrs_equal,
    normalize_attr,
    open_ledger,
)
from aframe.utils.io import atomic_h5


class GlitchSet:
    """Glitch snippets and trigger properties for each detector.

    Args:
        glitches: ifo → {``snippets``: (N, T), ``time``: (N,) GPS of the
            trigger peak, ``snr``, ``frequency`` (Hz), ``quality``: (N,)}
        attrs: ``sample_rate``, ``pad`` ([before, after] seconds),
            ``snr_threshold``, ``method``; ``ifos`` is set from ``glitches``
        source: file name for error messages
    """

    fields: ClassVar[tuple[str, ...]] = ("time", "snr", "frequency", "quality")
    required_attrs: ClassVar[tuple[str, ...]] = (
        "sample_rate",
        "pad",
        "snr_threshold",
        "method",
    )

    def __init__(
        self,
        glitches: Mapping[str, Mapping[str, Any]],
        attrs: Mapping[str, Any],
        source: str | None = None,
    ):
        self.source = source or type(self).__name__
        self.glitches = {
            ifo: {k: np.asarray(v) for k, v in fields.items()}
            for ifo, fields in glitches.items()
        }
        self.attrs = {k: normalize_attr(v) for k, v in attrs.items()}
        self.attrs.pop("ledger_type", None)
        self.attrs["ifos"] = list(self.glitches)
        self.validate()

    def _error(self, message: str) -> LedgerError:
        return LedgerError(f"{self.source}: {message}")

    def validate(self) -> None:
        """Check fields, shapes and metadata; raise ``LedgerError`` if bad."""
        for name in self.required_attrs:
            if name not in self.attrs:
                raise self._error(f"attribute {name} missing (required by GlitchSet)")
        if not self.glitches:
            raise self._error("no ifos")
        for ifo, fields in self.glitches.items():
            for name in ("snippets", *self.fields):
                if name not in fields:
                    raise self._error(f"{ifo}/{name} missing (required by GlitchSet)")
            snippets = fields["snippets"]
            if snippets.ndim != 2 or snippets.dtype.kind != "f":
                raise self._error(
                    f"{ifo}/snippets has shape {snippets.shape} and dtype "
                    f"{snippets.dtype}, expected (glitches, samples) floats"
                )
            for name, value in fields.items():
                if value.dtype.kind not in "biuf" or value.ndim == 0:
                    raise self._error(
                        f"{ifo}/{name} has dtype {value.dtype}, expected numbers"
                    )
                if len(value) != len(snippets):
                    raise self._error(
                        f"{ifo}/{name} has {len(value)} records, "
                        f"expected {len(snippets)}"
                    )

    @property
    def ifos(self) -> list[str]:
        """Detector names."""
        return list(self.glitches)

    def __getitem__(self, ifo: str) -> dict[str, np.ndarray]:
        return self.glitches[ifo]

    def num_glitches(self, ifo: str) -> int:
        """Number of glitches of one detector."""
        return len(self.glitches[ifo]["snippets"])

    def __repr__(self) -> str:
        counts = ", ".join(f"{ifo}: {self.num_glitches(ifo)}" for ifo in self.ifos)
        return f"GlitchSet({counts})"

    def append(self, other: GlitchSet) -> None:
        """Add ``other``'s glitches in place; metadata must match."""
        for key in sorted(set(self.attrs) | set(other.attrs)):
            if not attrs_equal(self.attrs.get(key), other.attrs.get(key)):
                raise LedgerError(
                    f"{other.source}: attribute {key} differs "
                    f"({self.attrs.get(key)!r} vs {other.attrs.get(key)!r})"
                )
        for ifo in self.ifos:
            self.glitches[ifo] = {
                k: np.concatenate([v, other.glitches[ifo][k]])
                for k, v in self.glitches[ifo].items()
            }

    def write(self, path: str | Path) -> Path:
        """Write atomically to ``path``."""
        with atomic_h5(path) as f:
            f.attrs["ledger_type"] = type(self).__name__
            for key, value in self.attrs.items():
                f.attrs[key] = value
            for ifo, fields in self.glitches.items():
                group = f.create_group(ifo)
                for name, value in fields.items():
                    _create_dataset(group, name, value)
        return Path(path)

    @classmethod
    def read(
        cls,
        path: str | Path,
        start: float | None = None,
        end: float | None = None,
        ifos: Sequence[str] | None = None,
    ) -> GlitchSet:
        """Read a file written by ``write``.

        Args:
            path: the HDF5 file
            start: keep glitches with ``time >= start`` (GPS seconds)
            end: keep glitches with ``time < end`` (GPS seconds)
            ifos: detectors to load (default: all in the file)
        """
        f, name, _ = open_ledger(path, cls.__name__)
        try:
            with f:
                attrs = dict(f.attrs)
                stored = normalize_attr(f.attrs.get("ifos", []))
                glitches = {}
                for ifo in ifos or stored:
                    if ifo not in f or not isinstance(f[ifo], h5py.Group):
                        raise LedgerError(
                            f"{name}: group {ifo} missing (ifos {stored})"
                        )
                    group = f[ifo]
                    if "time" not in group:
                        raise LedgerError(
                            f"{name}: {ifo}/time missing (required by GlitchSet)"
                        )
                    t = group["time"][()]
                    mask = np.ones(len(t), bool)
                    if start is not None:
                        mask &= t >= start
                    if end is not None:
                        mask &= t < end
                    rows = None if mask.all() else np.flatnonzero(mask)
                    glitches[ifo] = {k: _read_rows(v, rows) for k, v in group.items()}
        except OSError as err:
            raise LedgerError(f"{name}: unreadable HDF5 content ({err})") from err
        attrs.pop("ifos", None)
        return cls(glitches, attrs, source=name)

    @classmethod
    def check_file(cls, path: str | Path, values: bool = False) -> None:
        """Check that ``path`` is a readable, consistent glitch file.

        Glitch files are small, so the check reads and validates them whole.

        Args:
            path: the HDF5 file
            values: accepted for the ledger's common interface; the snippets
                are always read

        Raises:
            LedgerError: a missing, foreign or malformed file, naming it
        """
        cls.read(path)


LEDGER_TYPES[GlitchSet.__name__] = GlitchSet
