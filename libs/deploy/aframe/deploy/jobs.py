"""``map_jobs``: run one function over many independent jobs on Ray."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from tqdm.auto import tqdm

from aframe.deploy.cluster import init_ray

logger = logging.getLogger(__name__)

R = TypeVar("R")

_MAX_KEY_CHARS = 200


class JobError(RuntimeError):
    """A job that raised; the message names the job and the cause.

    Attributes:
        job: the failing job's keyword arguments
        cause: the exception the job raised
    """

    def __init__(self, message: str, job: Mapping[str, Any], cause: BaseException):
        super().__init__(message)
        self.job = dict(job)
        self.cause = cause


def _describe_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return np.array2string(value, separator=", ")
        return f"<array {value.shape}>"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return repr(value)
    if isinstance(value, list | tuple) and len(value) <= 4:
        return repr(value)
    return f"<{type(value).__name__}>"


def describe_job(job: Mapping[str, Any]) -> str:
    """A short, readable key of a job: its scalar arguments.

    Args:
        job: the job's keyword arguments

    Returns:
        e.g. ``"t0=1240579783, duration=4096, shift_index=3"``; arrays and
        other large values appear by shape or type only
    """
    text = ", ".join(f"{k}={_describe_value(v)}" for k, v in job.items())
    if len(text) > _MAX_KEY_CHARS:
        text = text[: _MAX_KEY_CHARS - 3] + "..."
    return text


def _call(fn: Callable[..., R], job: Mapping[str, Any]) -> R:
    # a plain module-level function, so Ray can ship any callable as `fn`
    return fn(**job)


def _failure(
    desc: str, job: Mapping[str, Any], cause: BaseException, key: Callable
) -> JobError:
    return JobError(
        f"{desc}: job ({key(job)}) failed: {type(cause).__name__}: {cause}",
        job,
        cause,
    )


def _map_local(
    fn: Callable[..., R], jobs: Sequence[Mapping[str, Any]], desc: str, key: Callable
) -> list[R]:
    results = []
    for job in tqdm(jobs, desc=desc, unit="job"):
        try:
            results.append(fn(**job))
        except Exception as err:
            raise _failure(desc, job, err, key) from err
    return results


def map_jobs(
    fn: Callable[..., R],
    jobs: Sequence[Mapping[str, Any]],
    address: str | None = None,
    num_workers: int | None = None,
    desc: str = "jobs",
    local: bool = False,
    cpus_per_job: float = 1.0,
    key: Callable[[Mapping[str, Any]], str] | None = None,
) -> list[R]:
    """Run ``fn(**job)`` for every job, as Ray tasks, results in job order.

    Jobs must be independent and deterministic given their arguments (derive
    random seeds from the job's key with ``job_seed``): then the results are
    identical whatever the number of workers, and in-process runs
    (``local=True`` or ``num_workers == 1``) give the same results as Ray.
    A tqdm bar advances as jobs finish. The first failing job stops the map:
    jobs still running are cancelled and a ``JobError`` naming the failed
    job is raised.

    Args:
        fn: the job function; it and its arguments must be picklable, and
            ``fn`` importable by the workers (a module-level function)
        jobs: one dict of keyword arguments per job
        address: Ray cluster to use (see ``init_ray``); None starts a local
            cluster unless Ray is already initialised in this process
        num_workers: most jobs running at once (default: the cluster's CPUs
            divided by ``cpus_per_job``); also the size of a local cluster
        desc: label of the progress bar and of error messages
        local: run the jobs one by one in this process, without Ray
        cpus_per_job: CPUs Ray reserves for each job
        key: job → short description for messages (default ``describe_job``)

    Returns:
        ``[fn(**job) for job in jobs]``

    Raises:
        JobError: the first job that failed, with its key and cause
    """
    jobs = list(jobs)
    key = key or describe_job
    if num_workers is not None and num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, got {num_workers}")
    if not jobs:
        return []
    if local or num_workers == 1:
        return _map_local(fn, jobs, desc, key)

    import ray

    local_cpus = None
    if num_workers is not None:
        local_cpus = max(1, int(np.ceil(num_workers * cpus_per_job)))
    init_ray(address, num_cpus=local_cpus)
    if num_workers is None:
        cluster_cpus = ray.cluster_resources().get("CPU", 1.0)
        num_workers = max(1, int(cluster_cpus // cpus_per_job))

    task = ray.remote(_call).options(num_cpus=cpus_per_job, max_retries=0)
    fn_ref = ray.put(fn)
    results: list[Any] = [None] * len(jobs)
    pending: dict[Any, int] = {}
    next_job = 0
    with tqdm(total=len(jobs), desc=desc, unit="job") as bar:
        try:
            while next_job < len(jobs) or pending:
                while next_job < len(jobs) and len(pending) < num_workers:
                    pending[task.remote(fn_ref, jobs[next_job])] = next_job
                    next_job += 1
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    index = pending.pop(ref)
                    try:
                        results[index] = ray.get(ref)
                    except ray.exceptions.RayTaskError as err:
                        cause = getattr(err, "cause", None) or err
                        raise _failure(desc, jobs[index], cause, key) from cause
                    bar.update(1)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    return results
