"""The analysis page, built without a browser."""

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.models import (
    CheckboxGroup,
    ColumnDataSource,
    DataTable,
    Div,
    HoverTool,
    HTMLTemplateFormatter,
    RangeSlider,
    Tabs,
)
from bokeh.plotting import figure

from aframe.ledger.far import far
from vizapp import analysis_page
from vizapp.analysis_page import foreground_panel
from vizapp.experiment import Experiment
from vizapp.layout import page
from vizapp.vetoed import VetoError, apply

VETOES = {"vetoes": [b"H1-CAT2.txt,L1-CAT2.txt"]}


def text(doc):
    return " ".join(m.text for m in doc.select({"type": Div}))


def built(experiment, arguments):
    doc = Document()
    doc.add_root(analysis_page.content(experiment, arguments))
    return doc


def tables(doc):
    return {
        t.source.data["kind"][0] if len(t.source.data["kind"]) else "empty": t
        for t in doc.select({"type": DataTable})
    }


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
    words = text(doc)
    assert "injections selected" in words
    assert "No vetoes applied" in words
    # the p_astro model, its rate and where the rate comes from
    assert "Gpc⁻³ yr⁻¹" in words and "arXiv:2111.03634" in words


def test_event_tables_are_sortable_and_link_to_the_inspector(experiment_dirs):
    experiment = Experiment(*experiment_dirs)
    background, zero_lag = experiment.background(), experiment.zero_lag()
    doc = built(experiment, {})
    found = tables(doc)
    assert set(found) == {"zero-lag", "background"}
    for kind, table in found.items():
        assert table.sortable
        titles = [c.title for c in table.columns]
        for title in ("GPS time (s)", "UTC", "statistic", "FAR (per year)"):
            assert title in titles
        assert "IFAR (years)" in titles and "shift" in titles
        link = next(c for c in table.columns if c.field == "kind")
        assert isinstance(link.formatter, HTMLTemplateFormatter)
        assert "/inspector?kind=<%= kind %>&index=<%= index %>" in (
            link.formatter.template
        )
        data = table.source.data
        # the loudest first, rated per year against the background
        assert list(data["stat"]) == sorted(data["stat"], reverse=True)
        np.testing.assert_allclose(data["far"], far(background, data["stat"], "year"))
        np.testing.assert_allclose(data["ifar"], 1 / np.asarray(data["far"]))
        events = zero_lag if kind == "zero-lag" else background
        i = int(data["index"][0])
        assert data["gps"][0] == events.parameters["detection_time"][i]
        assert data["utc"][0].startswith("2011-09-14 ")  # GPS 1e9 + a few minutes
    zl = found["zero-lag"].source.data
    assert len(zl["index"]) == len(zero_lag)
    p = np.asarray(zl["p_astro"])
    assert ((0 <= p) & (p <= 1)).all()
    assert (np.asarray(zl["p_astro_low"]) <= p + 1e-12).all()
    assert (p <= np.asarray(zl["p_astro_high"]) + 1e-12).all()
    assert len(found["background"].source.data["index"]) == 500


def test_every_far_on_the_page_is_per_year(experiment_dirs):
    doc = built(Experiment(*experiment_dirs), {})
    words = []
    for f in doc.select({"type": figure}):
        words += [f.title.text or "", f.xaxis[0].axis_label or ""]
        words += [f.yaxis[0].axis_label or ""]
        words += [item.label.value for lg in f.legend for item in lg.items]
        for hover in f.select({"type": HoverTool}):
            words += [f"{k} {v}" for k, v in hover.tooltips]
    for table in doc.select({"type": DataTable}):
        words += [c.title for c in table.columns]
    joined = " | ".join(words)
    for wrong in ("per day", "/day", "per hour", "/hour"):
        assert wrong not in joined, wrong
    assert "False-alarm rate (per year)" in joined
    assert "Inverse false-alarm rate (years)" in joined
    assert "FAR 365/yr" in joined and "FAR (per year)" in joined


def test_views_of_the_injections_and_time(experiment_dirs):
    doc = built(Experiment(*experiment_dirs), {})
    titles = [f.title.text for f in doc.select({"type": figure})]
    assert any(
        t.startswith("Injections found and missed at FAR 365/yr") for t in titles
    )
    assert "Fraction of injections found, by chirp mass" in titles
    assert "Cumulative number of zero-lag events above an IFAR" in titles
    timeline = next(
        f for f in doc.select({"type": figure}) if f.title.text.startswith("Events vs")
    )
    assert timeline.xaxis[0].axis_label == "Time (UTC)"
    assert type(timeline.xaxis[0]).__name__ == "DatetimeAxis"
    assert "Wilson" in text(doc)


def expected_deadtime(background, seconds_burn_in, t0, duration, vetoes):
    """Brute force on a 10 ms grid: vetoed analysed time over every shift."""
    total = 0.0
    step = 0.01
    for shift in background.shifts():
        start = t0 + seconds_burn_in
        stop = t0 + duration - shift.max()
        t = np.arange(start, stop, step) + step / 2
        dead = np.zeros(len(t), bool)
        for col, ifo in enumerate(background.ifos):
            for a, b in vetoes.get(ifo, []):
                dead |= (t + shift[col] >= a) & (t + shift[col] < b)
        total += dead.sum() * step
    return total


