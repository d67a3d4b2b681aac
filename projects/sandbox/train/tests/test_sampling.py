import numpy as np
import torch

from train.inputs import Glitches, Segment
from train.sampling import BackgroundSampler, GlitchSampler, TrainingBatches
from train.seeds import generator


def ramp_segments(sizes, num_ifos=2):
    """Segments whose strain is the sample's own global index (+ 1e6·ifo)."""
    out, offset = [], 0
    for size in sizes:
        strain = np.stack(
            [np.arange(offset, offset + size) + 1e6 * i for i in range(num_ifos)]
        ).astype(np.float32)
        out.append(Segment(0.0, strain, "test"))
        offset += size
    return out


def test_samples_stay_inside_one_segment_with_independent_offsets():
    sizes = [50, 30, 200]
    sampler = BackgroundSampler(ramp_segments(sizes), sample_size=20)
    assert sampler.num_positions == 31 + 11 + 181
    x, segment = sampler.sample(4000, generator(0, "test"))
    assert x.shape == (4000, 2, 20)
    assert segment.shape == (4000, 2) and segment.dtype == torch.int64
    # contiguous: each sample is a run of consecutive indices
    steps = x[..., 1:] - x[..., :-1]
    assert torch.all(steps == 1)
    start = x[..., 0] - torch.tensor([0.0, 1e6])
    ends = np.cumsum(sizes)
    for s, e in zip(np.r_[0, ends[:-1]], ends):
        inside = (start >= s) & (start < e)
        assert torch.all(start[inside] + 20 <= e)
    # the segment index names the segment each channel was cut from
    owner = torch.as_tensor(np.searchsorted(ends, start.numpy(), side="right"))
    torch.testing.assert_close(segment, owner)
    # files are chosen in proportion to their usable length
    fraction = float(((start >= 80) & (start < 280)).float().mean())
    assert abs(fraction - 181 / 223) < 0.03
    assert abs(float((segment == 2).float().mean()) - 181 / 223) < 0.03
    # the detectors are not time-coincident, nor tied to the same segment
    assert float((start[:, 0] == start[:, 1]).float().mean()) < 0.05
    assert float((segment[:, 0] != segment[:, 1]).float().mean()) > 0.2


def test_glitches_land_inside_the_kernel(config):
    c = config
    trigger = c.psd_size + c.pad_size + c.kernel_size + 10
    size = trigger + c.pad_size + c.kernel_size + 5
    # each snippet's strain is its sample index; the trigger sample is marked
    snippets = np.tile(np.arange(size, dtype=np.float32), (3, 1))
    glitches = Glitches([snippets, np.zeros((0, size), np.float32)], trigger)
    sampler = GlitchSampler(glitches, c, prob=0.5)
    x = torch.full((400, 2, c.sample_size), -1.0)
    chosen = sampler.apply(x, generator(0, "glitch"))
    assert not chosen[:, 1].any()  # no L1 glitches to use
    assert 0.4 < float(chosen[:, 0].float().mean()) < 0.6
    assert torch.all(x[~chosen[:, 0], 0] == -1)
    glitchy = x[chosen[:, 0], 0]
    where = (glitchy == trigger).float().argmax(dim=-1)
    assert torch.all(where >= c.psd_size + c.pad_size)
    assert torch.all(where < c.psd_size + c.pad_size + c.kernel_size)


def test_batches_depend_only_on_seed_epoch_and_index():
    sampler = BackgroundSampler(ramp_segments([500]), sample_size=20)
    epoch = {"value": 0}
    batches = TrainingBatches(sampler, None, 8, 3, seed=5, epoch=lambda: epoch["value"])
    first = list(batches)
    assert [int(b["index"]) for b in first] == [0, 1, 2]
    assert set(first[0]) == {"X", "segment", "index"}
    assert first[0]["segment"].shape == (8, 2)
    again = list(batches)
    for a, b in zip(first, again):
        torch.testing.assert_close(a["X"], b["X"])
        torch.testing.assert_close(a["segment"], b["segment"])
    epoch["value"] = 2
    later = list(batches)
    assert [int(b["index"]) for b in later] == [6, 7, 8]
    torch.testing.assert_close(later[0]["X"], batches.batch(6)["X"])
    assert not torch.equal(later[0]["X"], first[0]["X"])
    other_rank = TrainingBatches(sampler, None, 8, 3, 5, lambda: 0, rank=1)
    assert not torch.equal(other_rank.batch(0)["X"], first[0]["X"])
