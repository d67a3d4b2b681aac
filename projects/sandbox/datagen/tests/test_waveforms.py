import h5py
import lal
import lalsimulation
import numpy as np
import pytest
from bilby.gw.conversion import bilby_to_lalsimulation_spins

import datagen.waveforms as waveforms
from aframe.ledger.waveforms import SOURCE_PARAMETERS, WaveformSet
from datagen.waveforms import generate_waveforms, main

FS, DURATION = 2048.0, 8.0
SETTINGS = dict(
    num_signals=24,
    sample_rate=FS,
    waveform_duration=DURATION,
    minimum_frequency=20.0,
    reference_frequency=50.0,
    right_pad=0.5,
    taper_length=0.25,
    chunk_size=10,
    seed=11,
)


def lalsimulation_reference(p: dict[str, float], coalescence_time: float):
    """lalsimulation's own IMRPhenomPv2 for one draw, aligned and tapered by hand."""
    m1, m2 = p["mass_1"] * lal.MSUN_SI, p["mass_2"] * lal.MSUN_SI
    iota, *spins = bilby_to_lalsimulation_spins(
        p["theta_jn"], p["phi_jl"], p["tilt_1"], p["tilt_2"], p["phi_12"],
        p["a_1"], p["a_2"], m1, m2, 50.0, p["phase"],
    )  # fmt: skip
    hp, hc = lalsimulation.SimInspiralChooseTDWaveform(
        m1, m2, *spins, p["luminosity_distance"] * 1e6 * lal.PC_SI, iota,
        p["phase"], 0.0, 0.0, 0.0, 1 / FS, 20.0, 50.0, None,
        lalsimulation.IMRPhenomPv2,
    )  # fmt: skip
    size = int(DURATION * FS)
    # output sample k is at (k - coalescence_time * FS) / FS from t = 0;
    # lal's sample j at epoch + j / FS
    j = np.round(np.arange(size) - coalescence_time * FS - float(hp.epoch) * FS)
    j = j.astype(int)
    valid = (j >= 0) & (j < hp.data.length)
    n = int(0.25 * FS)
    taper = np.ones(size)
    taper[:n] = np.hanning(2 * n + 1)[:n]
    out = []
    for h in (hc, hp):
        x = np.zeros(size)
        x[valid] = h.data.data[j[valid]]
        out.append(x * taper)
    return out


@pytest.fixture(scope="module")
def signals(tmp_path_factory):
    datadir = tmp_path_factory.mktemp("data")
    path = generate_waveforms(datadir, num_workers=2, **SETTINGS)
    return datadir, path, WaveformSet.read(path)


def test_file_contents(signals):
    datadir, path, data = signals
    assert path == datadir / "train" / "signals.hdf5"
    assert len(data) == 24
    assert data.waveforms["cross"].shape == (24, int(DURATION * FS))
    assert data.waveforms["plus"].dtype == np.float32
    attrs = data.attrs
    assert attrs["coalescence_time"] == 7.5
    assert (attrs["sample_rate"], attrs["duration"]) == (FS, DURATION)
    assert (attrs["prior"], attrs["approximant"]) == (
        "end_o3_ratesandpops",
        "IMRPhenomPv2",
    )
    assert (attrs["seed"], attrs["num_signals"]) == (11, 24)
    for key in (*SOURCE_PARAMETERS, "ra", "dec", "psi"):
        assert key in data.parameters
    p = data.parameters
    # the prior is in the source frame: generated in the detector frame
    np.testing.assert_allclose(p["mass_1"], p["mass_1_source"] * (1 + p["redshift"]))
    assert np.all(p["mass_2"] <= p["mass_1"])
    # no chunk files are left behind
    assert [x.name for x in (datadir / "train").iterdir()] == ["signals.hdf5"]


