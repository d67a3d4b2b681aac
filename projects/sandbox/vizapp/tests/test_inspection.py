"""Re-running the exported network around events (no browser)."""

import numpy as np
import pytest

from vizapp.experiment import Experiment
from vizapp.inspection import Candidate, InspectionError, Inspector, candidate, menu


@pytest.fixture(scope="module")
def loaded(experiment_dirs):
    experiment = Experiment(*experiment_dirs)
    background = experiment.background()
    inspector = Inspector(
        experiment.model(),
        experiment.test_background(background.ifos),
        str(experiment.injections_path),
        inference_sampling_rate=4.0,
        integration_length=1.0,
    )
    return experiment, background, experiment.foreground(), inspector


def test_menu_lists_the_loudest_first(loaded):
    experiment, background, foreground, _ = loaded
    zero_lag = experiment.zero_lag()
    items = menu(background, zero_lag, foreground, size=5)
    kinds = [c.kind for c in items]
    assert kinds[:5] == ["zero-lag"] * 5 and kinds[5:10] == ["background"] * 5
    stats = [c.statistic for c in items[5:10]]
    assert stats == sorted(stats, reverse=True)
    assert stats[0] == background.parameters["detection_statistic"].max()
    found = [c for c in items if c.kind == "foreground" and np.isfinite(c.statistic)]
    missed = [
        c for c in items if c.kind == "foreground" and not np.isfinite(c.statistic)
    ]
    assert len(found) == 5 and len(missed) == 1
    # a missed injection is shown at its merger time
    assert missed[0].time == missed[0].injection_time


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
    # whitened noise has unit variance; the Q-scan's loudest tile is the chirp
    for ifo in result.ifos:
        quiet = np.abs(result.strain_times) > 2
        assert result.whitened[ifo][quiet].std() == pytest.approx(1.0, rel=0.2)
        times, freqs, energy = result.qscans[ifo]
        assert energy.shape == (len(freqs), len(times))
        t_peak = times[np.unravel_index(np.argmax(energy), energy.shape)[1]]
        assert -1.0 < t_peak - (c.injection_time - c.time) < 0.2
        assert freqs.min() >= 32.0


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
    with pytest.raises(InspectionError, match="no test background file covers"):
        inspector(c)


def test_unknown_records_are_an_error(loaded):
    _, background, _, _ = loaded
    with pytest.raises(InspectionError, match="no background record"):
        candidate("background", len(background), background=background)
    with pytest.raises(InspectionError, match="unknown kind"):
        candidate("glitch", 0, background=background)
