"""Keep aframe off the network unless a user asks for remote data.

Ray reports usage statistics and astropy downloads IERS tables by default; both
are switched off wherever aframe runs, so tests and the sandbox default send
nothing off the machine.
"""

from __future__ import annotations

import os


def disable_network_features() -> None:
    """Turn off Ray usage reporting and astropy's IERS auto-download."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ.setdefault("RAY_DISABLE_DOCKER_CPU_WARNING", "1")
    try:
        from astropy.utils import iers
    except ImportError:  # astropy is not a dependency of every project
        return
    iers.conf.auto_download = False
    iers.conf.auto_max_age = None
