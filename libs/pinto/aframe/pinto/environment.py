"""Where a step's executable comes from, and per-project environments.

By default every step runs the console script installed in the environment
pinto runs from (the directory of ``sys.executable``; the workspace's one
``.venv`` after ``make setup``). ``PINTO_BIN_DIR`` or ``[tool.pinto] bin_dir``
(relative to the pipeline directory) point elsewhere. With ``--isolated`` a step
runs from its project's own environment, ``<pipeline>/<project>/.venv``, which
``pinto build PROJECT`` makes with uv: ``uv sync --package <name>`` into that
directory, resolving workspace libraries from the workspace (e.g. ``libs/``)
and pinned by ``uv.lock`` when one governs the project.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from aframe.pinto.pipeline import PintoError, Pipeline, Step
from aframe.utils.offline import OFFLINE_ENVIRONMENT

logger = logging.getLogger(__name__)

BIN_DIR_VARIABLE = "PINTO_BIN_DIR"


class BuildError(PintoError):
    """A project environment that uv could not make."""


PROJECT_VENV = ".venv"


def shared_bin_dir(pipeline: Pipeline) -> Path:
    """The directory of step executables when not isolated.

    Args:
        pipeline: the pipeline

    Returns:
        ``PINTO_BIN_DIR``, else ``[tool.pinto] bin_dir``, else the directory of
        the running Python
    """
    configured = os.environ.get(BIN_DIR_VARIABLE) or pipeline.settings.get("bin_dir")
    if configured:
        return (pipeline.root / Path(configured).expanduser()).absolute()
    # not resolved: a venv's python is a symlink to the base interpreter,
    # whose directory does not hold the venv's scripts
    return Path(sys.executable).absolute().parent


def project_venv(pipeline: Pipeline, project: str) -> Path:
    """The isolated environment of a project."""
    return pipeline.root / project / PROJECT_VENV


def executable(pipeline: Pipeline, step: Step, isolated: bool = False) -> Path:
    """The executable a step runs.

    Args:
        pipeline: the pipeline
        step: the step
        isolated: use the project's own environment

    Returns:
        the path of the step's console script
    """
    if isolated:
        path = project_venv(pipeline, step.project) / "bin" / step.script
        if not path.exists():
            raise PintoError(
                f"step {step.spec}: {path} does not exist (make the project's "
                f"environment with `pinto build {step.project}`)"
            )
        return path
    path = shared_bin_dir(pipeline) / step.script
    if not path.exists():
        raise PintoError(
            f"step {step.spec}: no executable {step.script} in {path.parent} "
            f"(install the workspace with `make setup`, or build the project's "
            f"own environment with `pinto build {step.project}` and run with "
            "--isolated)"
        )
    return path


def child_environment(bin_dir: Path, profile: str) -> dict[str, str]:
    """The environment a step runs in.

    Args:
        bin_dir: the directory of the step's executable, put first on PATH
        profile: the pipeline profile, passed on as ``AFRAME_PROFILE``

    Returns:
        a copy of ``os.environ`` (which holds ``.env``) with these settings
        and the switches that keep libraries off the network
        (``aframe.utils.offline``)
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env["AFRAME_PROFILE"] = profile
    # so a step's output reaches the terminal and log as it is written
    env["PYTHONUNBUFFERED"] = "1"
    # before any library loads: onnxruntime reads its telemetry switch then
    env.update(OFFLINE_ENVIRONMENT)
    venv = bin_dir.parent
    if (venv / "pyvenv.cfg").exists():
        env["VIRTUAL_ENV"] = str(venv)
    return env


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    # beside this Python, or where `pip install --user uv` puts it
    for candidate in (
        Path(sys.executable).absolute().parent / "uv",
        Path("~/.local/bin/uv").expanduser(),
    ):
        if candidate.exists():
            return [str(candidate)]
    raise PintoError(
        "uv is not installed: install it with `python3 -m pip install --user uv`"
    )


def _workspace_root(project_dir: Path) -> Path | None:
    # the nearest directory above with a [tool.uv.workspace] table
    for directory in project_dir.parents:
        pyproject = directory / "pyproject.toml"
        if not pyproject.exists():
            continue
        try:
            with open(pyproject, "rb") as f:
                tool = tomllib.load(f).get("tool", {})
        except tomllib.TOMLDecodeError:
            continue
        if "workspace" in tool.get("uv", {}):
            return directory
    return None


def build_command(project_dir: Path) -> tuple[list[str], Path, dict[str, str]]:
    """The uv command that makes a project's own environment.

    A workspace member is synced from the workspace root: uv, started in the
    member's directory, would stop its search for the workspace at the
    pipeline's pyproject.toml, which has no [project] table.

    Args:
        project_dir: the project's directory (holding its pyproject.toml)

    Returns:
        the command, the directory to run it in, and its environment
    """
    pyproject = project_dir / "pyproject.toml"
    if not pyproject.exists():
        raise PintoError(f"{project_dir}: no pyproject.toml, so not a project")
    try:
        with open(pyproject, "rb") as f:
            name = tomllib.load(f).get("project", {}).get("name")
    except tomllib.TOMLDecodeError as err:
        raise PintoError(f"{pyproject}: not valid TOML ({err})") from err
    if not name:
        raise PintoError(f"{pyproject}: no [project] name")
    root = _workspace_root(project_dir) or project_dir
    command = [*_uv(), "sync", "--package", name, "--no-dev"]
    if (root / "uv.lock").exists():
        # install exactly what the lock pins; `uv lock` updates it
        command.append("--frozen")
    env = dict(os.environ)
    env["UV_PROJECT_ENVIRONMENT"] = str(project_dir / PROJECT_VENV)
    env.pop("VIRTUAL_ENV", None)
    return command, root, env


def build(pipeline: Pipeline, project: str) -> Path:
    """Make (or update) a project's own environment with uv.

    uv's output goes to this process's stdout and stderr.

    Args:
        pipeline: the pipeline
        project: the project's directory name

    Returns:
        the environment's directory
    """
    project_dir = pipeline.root / project
    if not project_dir.is_dir():
        known = sorted({s.project for s in pipeline.steps})
        raise PintoError(
            f"{project_dir}: no such project (projects of this pipeline: "
            f"{', '.join(known)})"
        )
    command, cwd, env = build_command(project_dir)
    logger.info(
        "in %s: UV_PROJECT_ENVIRONMENT=%s %s",
        cwd,
        env["UV_PROJECT_ENVIRONMENT"],
        " ".join(command),
    )
    result = subprocess.run(command, cwd=cwd, env=env)
    if result.returncode != 0:
        raise BuildError(
            f"building {project} failed: `{' '.join(command)}` exited "
            f"{result.returncode}"
        )
    return project_venv(pipeline, project)
