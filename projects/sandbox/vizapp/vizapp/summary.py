"""The summary page: the run summary in words, sensitivity, published numbers."""

from __future__ import annotations

from bokeh.document import Document
from bokeh.layouts import column, row
from bokeh.models import Div

from aframe.plots.figures import efficiency_figure, sensitive_volume_figure
from vizapp.experiment import Experiment
from vizapp.layout import header
from vizapp.words import explain_summary, published_comparison


def build(doc: Document, experiment: Experiment) -> None:
    """Add the summary page to ``doc``.

    Args:
        doc: the session's document
        experiment: the artifacts to show
    """
    summary = experiment.summary()
    results = experiment.results()
    headline = str(results.attrs.get("injection_prior", ""))
    words = Div(text=explain_summary(summary, headline), width=840)
    doc.add_root(
        column(
            header("summary", experiment),
            words,
            row(
                sensitive_volume_figure(results, width=700, height=400),
                efficiency_figure(results, width=700, height=400),
            ),
            Div(text=published_comparison(headline, experiment.noise()), width=840),
        )
    )
