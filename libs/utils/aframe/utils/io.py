"""Atomic artifacts: write to a temporary name, rename when complete.

A stage killed mid-write leaves only ``*.tmp-*`` files, which no reader takes as
an artifact, so the next run redoes that piece of work.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import h5py


logger = logging.getLogger(__name__)


class ArtifactError(RuntimeError):
    """An artifact that cannot be written or read."""


def ensure_writable_dir(path: str | Path, min_free_bytes: int = 0) -> Path:
    """Create ``path`` if needed and check that it can be written to.

    Args:
        path: the directory
        min_free_bytes: fail unless at least this much space is free there

    Returns:
        the directory as a Path
    """
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ArtifactError(
            f"{path}: cannot create directory ({err.strerror})"
        ) from err
    if not os.access(path, os.W_OK | os.X_OK):
        raise ArtifactError(f"{path}: directory is not writable")
    if min_free_bytes:
        free = shutil.disk_usage(path).free
        if free < min_free_bytes:
            raise ArtifactError(
                f"{path}: only {free / 2**20:.0f} MiB free, "
                f"{min_free_bytes / 2**20:.0f} MiB needed"
            )
    return path


def _umask() -> int:
    # os.umask can only be read by setting it; restored at once
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _raise_write_error(path: Path, err: OSError) -> None:
    if err.errno == errno.ENOSPC:
        raise ArtifactError(
            f"{path}: disk full while writing ({err.strerror})"
        ) from err
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        raise ArtifactError(f"{path}: not writable ({err.strerror})") from err
    raise ArtifactError(f"{path}: write failed ({err})") from err


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path in the same directory, renamed to ``path`` on success.

    Args:
        path: the final location of the artifact

    Yields:
        the temporary path to write to
    """
    path = Path(path).expanduser()
    ensure_writable_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    # mkstemp makes the file private (0600); an artifact gets the permissions
    # any new file would, so collaborators can read results
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as err:
        tmp_path.unlink(missing_ok=True)
        _raise_write_error(path, err)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_h5(path: str | Path, **kwargs) -> Iterator[h5py.File]:
    """Open an HDF5 file for writing that appears at ``path`` only when complete.

    Args:
        path: the final location of the file
        **kwargs: passed to ``h5py.File``

    Yields:
        the open file
    """
    import h5py  # deferred: tools that only need atomic paths start faster

    with atomic_path(path) as tmp:
        try:
            with h5py.File(tmp, "w", **kwargs) as f:
                yield f
        except OSError as err:
            _raise_write_error(Path(path), err)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """A temporary directory renamed to ``path`` when the block succeeds.

    An existing ``path`` is replaced only after the new one is complete.

    Args:
        path: the final directory

    Yields:
        the temporary directory to fill
    """
    path = Path(path).expanduser()
    ensure_writable_dir(path.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            # left by a run killed between the two renames below
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def open_h5(path: str | Path, mode: str = "r") -> h5py.File:
    """Open an HDF5 artifact, naming the file if it is missing or corrupt.

    Args:
        path: the file
        mode: h5py mode

    Returns:
        the open file
    """
    import h5py

    path = Path(path).expanduser()
    if not path.exists():
        raise ArtifactError(f"{path}: no such file")
    try:
        return h5py.File(path, mode)
    except OSError as err:
        raise ArtifactError(f"{path}: not a readable HDF5 file ({err})") from err


def checkpoint_problem(path: str | Path) -> str | None:
    """Why a torch checkpoint cannot be loaded, or None when it is whole.

    ``torch.save`` writes a zip archive with a CRC per record; a file cut
    short (a full disk, a killed copy) is not a readable archive or fails its
    CRCs. Reads the whole file, not the tensors' meaning.

    Args:
        path: the checkpoint

    Returns:
        a one-line description of the problem, or None
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except FileNotFoundError:
        return "no such file"
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return f"not a complete checkpoint ({err})"
    if bad is not None:
        return f"record {bad} is corrupt"
    return None


def resumable_checkpoint(path: str | Path) -> Path | None:
    """The checkpoint to resume from, or None when there is no whole one.

    A checkpoint that does not load (cut short by a full disk, say) is moved
    aside to ``NAME.corrupt-<unix time>`` with a warning, so training starts
    from scratch instead of failing on it every run.

    Args:
        path: e.g. ``training/checkpoints/last.ckpt``

    Returns:
        ``path`` when it loads, else None
    """
    path = Path(path)
    if not path.exists():
        return None
    problem = checkpoint_problem(path)
    if problem is None:
        return path
    aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    try:
        os.replace(path, aside)
        where = f"moved to {aside.name}"
    except OSError as err:
        where = f"could not move it aside: {err.strerror or err}"
    logger.warning("%s: %s; not resuming from it (%s)", path, problem, where)
    return None