def test_vetoes_remove_events_and_their_deadtime(experiment_dirs, synthetic):
    files = synthetic.VETOES
    experiment = Experiment(*experiment_dirs)
    background, zero_lag = experiment.background(), experiment.zero_lag()
    foreground = experiment.foreground()
    names = list(files)
    vetoed = apply(experiment, background, zero_lag, foreground, names)
    segments = {"H1": files["H1-CAT2.txt"], "L1": files["L1-CAT2.txt"]}
    # TinyNet's preprocessing: 4 s PSD, 1 s kernel, 1 s fduration; 1 s boxcar
    burn_in = 4.0 + 2.0 + 1.0
    dead = expected_deadtime(
        background, burn_in, synthetic.T0, synthetic.DURATION, segments
    )
    live = vetoed.background_livetime
    assert live.total_deadtime == pytest.approx(dead, abs=0.05 * len(live.shifts))
    assert vetoed.background.Tb == pytest.approx(background.Tb - live.total_deadtime)
    assert vetoed.background.Tb < background.Tb
    # zero-lag: H1's 85 s and L1's 40 s, all inside the analysed span
    assert vetoed.zero_lag_livetime.total_deadtime == pytest.approx(125.0)
    assert vetoed.zero_lag.Tb == pytest.approx(zero_lag.Tb - 125.0)
    # no surviving event lies in a vetoed time of any detector
    p = vetoed.background.parameters
    for col, ifo in enumerate(background.ifos):
        t = p["detection_time"] + p["shift"][:, col]
        for a, b in segments[ifo]:
            assert not ((t >= a) & (t < b)).any()
    assert vetoed.removed["background"] == len(background) - len(vetoed.background)
    assert vetoed.removed["background"] > 0
    assert vetoed.removed["zero-lag"] > 0
    assert (~vetoed.kept).sum() == vetoed.removed["injections"] > 0
    t = foreground.parameters["detection_time"][~vetoed.kept]
    assert ((t >= synthetic.T0 + 45) & (t < synthetic.T0 + 50)).all()

    # the page with the vetoes in its URL says what they did and rates with them
    doc = built(experiment, VETOES)
    words = text(doc)
    assert "Applied H1-CAT2.txt, L1-CAT2.txt" in words
    assert f"removed {vetoed.removed['background']} background events" in words
    checks = doc.select_one({"type": CheckboxGroup})
    assert checks.labels == ["H1: H1-CAT2.txt", "L1: L1-CAT2.txt"]
    assert checks.active == [0, 1]
    zl = tables(doc)["zero-lag"].source.data
    assert len(zl["index"]) == len(vetoed.zero_lag)
    np.testing.assert_allclose(zl["far"], far(vetoed.background, zl["stat"], "year"))


def test_unknown_vetoes_are_explained(experiment_dirs):
    experiment = Experiment(*experiment_dirs)
    args = (experiment.background(), experiment.zero_lag(), experiment.foreground())
    with pytest.raises(VetoError, match="no veto file nope.txt"):
        apply(experiment, *args, ["nope.txt"])
    words = text(built(experiment, {"vetoes": [b"nope.txt"]}))
    assert "the vetoes cannot be applied: no veto file nope.txt" in words


def test_without_veto_files_the_page_says_where_to_put_them(experiment_dirs, tmp_path):
    base, data = experiment_dirs
    experiment = Experiment(base, data, veto_dir=tmp_path / "none")
    words = text(built(experiment, {}))
    assert "No veto segment files in" in words and str(tmp_path / "none") in words


def test_search_candidates_and_alerts_beside_the_zero_lag(search_dirs):
    experiment = Experiment(*search_dirs)
    doc = Document()
    doc.add_root(analysis_page.content(experiment, {}))
    titles = [p.title for p in doc.select_one({"type": Tabs}).tabs]
    candidates = experiment.search_candidates()
    assert titles[0].startswith("Zero-lag candidates")
    assert titles[1] == f"Search candidates ({len(candidates)})"
    assert titles[2] == "Online alerts (2)"
    found = tables(doc)
    search = found["search"].source.data
    # loudest first, the search's own FARs in per year, linked to the inspector
    assert list(search["stat"]) == sorted(search["stat"], reverse=True)
    np.testing.assert_allclose(
        sorted(search["far"]),
        sorted(candidates.far),  # far_unit "year"
    )
    template = next(
        c.formatter.template for c in found["search"].columns if c.field == "kind"
    )
    assert "/inspector?kind=<%= kind %>&index=<%= index %>" in template
    alerts = found["alert"].source.data
    assert alerts["stage"][0] == "final" or alerts["stage"][1] == "final"
    assert any("unreadable" in s for s in alerts["stage"])
    words = " ".join(d.text for d in doc.select({"type": Div}))
    assert "search candidates: the search script" in words


def test_without_a_search_there_are_no_search_tabs(experiment_dirs):
    doc = Document()
    doc.add_root(analysis_page.content(Experiment(*experiment_dirs), {}))
    titles = [p.title for p in doc.select_one({"type": Tabs}).tabs]
    assert not any("Search" in t or "alerts" in t for t in titles)