def test_stored_waveforms_equal_lalsimulation(signals):
    _, _, data = signals
    for i in range(len(data)):
        p = {k: float(v[i]) for k, v in data.parameters.items()}
        cross, plus = lalsimulation_reference(p, data.attrs["coalescence_time"])
        scale = np.abs(plus).max()
        np.testing.assert_allclose(
            data.waveforms["cross"][i], cross, rtol=0, atol=1e-6 * scale
        )
        np.testing.assert_allclose(
            data.waveforms["plus"][i], plus, rtol=0, atol=1e-6 * scale
        )
        # coalescence at the documented sample: the peak is just before it
        # (in float64: the square of ~1e-21 underflows float32)
        power = cross**2 + plus**2
        offset = (np.argmax(power) - data.coalescence_sample) / FS
        assert -0.1 <= offset <= 0.01


def test_independent_of_worker_count_and_rerun_is_a_no_op(signals, tmp_path):
    _, path, data = signals
    serial = generate_waveforms(tmp_path, num_workers=1, **SETTINGS)
    again = WaveformSet.read(serial)
    for key in ("cross", "plus"):
        np.testing.assert_array_equal(again.waveforms[key], data.waveforms[key])
    for key, value in data.parameters.items():
        np.testing.assert_array_equal(again.parameters[key], value)
    before = serial.stat().st_mtime_ns
    generate_waveforms(tmp_path, num_workers=1, **SETTINGS)
    assert serial.stat().st_mtime_ns == before


def test_killed_run_resumes_from_finished_chunks(signals, tmp_path, monkeypatch):
    _, _, data = signals
    original = waveforms.write_chunk
    calls = []

    def dies_at_third_chunk(**job):
        if job["index"] == 2 and "killed" not in calls:
            calls.append("killed")
            raise KeyboardInterrupt
        calls.append(job["index"])
        return original(**job)

    monkeypatch.setattr(waveforms, "write_chunk", dies_at_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        generate_waveforms(tmp_path, num_workers=1, **SETTINGS)
    assert not (tmp_path / "train" / "signals.hdf5").exists()
    assert calls == [0, 1, "killed"]
    path = generate_waveforms(tmp_path, num_workers=1, **SETTINGS)
    assert calls == [0, 1, "killed", 2]  # only the unfinished chunk ran again
    resumed = WaveformSet.read(path)
    np.testing.assert_array_equal(resumed.waveforms["plus"], data.waveforms["plus"])


def test_other_settings_regenerate(signals, tmp_path):
    _, _, data = signals
    settings = dict(SETTINGS, num_signals=5, seed=12)
    path = generate_waveforms(tmp_path, num_workers=1, **settings)
    other = WaveformSet.read(path)
    assert len(other) == 5 and other.attrs["seed"] == 12
    assert not np.array_equal(other.waveforms["plus"], data.waveforms["plus"][:5])


def test_unknown_prior_is_a_clear_error(tmp_path, capfd):
    with pytest.raises(ValueError, match="not_a_prior"):
        generate_waveforms(tmp_path, prior="not_a_prior", **SETTINGS)
    args = [
        "--datadir", str(tmp_path), "--num_signals", "3", "--sample_rate", "512",
        "--waveform_duration", "8", "--prior", "not_a_prior",
    ]  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 1
    assert "unknown prior 'not_a_prior'" in capfd.readouterr().err
    assert not (tmp_path / "train" / "signals.hdf5").exists()


def test_a_damaged_output_is_made_again(signals, tmp_path):
    _, _, data = signals
    path = generate_waveforms(tmp_path, num_workers=1, **SETTINGS)
    with h5py.File(path, "r+") as f:
        del f["waveforms/plus"]
    # its attrs still match: only its structure shows the damage
    path = generate_waveforms(tmp_path, num_workers=1, **SETTINGS)
    again = WaveformSet.read(path)
    np.testing.assert_array_equal(again.waveforms["plus"], data.waveforms["plus"])


def test_force_from_the_runner_regenerates(signals, tmp_path, monkeypatch):
    path = generate_waveforms(tmp_path, num_workers=1, **SETTINGS)
    before = path.stat().st_mtime_ns
    args = ["--datadir", str(tmp_path), "--num_workers", "1"]
    for key, value in SETTINGS.items():
        args += [f"--{key}", str(value)]
    waveforms.main(args)
    assert path.stat().st_mtime_ns == before  # done: left alone
    monkeypatch.setenv("AFRAME_FORCE", "1")
    waveforms.main(args)
    assert path.stat().st_mtime_ns != before
