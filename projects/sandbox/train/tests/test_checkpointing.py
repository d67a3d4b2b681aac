"""Checkpoints written whole or not at all, and ``last.ckpt`` after every epoch."""

import errno

import lightning.pytorch as pl
import pytest
import torch

from aframe.utils.io import ArtifactError
from train.checkpointing import AtomicCheckpointIO, last_checkpoint


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def train_dataloader(self):
        data = torch.utils.data.TensorDataset(torch.randn(8, 2))
        return torch.utils.data.DataLoader(data, batch_size=4)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_last_checkpoint_holds_the_last_epoch(tmp_path):
    trainer = pl.Trainer(
        max_epochs=3,
        callbacks=[last_checkpoint(tmp_path)],
        plugins=[AtomicCheckpointIO()],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(Tiny())
    state = torch.load(tmp_path / "last.ckpt", weights_only=False)
    assert state["epoch"] == 2 and state["global_step"] == 6
    # no temporary file is left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    writer = AtomicCheckpointIO()
    writer.save_checkpoint({"epoch": 1, "w": torch.ones(1000)}, path)
    before = path.read_bytes()

    real_open = open

    def full_disk(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if "w" in mode and ".last.ckpt.tmp-" in str(file):

            class Full:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    handle.close()

                def write(self, data):
                    handle.write(bytes(data)[:100])
                    raise OSError(errno.ENOSPC, "No space left on device")

                def flush(self):
                    pass

            return Full()
        return handle

    monkeypatch.setattr("builtins.open", full_disk)
    with pytest.raises(ArtifactError, match="last.ckpt: disk full while writing"):
        writer.save_checkpoint({"epoch": 2, "w": torch.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert torch.load(path, weights_only=False)["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]
