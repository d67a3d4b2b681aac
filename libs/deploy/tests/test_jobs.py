import sys

import numpy as np
import pytest
import ray.cloudpickle

from aframe.deploy import JobError, describe_job, job_seed, map_jobs

# the workers cannot import a test module: ship its functions by value
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def noisy_sum(seed: int, segment: int, shift: int, size: int) -> np.ndarray:
    rng = np.random.default_rng(job_seed(seed, segment, shift))
    return rng.normal(size=size) + segment


def fail_on_shift(segment: int, shift: int) -> int:
    if shift == 2:
        raise ValueError(f"shift {shift} is bad")
    return segment * 10 + shift


JOBS = [
    {"seed": 7, "segment": s, "shift": k, "size": 5} for s in range(3) for k in range(4)
]


def test_in_process_results_in_job_order():
    results = map_jobs(noisy_sum, JOBS, local=True)
    assert len(results) == len(JOBS)
    for job, result in zip(JOBS, results):
        expected = np.random.default_rng(job_seed(7, job["segment"], job["shift"]))
        np.testing.assert_array_equal(result, expected.normal(size=5) + job["segment"])


def test_same_results_with_one_and_two_workers(ray_cluster):
    one = map_jobs(noisy_sum, JOBS, num_workers=1)
    two = map_jobs(noisy_sum, JOBS, num_workers=2, desc="two workers")
    every_cpu = map_jobs(noisy_sum, JOBS)
    for a, b, c in zip(one, two, every_cpu):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("workers", [1, 2])
def test_failure_names_the_job(ray_cluster, workers):
    jobs = [{"segment": 4, "shift": k} for k in range(4)]
    with pytest.raises(
        JobError, match=r"segment=4, shift=2.*ValueError: shift 2 is bad"
    ) as err:
        map_jobs(fail_on_shift, jobs, num_workers=workers, desc="timeslides")
    assert str(err.value).startswith("timeslides: job")
    assert err.value.job == {"segment": 4, "shift": 2}
    assert isinstance(err.value.cause, ValueError)


def test_no_jobs_and_bad_worker_count():
    assert map_jobs(noisy_sum, []) == []
    with pytest.raises(ValueError, match="num_workers"):
        map_jobs(noisy_sum, JOBS, num_workers=0)


def test_describe_job_abbreviates_large_values():
    text = describe_job(
        {"t0": 1240579783.0, "psd": np.ones((2, 8193)), "shift": np.array([0.0, 3.0])}
    )
    assert text == "t0=1240579783.0, psd=<array (2, 8193)>, shift=[0., 3.]"
