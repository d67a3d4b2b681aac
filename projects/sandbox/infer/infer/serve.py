"""Serve an exported network with MLServer, a KServe-V2 server that runs here.

``mlserver_server`` writes MLServer's settings for one exported model, starts
``mlserver start`` bound to 127.0.0.1 on free ports (its metrics server off),
waits until the model is ready over gRPC and stops the server on exit. The
``triton`` backend then talks to it exactly as it would to Triton.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from aframe.search.backends import ServerUnavailableError
from aframe.search.repository import ExportedModel

logger = logging.getLogger(__name__)

RUNTIME = "infer.mlserver_runtime.OnnxModel"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def write_model_settings(
    model: ExportedModel,
    directory: Path,
    host: str,
    http_port: int,
    grpc_port: int,
    intra_op_threads: int = 1,
) -> Path:
    """Write MLServer's ``settings.json`` and the model's ``model-settings.json``.

    Args:
        model: the exported model to serve
        directory: MLServer's model repository (created)
        host: address to bind
        http_port: REST port
        grpc_port: gRPC port
        intra_op_threads: onnxruntime threads per request

    Returns:
        ``directory``
    """
    directory = Path(directory)
    (directory / model.name).mkdir(parents=True, exist_ok=True)
    settings = {
        "host": host,
        "http_port": http_port,
        "grpc_port": grpc_port,
        # no metrics server: one port fewer to collide on, nothing to scrape
        "metrics_endpoint": None,
        # requests run in the server process itself: no worker pool to spawn
        "parallel_workers": 0,
        "debug": False,
        "load_models_at_startup": True,
    }
    with open(directory / "settings.json", "w") as f:
        json.dump(settings, f, indent=2)
    model_settings = {
        "name": model.name,
        "implementation": RUNTIME,
        "parameters": {
            "uri": str(Path(model.onnx_path).resolve()),
            "version": str(model.version),
            "extra": {"intra_op_threads": int(intra_op_threads)},
        },
    }
    with open(directory / model.name / "model-settings.json", "w") as f:
        json.dump(model_settings, f, indent=2)
    return directory


def _wait_ready(
    url: str, name: str, process: subprocess.Popen, timeout: float, log: Path
) -> None:
    import tritonclient.grpc as grpcclient
    from tritonclient.utils import InferenceServerException

    client = grpcclient.InferenceServerClient(url=url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerUnavailableError(
                    f"MLServer for {url} exited with code {process.returncode} "
                    f"before it was ready; see {log}"
                )
            try:
                if client.is_server_ready(client_timeout=1) and client.is_model_ready(
                    name, client_timeout=1
                ):
                    return
            except InferenceServerException:
                pass
            time.sleep(0.25)
    finally:
        client.close()
    raise ServerUnavailableError(
        f"MLServer at {url} not ready after {timeout:g} s; see {log}"
    )


def _stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    # the server runs in its own process group (start_new_session)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def mlserver_server(
    model: ExportedModel,
    directory: str | Path,
    host: str = "127.0.0.1",
    intra_op_threads: int = 1,
    timeout: float = 120.0,
) -> Iterator[str]:
    """Run MLServer serving ``model`` for the duration of the block.

    Args:
        model: the exported model
        directory: where MLServer's settings and log go
        host: address to bind (loopback by default)
        intra_op_threads: onnxruntime threads per request
        timeout: seconds to wait for the model to be ready

    Yields:
        the gRPC URL ``host:port``
    """
    directory = Path(directory)
    http_port, grpc_port = free_port(host), free_port(host)
    while grpc_port == http_port:
        grpc_port = free_port(host)
    write_model_settings(model, directory, host, http_port, grpc_port, intra_op_threads)
    log = directory / "mlserver.log"
    env = dict(os.environ)
    # the runtime class lives in this package; make sure the server finds it
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH", "")) if p
    )
    env.setdefault("OMP_NUM_THREADS", str(intra_op_threads))
    executable = Path(sys.executable).with_name("mlserver")
    command = [str(executable), "start", str(directory)]
    url = f"{host}:{grpc_port}"
    logger.info("starting MLServer for %s at %s (log: %s)", model.name, url, log)
    with open(log, "w") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
            env=env,
            start_new_session=True,
        )
    try:
        _wait_ready(url, model.name, process, timeout, log)
        yield url
    finally:
        _stop(process)
        logger.info("stopped MLServer at %s", url)
