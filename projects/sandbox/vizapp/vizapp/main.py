"""The ``vizapp`` script: a Bokeh server showing one experiment.

Pages: ``/summary``, ``/analysis`` and ``/inspector`` (``/`` lists them).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from bokeh.application import Application
from bokeh.application.handlers import FunctionHandler
from bokeh.server.server import Server

from aframe.utils.cli import cli
from vizapp import analysis_page, inspector, summary
from vizapp.experiment import Experiment
from vizapp.layout import page

logger = logging.getLogger(__name__)

BUILDERS = {
    "summary": summary.build,
    "analysis": analysis_page.build,
    "inspector": inspector.build,
}


def origins(host: str, port: int) -> list[str]:
    """The browser origins whose websockets the server accepts."""
    names = {host}
    if host in ("127.0.0.1", "localhost"):
        names |= {"127.0.0.1", "localhost"}
    return sorted(f"{name}:{port}" for name in names)


def make_server(
    experiment: Experiment, host: str = "127.0.0.1", port: int = 5005
) -> Server:
    """A Bokeh server with the app's pages (not started).

    Args:
        experiment: the artifacts to show
        host: address to listen on
        port: port to listen on

    Returns:
        the server; call ``start()`` and run its ``io_loop``
    """
    apps = {
        f"/{name}": Application(FunctionHandler(page(name, build, experiment)))
        for name, build in BUILDERS.items()
    }
    return Server(
        apps,
        address=host,
        port=port,
        allow_websocket_origin=origins(host, port),
        num_procs=1,
    )


def vizapp(
    basedir: Path,
    datadir: Path,
    host: str = "127.0.0.1",
    port: int = 5005,
    inference_sampling_rate: float = 4.0,
    integration_length: float = 1.0,
) -> None:
    """Serve the experiment's results in the browser until interrupted.

    The model repository (``BASE_DIR/model_repo``) and the training directory
    are found under ``basedir``; the test strain and injections under
    ``datadir``. Missing artifacts are explained on the page that needs them.

    Args:
        basedir: the experiment's directory (BASE_DIR/profile)
        datadir: the data directory (DATA_DIR/profile)
        host: address to listen on (127.0.0.1: this machine only)
        port: port to listen on
        inference_sampling_rate: network outputs per second (Hz) for the
            inspector, when the event files do not record it
        integration_length: boxcar length (s) for the inspector, when the
            event files do not record it
    """
    experiment = Experiment(
        Path(basedir).expanduser(),
        Path(datadir).expanduser(),
        inference_sampling_rate,
        integration_length,
    )
    server = make_server(experiment, host, port)
    server.start()
    logger.info("vizapp serving %s at http://%s:%d/", experiment.basedir, host, port)
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        server.stop()


def main(args: list[str] | None = None) -> None:
    """Entry point: a port in use or bad arguments end with one message."""
    try:
        cli(vizapp, args=args, script="vizapp")
    except OSError as err:
        logger.error("%s", err)
        sys.exit(f"vizapp: cannot serve ({err})")


if __name__ == "__main__":
    main()
