"""One local Ray cluster (2 CPUs) for the whole test session: starting Ray
takes ~10 s, so every test that needs it shares this one."""

import pytest

from aframe.deploy import init_ray, shutdown_ray


@pytest.fixture(scope="session")
def ray_cluster():
    import ray

    started = not ray.is_initialized()
    init_ray(num_cpus=2)
    yield ray
    if started:
        shutdown_ray()
