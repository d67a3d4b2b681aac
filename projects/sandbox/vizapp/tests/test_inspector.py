"""The inspector page, built without a browser."""

import shutil

import pytest
from bokeh.document import Document
from bokeh.models import ColorBar, Div, Range1d, Select, Span
from bokeh.plotting import figure

from vizapp import inspector
from vizapp.experiment import Experiment
from vizapp.inspection import SearchSettings, candidate
from vizapp.layout import page


def text(doc):
    return " ".join(m.text for m in doc.select({"type": Div}))


def built(experiment, arguments):
    layout, show = inspector.content(experiment, arguments)
    doc = Document()
    doc.add_root(layout)
    return doc


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


@pytest.mark.parametrize(
    "query, message",
    [
        ({"kind": [b"bogus"], "index": [b"0"]}, "kind=&#x27;bogus&#x27; is not one of"),
        (
            {"kind": [b"background"], "index": [b"999999"]},
            "no background record 999999",
        ),
        ({"kind": [b"foreground"], "index": [b"-1"]}, "no foreground record -1"),
        ({"kind": [b"zero-lag"], "index": [b"two"]}, "not a whole number"),
    ],
)
def test_bad_links_say_what_is_wrong(experiment_dirs, query, message):
    """No silent first event: the page says what is wrong and shows nothing."""
    doc = built(Experiment(*experiment_dirs), query)
    words = text(doc)
    assert "This link names no event" in words and message in words
    assert "data from" not in words  # nothing was re-analysed
    select = doc.select_one({"type": Select})
    assert select.value == "" and select.options[0] == ("", "(choose an event)")


def test_one_window_an_event_marker_and_log_frequency_qscans(experiment_dirs):
    doc = built(
        Experiment(*experiment_dirs), {"kind": [b"foreground"], "index": [b"3"]}
    )
    figures = list(doc.select({"type": figure}))
    assert len(figures) == 4  # strain, output, two Q-scans
    ranges = {id(f.x_range) for f in figures}
    assert len(ranges) == 1 and isinstance(figures[0].x_range, Range1d)
    assert (figures[0].x_range.start, figures[0].x_range.end) == (-4.0, 4.0)
    for f in figures:
        markers = [s for s in f.center if isinstance(s, Span) and s.location == 0.0]
        assert markers, f.title.text
    qscans = [f for f in figures if "Q-scan" in f.title.text]
    for q in qscans:
        assert "log frequency" in q.title.text
        labels = q.yaxis[0].major_label_overrides
        assert {"32", "64", "128"} <= set(labels.values())
        bars = [r for r in q.right if isinstance(r, ColorBar)]
        assert bars and bars[0].title == "Normalised energy"
    # a foreground event: the injected merger is marked too
    assert "dashed: the injected merger" in text(doc)


def test_the_page_shows_the_replayed_statistic(searched_dirs):
    experiment = Experiment(*searched_dirs)
    i = int(experiment.background().parameters["detection_statistic"].argmax())
    doc = built(experiment, {"kind": [b"background"], "index": [str(i).encode()]})
    words = text(doc)
    assert "replayed statistic" in words
    assert "no event at the recorded time" not in words
    assert "UTC 2011-09-14" in words  # GPS 1e9 + a minute or two


def test_q_scan_ticks():
    assert inspector.q_ticks(32.0, 1024.0) == [32, 64, 128, 256, 512, 1024]
    # a narrow range gets the 1-2-5 frequencies too
    assert inspector.q_ticks(32.0, 110.0) == [32, 50, 64, 100]


def test_search_candidates_replay_on_the_strain_the_search_analysed(search_dirs):
    experiment = Experiment(*search_dirs)
    candidates = experiment.search_candidates()
    assert len(candidates) > 0
    doc = built(experiment, {"kind": [b"search"], "index": [b"0"]})
    words = text(doc)
    assert "search candidate 0" in words
    assert "replayed statistic" in words
    assert "no event at the recorded time" not in words
    # the menu offers the search's candidates first
    select = doc.select_one({"type": Select})
    assert select.value == "search:0"
    assert select.options[0][0] == "search:0"


def test_the_search_replay_reads_the_search_strain_and_reproduces_it(search_dirs):
    experiment = Experiment(*search_dirs)
    candidates = experiment.search_candidates()
    background = experiment.background()
    model, note = inspector._model(
        experiment, inspector._settings(experiment, background)
    )
    main = inspector.Inspector(
        model, experiment.test_background(background.ifos), None, SearchSettings()
    )
    replays = inspector.SearchReplays(experiment, main, note, candidates)
    c = candidate("search", 0, search=candidates)
    active, _ = replays.of(c)
    assert active is not main
    assert {f.path.parent for f in active.files} == {experiment.search_data_dir}
    result = active(c)
    assert result.statistic == pytest.approx(c.statistic, rel=1e-4, abs=1e-4)
    # other kinds keep the experiment's inspector
    assert replays.of(candidate("background", 0, background))[0] is main


def test_a_damaged_candidates_file_is_named_not_fatal(search_dirs, tmp_path):
    base, data = search_dirs
    copy = tmp_path / "base"
    shutil.copytree(base, copy)
    (copy / "search" / "candidates.hdf5").write_bytes(b"not hdf5")
    doc = built(Experiment(copy, data), {})
    words = text(doc)
    assert "search candidates not shown" in words and "candidates.hdf5" in words
    assert "data from" in words  # the experiment's events still replay
