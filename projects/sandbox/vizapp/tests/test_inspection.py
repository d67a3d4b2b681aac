"""Re-running the search around events (no browser)."""

import numpy as np
import pytest

from vizapp.experiment import Experiment
from vizapp.inspection import (
    Candidate,
    InspectionError,
    Inspector,
    SearchSettings,
    candidate,
    menu,
    parse_query,
)


@pytest.fixture(scope="module")
def loaded(experiment_dirs):
    experiment = Experiment(*experiment_dirs)
    background = experiment.background()
    inspector = Inspector(
        experiment.model(),
        experiment.test_background(background.ifos),
        str(experiment.injections_path),
        # the synthetic files record no settings: these defaults
        SearchSettings.of(
            background,
            SearchSettings(inference_sampling_rate=4.0, integration_length=1.0),
        ),
    )
    return experiment, background, experiment.foreground(), inspector


@pytest.fixture(scope="module")
def searched(searched_dirs):
    """The events the real search made, and an inspector with its settings."""
    experiment = Experiment(*searched_dirs)
    background = experiment.background()
    settings = SearchSettings.of(background)
    inspector = Inspector(
        experiment.model(settings.model_version),
        experiment.test_background(background.ifos),
        str(experiment.injections_path),
        settings,
    )
    sets = {
        "background": background,
        "zero-lag": experiment.zero_lag(),
        "foreground": experiment.foreground(),
    }
    return sets, inspector


def test_menu_lists_the_loudest_first(loaded):
    experiment, background, foreground, _ = loaded
    zero_lag = experiment.zero_lag()
    items = menu(background, zero_lag, foreground, size=5)
    kinds = [c.kind for c in items]
    assert kinds[:5] == ["zero-lag"] * 5 and kinds[5:10] == ["background"] * 5
    stats = [c.statistic for c in items[5:10]]
    assert stats == sorted(stats, reverse=True)
    assert stats[0] == background.parameters["detection_statistic"].max()
    found = [c for c in items if c.kind == "foreground" and c.found]
    missed = [c for c in items if c.kind == "foreground" and not c.found]
    assert len(found) == 5 and len(missed) == 1
    # a missed injection is shown at its merger time
    assert missed[0].time == missed[0].injection_time


def test_the_search_settings_come_from_the_event_files(searched):
    sets, inspector = searched
    s = inspector.settings
    attrs = sets["background"].attrs
    assert s.defaulted == ()
    assert s.inference_sampling_rate == attrs["inference_sampling_rate"]
    assert s.integration_length == attrs["integration_length"]
    assert s.cluster_window_length == attrs["cluster_window_length"]
    assert s.time_offset == attrs["time_offset"] != 0
    assert s.model == attrs["model"] == inspector.model.key
    # files without them: the defaults, named
    bare = SearchSettings.of(None, SearchSettings(inference_sampling_rate=2.0))
    assert bare.inference_sampling_rate == 2.0
    assert set(bare.defaulted) == {
        "inference_sampling_rate",
        "integration_length",
        "cluster_window_length",
        "time_offset",
    }


@pytest.mark.parametrize("kind", ["background", "zero-lag", "foreground"])
def test_inspector_reproduces_the_recorded_statistic(searched, kind):
    """The replayed event has the recorded statistic, at the recorded time.

    For each kind: the loudest event, the first and the last; a foreground
    event re-injects its injection (and the others of its shift) from the
    injection file. Tolerance: float32 rounding of the outputs (16 ulp).
    """
    sets, inspector = searched
    events = sets[kind]
    stats = np.asarray(events.parameters["detection_statistic"], float)
    usable = np.flatnonzero(np.isfinite(stats))
    assert len(usable) >= 3
    picks = {int(usable[np.argmax(stats[usable])]), int(usable[0]), int(usable[-1])}
    for index in sorted(picks):
        c = candidate(kind, index, sets["background"], sets["zero-lag"], sets[kind])
        result = inspector(c)
        assert result.statistic is not None, (kind, index, result.notes)
        tolerance = 16 * float(np.finfo(np.float32).eps) * max(1.0, abs(c.statistic))
        print(
            f"{kind} {index}: recorded {c.statistic:.9f}, replayed "
            f"{result.statistic:.9f}, Δ = {result.statistic - c.statistic:+.2e}, "
            f"Δt = {result.peak_time:+.2e} s"
        )
        assert abs(result.statistic - c.statistic) <= tolerance, (kind, index)
        assert abs(result.peak_time) <= 1e-5
        # the peak of the integrated output at the event is the statistic
        z = result.integrated[result.stream]
        near = np.abs(result.output_times - result.peak_time) <= 1.0
        assert np.nanmax(z[near]) == pytest.approx(result.statistic, abs=tolerance)
        if kind == "foreground":
            assert set(result.outputs) == {"background", "foreground"}
            assert result.merger_time == pytest.approx(
                c.injection_time - c.time, abs=0.2
            )
        else:
            assert set(result.outputs) == {"background"}


