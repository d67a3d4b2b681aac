"""Nothing leaves the machine: a tiny inference under a network guard.

A subprocess runs what infer runs, an onnxruntime session of the exported
network in this process and in two Ray workers of a local cluster, and
stays up long enough for what used to phone home (onnxruntime's telemetry,
~9 s after its library loads; the Ray dashboard's cloud-metadata probe) to
do so. ``strace -f`` records every ``connect``/``sendto``/``sendmsg`` of it and
all its children; any address that is not loopback (or a unix socket,
netlink) is an attempt to leave the machine and fails the test.

strace comes with ``make test`` (the Makefile's ``tools`` target installs it
with apt on Debian); without it the test is skipped with that instruction.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aframe.search import testing

pytestmark = pytest.mark.slow

STRACE = shutil.which("strace")
_ADDRESS = re.compile(
    r"(connect|sendto|sendmsg|sendmmsg)\(\d+, .*?sa_family=(AF_INET6?)"
    r".*?(?:inet_addr\(\"([^\"]+)\"\)|inet_pton\(AF_INET6, \"([^\"]+)\")"
)

WORKLOAD = textwrap.dedent(
    """
    import sys
    import time

    import numpy as np

    from aframe.deploy import map_jobs, shutdown_ray
    from aframe.search.backends import make_backend
    from aframe.search.repository import read_exported_model

    repository = sys.argv[1]


    def infer_once(repository: str, index: int) -> float:
        model = read_exported_model(repository)
        net = make_backend("local", model, 1)
        try:
            y = net(np.zeros(model.input_shape, dtype=np.float32))
        finally:
            net.close()
        return float(np.asarray(y).sum())


    print("driver", infer_once(repository, -1), flush=True)
    jobs = [dict(repository=repository, index=i) for i in range(4)]
    print("workers", map_jobs(infer_once, jobs, num_workers=2, desc="jobs"))
    # onnxruntime's telemetry used to resolve its host ~9 s after loading
    time.sleep(13)
    shutdown_ray()
    print("done", flush=True)
    """
)


def off_machine(trace: str) -> list[str]:
    """The traced calls whose destination is not this machine."""
    found = []
    for line in trace.splitlines():
        match = _ADDRESS.search(line)
        if match is None:
            continue
        address = ipaddress.ip_address(match.group(3) or match.group(4))
        # ::ffff:127.0.0.1 is IPv4 loopback seen through an IPv6 socket
        address = getattr(address, "ipv4_mapped", None) or address
        if not (address.is_loopback or address.is_unspecified):
            found.append(line.strip())
    return found


def guarded(command: list[str], trace: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            STRACE,
            "-f",
            "-qq",
            "-e",
            "trace=connect,sendto,sendmsg,sendmmsg",
            "-o",
            str(trace),
            *command,
        ],
        capture_output=True,
        text=True,
        **kwargs,
    )


@pytest.fixture
def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # what the workload sets itself must not come from the test run
    for name in ("ORT_DISABLE_TELEMETRY", "RAY_USAGE_STATS_ENABLED", "RAY_ADDRESS"):
        env.pop(name, None)
    return env


@pytest.mark.skipif(STRACE is None, reason="needs strace (make test installs it)")
def test_the_guard_sees_an_attempt_to_leave(tmp_path, clean_env):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare -n as root, so the probe cannot really leave")
    probe = (
        "import socket; s = socket.socket(); s.settimeout(0.2)\n"
        "try: s.connect(('192.0.2.1', 9))\nexcept OSError: pass"
    )
    trace = tmp_path / "probe.trace"
    # in a network namespace of its own: the attempt is made, nothing leaves
    command = ["unshare", "-n", sys.executable, "-c", probe]
    result = guarded(command, trace, timeout=60, env=clean_env)
    assert result.returncode == 0, result.stderr
    assert len(off_machine(trace.read_text())) == 1


@pytest.mark.skipif(STRACE is None, reason="needs strace (make test installs it)")
def test_inference_with_ray_and_onnxruntime_stays_on_the_machine(
    tmp_path, clean_env, capsys
):
    config = testing.preprocessing_config()
    net = testing.EndPower(config.kernel_size, config.sample_rate)
    model = testing.write_onnx_model(net, config, tmp_path / "model_repo", 8)
    script = tmp_path / "workload.py"
    script.write_text(WORKLOAD)
    trace = tmp_path / "workload.trace"
    result = guarded(
        [sys.executable, str(script), str(model.repository)],
        trace,
        timeout=300,
        env=clean_env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "done" in result.stdout
    text = trace.read_text()
    calls = len(re.findall(r"\b(connect|sendto|sendmsg|sendmmsg)\(", text))
    attempts = off_machine(text)
    with capsys.disabled():
        print(
            f"\nnetwork guard: {calls} connect/send calls traced, "
            f"{len(attempts)} to addresses off the machine"
        )
    assert attempts == [], "\n".join(attempts[:20])
