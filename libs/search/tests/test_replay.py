"""Replaying a stretch of a job's stream gives the job's events there."""

import numpy as np
import pytest

from aframe.architectures import Preprocessor
from aframe.search.backends import make_backend
from aframe.search.postprocess import find_events
from aframe.search.replay import ReplayError, replay
from aframe.search.stream import StreamGeometry, run_streams

INTEGRATION, CLUSTER = 0.5, 4.0


@pytest.fixture(scope="module")
def job(config, kit, endpower_model):
    """A 'job' over 60 s of noise with loud injections, streamed from its start."""
    rng = np.random.default_rng(3)
    fs = config.sample_rate
    data = kit.SIGMA * rng.standard_normal((2, int(60 * fs)))
    t0 = 1_000_000_000.0
    injections = kit.make_injections(
        np.array([t0 + 20.3, t0 + 41.7]), np.zeros((2, 2)), snr=30.0, seed=1
    )
    preprocessor = Preprocessor(config)
    backend = make_backend("local", endpower_model)
    streams = run_streams(
        lambda a, b: data[:, a:b],
        data.shape[1],
        t0,
        preprocessor,
        backend,
        kit.ISR,
        injections=injections,
    )
    t_first = StreamGeometry.of(preprocessor, kit.ISR).kernel_end(t0)
    events = {
        name: find_events(y, t_first, kit.ISR, INTEGRATION, CLUSTER)[:2]
        for name, y in streams.items()
    }
    return data, t0, injections, preprocessor, backend, events


def replay_job(job, kit, t_lo: float, t_hi: float, **options):
    """``replay`` over ``[t_lo, t_hi]`` of the job's stream."""
    data, t0, _, preprocessor, backend, _ = job
    return replay(
        lambda a, b: data[:, a:b],
        t0,
        data.shape[1],
        preprocessor,
        backend,
        kit.ISR,
        INTEGRATION,
        CLUSTER,
        t_lo,
        t_hi,
        **options,
    )


@pytest.mark.parametrize("stream", ["background", "foreground"])
def test_replay_finds_the_jobs_events(job, kit, stream):
    _, _, injections, _, _, events = job
    stats, times = events[stream]
    assert len(stats) > 5
    for k in (0, len(stats) // 2, int(np.argmax(stats)), len(stats) - 1):
        result = replay_job(
            job,
            kit,
            times[k] - 3.0,
            times[k] + 3.0,
            injections=injections if stream == "foreground" else None,
            background=stream == "background",
        )
        got_stats, got_times = result.events[stream]
        i = int(np.argmin(np.abs(got_times - times[k])))
        assert got_times[i] == pytest.approx(times[k], abs=1e-5)
        tolerance = 16 * np.finfo(np.float32).eps * max(1.0, abs(stats[k]))
        assert abs(got_stats[i] - stats[k]) <= tolerance
        # the replayed kernels lie on the job's grid, and every event the job
        # has in the range is there
        j0, j1 = result.kernels
        assert result.kernel_times[0] == pytest.approx(result.t_first + j0 / kit.ISR)
        inside = (times >= times[k] - 3.0) & (times <= times[k] + 3.0)
        assert inside.sum() <= len(got_stats)


def test_a_range_outside_the_stream_is_an_error(job, kit):
    t0 = job[1]
    with pytest.raises(ReplayError, match="outside"):
        replay_job(job, kit, t0 + 500.0, t0 + 510.0)
