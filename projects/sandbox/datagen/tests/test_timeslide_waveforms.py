import json
import shutil

import bilby
import h5py
import numpy as np
import pytest
from scipy import signal

import datagen.timeslide_waveforms as timeslides
from aframe.deploy import JobError, init_ray, shutdown_ray
from aframe.ledger.injections import InjectionSet, RejectedParameterSet
from aframe.utils.background import background_filename, write_background
from datagen.psd import load_psd
from datagen.simulate import simulate_noise
from datagen.timeslide_waveforms import (
    InjectionError,
    generate_timeslide_waveforms,
    main,
)
from datagen.waveform_generation import generate_polarizations

FS = 1024.0
T0 = 1240579783
DURATIONS = (200, 260)
# psd_length + kernel_length + fduration + integration_length (infer's burn-in)
BURN_IN = 8.0 + 1.5 + 1.0 + 1.0
SETTINGS = dict(
    Tb=900.0,  # three shifts of 1 s over the two segments
    ifos=["H1", "L1"],
    sample_rate=FS,
    waveform_duration=8.0,
    psd_length=8.0,
    kernel_length=1.5,
    fduration=1.0,
    highpass=32.0,
    snr_threshold=4.0,
    shift_step=1.0,
    spacing=10.0,
    buffer=3.0,
    jitter=1.0,
    seed=5,
)


def write_test_background(datadir):
    directory = datadir / "test" / "background"
    directory.mkdir(parents=True)
    curve = load_psd("aLIGO_O4_high_asd.txt")
    t0 = T0
    for i, duration in enumerate(DURATIONS):
        rng = np.random.default_rng(i)
        strain = {
            ifo: simulate_noise(curve, int(duration * FS), FS, rng) * (1 + k)
            for k, ifo in enumerate(("H1", "L1"))
        }
        path = directory / background_filename(t0, duration)
        write_background(path, strain, t0, FS, {"source": "simulated"})
        t0 += duration + 1000


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    started = not ray.is_initialized()
    init_ray(num_cpus=2)
    yield
    if started:
        shutdown_ray()


@pytest.fixture(scope="module")
def run(tmp_path_factory, ray_cluster):
    datadir = tmp_path_factory.mktemp("data")
    write_test_background(datadir)
    accepted, rejected = generate_timeslide_waveforms(
        datadir, num_workers=2, **SETTINGS
    )
    return datadir, InjectionSet.read(accepted), RejectedParameterSet.read(rejected)


# the first test using `run` waits ~40 s for Ray and the two-worker run
@pytest.mark.slow
def test_every_draw_is_accepted_or_rejected(run):
    datadir, accepted, rejected = run
    total = accepted.attrs["num_injections"]
    assert total == rejected.attrs["num_injections"]
    assert len(accepted) + len(rejected) == total
    assert len(accepted) > 20 and len(rejected) > 0
    threshold = accepted.attrs["snr_threshold"]
    assert (
        accepted.parameters["snr"].min() >= threshold > rejected.parameters["snr"].max()
    )
    for records in (accepted, rejected):
        p = records.parameters
        np.testing.assert_allclose(p["snr"], np.hypot(p["H1_snr"], p["L1_snr"]))
    assert sorted(x.name for x in (datadir / "test").iterdir()) == [
        "background",
        "rejected-parameters.hdf5",
        "waveforms.hdf5",
    ]


