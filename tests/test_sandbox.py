"""End to end: the tiny sandbox through ``pinto run``, with kill-and-resume.

The ``tiny`` profile runs every step of the pipeline (datagen, train, export,
infer, analysis) in a few minutes on 2 CPU cores. These tests run it in
temporary DATA_DIR/BASE_DIR folders and check every artifact, the final
numbers' sanity, that a second run skips every step, and that a pipeline killed
with SIGKILL inside datagen, training and inference finishes, when run again,
with the same final artifacts as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from aframe.ledger import EventSet, RecoveredInjectionSet
from aframe.utils.config import read_typeo

REPO = Path(__file__).resolve().parents[1]
SANDBOX = REPO / "projects" / "sandbox"
PINTO = Path(sys.executable).parent / "pinto"
STEPS = [
    "generate-background",
    "generate-glitches",
    "generate-waveforms",
    "generate-timeslide-waveforms",
    "train",
    "export-model",
    "infer",
    "sensitive-volume",
    "plots",
]
# each run of the tiny chain must finish well inside this
RUN_TIMEOUT = 900

pytestmark = pytest.mark.slow


def sandbox_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(root / "data"),
        BASE_DIR=str(root / "results"),
        AFRAME_PROFILE="tiny",
        RAY_USAGE_STATS_ENABLED="0",
    )
    return env


def run_pinto(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PINTO), "run", *args],
        cwd=SANDBOX,
        env=sandbox_env(root),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def kill_during(root: Path, step: str, progress_file: str | None = None) -> None:
    """Start the pipeline and SIGKILL its whole process group inside ``step``.

    The kill comes once the step's log exists and, if given, once
    ``progress_file`` (a glob under the root) shows the step has written part of
    its work, so the kill lands mid-step rather than before it starts.
    """
    log = root / "results" / "tiny" / "logs" / f"{step}.log"
    process = subprocess.Popen(
        [str(PINTO), "run"],
        cwd=SANDBOX,
        env=sandbox_env(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"pipeline ended before it reached {step}")
            started = log.exists()
            if started and (progress_file is None or any(root.glob(progress_file))):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"pipeline never reached {step}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    stamp = root / "results" / "tiny" / ".pinto" / f"{step}.json"
    assert not stamp.exists(), f"{step} was killed but is marked done"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("sandbox")
    result = run_pinto(root)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return root, result


def test_every_step_runs_and_writes_its_artifacts(uninterrupted):
    root, result = uninterrupted
    data, base = root / "data" / "tiny", root / "results" / "tiny"
    for step in STEPS:
        assert (base / ".pinto" / f"{step}.json").exists(), step

    assert list((data / "train" / "background").glob("background-*.hdf5"))
    assert list((data / "test" / "background").glob("background-*.hdf5"))
    for name in ("train/glitches.hdf5", "train/signals.hdf5"):
        assert (data / name).exists(), name
    with h5py.File(data / "test" / "waveforms.hdf5") as f:
        accepted, total = len(f["parameters"]["snr"]), f.attrs["num_injections"]
    with h5py.File(data / "test" / "rejected-parameters.hdf5") as f:
        rejected = len(f["parameters"]["snr"])
    assert accepted + rejected == total

    for name in ("model.pt", "preprocessing.json", "batch.hdf5", "metrics.csv"):
        assert (base / "training" / name).exists(), name
    assert list((base / "model_repo").glob("aframe/*/model.onnx"))
    for name in ("background", "foreground", "zero-lag"):
        assert (base / "infer" / f"{name}.hdf5").exists(), name
    assert (base / "analysis" / "sensitive-volume.hdf5").exists()
    assert (base / "analysis" / "summary.json").exists()
    plots = base / "analysis" / "plots"
    assert list(plots.glob("*.html")) and list(plots.glob("*.png"))

    # the run ends with the summary and where to see the results
    assert "http://127.0.0.1:5005" in result.stdout
    assert "View the results" in result.stdout


def test_final_numbers_are_sane(uninterrupted):
    root, _ = uninterrupted
    base = root / "results" / "tiny"
    config = read_typeo(SANDBOX / "pyproject.toml", profile="tiny")
    requested_Tb = config["base"]["Tb"]

    background = EventSet.read(base / "infer" / "background.hdf5")
    assert background.Tb >= requested_Tb
    assert np.isfinite(background.detection_statistic).all()

    foreground = RecoveredInjectionSet.read(base / "infer" / "foreground.hdf5")
    assert len(foreground) > 0
    found = foreground.parameters["recovered"]
    assert found.any()
    # a recovered injection is matched to an event within the match window
    offset = (
        foreground.parameters["detection_time"][found]
        - foreground.parameters["injection_time"][found]
    )
    assert np.all(np.abs(offset) <= foreground.attrs["match_window"])
    assert np.all(np.isneginf(foreground.parameters["detection_statistic"][~found]))

    summary = json.loads((base / "analysis" / "summary.json").read_text())
    assert summary["Tb"] == pytest.approx(background.Tb)
    for key, value in summary.items():
        if isinstance(value, float):
            assert np.isfinite(value), key

    with h5py.File(base / "analysis" / "sensitive-volume.hdf5") as f:
        fars = f["fars"][:]
        thresholds = f["thresholds"][:]
        assert np.all(np.diff(fars) >= 0), "FAR grid is not monotone"
        assert np.all(np.diff(thresholds) <= 0), "thresholds do not fall with FAR"
        for name, group in f["populations"].items():
            sv = group["sv"][:]
            assert np.all(np.isfinite(sv)), name
            assert np.all(np.diff(sv) >= -1e-12), f"{name}: volume falls with FAR"


def test_second_run_skips_every_step(uninterrupted):
    root, _ = uninterrupted
    result = run_pinto(root)
    assert result.returncode == 0, result.stdout[-3000:]
    # one progress line per step, e.g. "[3/9] datagen:generate-waveforms: skipped"
    skipped = re.findall(r"^\[\d+/\d+\] \S+: skipped \(done\)", result.stdout, re.M)
    assert len(skipped) == len(STEPS), result.stdout[-3000:]


def test_killed_pipeline_resumes_to_the_same_results(uninterrupted, tmp_path):
    reference, _ = uninterrupted
    # inside datagen (after some timeslide jobs finished), training (after a
    # checkpoint) and inference (after some jobs finished)
    kill_during(
        tmp_path,
        "generate-timeslide-waveforms",
        "data/tiny/test/.timeslide-waveforms.parts-*/*",
    )
    kill_during(tmp_path, "train", "results/tiny/training/checkpoints/*.ckpt")
    kill_during(tmp_path, "infer", "results/tiny/infer/tmp/jobs/*/*")
    result = run_pinto(tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]

    def load(root: Path, name: str) -> dict[str, np.ndarray]:
        with h5py.File(root / "results" / "tiny" / "infer" / name) as f:
            return {k: f["parameters"][k][:] for k in f["parameters"]}

    for name in ("background.hdf5", "foreground.hdf5", "zero-lag.hdf5"):
        expected, resumed = load(reference, name), load(tmp_path, name)
        assert expected.keys() == resumed.keys()
        for key in expected:
            np.testing.assert_array_equal(resumed[key], expected[key], err_msg=key)

    expected = json.loads(
        (reference / "results" / "tiny" / "analysis" / "summary.json").read_text()
    )
    resumed = json.loads(
        (tmp_path / "results" / "tiny" / "analysis" / "summary.json").read_text()
    )
    assert resumed == expected


def test_unwritable_base_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = sandbox_env(tmp_path)
    env["BASE_DIR"] = str(blocker)
    result = subprocess.run(
        [str(PINTO), "run"],
        cwd=SANDBOX,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert str(blocker) in message
    assert "Traceback" not in message
