"""The sensitive-volume script on a synthetic experiment with a known answer."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr

from aframe.ledger import EventSet, RecoveredInjectionSet, SignalScoreSet
from aframe.ledger.far import threshold_at_far
from aframe.ledger.injections import RejectedParameterSet
from aframe.ledger.results import read_results
from aframe.ledger.sensitive_volume import campaign
from aframe.ledger.synthetic import network_snr
from aframe.priors import get_prior, redshift_log_prob, sample
from aframe.utils.segments import write_segment_file
from analysis.compute import BENCHMARK_EDGES, EFFICIENCY_EDGES, MIN_PER_BIN
from analysis.inputs import InferPaths, read_inputs
from analysis.populations import target_population
from analysis.sensitive_volume import main

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
    # efficiency, SNR50 with intervals, and sensitivity at 1 per hour too
    "efficiency_bins",
    "interval_level",
    "snr_50_at_1_per_hour",
    "snr_50_interval_at_1_per_hour",
    "snr_50_interval_at_1_per_day",
    "threshold_at_1_per_hour",
    "sensitive_distance_mpc_at_1_per_hour",
    "sensitive_volume_gpc3_at_1_per_hour",
    "sensitive_volume_err_gpc3_at_1_per_hour",
    "loudest_background_statistic",
    "fraction_snr_ge_20_above_loudest_background",
    "num_snr_ge_20",
    "validation_vs_test",
    "loudest_background_near_glitches",
    "Tb_years",
    "far_per_year_of_loudest_zero_lag",
    "ifar_years_of_loudest_zero_lag",
    "num_zero_lag_events",
    "reference_fars_per_year",
    "far_for_efficiency_per_year",
}
BIN_KEYS = {
    "snr_low",
    "snr_high",
    "count",
    "found",
    "efficiency",
    "lower",
    "upper",
    "median_statistic",
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
    # the detection model finds half the injections near SNR 2 + threshold,
    # and its interval (one sigma, 68%) brackets the estimate
    assert summary["snr_50_at_1_per_day"] == pytest.approx(2 + threshold, abs=1.0)
    assert summary["interval_level"] == pytest.approx(0.6827)
    for unit in ("hour", "day"):
        snr50 = summary[f"snr_50_at_1_per_{unit}"]
        low, high = summary[f"snr_50_interval_at_1_per_{unit}"]
        assert low < snr50 < high and high - low < 3
        truth = 2 + summary[f"threshold_at_1_per_{unit}"]
        assert low - 1.0 < truth < high + 1.0
    # a stricter FAR needs louder signals
    assert summary["snr_50_at_1_per_hour"] < summary["snr_50_at_1_per_day"]
    assert summary["threshold_at_1_per_hour"] == threshold_at_far(
        background, 1.0, unit="hour"
    )
    assert (
        summary["sensitive_volume_gpc3_at_1_per_hour"]
        > summary["sensitive_volume_gpc3_at_1_per_day"]
    )
    assert summary["sensitive_distance_mpc_at_1_per_hour"] == pytest.approx(
        1000
        * (3 * summary["sensitive_volume_gpc3_at_1_per_hour"] / (4 * np.pi)) ** (1 / 3)
    )
    assert summary["sensitive_volume_err_gpc3_at_1_per_hour"] > 0
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
    # the grid point at the 1-per-day threshold (k = floor(Tb/day) events)
    (i,) = np.flatnonzero(results.thresholds == threshold)
    assert headline.volume[i] == pytest.approx(v)
    # pooled efficiency bins: taken from the fixed edges, ≥ 25 draws each
    curve = results.efficiencies[1].curve
    assert set(curve.snr_edges) <= set(EFFICIENCY_EDGES)
    assert curve.snr_edges[0] == 4 and curve.snr_edges[-1] == 100
    assert (curve.counts >= MIN_PER_BIN).all()
    assert len(curve.snr_edges) < len(EFFICIENCY_EDGES)  # some were merged
    assert (curve.lower <= curve.efficiency).all()
    assert (curve.efficiency <= curve.upper).all()


def test_efficiency_bins_and_loud_injections_in_the_summary(experiment):
    summary, _ = run(experiment)
    draws = campaign(
        RecoveredInjectionSet.read(experiment.foreground),
        RejectedParameterSet.read(experiment.rejected),
    )
    assert set(summary["efficiency_bins"]) == {"1/hour", "1/day"}
    for unit in ("hour", "day"):
        rows = summary["efficiency_bins"][f"1/{unit}"]
        threshold = summary[f"threshold_at_1_per_{unit}"]
        assert [(r["snr_low"], r["snr_high"]) for r in rows] == list(
            zip(BENCHMARK_EDGES[:-1], BENCHMARK_EDGES[1:], strict=True)
        )
        for row in rows:
            assert set(row) == BIN_KEYS
            last = row["snr_high"] == BENCHMARK_EDGES[-1]
            inside = (draws.snr >= row["snr_low"]) & (
                (draws.snr <= row["snr_high"])
                if last
                else (draws.snr < row["snr_high"])
            )
            assert row["count"] == inside.sum()
            assert row["found"] == (draws.statistic[inside] >= threshold).sum()
            if row["count"] == 0:
                assert row["efficiency"] is None and row["median_statistic"] is None
                continue
            assert row["efficiency"] == pytest.approx(row["found"] / row["count"])
            assert row["lower"] <= row["efficiency"] <= row["upper"]
            # Wilson: an honest interval even when every injection is found
            assert row["lower"] < 1.0
            median = np.median(draws.statistic[inside])
            assert row["median_statistic"] == pytest.approx(median)
        # the detection model finds everything above SNR 15 at these FARs
        assert rows[3]["efficiency"] == 1.0
    loud = draws.snr >= 20
    assert summary["num_snr_ge_20"] == loud.sum() > 0
    loudest = EventSet.read(experiment.background).detection_statistic.max()
    assert summary["loudest_background_statistic"] == loudest
    assert summary["fraction_snr_ge_20_above_loudest_background"] == pytest.approx(
        (draws.statistic[loud] > loudest).mean()
    )


def test_statistic_vs_snr_follows_the_detection_model(experiment):
    _, results = run(experiment)
    st = results.statistic
    background = EventSet.read(experiment.background)
    assert st.loudest_background == background.detection_statistic.max()
    assert st.threshold_at_1_per_hour == threshold_at_far(background, 1.0, "hour")
    assert st.threshold_at_1_per_day == threshold_at_far(background, 1.0, "day")
    assert st.quantiles == (0.05, 0.95)
    np.testing.assert_array_equal(st.snr_edges, results.efficiencies[0].curve.snr_edges)
    # below SNR 5 the model finds nothing: the whole band is -inf
    assert st.snr_edges[0] == 4 and np.isneginf(st.median[0])
    # found injections score SNR - 2 + N(0, 1): the median tracks SNR - 2 in
    # every bin where most injections are found, and the 5-95% band is wider
    # than the 3.3 of the noise alone
    found = np.isfinite(st.lower)
    assert found.sum() >= 2
    draws = campaign(
        RecoveredInjectionSet.read(experiment.foreground),
        RejectedParameterSet.read(experiment.rejected),
    )
    bins = np.digitize(draws.snr, st.snr_edges[1:-1])
    median_snr = np.array(
        [np.median(draws.snr[bins == b]) for b in range(len(st.counts))]
    )
    np.testing.assert_allclose(st.median[found], median_snr[found] - 2, atol=0.5)
    assert (st.upper[found] - st.lower[found] > 2.5).all()
    assert (st.lower[found] < st.median[found]).all()
    assert (st.median[found] < st.upper[found]).all()


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
    assert summary["snr_50_interval_at_1_per_day"] is None
    assert any("1 per day is not resolved" in note for note in summary["notes"])
    assert [e.label for e in results.efficiencies] == ["1 per hour"]
    # the bins keep their counts; what needs the threshold is null
    rows = summary["efficiency_bins"]["1/day"]
    assert sum(r["count"] for r in rows) > 0
    assert all(r["found"] is None and r["efficiency"] is None for r in rows)
    # 1 per hour is still resolved
    assert summary["snr_50_at_1_per_hour"] is not None
    assert summary["sensitive_volume_gpc3_at_1_per_hour"] > 0
    assert np.isposinf(results.statistic.threshold_at_1_per_day)


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


def write_validation(
    training, seed=0, tb=36_000.0, snr_range=(4.0, 30.0), n=4000, offset=2.0
):
    """Validation files like train's: Gaussian-tail background, SNR - offset signals."""
    rng = np.random.default_rng(seed)
    training.mkdir(parents=True, exist_ok=True)
    num_events = int(tb / 16)
    events = EventSet(
        {
            "detection_statistic": 2 + rng.exponential(1.0, num_events),
            "detection_time": np.sort(rng.uniform(0, tb, num_events)),
            "shift": np.tile([0.0, 1.0], (num_events, 1)),
        },
        attrs={"Tb": tb, "ifos": ["H1", "L1"]},
    )
    snr = rng.uniform(*snr_range, n)
    signals = SignalScoreSet(
        {"snr": snr, "detection_statistic": snr - offset + rng.normal(size=n)},
        attrs={
            "snr_range": list(snr_range),
            "inference_sampling_rate": 4.0,
            "integration_length": 1.0,
            "cluster_window_length": 8.0,
        },
    )
    events.write(training / "validation-background.hdf5")
    signals.write(training / "validation-signals.hdf5")
    return events, signals


