"""Checkpoints that are whole or absent: written beside their place, then renamed.

Lightning's own writer serializes to a temporary file elsewhere and copies it
into place, so a disk that fills during the copy leaves a truncated
``last.ckpt`` where the previous good one was, and a resumed run has to start
over. ``AtomicCheckpointIO`` serializes the checkpoint in memory, writes it
to a temporary file in the checkpoint's own directory (``aframe.utils.io
.atomic_path``) and renames it over the old one only when it is complete: a
full disk (an ``ArtifactError`` naming the file, one line) leaves the last
good checkpoint in place.

``last_checkpoint`` keeps ``last.ckpt`` current after every epoch; Lightning's
``save_last`` refreshes it only when the monitored checkpoint improves.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from aframe.utils.io import atomic_path

#: the checkpoint a resumed run starts from
LAST = "last"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint format, written atomically in place."""

    def save_checkpoint(
        self,
        checkpoint: dict[str, Any],
        path: str | Path,
        storage_options: Any | None = None,
    ) -> None:
        """Write ``checkpoint`` to ``path``, all or nothing.

        Raises:
            ArtifactError: the write failed (a full disk, no permission); the
                file at ``path`` is what it was before
        """
        if storage_options is not None:
            raise TypeError(
                f"{type(self).__name__} takes no storage_options, got "
                f"{storage_options!r}"
            )
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(buffer.getbuffer())
                f.flush()


def last_checkpoint(dirpath: Path) -> ModelCheckpoint:
    """A callback that saves ``dirpath/last.ckpt`` at the end of every epoch."""
    return ModelCheckpoint(
        dirpath=dirpath,
        filename=LAST,
        monitor=None,
        save_top_k=1,
        every_n_epochs=1,
        enable_version_counter=False,
    )
