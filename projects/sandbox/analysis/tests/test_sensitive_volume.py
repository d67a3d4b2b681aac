"""The sensitive-volume script on a synthetic experiment with a known answer."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr

from aframe.ledger import EventSet, RecoveredInjectionSet
from aframe.ledger.far import threshold_at_far
from aframe.priors import get_prior, redshift_log_prob, sample
from aframe.utils.segments import write_segment_file
from analysis.inputs import InferPaths, read_inputs
from analysis.populations import target_population
from analysis.results import read_results
from analysis.sensitive_volume import main
from analysis.synthetic import network_snr

SUMMARY_KEYS = {
    "Tb",
    "Tb_days",
    "num_background_events",
    "num_injections",
    "num_found_at_1_per_day",
    "threshold_at_1_per_day",
    "far_per_day_of_loudest_zero_lag",
    "sensitive_volume_gpc3_at_1_per_day",
    "sensitive_volume_err_gpc3_at_1_per_day",
    "sensitive_distance_mpc_at_1_per_day",
    "efficiency_at_snr",
    "far_for_efficiency_per_day",
    "snr_50_at_1_per_day",
    "notes",
}


def run(experiment, *extra):
    main(
        [
            "--basedir",
            str(experiment.basedir),
            "--datadir",
            str(experiment.datadir),
            *extra,
        ]
    )
    analysis = experiment.basedir / "analysis"
    return json.loads((analysis / "summary.json").read_text()), read_results(
        analysis / "sensitive-volume.hdf5"
    )


def true_volume(prior_name, threshold, seed=11, n=200_000):
    """V = V0·E_q[P_det] by direct draws from the target (no importance sampling)."""
    prior, injection = get_prior(prior_name), get_prior("end_o3_ratesandpops")
    pop = target_population(prior, injection)
    draws = sample(prior, n, seed)
    # redshift uniform in source-frame volume: resample the prior's own draws
    # by the ratio of the two redshift densities
    rng = np.random.default_rng([seed, 1])  # not the prior's own stream
    z = draws["redshift"]
    logr = pop.log_prob(draws) - redshift_log_prob(prior, z)
    logr -= get_prior(prior_name).mass_log_prob(
        draws["mass_1_source"], draws["mass_2_source"]
    )
    keep = rng.uniform(size=n) < np.exp(logr - logr.max())
    draws = {k: v[keep] for k, v in draws.items()}
    snr = network_snr(draws, rng, rho0=40.0)
    p_det = np.where(snr >= 5, ndtr(snr - 2 - threshold), 0.0)
    return pop.v0 * p_det.mean(), pop.v0 * p_det.std() / np.sqrt(len(p_det))


def test_summary_follows_the_contract(experiment):
    summary, results = run(experiment)
    assert set(summary) == SUMMARY_KEYS
    background = EventSet.read(experiment.background)
    foreground = RecoveredInjectionSet.read(experiment.foreground)
    assert summary["Tb"] == background.Tb
    assert summary["Tb_days"] == pytest.approx(background.Tb / 86400)
    assert summary["num_background_events"] == len(background)
    assert summary["num_injections"] == foreground.attrs["num_injections"]
    threshold = threshold_at_far(background, 1.0, unit="day")
    assert summary["threshold_at_1_per_day"] == threshold
    found = (foreground.parameters["detection_statistic"] >= threshold).sum()
    assert summary["num_found_at_1_per_day"] == found
    v = summary["sensitive_volume_gpc3_at_1_per_day"]
    assert summary["sensitive_distance_mpc_at_1_per_day"] == pytest.approx(
        1000 * (3 * v / (4 * np.pi)) ** (1 / 3)
    )
    assert set(summary["efficiency_at_snr"]) == {"8", "12", "20"}
    assert summary["far_for_efficiency_per_day"] == 1.0
    # the detection model finds half the injections near SNR 2 + threshold
    assert summary["snr_50_at_1_per_day"] == pytest.approx(2 + threshold, abs=1.5)
    assert summary["efficiency_at_snr"]["20"] > 0.9
    assert summary["efficiency_at_snr"]["8"] < 0.1
    assert summary["far_per_day_of_loudest_zero_lag"] > 0

    # the results file: the headline population first, all five, curves monotone
    assert list(results.populations)[0] == "end_o3_ratesandpops"
    assert len(results.populations) == 5
    assert (np.diff(results.fars) > 0).all() and (
        np.diff(results.thresholds) <= 0
    ).all()
    for pop in results.populations.values():
        assert (np.diff(pop.volume) >= -1e-12).all()
        assert pop.v0 == pytest.approx(results.populations["end_o3_ratesandpops"].v0)
    assert [e.label for e in results.efficiencies] == ["1 per hour", "1 per day"]
    headline = results.populations["end_o3_ratesandpops"]
    i = np.argmin(np.abs(results.fars - 365.25))
    assert headline.volume[i] == pytest.approx(v)


def test_volume_matches_direct_simulation(experiment):
    summary, _ = run(experiment)
    v, err = (
        summary["sensitive_volume_gpc3_at_1_per_day"],
        summary["sensitive_volume_err_gpc3_at_1_per_day"],
    )
    truth, truth_err = true_volume(
        "end_o3_ratesandpops", summary["threshold_at_1_per_day"]
    )
    assert err > 0
    assert abs(v - truth) < 3 * np.hypot(err, truth_err)


def test_vetoes_remove_background_and_found_injections(experiment, tmp_path):
    summary, _ = run(experiment)
    background = EventSet.read(experiment.background)
    # veto the first 100 s of L1's shifted data
    t0 = background.parameters["detection_time"].min() - 1
    write_segment_file(tmp_path / "l1.txt", [(t0, t0 + 300)])
    vetoed, _ = run(
        experiment, "--vetoes", json.dumps({"L1": str(tmp_path / "l1.txt")})
    )
    assert vetoed["num_background_events"] < summary["num_background_events"]
    assert any("vetoes applied" in note for note in vetoed["notes"])
    # recovered injections whose event falls in the segment count as missed
    inputs = read_inputs(
        InferPaths.from_dirs(experiment.basedir, experiment.datadir),
        {"L1": tmp_path / "l1.txt"},
    )
    fg = inputs.foreground.parameters
    l1_time = fg["detection_time"] + fg["shift"][:, 1]
    inside = fg["recovered"] & (l1_time >= t0) & (l1_time < t0 + 300)
    assert inside.sum() > 0
    np.testing.assert_array_equal(inputs.found, ~inside)


def test_missing_background_is_one_clear_error(experiment, capsys):
    experiment.background.unlink()
    with pytest.raises(SystemExit) as exit_info:
        run(experiment)
    message = str(exit_info.value.code)
    assert "background.hdf5: no such file" in message and "infer" in message
    assert "Traceback" not in capsys.readouterr().err


def test_empty_background_is_an_error(experiment):
    bg = EventSet.read(experiment.background)
    bg[:0].write(experiment.background)
    with pytest.raises(SystemExit, match="no background events"):
        run(experiment)


def test_zero_livetime_is_an_error(experiment):
    bg = EventSet.read(experiment.background)
    EventSet(bg.parameters, attrs={**bg.attrs, "Tb": 0.0}).write(experiment.background)
    with pytest.raises(SystemExit, match="Tb = 0.0 s"):
        run(experiment)


def test_foreground_shifts_must_be_among_the_background_shifts(experiment):
    fg = RecoveredInjectionSet.read(experiment.foreground)
    params = dict(fg.parameters)
    params["shift"] = params["shift"] + np.array([0.0, 1000.0])
    RecoveredInjectionSet(params, attrs=fg.attrs).write(experiment.foreground)
    with pytest.raises(SystemExit, match="does not hold"):
        run(experiment)


def test_missing_rejected_draws_are_an_error(experiment):
    experiment.rejected.unlink()
    with pytest.raises(SystemExit, match="generate-timeslide-waveforms"):
        run(experiment)


def test_unresolvable_one_per_day_gives_nulls_with_notes(experiment):
    bg = EventSet.read(experiment.background)
    EventSet(bg.parameters, attrs={**bg.attrs, "Tb": 40_000.0}).write(
        experiment.background
    )
    fg = RecoveredInjectionSet.read(experiment.foreground)
    RecoveredInjectionSet(fg.parameters, attrs={**fg.attrs, "Tb": 40_000.0}).write(
        experiment.foreground
    )
    summary, results = run(experiment)
    assert summary["sensitive_volume_gpc3_at_1_per_day"] is None
    assert summary["snr_50_at_1_per_day"] is None
    assert any("1 per day is not resolved" in note for note in summary["notes"])
    assert [e.label for e in results.efficiencies] == ["1 per hour"]


def test_pipeline_table_runs_the_script(experiment_template, tmp_path, monkeypatch):
    # the sandbox's [tool.typeo.scripts.sensitive-volume] table, default profile
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    monkeypatch.setenv("BASE_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AFRAME_PROFILE", "default")
    shutil.copytree(experiment_template.basedir, tmp_path / "results" / "default")
    shutil.copytree(experiment_template.datadir, tmp_path / "data" / "default")
    main(["--typeo", f"{pyproject}:sensitive-volume"])
    summary = json.loads(
        (tmp_path / "results" / "default" / "analysis" / "summary.json").read_text()
    )
    assert set(summary) == SUMMARY_KEYS
    results = read_results(
        tmp_path / "results" / "default" / "analysis" / "sensitive-volume.hdf5"
    )
    assert [e.far_per_day for e in results.efficiencies] == [24.0, 1.0]
