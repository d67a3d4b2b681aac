"""Starting or joining the Ray cluster that runs aframe's jobs."""

from __future__ import annotations

import logging
import os

from aframe.utils.offline import disable_network_features, loopback_http_proxy

logger = logging.getLogger(__name__)

LOCAL_HOST = "127.0.0.1"


def init_ray(
    address: str | None = None,
    num_cpus: int | None = None,
    object_store_memory: int | None = None,
) -> None:
    """Start a local Ray cluster, or connect to an existing one; idempotent.

    A local cluster is bound to 127.0.0.1 with no dashboard, no usage
    reporting and no cloud-metadata probe (``aframe.utils.offline``). When
    Ray is already initialised in this process nothing changes (the running
    cluster keeps its size).

    Args:
        address: an existing cluster (``"auto"``, ``"host:port"`` or
            ``"ray://host:port"``); None starts a local one
        num_cpus: CPUs of a local cluster (default: all of this machine's);
            ignored when connecting to ``address``
        object_store_memory: bytes of shared memory for a local cluster's
            object store (default: Ray's choice)
    """
    disable_network_features()
    if not address:
        # Ray resolves 127.0.0.1 to the machine's routable address unless it
        # believes multi-node clusters are unsupported; this flag (read when
        # Ray is imported) keeps a local cluster on the loopback interface
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray

    if ray.is_initialized():
        return
    if address:
        logger.info("connecting to the Ray cluster at %s", address)
        ray.init(address=address, log_to_driver=False, configure_logging=False)
        return
    _keep_on_loopback()
    num_cpus = int(num_cpus or os.cpu_count() or 1)
    logger.info("starting a local Ray cluster with %d CPUs", num_cpus)
    # the cluster's processes inherit this environment: its dashboard's cloud
    # metadata probe goes to a closed local port (aframe.utils.offline)
    with loopback_http_proxy():
        ray.init(
            num_cpus=num_cpus,
            object_store_memory=object_store_memory,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            _node_ip_address=LOCAL_HOST,
        )


def _keep_on_loopback() -> None:
    # Ray may have been imported before the environment flag was set
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False


def shutdown_ray() -> None:
    """Disconnect from (and, if local, stop) the Ray cluster, if any."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
