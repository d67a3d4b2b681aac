"""The analysis page, built without a browser."""

import numpy as np
from bokeh.document import Document
from bokeh.models import ColumnDataSource, Div, RangeSlider

from vizapp import analysis_page
from vizapp.analysis_page import foreground_panel
from vizapp.experiment import Experiment
from vizapp.layout import page


def text(doc):
    return " ".join(m.text for m in doc.select({"type": Div}))


def test_sliders_filter_the_injections(experiment_dirs):
    foreground = Experiment(*experiment_dirs).foreground()
    panel, sliders = foreground_panel(foreground, threshold=12.0, floor=0.0)
    doc = Document()
    doc.add_root(panel)
    sources = [s for s in doc.select({"type": ColumnDataSource}) if "m1" in s.data]
    total = sum(len(s.data["m1"]) for s in sources)
    assert total == len(foreground)
    m1 = sliders["m1"]
    old = m1.value
    new = (30.0, 40.0)
    m1.value = new
    m1.trigger("value_throttled", old, new)
    kept = np.concatenate([s.data["m1"] for s in sources])
    expected = foreground.parameters["mass_1_source"]
    assert len(kept) == ((expected >= 30) & (expected <= 40)).sum()
    assert ((kept >= 30) & (kept <= 40)).all()
    assert any(isinstance(m, RangeSlider) for m in doc.select({"type": RangeSlider}))
    counts = [d.text for d in doc.select({"type": Div}) if "selected" in d.text]
    assert counts and f"{len(kept)} injections selected" in counts[0]


def test_analysis_page_builds(experiment_dirs):
    doc = Document()
    page("analysis", analysis_page.build, Experiment(*experiment_dirs))(doc)
    assert "injections selected" in text(doc)
