import pytest
import torch

from train.curriculum import SnrSchedule


def test_minimum_decays_linearly_then_holds():
    schedule = SnrSchedule(12.0, 4.0, 100.0, decay_steps=100)
    assert schedule.minimum(0) == 12.0
    assert schedule.minimum(50) == pytest.approx(8.0)
    assert schedule.minimum(100) == 4.0
    assert schedule.minimum(10_000) == 4.0
    assert SnrSchedule(12.0, 4.0, 100.0, decay_steps=0).minimum(0) == 4.0


@pytest.mark.parametrize("step", [0, 25, 50, 75, 100, 500])
def test_sample_mean_is_the_power_law_mean_at_every_step(step):
    schedule = SnrSchedule(12.0, 4.0, 100.0, decay_steps=100, index=-3.0)
    torch.manual_seed(step)
    samples = schedule.sample(200_000, step)
    low = schedule.minimum(step)
    assert samples.min() >= low - 1e-4 and samples.max() <= 100.0 + 1e-3
    # analytic mean of p ∝ ρ^-3 on [a, b]: 2ab / (a + b)
    analytic = 2 * low * 100.0 / (low + 100.0)
    assert schedule.mean(step) == pytest.approx(analytic, rel=1e-9)
    assert float(samples.mean()) == pytest.approx(analytic, rel=0.01)


@pytest.mark.parametrize(
    "args", [(4.0, 12.0, 100.0, 10), (12.0, 4.0, 10.0, 10), (12.0, 4.0, 100.0, -1)]
)
def test_bad_schedules_raise(args):
    with pytest.raises(ValueError):
        SnrSchedule(*args)
