import json
import os
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from aframe.pinto.environment import (
    build_command,
    child_environment,
    executable,
    shared_bin_dir,
)
from aframe.pinto.pipeline import PintoError, Pipeline

UTILS = Path(__file__).resolve().parents[2] / "utils"
WORKSPACE = UTILS.parents[1]

RECORD_STEP = """#!{python}
import json, sys
from pathlib import Path

import aframe.utils
from aframe.utils.config import script_config

spec = sys.argv[sys.argv.index("--typeo") + 1]
path, script = spec.split(":")[:2]
args, _ = script_config(path, script)
record = {{"python": sys.executable, "utils": aframe.utils.__file__}}
Path(args["calls"]).write_text(json.dumps(record))
"""


def copy_workspace(destination: Path) -> Path:
    """A copy of this workspace's definition, with the sources of two light libs.

    uv needs every member's pyproject.toml to read the workspace, and the
    sources of what it installs (aframe-pinto and aframe-utils). The copied
    uv.lock pins everything, so the packages come from uv's cache, offline.
    """
    shutil.copy(WORKSPACE / "pyproject.toml", destination / "pyproject.toml")
    shutil.copy(WORKSPACE / "uv.lock", destination / "uv.lock")
    with open(WORKSPACE / "pyproject.toml", "rb") as f:
        members = tomllib.load(f)["tool"]["uv"]["workspace"]["members"]
    for member in members:
        (destination / member).mkdir(parents=True)
        shutil.copy(WORKSPACE / member / "pyproject.toml", destination / member)
    for member in ("libs/utils", "libs/pinto"):
        shutil.copytree(
            WORKSPACE / member / "aframe",
            destination / member / "aframe",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return destination


def test_shared_bin_dir_defaults_to_the_running_environment(sandbox):
    sandbox.edit('bin_dir = "bin"\n', "")
    pipeline = Pipeline.load()
    assert shared_bin_dir(pipeline) == Path(sys.executable).absolute().parent
    os.environ["PINTO_BIN_DIR"] = "elsewhere"
    assert shared_bin_dir(pipeline) == sandbox.root / "elsewhere"


def test_executable_lookup(sandbox):
    pipeline = Pipeline.load()
    train = pipeline.steps[1]
    assert executable(pipeline, train) == sandbox.root / "bin" / "train"
    with pytest.raises(PintoError, match=r"fit/\.venv/bin/train does not exist"):
        executable(pipeline, train, isolated=True)


def test_child_environment(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("")
    env = child_environment(venv / "bin", "tiny")
    assert env["PATH"].split(os.pathsep)[0] == str(venv / "bin")
    assert env["AFRAME_PROFILE"] == "tiny"
    assert env["VIRTUAL_ENV"] == str(venv)
    assert env["PYTHONUNBUFFERED"] == "1"


def test_build_command_uses_the_workspace_lock():
    # a sandbox project of this repository: locked by the workspace's uv.lock
    command, cwd, env = build_command(WORKSPACE / "projects" / "sandbox" / "datagen")
    assert cwd == WORKSPACE
    assert command[1:] == [
        "sync",
        "--package",
        "aframe-datagen",
        "--no-dev",
        "--frozen",
    ]
    expected = WORKSPACE / "projects" / "sandbox" / "datagen" / ".venv"
    assert env["UV_PROJECT_ENVIRONMENT"] == str(expected)
    with pytest.raises(PintoError, match="no pyproject.toml"):
        build_command(WORKSPACE / "docs")


def test_build_a_light_project_and_run_isolated(sandbox, tmp_path):
    workspace = copy_workspace(tmp_path)
    # the pipeline: libs/ of the copy, whose project "pinto" is aframe-pinto,
    # a light member (aframe-utils, python-dotenv, rich): never torch here
    pipeline = workspace / "libs"
    (pipeline / "pyproject.toml").write_text(
        '[tool.pinto]\nsteps = ["pinto:record-step"]\nmin_free_gib = 0.001\n'
        '[tool.typeo.base]\nbasedir = "${BASE_DIR}"\n'
        '[tool.typeo.scripts.record-step]\ncalls = "${BASE_DIR}/record.json"\n'
    )
    os.chdir(pipeline)
    code, out = sandbox.run("run", "--isolated")
    assert code == 2
    assert "make the project's environment with `pinto build pinto`" in out

    os.environ["UV_OFFLINE"] = "1"  # tests never reach the network
    code, out = sandbox.run("build", "pinto")
    assert code == 0, out
    venv = pipeline / "pinto" / ".venv"
    assert f"built {venv}" in out
    assert (venv / "bin" / "pinto").exists()

    # a step script installed in the project's environment, not the shared one
    python = venv / "bin" / "python"
    write_step(venv / "bin" / "record-step", RECORD_STEP.format(python=python))
    code, out = sandbox.run("run", "--isolated")
    assert code == 0, out
    record = json.loads((sandbox.base / "record.json").read_text())
    assert record["python"] == str(python)
    # the workspace library, installed editable from the copy's libs/utils
    assert Path(record["utils"]).is_relative_to(workspace / "libs" / "utils")

    code, out = sandbox.run("build", "nonexistent")
    assert code == 2
    assert "no such project (projects of this pipeline: pinto)" in out


def write_step(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)
