"""Keep aframe off the network unless a user asks for remote data.

What reached the network by default, and the switch that stops each (found
with ``strace -f -e trace=connect,sendto``):

- onnxruntime (1.32) starts a 1DS telemetry client when its library loads and
  about 9 s later resolves ``mobile.events.data.microsoft.com``;
  ``disable_telemetry_events()`` does not stop it, the environment variable
  ``ORT_DISABLE_TELEMETRY=1`` does, but only if it is set before the library
  loads: modules that import onnxruntime call ``disable_network_features``
  first, and the runner passes it to every step.
- Ray, even with ``include_dashboard=False`` and usage stats off, starts a
  dashboard process with its ``UsageStatsHead`` module, which probes cloud
  metadata (``169.254.169.254``, ``metadata.google.internal``) with
  ``requests``. A local cluster is therefore started with its HTTP proxied to
  a closed loopback port (``loopback_http_proxy``): the probe fails at once,
  on the machine. Ray's own traffic is gRPC on 127.0.0.1 and is unaffected.
- Ray's usage reporting: ``RAY_USAGE_STATS_ENABLED=0``.
- astropy's IERS table downloads: ``iers.conf.auto_download = False``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

#: variables that switch off what reaches the network, for this process and
#: every process it starts
OFFLINE_ENVIRONMENT = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "ORT_DISABLE_TELEMETRY": "1",
}
#: a port nothing listens on (the discard service), on the loopback interface
CLOSED_LOOPBACK_PROXY = "http://127.0.0.1:9"
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
_NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def disable_network_features() -> None:
    """Turn off telemetry and usage reporting, and astropy's IERS downloads.

    Idempotent; call it before importing onnxruntime (its telemetry reads the
    environment once, when the library loads).
    """
    os.environ.update(OFFLINE_ENVIRONMENT)
    os.environ.setdefault("RAY_DISABLE_DOCKER_CPU_WARNING", "1")
    try:
        from astropy.utils import iers
    except ImportError:  # astropy is not a dependency of every project
        return
    iers.conf.auto_download = False
    iers.conf.auto_max_age = None


@contextlib.contextmanager
def loopback_http_proxy() -> Iterator[None]:
    """Send the HTTP of processes started in this block to a closed local port.

    For the processes of a local Ray cluster, whose dashboard probes cloud
    metadata servers: with a proxy set, ``requests`` connects to the proxy
    (127.0.0.1, refused at once) instead of resolving and reaching the
    metadata hosts. Loopback addresses bypass the proxy. The environment of
    this process is restored afterwards.
    """
    saved = {k: os.environ.get(k) for k in (*_PROXY_VARIABLES, *_NO_PROXY_VARIABLES)}
    for name in _PROXY_VARIABLES:
        os.environ[name] = CLOSED_LOOPBACK_PROXY
    existing = [h for h in (saved["NO_PROXY"] or saved["no_proxy"] or "").split(",")]
    no_proxy = ",".join(dict.fromkeys([*_LOOPBACK_HOSTS, *filter(None, existing)]))
    for name in _NO_PROXY_VARIABLES:
        os.environ[name] = no_proxy
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