def test_validation_vs_test_recall(experiment):
    events, signals = write_validation(experiment.basedir / "training")
    summary, _ = run(experiment)
    recall = summary["validation_vs_test"]["recall_snr_ge_12_at_1_per_hour"]
    # validation: ρ⁻⁴-weighted fraction of signals with SNR ≥ 12 at the
    # validation background's own 1-per-hour threshold
    threshold = threshold_at_far(events, 1.0, unit="hour")
    snr, stat = signals.snr, signals.detection_statistic
    loud = snr >= 12
    weights = snr[loud] ** -4.0
    expected = (weights * (stat[loud] >= threshold)).sum() / weights.sum()
    assert recall["validation"] == pytest.approx(expected)
    assert recall["validation_count"] == loud.sum()
    # the quietest signals dominate the ρ⁻⁴ population, and are missed most
    assert recall["validation"] < (stat[loud] >= threshold).mean()
    # the same detection model as the test injections: Φ(ρ - 2 - threshold)
    # averaged over ρ ≥ 12 with weights ρ⁻⁴ (about 0.98 for threshold ≈ 7.7)
    grid = np.linspace(12, 30, 2001)
    from scipy.special import ndtr

    model = np.average(ndtr(grid - 2 - threshold), weights=grid**-4.0)
    assert recall["validation"] == pytest.approx(model, abs=0.03)
    # test: the unweighted fraction at the test background's 1/hour threshold
    draws = campaign(
        RecoveredInjectionSet.read(experiment.foreground),
        RejectedParameterSet.read(experiment.rejected),
    )
    test_loud = draws.snr >= 12
    assert recall["test_count"] == test_loud.sum()
    assert recall["test"] == pytest.approx(
        (draws.statistic[test_loud] >= summary["threshold_at_1_per_hour"]).mean()
    )
    assert not any("validation" in note for note in summary["notes"])


