"""Pages never show a traceback: missing artifacts and failures become messages."""

from bokeh.document import Document
from bokeh.models import Div

from vizapp.experiment import Experiment, MissingArtifact
from vizapp.layout import page


def page_text(doc: Document) -> str:
    return " ".join(m.text for m in doc.select({"type": Div}))


def test_missing_artifact_page(tmp_path):
    def build(doc, experiment):
        raise MissingArtifact("the widgets", tmp_path / "w.hdf5", "make-widgets")

    doc = Document()
    page("summary", build, Experiment(tmp_path, tmp_path))(doc)
    text = page_text(doc)
    assert "This page needs the widgets" in text
    assert "w.hdf5" in text and "make-widgets" in text
    assert doc.title == "aframe · Summary"


def test_unexpected_failure_is_a_message(tmp_path):
    def build(doc, experiment):
        raise RuntimeError("the disk is on fire")

    doc = Document()
    page("analysis", build, Experiment(tmp_path, tmp_path))(doc)
    text = page_text(doc)
    assert "could not be built" in text and "the disk is on fire" in text
    assert "Traceback" not in text
