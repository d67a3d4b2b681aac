from aframe.deploy import init_ray


def test_local_cluster_is_private_and_init_is_idempotent(ray_cluster):
    ray = ray_cluster
    init_ray(num_cpus=8)  # already running: nothing changes
    assert ray.is_initialized()
    assert ray.cluster_resources()["CPU"] == 2
    nodes = ray.nodes()
    assert [n["NodeManagerAddress"] for n in nodes] == ["127.0.0.1"]
