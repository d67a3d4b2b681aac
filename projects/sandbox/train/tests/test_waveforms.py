import numpy as np
import torch

from train.inputs import load_waveforms
from train.waveforms import WaveformBank


def test_blocks_rotate_with_the_epoch(tmp_path, config, writers):
    path = writers["signals"](tmp_path / "signals.hdf5", 10)
    source = load_waveforms(path, config, num_valid=2)
    bank = WaveformBank(source, 0, 8, block_size=3, batches_per_epoch=4)
    assert bank.num_blocks == 3 and len(bank) == 8
    assert [bank.block_of(step) for step in (0, 3, 4, 8, 11, 12)] == [0, 0, 1, 2, 2, 0]
    assert [bank.rows(b) for b in range(3)] == [(0, 3), (3, 6), (6, 8)]
    everything = source.read(0, 10)
    for step, (first, stop) in ((0, (0, 3)), (5, (3, 6)), (9, (6, 8))):
        block = bank.get(step, torch.device("cpu"))
        np.testing.assert_array_equal(block.numpy(), everything[first:stop])
    # the last block never reaches the validation rows
    assert bank.get(9, torch.device("cpu")).shape[0] == 2


def test_in_memory_bank_holds_everything():
    data = np.random.default_rng(0).standard_normal((5, 2, 16)).astype(np.float32)
    bank = WaveformBank(data)
    assert bank.num_blocks == 1
    np.testing.assert_array_equal(bank.get(123, torch.device("cpu")).numpy(), data)
