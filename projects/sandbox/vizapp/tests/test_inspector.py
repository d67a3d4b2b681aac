"""The inspector page, built without a browser."""

import shutil

from bokeh.document import Document
from bokeh.models import Div, Select

from vizapp import inspector
from vizapp.experiment import Experiment
from vizapp.layout import page


def text(doc):
    return " ".join(m.text for m in doc.select({"type": Div}))


def test_inspector_needs_the_model(experiment_dirs, tmp_path):
    base, data = experiment_dirs
    copy = tmp_path / "base"
    shutil.copytree(base, copy, ignore=shutil.ignore_patterns("model_repo"))
    doc = Document()
    page("inspector", inspector.build, Experiment(copy, data))(doc)
    assert "This page needs the exported model" in text(doc)
    assert "export-model" in text(doc)


def test_inspector_selects_and_shows_events(experiment_dirs):
    doc = Document()
    page("inspector", inspector.build, Experiment(*experiment_dirs))(doc)
    select = doc.select_one({"type": Select})
    assert len(select.options) > 10
    status = next(d for d in doc.select({"type": Div}) if "data from" in d.text)
    first = status.text
    # choosing another event re-runs the network on it
    other = select.options[-1][0]
    select.value = other
    assert status.text != first and "data from" in status.text