@pytest.mark.slow
def test_times_shifts_and_grid(run):
    _, accepted, rejected = run
    attrs = accepted.attrs
    assert attrs["num_shifts"] == 3 and attrs["burn_in"] == BURN_IN
    shifts = accepted.shifts()
    np.testing.assert_array_equal(shifts, [[0, 1], [0, 2], [0, 3]])  # no zero-lag
    times = accepted.parameters["injection_time"]
    tc = attrs["coalescence_time"]
    starts = [T0, T0 + DURATIONS[0] + 1000]
    for k in (1, 2, 3):
        for t0, duration in zip(starts, DURATIONS):
            inside = (times >= t0) & (times < t0 + duration)
            mine = np.sort(times[inside & (accepted.parameters["shift"][:, 1] == k)])
            assert len(mine) >= 8
            # whole samples after the segment start
            np.testing.assert_array_equal((mine - t0) * FS, np.round((mine - t0) * FS))
            # waveforms inside the analysed span, buffer included
            assert mine[0] - tc >= t0 + BURN_IN + 3.0
            assert mine[-1] + 8.0 - tc <= t0 + duration - k - 3.0
            # never overlapping: spacing 10 s, jitter 1 s, 8 s waveforms
            assert np.diff(mine).min() >= 10 + 8 - 2 * 1.0
    # rejected draws were drawn for one of the accepted times of their shift
    pairs = {(t, s) for t, s in zip(times, accepted.parameters["shift"][:, 1])}
    for t, s in zip(
        rejected.parameters["injection_time"], rejected.parameters["shift"][:, 1]
    ):
        assert (t, s) in pairs


