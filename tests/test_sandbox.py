"""End to end: the tiny sandbox through ``pinto run``, with kill-and-resume.

The ``tiny`` profile runs every step of the pipeline (datagen, train, export,
infer, analysis) in a few minutes on 2 CPU cores. These tests run it in
temporary DATA_DIR/BASE_DIR folders and check every artifact, the final
numbers' sanity, that a second run skips every step, and that a pipeline killed
with SIGKILL inside datagen, training and inference, or whose results disk
fills during training, finishes, when run again, with the same final artifacts
as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

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
DATA_STEPS = STEPS[:4]
# each run of the tiny chain must finish well inside this
RUN_TIMEOUT = 900

pytestmark = pytest.mark.slow


def sandbox_env(root: Path, data: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(data or root / "data"),
        BASE_DIR=str(root / "results"),
        AFRAME_PROFILE="tiny",
        RAY_USAGE_STATS_ENABLED="0",
    )
    return env


def stamp_of(root: Path, step: str) -> Path:
    """Where a step's stamp lives: datagen's with the data, the rest with results."""
    where = "data" if step in DATA_STEPS else "results"
    return root / where / "tiny" / ".pinto" / f"{step}.json"


def run_pinto(
    root: Path, *args: str, pipeline: Path = SANDBOX, data: Path | None = None
) -> subprocess.CompletedProcess:
    """``pinto run`` on ``root``'s folders (or on the data folder ``data``)."""
    return subprocess.run(
        [str(PINTO), "run", *args],
        cwd=pipeline,
        env=sandbox_env(root, data),
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
    assert not stamp_of(root, step).exists(), f"{step} was killed but is marked done"


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
        assert stamp_of(root, step).exists(), step
    # datagen's stamps live with the data, so other experiments reuse it
    for step in DATA_STEPS:
        assert (data / ".pinto" / f"{step}.json").exists(), step

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
    assert_same_results(reference, tmp_path)


def assert_same_results(reference: Path, root: Path) -> None:
    """Infer's events and the analysis summary of ``root`` equal the reference's."""

    def load(root: Path, name: str) -> dict[str, np.ndarray]:
        with h5py.File(root / "results" / "tiny" / "infer" / name) as f:
            return {k: f["parameters"][k][:] for k in f["parameters"]}

    for name in ("background.hdf5", "foreground.hdf5", "zero-lag.hdf5"):
        expected, resumed = load(reference, name), load(root, name)
        assert expected.keys() == resumed.keys()
        for key in expected:
            np.testing.assert_array_equal(resumed[key], expected[key], err_msg=key)

    def summary(root: Path) -> dict:
        path = root / "results" / "tiny" / "analysis" / "summary.json"
        return json.loads(path.read_text())

    assert summary(root) == summary(reference)


@pytest.fixture
def small_results(uninterrupted, tmp_path):
    """``tmp_path/results`` on a real tmpfs that fills in training's 2nd epoch.

    Sized from the reference's checkpoint: room for the logs, config.yaml,
    best.ckpt and last.ckpt of the first epoch, not for the second epoch's
    checkpoint beside them (each is written whole to a temporary file, then
    renamed). The datagen steps write to DATA_DIR, not here; export and infer
    come after.
    """
    reference, _ = uninterrupted
    checkpoint = reference / "results" / "tiny" / "training" / "checkpoints"
    size = (checkpoint / "best.ckpt").stat().st_size
    mount = tmp_path / "results"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    kib = (size * 2 + 320 * 1024) // 1024
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_disk_that_fills_during_training_resumes_to_the_same_results(
    uninterrupted, small_results, tmp_path
):
    reference, _ = uninterrupted
    # [tool.pinto] asks 1 GiB free before a run starts; this disk has < 1 MiB.
    # The reference's datagen (same DATA_DIR, same arguments) is reused.
    pipeline = pipeline_copy(tmp_path)
    edit(pipeline, "[tool.pinto]\n", "[tool.pinto]\nmin_free_gib = 0\n")
    data = reference / "data"

    result = run_pinto(tmp_path, pipeline=pipeline, data=data)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-5000:]
    assert "Traceback" not in output, output[-5000:]
    full = [line for line in output.splitlines() if "No space left on device" in line]
    assert full, output[-5000:]
    assert "step train:train:resnet failed" in result.stdout, output[-5000:]
    for step in DATA_STEPS:
        assert f"{step}: skipped (done)" in result.stdout, step
    assert not stamp_of(tmp_path, "train").exists()
    assert not stamp_of(tmp_path, "export-model").exists()
    # the last good state is kept: the first epoch's whole checkpoint
    last = tmp_path / "results" / "tiny" / "training" / "checkpoints" / "last.ckpt"
    assert torch.load(last, map_location="cpu", weights_only=False)["epoch"] == 0

    # free space: the same disk, grown
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_results)], check=True)
    result = run_pinto(tmp_path, pipeline=pipeline, data=data)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert stamp_of(tmp_path, "train").exists()
    log = tmp_path / "results" / "tiny" / "logs" / "train.log"
    assert "resum" in log.read_text().lower(), log.read_text()[-3000:]
    assert_same_results(reference, tmp_path)


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


