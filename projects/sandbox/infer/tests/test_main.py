"""The infer script end to end on the tiny sandbox (white noise, SNR-30 BBHs).

The network is ``EndPower`` (see conftest): it responds to loud signals
without training, so event timing and recovery mean something here.
"""

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from aframe.architectures import PreprocessingConfig, Preprocessor
from aframe.ledger import EventSet, RecoveredInjectionSet
from aframe.search.backends import ServerUnavailableError
from aframe.search.postprocess import integrate
from aframe.search.repository import RepositoryError
from aframe.utils.background import BackgroundError
from infer.main import InferError, main


def read_all(written):
    return {
        "background": EventSet.read(written["background"]),
        "zero-lag": EventSet.read(written["zero-lag"]),
        "foreground": RecoveredInjectionSet.read(written["foreground"]),
    }


def assert_same(a, b):
    for name in a:
        assert a[name].attrs == b[name].attrs, name
        assert set(a[name].parameters) == set(b[name].parameters)
        for key, value in a[name].parameters.items():
            np.testing.assert_array_equal(value, b[name].parameters[key], err_msg=key)


def test_outputs_and_metadata(local_run, settings):
    basedir, written = local_run
    sets = read_all(written)
    assert set(written) == {"background", "foreground", "zero-lag"}
    for path in written.values():
        assert path.parent == basedir / "infer"
    background = sets["background"]
    assert background.ifos == ["H1", "L1"]
    assert background.Tb >= settings["Tb"]
    shifts = background.shifts()
    np.testing.assert_array_equal(shifts, [[0, 1], [0, 2], [0, 3]])
    assert np.all(sets["zero-lag"].parameters["shift"] == 0)
    calibration = json.loads((basedir / "infer" / "calibration.json").read_text())
    assert calibration["method"] == "injections"
    assert background.attrs["time_offset"] == pytest.approx(calibration["offset"])
    foreground = sets["foreground"]
    assert foreground.attrs["match_window"] == 1.0
    assert foreground.attrs["num_injections"] == len(foreground)
    assert foreground.Tb == pytest.approx(background.Tb)


def test_loud_injections_are_found_within_a_tenth_of_a_second(local_run):
    _, written = local_run
    foreground = RecoveredInjectionSet.read(written["foreground"])
    assert len(foreground) > 10
    assert np.all(foreground.parameters["snr"] == pytest.approx(30.0))
    assert foreground.recovered.all()
    dt = (
        foreground.parameters["detection_time"]
        - foreground.parameters["injection_time"]
    )
    assert np.max(np.abs(dt)) <= 0.1
    # found as the loudest events of their shift
    background = EventSet.read(written["background"])
    assert foreground.parameters["detection_statistic"].min() > np.percentile(
        background.detection_statistic, 99
    )


def reference_statistic(summary, config, net, isr, integration_length):
    """The integrated statistic of one job, computed kernel by kernel in torch."""
    preprocessor = Preprocessor(config)
    fs = config.sample_rate
    shift = summary["shift"]
    t0, duration = summary["t0"], summary["duration"]
    n = int(round((duration - max(shift)) * fs))
    with h5py.File(summary["path"], "r") as f:
        data = np.stack(
            [
                f[ifo][int(s * fs) : int(s * fs) + n]
                for ifo, s in zip(config.ifos, shift)
            ]
        )
    stride, span = int(fs / isr), config.sample_size
    count = (n - span) // stride + 1
    windows = np.stack([data[:, j * stride : j * stride + span] for j in range(count)])
    with torch.no_grad():
        y = net(preprocessor(torch.from_numpy(windows))).numpy()[:, 0]
    assert t0 == pytest.approx(float(Path(summary["path"]).name.split("-")[1]))
    return integrate(y, int(round(integration_length * isr)))


def test_background_rate_agrees_with_the_statistic_of_the_noise(
    local_run, config, endpower, settings
):
    """events/Tb above a threshold = excursions of the statistic above it / livetime.

    On Gaussian noise, the rate of background events louder than θ must equal
    the rate at which the integrated network output itself rises above θ,
    measured independently on the same noise (every kernel through torch, no
    streaming, no ONNX). This checks the livetime accounting, the shifts, the
    streaming and the clustering together: at thresholds where excursions are
    rare, each one is one event; lower down, clustering may merge some.
    """
    basedir, written = local_run
    background = EventSet.read(written["background"])
    jobs = basedir / "infer" / "tmp" / "jobs"
    summaries = [json.loads(p.read_text()) for p in sorted(jobs.glob("*/summary.json"))]
    shifted = [s for s in summaries if not s["zero_lag"]]
    isr = settings["inference_sampling_rate"]
    z = [
        reference_statistic(s, config, endpower, isr, settings["integration_length"])
        for s in shifted
    ]
    livetime = sum(len(zi) for zi in z) / isr
    assert background.Tb == pytest.approx(livetime, abs=1e-9)

    stats = background.detection_statistic
    for quantile in (0.5, 0.8, 0.9, 0.95):
        theta = np.quantile(stats, quantile)
        upcrossings = sum(
            int(np.sum((zi[1:] >= theta) & (zi[:-1] < theta)) + (zi[0] >= theta))
            for zi in z
        )
        events = int(np.sum(stats >= theta))
        far_events = events / background.Tb
        far_statistic = upcrossings / livetime
        assert events <= upcrossings
        assert far_events == pytest.approx(
            far_statistic, rel=3 / np.sqrt(events) + 0.05
        )