@pytest.mark.slow
def test_responses_match_bilby_projection(run):
    _, accepted, _ = run
    tc = accepted.attrs["coalescence_time"]
    for i in (0, len(accepted) // 2, len(accepted) - 1):
        row = {k: v[i : i + 1] for k, v in accepted.parameters.items()}
        cross, plus = generate_polarizations(row, FS, 8.0, tc, 20.0, 50.0)
        when = float(row["injection_time"][0])
        for ifo in ("H1", "L1"):
            det = bilby.gw.detector.InterferometerList([ifo])[0]
            # data starting at the geocentre time: bilby applies only the delay
            det.set_strain_data_from_zero_noise(FS, 8.0, start_time=when)
            parameters = {k: float(row[k][0]) for k in ("ra", "dec", "psi")}
            parameters["geocent_time"] = when
            spectrum = det.get_detector_response(
                {
                    "plus": np.fft.rfft(plus[0]) / FS,
                    "cross": np.fft.rfft(cross[0]) / FS,
                },
                parameters,
            )
            band = det.strain_data.frequency_mask
            expected = np.fft.irfft(spectrum * FS, n=plus.shape[1])
            stored = accepted.waveforms[ifo][i].astype(float)
            ours = np.fft.irfft(np.fft.rfft(stored) * band, n=plus.shape[1])
            np.testing.assert_allclose(
                ours, expected, rtol=0, atol=1e-4 * np.abs(expected).max()
            )


@pytest.mark.slow
def test_snr_matches_an_independent_matched_filter(run):
    datadir, accepted, _ = run
    files = sorted((datadir / "test" / "background").glob("background-*.hdf5"))
    for i in (0, len(accepted) - 1):
        when = accepted.parameters["injection_time"][i]
        path = next(f for f in files if int(f.name.split("-")[1]) <= when)
        if when > int(files[-1].name.split("-")[1]):
            path = files[-1]
        network = 0.0
        for ifo in ("H1", "L1"):
            with h5py.File(path) as f:
                strain = f[ifo][:]
            frequencies, psd = signal.welch(
                strain, fs=FS, nperseg=int(8 * FS), average="median"
            )
            det = bilby.gw.detector.InterferometerList([ifo])[0]
            det.minimum_frequency, det.maximum_frequency = 32.0, FS / 2
            det.power_spectral_density = bilby.gw.detector.PowerSpectralDensity(
                frequency_array=frequencies[1:], psd_array=psd[1:]
            )
            det.set_strain_data_from_zero_noise(FS, 8.0, start_time=0)
            response = accepted.waveforms[ifo][i].astype(float)
            snr = np.sqrt(np.real(det.optimal_snr_squared(np.fft.rfft(response) / FS)))
            assert accepted.parameters[f"{ifo}_snr"][i] == pytest.approx(snr, rel=0.01)
            network += snr**2
        assert accepted.parameters["snr"][i] == pytest.approx(
            np.sqrt(network), rel=0.01
        )


@pytest.mark.slow
def test_same_results_with_one_worker_and_resumes(run, tmp_path, monkeypatch):
    datadir, reference, reference_rejected = run
    shutil.copytree(datadir / "test" / "background", tmp_path / "test" / "background")
    original = timeslides.injection_job
    calls = []

    def dies_at_third_job(**job):
        if len(calls) == 2 and "killed" not in calls:
            calls.append("killed")
            raise KeyboardInterrupt
        calls.append(job["shift_index"])
        return original(**job)

    monkeypatch.setattr(timeslides, "injection_job", dies_at_third_job)
    with pytest.raises(KeyboardInterrupt):
        generate_timeslide_waveforms(tmp_path, num_workers=1, **SETTINGS)
    assert not (tmp_path / "test" / "waveforms.hdf5").exists()
    accepted, rejected = generate_timeslide_waveforms(
        tmp_path, num_workers=1, **SETTINGS
    )
    assert len(calls) == 6 + 1  # 6 jobs; the two finished ones did not run again
    again = InjectionSet.read(accepted)
    again_rejected = RejectedParameterSet.read(rejected)
    assert again.attrs == reference.attrs
    for ifo in ("H1", "L1"):
        np.testing.assert_array_equal(again.waveforms[ifo], reference.waveforms[ifo])
    for key, value in reference.parameters.items():
        np.testing.assert_array_equal(again.parameters[key], value)
    for key, value in reference_rejected.parameters.items():
        np.testing.assert_array_equal(again_rejected.parameters[key], value)
    # a finished run is not redone
    before = accepted.stat().st_mtime_ns
    generate_timeslide_waveforms(tmp_path, num_workers=1, **SETTINGS)
    assert accepted.stat().st_mtime_ns == before


def test_bad_input_is_a_clear_error(tmp_path, capfd):
    with pytest.raises(ValueError, match="no such background directory"):
        generate_timeslide_waveforms(tmp_path, num_workers=1, **SETTINGS)
    write_test_background(tmp_path)
    with pytest.raises(ValueError, match="unknown prior 'nope'"):
        generate_timeslide_waveforms(tmp_path, prior="nope", **SETTINGS)
    with pytest.raises(ValueError, match="cannot be reached"):
        generate_timeslide_waveforms(tmp_path, **dict(SETTINGS, Tb=1e9))
    with pytest.raises(InjectionError, match="could overlap"):
        generate_timeslide_waveforms(tmp_path, **dict(SETTINGS, spacing=1.0))
    with pytest.raises(InjectionError, match="too short"):
        generate_timeslide_waveforms(
            tmp_path, **dict(SETTINGS, buffer=200.0, jitter=0.0)
        )
    args = ["--datadir", str(tmp_path / "nowhere"), "--Tb", "100", "--ifos", "[H1, L1]"]
    args += ["--sample_rate", "1024", "--waveform_duration", "8", "--psd_length", "8"]
    args += ["--kernel_length", "1.5", "--fduration", "1", "--highpass", "32"]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 1
    assert "no such background directory" in capfd.readouterr().err


def test_an_unreachable_threshold_ends_with_one_error(tmp_path, capfd):
    import time

    write_test_background(tmp_path)
    started = time.monotonic()
    # in a job: the job's error carries it
    with pytest.raises(JobError, match="none reached network SNR 1e\\+06") as info:
        generate_timeslide_waveforms(
            tmp_path,
            num_workers=1,
            max_draws_per_injection=40,
            **dict(SETTINGS, snr_threshold=1e6),
        )
    assert isinstance(info.value.cause, InjectionError)
    assert time.monotonic() - started < 120
    args = ["--datadir", str(tmp_path), "--num_workers", "1"]
    args += ["--max_draws_per_injection", "40"]
    for key, value in dict(SETTINGS, snr_threshold=1e6).items():
        args += [
            f"--{key}",
            json.dumps(value) if isinstance(value, list) else str(value),
        ]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "lower snr_threshold or raise" in errors[0], err


def test_burn_in_is_infers(tmp_path):
    from aframe.utils.timeslides import burn_in

    write_test_background(tmp_path)
    accepted, _ = generate_timeslide_waveforms(
        tmp_path, num_workers=1, **dict(SETTINGS, Tb=100.0)
    )
    attrs = InjectionSet.read_attrs(accepted)
    assert attrs["burn_in"] == burn_in(8.0, 1.5, 1.0, 1.0) == BURN_IN
