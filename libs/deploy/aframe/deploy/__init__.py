"""Fan-out of independent jobs on Ray (local cluster by default).

``map_jobs(fn, jobs)`` runs ``fn(**job)`` for every job as a Ray task and
returns the results in job order; ``job_seed(seed, *key)`` derives each job's
random seed from its key, so results never depend on how many workers ran
them or in which order they finished.
"""

from aframe.deploy.cluster import init_ray, shutdown_ray
from aframe.deploy.jobs import JobError, describe_job, map_jobs
from aframe.utils.seeds import job_seed

__all__ = [
    "JobError",
    "describe_job",
    "init_ray",
    "job_seed",
    "map_jobs",
    "shutdown_ray",
]
