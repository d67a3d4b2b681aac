"""The ``vizapp`` script: a Bokeh server showing one experiment.

Pages: ``/summary``, ``/analysis`` and ``/inspector``; ``/`` is the app's own
index, which lists them. Nothing is loaded from outside the machine: BokehJS
comes from the server itself (``/static``), the pages use no web fonts, and
the index replaces Bokeh's generic one (which loads bokeh.org's logos,
stylesheets and Google fonts).
"""

from __future__ import annotations

import html
import logging
import sys
from pathlib import Path

from bokeh.application import Application
from bokeh.application.handlers import FunctionHandler
from bokeh.server.server import Server
from tornado.web import RequestHandler

from aframe.utils.cli import cli
from vizapp import analysis_page, inspector, summary
from vizapp.experiment import Experiment
from vizapp.layout import PAGES, page

logger = logging.getLogger(__name__)

BUILDERS = {
    "summary": summary.build,
    "analysis": analysis_page.build,
    "inspector": inspector.build,
}


def index_html(experiment: Experiment) -> str:
    """The app's index page: its pages and the experiment, no outside resources."""
    links = "".join(
        f'<li><a href="/{name}">{html.escape(title)}</a></li>'
        for name, title in PAGES.items()
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>aframe</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:50em}</style>"
        "</head><body><h2>aframe: binary black hole search</h2>"
        f"<ul>{links}</ul>"
        f'<p style="color:#666">experiment {html.escape(str(experiment.basedir))}'
        "</p></body></html>"
    )


class IndexHandler(RequestHandler):
    """Serves ``index_html`` at ``/``."""

    def initialize(self, experiment: Experiment) -> None:
        self.experiment = experiment

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(index_html(self.experiment))


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
        # before Bokeh's own routes, so "/" is ours
        extra_patterns=[(r"/", IndexHandler, {"experiment": experiment})],
    )


def vizapp(
    basedir: Path,
    datadir: Path,
    host: str = "127.0.0.1",
    port: int = 5005,
    inference_sampling_rate: float = 4.0,
    integration_length: float = 1.0,
    veto_dir: Path | None = None,
    search_dir: Path | None = None,
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
        veto_dir: folder of veto segment files offered on the analysis page,
            one per detector and category, named ``{IFO}-{name}.txt`` (default
            ``basedir/vetoes``)
        search_dir: the ``search`` script's output folder, whose candidates
            the analysis page lists beside the zero-lag events (default
            ``basedir/search``)
    """
    experiment = Experiment(
        Path(basedir).expanduser(),
        Path(datadir).expanduser(),
        inference_sampling_rate,
        integration_length,
        Path(veto_dir).expanduser() if veto_dir else None,
        Path(search_dir).expanduser() if search_dir else None,
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
