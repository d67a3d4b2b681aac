"""The summary page, built without a browser."""

from bokeh.document import Document
from bokeh.models import Div

from vizapp import summary
from vizapp.experiment import Experiment
from vizapp.layout import page


def text(doc):
    return " ".join(m.text for m in doc.select({"type": Div}))


def test_summary_page_shows_the_summary(experiment_dirs):
    doc = Document()
    page("summary", summary.build, Experiment(*experiment_dirs))(doc)
    assert "Sensitive volume for the" in text(doc)
    assert len(doc.roots) == 1
    # no published number is drawn for a population and noise it was not
    # measured on; the page says so, with the test noise in words
    assert "None is plotted here" in text(doc)
    assert "test noise simulated from the white noise curve" in text(doc)
