"""``RecordSet``: typed columns of per-record parameters and waveforms in HDF5.

A record set is a table: every array in ``parameters`` and ``waveforms`` has one
row per record along its first axis, and ``attrs`` holds the metadata that
describes the whole set (sample rate, livetime ``Tb``, total draws ...).

On disk (one HDF5 file)::

    /parameters/{name}   (N, ...)   chunked along records, resizable
    /waveforms/{name}    (N, T)     chunked along records, resizable
    attrs                metadata, plus ``ledger_type`` (the class name)

Subclasses declare which fields and attributes they need; extra fields (for
instance the keys of a different prior) are carried along untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import h5py
import numpy as np
from tqdm.auto import tqdm

from aframe.ledger.errors import LedgerError
from aframe.utils.io import ArtifactError, atomic_h5, open_h5

logger = logging.getLogger(__name__)

#: registry of the ledger file types by their ``ledger_type`` name
#: (every ``RecordSet`` subclass, and ``GlitchSet``)
LEDGER_TYPES: dict[str, type] = {}

# two shifts closer than this (seconds) are the same shift
SHIFT_TOLERANCE = 1e-6

# target bytes per HDF5 chunk: large enough for fast streaming reads,
# small enough that reading one record does not pull in megabytes
_CHUNK_BYTES = 1 << 20


# ---------------------------------------------------------------- attributes
def normalize_attr(value: Any) -> Any:
    """Turn an HDF5 / numpy attribute value into a plain Python value.

    Args:
        value: a value as h5py or a caller hands it over

    Returns:
        str for strings and bytes, list for arrays and sequences, int/float/
        bool for numpy scalars; anything else unchanged
    """
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return normalize_attr(value[()])
        return [normalize_attr(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [normalize_attr(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _storable(value: Any) -> bool:
    """Whether an HDF5 attribute can hold ``value`` (after ``normalize_attr``)."""
    if isinstance(value, list):
        return all(_storable(v) and not isinstance(v, list) for v in value)
    return isinstance(value, str | int | float | bool)


def attrs_equal(a: Any, b: Any) -> bool:
    """Whether two normalised attribute values are the same metadata."""
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
            return False
        return all(attrs_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


def _chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    row = int(np.prod(shape[1:], dtype=np.int64)) * itemsize or itemsize
    rows = max(1, min(max(shape[0], 1), _CHUNK_BYTES // row))
    return (rows, *shape[1:])


def _create_dataset(group: h5py.Group, name: str, data: np.ndarray) -> h5py.Dataset:
    return group.create_dataset(
        name,
        data=data,
        maxshape=(None, *data.shape[1:]),
        chunks=_chunks(data.shape, data.dtype.itemsize),
    )


def _read_rows(dataset: h5py.Dataset, rows: np.ndarray | None) -> np.ndarray:
    """Read the selected records of ``dataset`` (all when ``rows`` is None)."""
    if rows is None:
        return dataset[()]
    if len(rows) == 0:
        return np.zeros((0, *dataset.shape[1:]), dtype=dataset.dtype)
    # a time filter on a time-sorted file selects one contiguous run, and a
    # shift filter a few: read those as slices rather than point selections
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    starts = np.concatenate([[0], breaks])
    if len(starts) <= 64:
        ends = np.concatenate([breaks, [len(rows)]])
        parts = [dataset[rows[s] : rows[e - 1] + 1] for s, e in zip(starts, ends)]
        return np.concatenate(parts, axis=0)
    return dataset[rows]


def shift_mask(field: np.ndarray, shifts: Any, source: str = "") -> np.ndarray:
    """Which records carry one of the given shifts.

    Args:
        field: the records' ``shift`` parameter, (N, n_ifo) seconds, or (N,)
        shifts: one shift vector (n_ifo,) or several (M, n_ifo), in seconds;
            for a 1-D ``field``, a scalar or a list of allowed values
        source: file or type name for error messages

    Returns:
        boolean mask (N,)
    """
    shifts = np.asarray(shifts, dtype=float)
    if field.ndim == 1:
        allowed = shifts.ravel()
        return np.any(
            np.abs(field[:, None] - allowed[None, :]) < SHIFT_TOLERANCE, axis=1
        )
    wanted = np.atleast_2d(shifts)
    if wanted.ndim != 2 or wanted.shape[1] != field.shape[1]:
        raise LedgerError(
            f"{source}: shifts of shape {shifts.shape} do not match "
            f"parameters/shift with {field.shape[1]} ifos"
        )
    diff = np.abs(field[:, None, :] - wanted[None, :, :])
    return np.any(np.all(diff < SHIFT_TOLERANCE, axis=2), axis=1)


# ---------------------------------------------------------------- the base type
class RecordSet:
    """Columns of per-record parameters and waveforms plus set-wide metadata.

    Subclasses declare their contract with class attributes; the constructor
    checks it and raises ``LedgerError`` naming the source and the field.

    A set either holds every waveform its type requires or none at all (a
    parameters-only view, e.g. read with ``waveforms=False``); writing a set
    requires all of them.

    Args:
        parameters: name → array with one row per record (first axis); 2-D
            fields such as ``shift`` (N, n_ifo) are allowed
        waveforms: name → (N, T) array
        attrs: set-wide metadata (str, numbers, bools or lists of them)
        source: where the data came from (file name), used in error messages
    """

    #: parameters every record must have
    required_parameters: ClassVar[tuple[str, ...]] = ()
    #: metadata every set must have
    required_attrs: ClassVar[tuple[str, ...]] = ()
    #: metadata that adds when sets are merged (all others must match)
    additive_attrs: ClassVar[tuple[str, ...]] = ()
    #: parameter used by the ``start``/``end`` filters of ``read``
    time_field: ClassVar[str | None] = None
    #: waveforms are cast to this dtype (None keeps the caller's float dtype)
    waveform_dtype: ClassVar[type | None] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LEDGER_TYPES[cls.__name__] = cls

    def __init__(
        self,
        parameters: Mapping[str, Any] | None = None,
        waveforms: Mapping[str, Any] | None = None,
        attrs: Mapping[str, Any] | None = None,
        source: str | None = None,
    ):
        self.source = source or type(self).__name__
        self.attrs: dict[str, Any] = {
            k: normalize_attr(v) for k, v in (attrs or {}).items()
        }
        self.attrs.pop("ledger_type", None)
        params = {k: np.asarray(v) for k, v in (parameters or {}).items()}
        if not params:
            # an empty set: the required columns with no rows, so that
            # appending real records to it works
            params = {
                name: self._empty_parameter(name)
                for name in self.all_required_parameters()
            }
        self.parameters: dict[str, np.ndarray] = params
        self.waveforms: dict[str, np.ndarray] = {}
        for name, value in (waveforms or {}).items():
            value = np.asarray(value)
            if self.waveform_dtype is not None and value.dtype.kind == "f":
                value = value.astype(self.waveform_dtype, copy=False)
            self.waveforms[name] = value
        self.validate()

    # -------------------------------------------------------- contract
    def required_waveforms(self) -> tuple[str, ...]:
        """Waveforms this set must hold (may depend on ``attrs``)."""
        return ()

    def all_required_parameters(self) -> tuple[str, ...]:
        """Parameters this set must hold: ``required_parameters`` plus any
        that depend on ``attrs`` (e.g. one SNR per ifo)."""
        return self.required_parameters

    def _empty_parameter(self, name: str) -> np.ndarray:
        if name == "shift" and isinstance(self.attrs.get("ifos"), list):
            return np.zeros((0, len(self.attrs["ifos"])))
        return np.zeros((0,))

    def _error(self, message: str) -> LedgerError:
        return LedgerError(f"{self.source}: {message}")

    def validate(self) -> None:
        """Check fields, lengths, dtypes and metadata against the type.

        Raises:
            LedgerError: naming the source and the first bad field
        """
        for name in self.required_attrs:
            if name not in self.attrs:
                raise self._error(
                    f"attribute {name} missing (required by {type(self).__name__})"
                )
        for name, value in self.attrs.items():
            if not _storable(value):
                raise self._error(
                    f"attribute {name} is {value!r}, expected a string, number, "
                    f"bool or a list of them"
                )
        if "ifos" in self.required_attrs:
            ifos = self.attrs["ifos"]
            if (
                not isinstance(ifos, list)
                or not ifos
                or not all(isinstance(i, str) for i in ifos)
            ):
                raise self._error(
                    f"attribute ifos is {ifos!r}, expected a list of names"
                )
        for name in self.all_required_parameters():
            if name not in self.parameters:
                raise self._error(
                    f"parameters/{name} missing (required by {type(self).__name__})"
                )
        if self.waveforms:
            for name in self.required_waveforms():
                if name not in self.waveforms:
                    raise self._error(
                        f"waveforms/{name} missing (required by {type(self).__name__})"
                    )

        n = None
        for kind, fields in (
            ("parameters", self.parameters),
            ("waveforms", self.waveforms),
        ):
            for name, value in fields.items():
                where = f"{kind}/{name}"
                if value.ndim == 0:
                    raise self._error(
                        f"{where} is a scalar, expected one row per record"
                    )
                if kind == "parameters" and value.dtype.kind not in "biuf":
                    raise self._error(
                        f"{where} has dtype {value.dtype}, expected numbers or bools"
                    )
                if kind == "waveforms":
                    if value.dtype.kind != "f":
                        raise self._error(
                            f"{where} has dtype {value.dtype}, expected floats"
                        )
                    _check_finite(value, where, self._error)
                    if value.ndim != 2:
                        raise self._error(
                            f"{where} has shape {value.shape}, "
                            "expected (records, samples)"
                        )
                if n is None:
                    n = len(value)
                elif len(value) != n:
                    raise self._error(f"{where} has {len(value)} records, expected {n}")

        lengths = {v.shape[1] for v in self.waveforms.values()}
        if len(lengths) > 1:
            raise self._error(f"waveforms have different lengths {sorted(lengths)}")
        shift = self.parameters.get("shift")
        ifos = self.attrs.get("ifos")
        if shift is not None and isinstance(ifos, list):
            if shift.ndim != 2 or shift.shape[1] != len(ifos):
                raise self._error(
                    f"parameters/shift has shape {shift.shape}, expected "
                    f"(records, {len(ifos)}) for ifos {', '.join(ifos)}"
                )

    # -------------------------------------------------------- container protocol
    def __len__(self) -> int:
        for value in (*self.parameters.values(), *self.waveforms.values()):
            return len(value)
        return 0

    def __getitem__(self, index: int | slice | np.ndarray | Sequence[int]) -> Self:
        """Select records: an int, a slice, a boolean mask or an index array.

        Returns:
            a set of the same type with the same ``attrs``
        """
        if isinstance(index, int | np.integer):
            i = int(index)
            n = len(self)
            if not -n <= i < n:
                raise IndexError(
                    f"{self.source}: record {i} out of range ({n} records)"
                )
            i %= n
            index = slice(i, i + 1)
        elif not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype == bool and index.shape != (len(self),):
                raise IndexError(
                    f"{self.source}: mask of shape {index.shape} "
                    f"for {len(self)} records"
                )
        return self._new(
            {k: v[index] for k, v in self.parameters.items()},
            {k: v[index] for k, v in self.waveforms.items()},
            dict(self.attrs),
        )

    def _new(self, parameters, waveforms, attrs) -> Self:
        return type(self)(parameters, waveforms, attrs, source=self.source)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({len(self)} records, "
            f"parameters={sorted(self.parameters)}, waveforms={sorted(self.waveforms)})"
        )

    @property
    def fields(self) -> list[str]:
        """``parameters/{name}`` and ``waveforms/{name}`` of every field."""
        return [f"parameters/{k}" for k in self.parameters] + [
            f"waveforms/{k}" for k in self.waveforms
        ]

    def sort_by(self, field: str, descending: bool = False) -> Self:
        """A copy sorted (stably) by a 1-D parameter.

        Args:
            field: parameter name
            descending: largest first

        Returns:
            the sorted set
        """
        if field not in self.parameters:
            raise self._error(f"cannot sort by parameters/{field}: no such field")
        values = self.parameters[field]
        if values.ndim != 1:
            raise self._error(
                f"cannot sort by parameters/{field} of shape {values.shape}"
            )
        order = np.argsort(-values if descending else values, kind="stable")
        return self[order]

    def get_shift(self, shift: Sequence[float] | np.ndarray) -> Self:
        """The records with one shift vector (or any of several).

        Args:
            shift: (n_ifo,) seconds, or (M, n_ifo) for several shifts

        Returns:
            the matching records
        """
        if "shift" not in self.parameters:
            raise self._error("has no parameters/shift")
        return self[shift_mask(self.parameters["shift"], shift, self.source)]

    def shifts(self) -> np.ndarray:
        """The distinct shift vectors of the records, (M, n_ifo) seconds, sorted."""
        if "shift" not in self.parameters:
            raise self._error("has no parameters/shift")
        shift = self.parameters["shift"]
        return np.unique(shift, axis=0) if len(shift) else shift

    # -------------------------------------------------------- merging
    @classmethod
    def merge_attrs(
        cls, a: Mapping[str, Any], b: Mapping[str, Any], source: str
    ) -> dict[str, Any]:
        """Metadata of two merged sets: additive attrs add, others must match.

        Args:
            a: metadata of the first set
            b: metadata of the second set
            source: name used in error messages (the second set's source)
        """
        merged = dict(a)
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                raise LedgerError(
                    f"{source}: attribute {key} present in only one of the sets "
                    f"being merged"
                )
            if key in cls.additive_attrs:
                merged[key] = a[key] + b[key]
            elif not attrs_equal(a[key], b[key]):
                raise LedgerError(
                    f"{source}: attribute {key} differs ({a[key]!r} vs {b[key]!r}); "
                    f"only {', '.join(cls.additive_attrs) or 'none'} may differ"
                )
        return merged

    def _check_same_fields(self, other: RecordSet) -> None:
        if type(other) is not type(self):
            raise LedgerError(
                f"{other.source}: cannot merge a {type(other).__name__} "
                f"into a {type(self).__name__}"
            )
        for kind in ("parameters", "waveforms"):
            mine, theirs = getattr(self, kind), getattr(other, kind)
            if set(mine) != set(theirs):
                diff = sorted(set(mine) ^ set(theirs))
                raise LedgerError(
                    f"{other.source}: {kind}/{diff[0]} present in only one of the "
                    f"sets being merged"
                )
            for name in mine:
                if mine[name].shape[1:] != theirs[name].shape[1:]:
                    raise LedgerError(
                        f"{other.source}: {kind}/{name} has record shape "
                        f"{theirs[name].shape[1:]}, expected {mine[name].shape[1:]}"
                    )

    def append(self, other: RecordSet) -> None:
        """Add the records of ``other`` to this set, in place.

        Additive attributes (``additive_attrs``, e.g. ``Tb``) add; all others
        must match. An empty set takes the fields of a non-empty one.

        Raises:
            LedgerError: naming the attribute or field that differs
        """
        if type(other) is not type(self):
            raise LedgerError(
                f"{other.source}: cannot merge a {type(other).__name__} "
                f"into a {type(self).__name__}"
            )
        attrs = self.merge_attrs(self.attrs, other.attrs, other.source)
        if len(other) == 0:
            self.attrs = attrs
            return
        if len(self) == 0:
            self.parameters = {k: v.copy() for k, v in other.parameters.items()}
            self.waveforms = {k: v.copy() for k, v in other.waveforms.items()}
            self.attrs = attrs
            return
        self._check_same_fields(other)
        self.parameters = {
            k: np.concatenate([v, other.parameters[k]])
            for k, v in self.parameters.items()
        }
        self.waveforms = {
            k: np.concatenate([v, other.waveforms[k]])
            for k, v in self.waveforms.items()
        }
        self.attrs = attrs

    @classmethod
    def concatenate(cls, sets: Iterable[RecordSet]) -> Self:
        """One set holding the records of all ``sets`` in order.

        Args:
            sets: at least one set of this type

        Returns:
            a new set (the inputs are not modified)
        """
        sets = list(sets)
        if not sets:
            raise LedgerError(f"{cls.__name__}: nothing to concatenate")
        for s in sets:
            if type(s) is not cls:
                raise LedgerError(
                    f"{s.source}: a {type(s).__name__}, expected {cls.__name__}"
                )
        attrs = dict(sets[0].attrs)
        for s in sets[1:]:
            attrs = cls.merge_attrs(attrs, s.attrs, s.source)
        full = [s for s in sets if len(s)] or sets[:1]
        for s in full[1:]:
            full[0]._check_same_fields(s)
        first = full[0]
        return cls(
            {
                k: np.concatenate([s.parameters[k] for s in full])
                for k in first.parameters
            },
            {
                k: np.concatenate([s.waveforms[k] for s in full])
                for k in first.waveforms
            },
            attrs,
            source=first.source,
        )

    # -------------------------------------------------------- I/O
    def _check_writable(self) -> None:
        missing = [w for w in self.required_waveforms() if w not in self.waveforms]
        if missing:
            raise self._error(
                f"cannot write a {type(self).__name__} without waveforms/{missing[0]} "
                f"(this set holds parameters only)"
            )

    def write(self, path: str | Path) -> Path:
        """Write the set atomically to ``path`` (HDF5).

        Args:
            path: output file; appears only once complete

        Returns:
            the path written
        """
        self._check_writable()
        path = Path(path)
        with atomic_h5(path) as f:
            self._write_into(f)
        logger.debug("wrote %d records to %s", len(self), path)
        return path

    def _write_into(self, f: h5py.File) -> None:
        f.attrs["ledger_type"] = type(self).__name__
        for key, value in self.attrs.items():
            f.attrs[key] = value
        for kind in ("parameters", "waveforms"):
            fields = getattr(self, kind)
            if not fields:
                continue
            group = f.create_group(kind)
            for name, value in fields.items():
                _create_dataset(group, name, value)

    @classmethod
    def _open(cls, path: str | Path) -> tuple[h5py.File, str]:
        f, name, _ = open_ledger(path, cls.__name__)
        return f, name

    @classmethod
    def _select(
        cls,
        f: h5py.File,
        name: str,
        start: float | None,
        end: float | None,
        shifts: Any,
    ) -> np.ndarray | None:
        params = f.get("parameters")
        mask = None
        if start is not None or end is not None:
            field = cls.time_field
            if field is None:
                raise LedgerError(
                    f"{name}: {cls.__name__} has no time field to filter on"
                )
            if params is None or field not in params:
                raise LedgerError(
                    f"{name}: parameters/{field} missing (needed for start/end)"
                )
            t = params[field][()]
            mask = np.ones(len(t), bool)
            if start is not None:
                mask &= t >= start
            if end is not None:
                mask &= t < end
        if shifts is not None:
            if params is None or "shift" not in params:
                raise LedgerError(
                    f"{name}: parameters/shift missing (needed for shifts)"
                )
            m = shift_mask(params["shift"][()], shifts, name)
            mask = m if mask is None else mask & m
        return None if mask is None else np.flatnonzero(mask)

    @classmethod
    def read(
        cls,
        path: str | Path,
        start: float | None = None,
        end: float | None = None,
        shifts: Sequence[float] | np.ndarray | None = None,
        waveforms: bool = True,
    ) -> Self:
        """Read a set written by ``write`` (or ``aggregate``).

        Args:
            path: the HDF5 file
            start: keep records with ``time_field >= start`` (GPS seconds)
            end: keep records with ``time_field < end`` (GPS seconds)
            shifts: keep records whose ``shift`` equals this vector (n_ifo,)
                or any row of (M, n_ifo), in seconds
            waveforms: also load the waveforms (False: parameters only)

        Returns:
            the set; its ``attrs`` are the file's (a filter does not change
            ``Tb`` or ``num_injections``)

        Raises:
            LedgerError: missing or corrupt file, wrong ``ledger_type``,
                missing fields or inconsistent lengths, naming the file
        """
        f, name = cls._open(path)
        try:
            with f:
                rows = cls._select(f, name, start, end, shifts)
                attrs = {k: v for k, v in f.attrs.items()}
                data = {}
                for kind in ("parameters", "waveforms"):
                    data[kind] = {}
                    if kind == "waveforms" and not waveforms:
                        continue
                    group = f.get(kind)
                    if group is None:
                        continue
                    if not isinstance(group, h5py.Group):
                        raise LedgerError(f"{name}: {kind} is not a group")
                    for field, dset in group.items():
                        if not isinstance(dset, h5py.Dataset):
                            raise LedgerError(
                                f"{name}: {kind}/{field} is not a dataset"
                            )
                        data[kind][field] = _read_rows(dset, rows)
        except OSError as err:
            raise LedgerError(f"{name}: unreadable HDF5 content ({err})") from err
        out = cls(data["parameters"], data["waveforms"], attrs, source=name)
        if waveforms:
            missing = [w for w in out.required_waveforms() if w not in out.waveforms]
            if missing:
                raise LedgerError(
                    f"{name}: waveforms/{missing[0]} missing "
                    f"(required by {cls.__name__})"
                )
        return out

    @classmethod
    def read_attrs(cls, path: str | Path) -> dict[str, Any]:
        """Only the metadata of a file (checks its ``ledger_type``)."""
        f, _ = cls._open(path)
        with f:
            attrs = {k: normalize_attr(v) for k, v in f.attrs.items()}
        attrs.pop("ledger_type", None)
        return attrs

    @classmethod
    def check_file(cls, path: str | Path, values: bool = False) -> None:
        """Check a file against the type, by default reading no data.

        Cheap enough to run on every artifact before a step is taken as
        done: the type, the required attrs, parameters and waveforms, and
        equal record counts, from the HDF5 metadata alone. With ``values``
        the waveforms are also read, a block of records at a time, and must
        be finite.

        Args:
            path: the HDF5 file
            values: also check that every waveform sample is finite

        Raises:
            LedgerError: naming the file and the first problem
        """
        f, name = cls._open(path)
        shapes: dict[str, dict[str, tuple[int, ...]]] = {}
        try:
            with f:
                if values and isinstance(f.get("waveforms"), h5py.Group):
                    for field, dset in f["waveforms"].items():
                        _check_dataset_finite(dset, f"waveforms/{field}", name)
                attrs = {k: normalize_attr(v) for k, v in f.attrs.items()}
                for kind in ("parameters", "waveforms"):
                    group = f.get(kind)
                    if group is None:
                        continue
                    if not isinstance(group, h5py.Group):
                        raise LedgerError(f"{name}: {kind} is not a group")
                    shapes[kind] = {}
                    for field, dset in group.items():
                        if not isinstance(dset, h5py.Dataset):
                            raise LedgerError(
                                f"{name}: {kind}/{field} is not a dataset"
                            )
                        shapes[kind][field] = dset.shape
        except OSError as err:
            raise LedgerError(f"{name}: unreadable HDF5 content ({err})") from err
        # an instance with the file's attrs knows what the file must hold
        probe = cls.__new__(cls)
        probe.attrs, probe.source = attrs, name
        for attr in cls.required_attrs:
            if attr not in attrs:
                raise LedgerError(
                    f"{name}: attribute {attr} missing (required by {cls.__name__})"
                )
        required = {
            "parameters": probe.all_required_parameters(),
            "waveforms": probe.required_waveforms(),
        }
        counts = {}
        for kind, fields in required.items():
            for field in fields:
                if field not in shapes.get(kind, {}):
                    raise LedgerError(
                        f"{name}: {kind}/{field} missing (required by {cls.__name__})"
                    )
        for kind, fields in shapes.items():
            for field, shape in fields.items():
                if not shape:
                    raise LedgerError(f"{name}: {kind}/{field} is a scalar")
                counts[f"{kind}/{field}"] = shape[0]
        if len(set(counts.values())) > 1:
            first = next(iter(counts))
            for where, n in counts.items():
                if n != counts[first]:
                    raise LedgerError(
                        f"{name}: {where} has {n} records, {first} has {counts[first]}"
                    )

    @classmethod
    def aggregate(
        cls,
        paths: Sequence[str | Path],
        output_path: str | Path,
        progress: bool = False,
    ) -> Path:
        """Stream many files of this type into one, atomically.

        Only one input file is in memory at a time. Metadata merge as in
        ``append``.

        Args:
            paths: input files, in the order their records are written
            output_path: the merged file
            progress: show a progress bar

        Returns:
            ``output_path``
        """
        paths = list(paths)
        if not paths:
            raise LedgerError(f"{Path(output_path).name}: no files to aggregate")
        with atomic_h5(output_path) as f:
            attrs: dict[str, Any] = {}
            written: RecordSet | None = None  # the piece whose fields f holds
            for path in tqdm(
                paths, desc=f"aggregate {cls.__name__}", disable=not progress
            ):
                piece = cls.read(path)
                piece._check_writable()
                if written is None:
                    attrs = dict(piece.attrs)
                    piece._write_into(f)
                    written = piece
                    continue
                attrs = cls.merge_attrs(attrs, piece.attrs, piece.source)
                if len(piece) == 0:
                    continue
                if len(written) == 0:
                    # empty files carry no field shapes worth keeping
                    for group in ("parameters", "waveforms"):
                        if group in f:
                            del f[group]
                    piece._write_into(f)
                    written = piece
                    continue
                written._check_same_fields(piece)
                for kind in ("parameters", "waveforms"):
                    for field, value in getattr(piece, kind).items():
                        dset = f[kind][field]
                        n = dset.shape[0]
                        dset.resize(n + len(value), axis=0)
                        dset[n:] = value
            for key in list(f.attrs):
                del f.attrs[key]
            f.attrs["ledger_type"] = cls.__name__
            for key, value in attrs.items():
                f.attrs[key] = value
        return Path(output_path)


def open_ledger(
    path: str | Path, expected: str | None = None
) -> tuple[h5py.File, str, str]:
    """Open a ledger file for reading and check its ``ledger_type``.

    Args:
        path: the HDF5 file
        expected: the type name it must have (None: any registered type)

    Returns:
        (open file, file name for messages, its ledger_type)

    Raises:
        LedgerError: missing, corrupt or foreign file, or another type
    """
    path = Path(path)
    name = path.name
    try:
        f = open_h5(path)
    except ArtifactError as err:
        raise LedgerError(str(err)) from err
    kind = normalize_attr(f.attrs.get("ledger_type"))
    wanted = expected or " or ".join(sorted(LEDGER_TYPES))
    if kind is None:
        f.close()
        raise LedgerError(
            f"{name}: no ledger_type attribute (not an aframe record set; "
            f"expected {wanted})"
        )
    if (expected is not None and kind != expected) or (
        expected is None and kind not in LEDGER_TYPES
    ):
        f.close()
        raise LedgerError(f"{name}: ledger_type is {kind}, expected {wanted}")
    return f, name, kind


def read_any(path: str | Path, **kwargs) -> Any:
    """Read a record set of whichever type its ``ledger_type`` names.

    Args:
        path: the HDF5 file
        **kwargs: passed to that type's ``read``
    """
    f, _, kind = open_ledger(path)
    f.close()
    return LEDGER_TYPES[kind].read(path, **kwargs)


def _check_finite(value: np.ndarray, where: str, error, offset: int = 0) -> None:
    finite = np.isfinite(value)
    if not finite.all():
        record = offset + int(np.argwhere(~finite)[0][0])
        raise error(
            f"{where} has a non-finite value in record {record} "
            "(waveforms must be finite)"
        )


def _check_dataset_finite(dset: h5py.Dataset, where: str, name: str) -> None:
    if dset.ndim == 0 or dset.dtype.kind != "f":
        return
    row_bytes = max(1, int(np.prod(dset.shape[1:])) * dset.dtype.itemsize)
    rows = max(1, (64 << 20) // row_bytes)  # 64 MiB at a time

    def error(message: str) -> LedgerError:
        return LedgerError(f"{name}: {message}")

    for start in range(0, dset.shape[0], rows):
        _check_finite(dset[start : start + rows], where, error, start)


def check_any(path: str | Path) -> str:
    """Check the structure of a record set of whichever type it names.

    Args:
        path: the HDF5 file

    Returns:
        its ``ledger_type``

    Raises:
        LedgerError: a missing, foreign or malformed file, naming it
    """
    f, _, kind = open_ledger(path)
    f.close()
    LEDGER_TYPES[kind].check_file(path)
    return kind