def test_a_different_grid_does_not_reproduce_it(searched):
    """Why the grid matters: shifting the kernels by half a stride changes it."""
    sets, inspector = searched
    events = sets["background"]
    i = int(np.argmax(events.parameters["detection_statistic"]))
    c = candidate("background", i, background=events)
    honest = inspector(c)
    stride = inspector.geometry.stride
    original = inspector._job

    def off_grid(candidate):
        f, start, stop = original(candidate)
        return f, start + (stride // 2) / inspector.geometry.sample_rate, stop

    inspector._job = off_grid
    try:
        shifted = inspector(c)
    finally:
        inspector._job = original
    assert honest.statistic == pytest.approx(c.statistic, abs=1e-5)
    assert shifted.statistic is None or abs(shifted.statistic - c.statistic) > 1e-5


def test_foreground_event_is_reinjected(loaded):
    _, background, foreground, inspector = loaded
    p = foreground.parameters
    loudest = int(np.argmax(np.where(p["recovered"], p["snr"], -1)))
    c = candidate("foreground", loudest, foreground=foreground)
    result = inspector(c)
    assert set(result.outputs) == {"background", "foreground"}
    n = len(result.output_times)
    assert n > 40 and all(len(v) == n for v in result.outputs.values())
    assert np.all(np.isfinite(result.outputs["foreground"]))
    # the integrated series starts after one full window (4 outputs at 4 Hz, 1 s)
    assert np.isnan(result.integrated["foreground"][:3]).all()
    assert np.isfinite(result.integrated["foreground"][3:]).all()
    # the injection changes the output near the event, and only there
    diff = np.abs(result.outputs["foreground"] - result.outputs["background"])
    near = np.abs(result.output_times) < 2
    far = np.abs(result.output_times) > 6
    assert diff[near].max() > 10 * max(diff[far].max(), 1e-6)
    # one window for strain and Q-scans; the loudest tile is the chirp
    assert result.window == (-4.0, 4.0)
    for ifo in result.ifos:
        quiet = np.abs(result.strain_times) > 2
        assert result.whitened[ifo][quiet].std() == pytest.approx(1.0, rel=0.2)
        # (to the sample: 256 Hz)
        assert result.strain_times.min() >= -4.0 - 1 / 256
        assert result.strain_times.max() <= 4.0 + 1 / 256
        times, freqs, energy = result.qscans[ifo]
        assert energy.shape == (len(freqs), len(times))
        assert times.min() >= -4.0 - 0.01 and times.max() <= 4.0 + 0.01
        t_peak = times[np.unravel_index(np.argmax(energy), energy.shape)[1]]
        assert -1.0 < t_peak - (c.injection_time - c.time) < 0.2
        # log-spaced frequencies
        ratios = freqs[1:] / freqs[:-1]
        assert ratios == pytest.approx(np.full(len(ratios), ratios[0]), rel=1e-6)
    # the synthetic files do not record the search settings: said so
    assert any("do not record" in n for n in result.notes)


def test_background_event_runs_one_stream(loaded):
    _, background, _, inspector = loaded
    i = int(np.argmax(background.parameters["detection_statistic"]))
    c = candidate("background", i, background=background)
    assert c.shift[1] > 0  # a timeslide: L1 is read at its own shift
    result = inspector(c)
    assert set(result.outputs) == {"background"}
    assert any("L1 +" in note for note in result.notes)


def test_events_outside_the_data_are_an_error(loaded):
    _, _, _, inspector = loaded
    c = Candidate("background", 0, 5e8, np.zeros(2), 1.0, None, "nowhere")
    with pytest.raises(InspectionError, match="no strain file covers"):
        inspector(c)


def test_unknown_records_are_an_error(loaded):
    _, background, _, _ = loaded
    with pytest.raises(InspectionError, match="no background record .* holds"):
        candidate("background", len(background), background=background)
    with pytest.raises(InspectionError, match="unknown kind"):
        candidate("glitch", 0, background=background)
    with pytest.raises(InspectionError, match="no zero-lag events"):
        candidate("zero-lag", 0, background=background)


@pytest.mark.parametrize(
    "query, message",
    [
        ({"kind": [b"bogus"], "index": [b"3"]}, "kind='bogus' is not one of"),
        ({"kind": [b"background"], "index": [b"x"]}, "not a whole number"),
        ({"kind": [b"background"]}, "but no index"),
        ({"index": [b"3"]}, "no kind"),
    ],
)
def test_bad_links_say_what_is_wrong(query, message):
    with pytest.raises(InspectionError, match=message):
        parse_query(query)


def test_good_and_empty_links():
    assert parse_query({}) is None
    assert parse_query({"kind": [b"zero-lag"], "index": [b"12"]}) == ("zero-lag", 12)