# ---------------------------------------------------------------- provenance
# These change the settings of the uninterrupted run, so they come last.
def pipeline_copy(tmp_path: Path) -> Path:
    """The sandbox pipeline with its own pyproject.toml and the real projects."""
    root = tmp_path / "sandbox"
    root.mkdir()
    shutil.copy(SANDBOX / "pyproject.toml", root / "pyproject.toml")
    for project in SANDBOX.glob("*/pyproject.toml"):
        (root / project.parent.name).symlink_to(project.parent)
    return root


def edit(pipeline: Path, old: str, new: str) -> None:
    path = pipeline / "pyproject.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def ran_steps(stdout: str) -> list[str]:
    """The scripts of the steps a run started, e.g. ``[1/9] spec (reason)``."""
    specs = re.findall(r"^\[\d+/\d+\] (\S+) \(", stdout, re.M)
    return [spec.split(":")[1] for spec in specs]


def test_an_upstream_change_reruns_exactly_what_reads_it(uninterrupted, tmp_path):
    root, _ = uninterrupted
    pipeline = pipeline_copy(tmp_path)
    data, base = root / "data" / "tiny", root / "results" / "tiny"
    glitches = data / "train" / "glitches.hdf5"
    old_glitches = glitches.read_bytes()
    old_model = (base / "training" / "model.pt").read_bytes()
    signals = (data / "train" / "signals.hdf5").stat().st_mtime_ns

    edit(pipeline, "glitch_rate = 120.0", "glitch_rate = 60.0")
    result = run_pinto(root, pipeline=pipeline)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    # every step that reads the background, directly or not, and nothing else
    assert ran_steps(result.stdout) == [
        "generate-background",
        "generate-glitches",
        "generate-timeslide-waveforms",
        "train",
        "export-model",
        "infer",
        "sensitive-volume",
        "plots",
    ], result.stdout[-3000:]
    assert "datagen:generate-waveforms: skipped (done)" in result.stdout
    assert (data / "train" / "signals.hdf5").stat().st_mtime_ns == signals
    # and each redid its work: nothing of the old background survives
    for line in ("is complete", "nothing to do", "already holds this training"):
        assert line not in result.stdout, line
    assert glitches.read_bytes() != old_glitches
    assert (base / "training" / "model.pt").read_bytes() != old_model


def test_force_on_a_changed_training_retrains(uninterrupted, tmp_path):
    root, _ = uninterrupted
    pipeline = pipeline_copy(tmp_path)
    base = root / "results" / "tiny"
    edit(pipeline, "[tool.typeo.profiles.tiny.scripts.train]\n",
         "[tool.typeo.profiles.tiny.scripts.train]\nlr = 1e-3\n")  # fmt: skip
    old_model = (base / "training" / "model.pt").read_bytes()
    result = run_pinto(root, "train", "--force", pipeline=pipeline)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert ran_steps(result.stdout) == ["train"]
    assert "holds a training with other arguments" not in result.stdout
    assert (base / "training" / "model.pt").read_bytes() != old_model


def test_a_second_run_exits_at_once_naming_the_first(uninterrupted, tmp_path):
    root, _ = uninterrupted
    log = root / "results" / "tiny" / "logs" / "infer.log"
    log.unlink(missing_ok=True)
    first = subprocess.Popen(
        [str(PINTO), "run", "infer", "--force"],
        cwd=SANDBOX,
        env=sandbox_env(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not log.exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        started = time.monotonic()
        second = run_pinto(root)
        assert second.returncode == 3
        assert f"pid {first.pid}" in second.stderr
        assert time.monotonic() - started < 30
    finally:
        first.wait(timeout=RUN_TIMEOUT)
    assert first.returncode == 0
