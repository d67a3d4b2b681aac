"""What every page shares: the header, and the pages shown instead of a failure."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

from bokeh.document import Document
from bokeh.layouts import column
from bokeh.models import Div

from vizapp.experiment import Experiment, MissingArtifact

logger = logging.getLogger(__name__)

#: URL path → title of each page, in navigation order
PAGES = {"summary": "Summary", "analysis": "Analysis", "inspector": "Event inspector"}

PageBuilder = Callable[[Document, Experiment], None]


def query_arguments(doc: Document) -> dict[str, list[bytes]]:
    """The query arguments of the request that opened the page ({} if none)."""
    context = doc.session_context
    request = getattr(context, "request", None) if context else None
    return dict(getattr(request, "arguments", None) or {})


def header(current: str, experiment: Experiment) -> Div:
    """Title, navigation links and the experiment's location."""
    links = " · ".join(
        f"<b>{title}</b>" if name == current else f'<a href="/{name}">{title}</a>'
        for name, title in PAGES.items()
    )
    return Div(
        text=(
            '<h2 style="margin-bottom:4px">aframe: binary black hole search</h2>'
            f"<div>{links}</div>"
            f'<div style="color:#666;font-size:small">experiment '
            f"{html.escape(str(experiment.basedir))}</div>"
        ),
        sizing_mode="stretch_width",
    )


def missing_page(err: MissingArtifact) -> Div:
    """A page that says what is missing and which step makes it."""
    return Div(
        text=(
            '<div class="missing-artifact" style="border:1px solid #c90;'
            'background:#fff8e6;padding:12px;max-width:760px">'
            f"<h3>This page needs {html.escape(err.what)}</h3>"
            f"<p>Expected at <code>{html.escape(str(err.path))}</code>: "
            f"{html.escape(err.reason)}.</p>"
            f"<p>It is made by the <code>{html.escape(err.step)}</code> step of the "
            "pipeline: run <code>pinto run</code> from <code>projects/sandbox</code> "
            "(finished steps are skipped), then reload this page.</p></div>"
        ),
        width=800,
    )


def error_page(message: str) -> Div:
    """A page for an unexpected failure: the message, no traceback."""
    return Div(
        text=(
            '<div class="page-error" style="border:1px solid #c00;padding:12px">'
            f"<h3>This page could not be built</h3><p>{html.escape(message)}</p>"
            "<p>The server log holds the details.</p></div>"
        ),
        width=800,
    )


def page(
    name: str, build: PageBuilder, experiment: Experiment
) -> Callable[[Document], None]:
    """A Bokeh document handler that never shows a traceback.

    Args:
        name: the page's path (a key of ``PAGES``)
        build: adds the page's content to the document
        experiment: the artifacts to show

    Returns:
        the handler for ``FunctionHandler``
    """

    def handler(doc: Document) -> None:
        doc.title = f"aframe · {PAGES[name]}"
        try:
            build(doc, experiment)
        except MissingArtifact as err:
            logger.info("%s page: %s", name, err)
            doc.clear()
            doc.add_root(column(header(name, experiment), missing_page(err)))
        except Exception as err:  # the app must stay up whatever a file holds
            logger.exception("%s page failed", name)
            doc.clear()
            doc.add_root(
                column(
                    header(name, experiment), error_page(f"{type(err).__name__}: {err}")
                )
            )

    return handler