@pytest.mark.slow
def test_two_ray_workers_give_identical_results(
    local_run, tmp_path, sandbox, endpower_model, run_infer
):
    _, written = local_run
    ray_written = run_infer(tmp_path, sandbox, endpower_model.repository, num_workers=2)
    assert_same(read_all(written), read_all(ray_written))


def test_resume_skips_finished_jobs(local_run, sandbox, endpower_model, run_infer):
    basedir, written = local_run
    before = read_all(written)
    jobs = basedir / "infer" / "tmp" / "jobs"
    finished = sorted(p.parent for p in jobs.glob("*/summary.json"))
    stamps = {p.name: (p / "summary.json").stat().st_mtime_ns for p in finished}
    redo = finished[1]
    shutil.rmtree(redo)
    # what a killed job leaves: a temporary directory no run takes as done
    (jobs / f".{redo.name}.tmp-killed").mkdir()

    again = run_infer(basedir, sandbox, endpower_model.repository)
    after = {p.name: (p / "summary.json").stat().st_mtime_ns for p in finished}
    assert (redo / "summary.json").is_file()
    for name, stamp in stamps.items():
        if name != redo.name:
            assert after[name] == stamp, f"{name} was recomputed"
    assert after[redo.name] != stamps[redo.name]
    assert_same(before, read_all(again))


def test_changed_settings_discard_old_job_results(
    local_run, sandbox, endpower_model, tmp_path, run_infer
):
    basedir, _ = local_run
    other = tmp_path / "other"
    shutil.copytree(basedir / "infer", other)
    written = run_infer(
        basedir,
        sandbox,
        endpower_model.repository,
        output_dir=other,
        cluster_window_length=2.0,
    )
    background = EventSet.read(written["background"])
    assert background.attrs["cluster_window_length"] == 2.0
    for summary in (other / "tmp" / "jobs").glob("*/summary.json"):
        assert (
            summary.stat().st_mtime
            > (basedir / "infer" / "tmp" / "signature.json").stat().st_mtime
        )


def test_missing_model_repository(tmp_path, sandbox, run_infer):
    with pytest.raises(RepositoryError, match="no such model repository"):
        run_infer(tmp_path, sandbox, tmp_path / "model_repo")


def test_detector_mismatch(tmp_path, sandbox, endpower_model, run_infer):
    with pytest.raises(InferError, match="trained on \\['H1', 'L1'\\]"):
        run_infer(tmp_path, sandbox, endpower_model.repository, ifos=["H1", "V1"])


def test_sample_rate_mismatch(tmp_path, sandbox, endpower_model, kit, run_infer):
    data = tmp_path / "data"
    shutil.copytree(sandbox, data)
    background = data / "test" / "background"
    name = sorted(background.iterdir())[0].name
    (background / name).unlink()
    rng = np.random.default_rng(0)
    from aframe.utils.background import write_background

    t0, duration = (int(v) for v in name.removesuffix(".hdf5").split("-")[1:])
    write_background(
        background / name,
        {ifo: rng.standard_normal(duration * 256) for ifo in kit.IFOS},
        t0,
        256.0,
        {"source": "simulated"},
    )
    with pytest.raises(
        BackgroundError, match=f"{name}: sample_rate is 256 Hz, expected 512 Hz"
    ):
        run_infer(tmp_path, data, endpower_model.repository)


def test_unreachable_server(tmp_path, sandbox, endpower_model, run_infer):
    with pytest.raises(ServerUnavailableError, match="127.0.0.1:9"):
        run_infer(
            tmp_path, sandbox, endpower_model.repository,
            backend="triton", server_url="127.0.0.1:9",
        )  # fmt: skip


def test_cli_reports_bad_input_without_traceback(tmp_path, sandbox, capfd):
    args = [
        "--basedir", str(tmp_path), "--datadir", str(sandbox),
        "--ifos", '["H1", "L1"]', "--inference_sampling_rate", "4",
        "--Tb", "100", "--shift_step", "1",
    ]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1
    err = capfd.readouterr().err
    assert "no such model repository" in err
    assert "Traceback" not in err


def test_preprocessing_comes_from_the_repository(endpower_model, config):
    assert PreprocessingConfig.load(endpower_model.preprocessing_path) == config


def test_foreground_windows_equal_the_whole_injected_stream(
    local_run, tmp_path, sandbox, endpower_model, run_infer
):
    _, written = local_run
    streamed = run_infer(
        tmp_path, sandbox, endpower_model.repository, foreground="stream"
    )
    a = RecoveredInjectionSet.read(written["foreground"])
    b = RecoveredInjectionSet.read(streamed["foreground"])
    assert a.attrs == b.attrs
    np.testing.assert_array_equal(a.recovered, b.recovered)
    # the kernels are the same; whitening a stretch instead of the whole stream
    # only changes float32 rounding
    for key, value in a.parameters.items():
        np.testing.assert_allclose(value, b.parameters[key], rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("profile", ["default", "tiny", "full"])
def test_pipeline_table_fits_the_script(profile, monkeypatch):
    import inspect

    from aframe.utils.config import read_typeo
    from infer.main import infer

    pipeline = Path(__file__).resolve().parents[2] / "pyproject.toml"
    monkeypatch.delenv("TRITON_URL", raising=False)
    table = read_typeo(pipeline, profile=profile)["scripts"]["infer"]
    assert set(table) <= set(inspect.signature(infer).parameters)
    expected = "triton" if profile == "full" else "local"
    assert table["backend"] == expected
    if profile == "full":
        assert table["server_url"] == "127.0.0.1:8001"