def test_missing_validation_files_give_null_and_a_note(experiment):
    summary, _ = run(experiment)
    recall = summary["validation_vs_test"]["recall_snr_ge_12_at_1_per_hour"]
    assert recall["validation"] is None and recall["validation_count"] is None
    assert recall["test"] is not None
    assert any("validation-background.hdf5" in n for n in summary["notes"])


def test_bad_validation_files_are_clear_errors(experiment):
    training = experiment.basedir / "training"
    write_validation(training)
    (training / "validation-signals.hdf5").write_text("not hdf5")
    with pytest.raises(SystemExit, match="validation-signals.hdf5"):
        run(experiment)
    events, signals = write_validation(training)
    EventSet(events.parameters, attrs={**events.attrs, "Tb": 0.0}).write(
        training / "validation-background.hdf5"
    )
    with pytest.raises(SystemExit, match="validation-background.hdf5.*Tb = 0.0"):
        run(experiment)


def test_short_validation_background_gives_null_and_a_note(experiment):
    # half an hour of validation background cannot resolve 1 per hour
    write_validation(experiment.basedir / "training", tb=1800.0)
    summary, _ = run(experiment)
    recall = summary["validation_vs_test"]["recall_snr_ge_12_at_1_per_hour"]
    assert recall["validation"] is None and recall["validation_count"] > 0
    assert any("does not resolve 1 per hour" in n for n in summary["notes"])
