"""Job planning, shifted reads, injection selection and job caching."""

import json

import numpy as np
import pytest

from aframe.search.jobs import Job, ShiftedReader, plan_jobs, read_injections, run_job
from aframe.utils.background import (
    BackgroundError,
    BackgroundFile,
    background_filename,
    write_background,
)


def segment(t0, duration):
    return BackgroundFile(
        path=background_filename(t0, duration),
        t0=t0,
        duration=duration,
        sample_rate=512.0,
        ifos=("H1", "L1"),
    )


def test_plan_every_analysable_segment_and_shift():
    files = [segment(1000, 100), segment(2000, 20)]
    shifts = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    jobs = plan_jobs(files, shifts, burn_in=18.5)
    # the 20 s segment keeps zero-lag (1.5 s left) and shift 1 (0.5 s left)
    assert [(j.t0, j.shift) for j in jobs] == [
        (1000, (0.0, 0.0)),
        (1000, (0.0, 1.0)),
        (1000, (0.0, 2.0)),
        (2000, (0.0, 0.0)),
        (2000, (0.0, 1.0)),
    ]
    assert jobs[0].zero_lag and not jobs[1].zero_lag
    assert jobs[2].key == "1000-100_0-2000"
    assert (jobs[2].start, jobs[2].stop) == (1000, 1098)


def test_shifted_reader_moves_l1_forward(tmp_path):
    fs, t0, duration = 64.0, 5000, 10
    n = int(fs * duration)
    h1, l1 = np.arange(n, dtype=float), -np.arange(n, dtype=float)
    path = tmp_path / background_filename(t0, duration)
    write_background(path, {"H1": h1, "L1": l1}, t0, fs, {"source": "test"})

    reader = ShiftedReader(path, ["H1", "L1"], t0, fs, [0.0, 2.0], start=t0)
    x = reader(10, 20)
    np.testing.assert_array_equal(x[0], h1[10:20])
    np.testing.assert_array_equal(x[1], l1[10 + 128 : 20 + 128])
    with pytest.raises(BackgroundError, match="L1 samples \\[630, 650\\)"):
        reader(502, 522)
    reader.close()
    with pytest.raises(BackgroundError, match="not a whole number of samples"):
        ShiftedReader(path, ["H1", "L1"], t0, fs, [0.0, 0.001], start=t0)


def test_injections_of_the_job_shift_and_span(tmp_path, kit):
    # every 24 s from 12 s into a 160 s segment, under the shifts 1 s and 2 s
    t0 = 1_000_000_000
    times, shifts = [], []
    for k in (1, 2):
        grid = np.arange(t0 + 12, t0 + 160 - k - 6, 24.0) + 0.37 * k
        times.extend(grid)
        shifts.extend([[0.0, float(k)]] * len(grid))
    path = tmp_path / "waveforms.hdf5"
    kit.make_injections(np.array(times), np.array(shifts), snr=30.0).write(path)
    job = Job("x", 1_000_000_000.0, 160.0, (0.0, 2.0))
    injections = read_injections(path, job)
    assert len(injections) > 0
    np.testing.assert_array_equal(injections.parameters["shift"][:, 1], 2.0)
    t = injections.parameters["injection_time"]
    assert t.min() >= job.start - 4 and t.max() < job.stop + 4
    assert (
        read_injections(path, Job("x", 1_000_000_000.0, 160.0, (0.0, 5.0)))
        .parameters["injection_time"]
        .size
        == 0
    )


def test_a_finished_job_is_not_rerun(tmp_path):
    done = tmp_path / "1000-100_0-1000"
    done.mkdir()
    summary = {"key": done.name, "Tb": 12.5, "zero_lag": False}
    (done / "summary.json").write_text(json.dumps(summary))
    # the arguments point nowhere: a rerun would fail, a skip returns the summary
    result = run_job(
        key=done.name, path="missing.hdf5", t0=1000, duration=100, shift=[0, 1],
        jobs_dir=str(tmp_path), repository="missing", model_name="aframe",
        model_version=1, inference_sampling_rate=4, integration_length=1,
        cluster_window_length=8, time_offset=0.5, waveforms=None,
    )  # fmt: skip
    assert result == summary


def test_job_arguments_name_the_job():
    job = Job("background-1000-100.hdf5", 1000.0, 100.0, (0.0, 2.0))
    assert job.arguments() == {
        "key": "1000-100_0-2000",
        "path": "background-1000-100.hdf5",
        "t0": 1000.0,
        "duration": 100.0,
        "shift": [0.0, 2.0],
    }
