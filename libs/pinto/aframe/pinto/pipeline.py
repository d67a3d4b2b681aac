"""A pipeline: the ``[tool.pinto]`` steps and ``[tool.typeo]`` tables of a pyproject.

A pipeline directory (e.g. ``projects/sandbox``) holds a ``pyproject.toml`` with

```toml
[tool.pinto]
steps = ["datagen:generate-background", "train:train:resnet", ...]
bin_dir = "..."       # optional: where the step executables are (see environment)
min_free_gib = 1.0    # optional: free space required under basedir and datadir
```

and one directory per project named in the steps. Each step is
``project:script[:subcommand]``; it runs ``script --typeo
<pyproject>:script[:subcommand]`` in the project's directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aframe.utils.config import ConfigError, read_typeo


class PintoError(ValueError):
    """A pipeline that cannot be run as configured."""


@dataclass(frozen=True)
class Step:
    """One step of a pipeline.

    Args:
        spec: ``project:script[:subcommand]`` as written in ``[tool.pinto] steps``
        project: the project's directory name, beside the pipeline's pyproject
        script: the console script to run, and the name of its typeo table
        subcommand: the script's subcommand, if any
        key: the file stem of the step's log and stamp
    """

    spec: str
    project: str
    script: str
    subcommand: str | None
    key: str

    @classmethod
    def parse(cls, spec: str, key: str | None = None) -> Step:
        """Parse ``project:script[:subcommand]``.

        Args:
            spec: the step as written in ``[tool.pinto] steps``
            key: the file stem for its log and stamp (default: the script)

        Returns:
            the step
        """
        if not isinstance(spec, str):
            raise PintoError(f"step {spec!r}: expected a string project:script")
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
            raise PintoError(
                f"step {spec!r}: expected project:script or project:script:subcommand"
            )
        project, script = parts[0], parts[1]
        subcommand = parts[2] if len(parts) == 3 else None
        return cls(spec, project, script, subcommand, key or script)

    def matches(self, name: str) -> bool:
        """Whether ``name`` (script, project:script or the spec) names this step."""
        return name in (self.script, f"{self.project}:{self.script}", self.spec)


def _keys(specs: list[str]) -> list[str]:
    # logs and stamps are named by script; a script used by two steps (with
    # different subcommands) gets the subcommand appended to keep them apart
    scripts = [s.split(":")[1] for s in specs]
    keys = []
    for spec, script in zip(specs, scripts):
        if scripts.count(script) > 1:
            keys.append("-".join(spec.split(":")[1:]))
        else:
            keys.append(script)
    return keys


@dataclass
class Pipeline:
    """A pipeline read from its pyproject.toml, with every reference resolved.

    Args:
        pyproject: absolute path of the pipeline's pyproject.toml
        steps: the steps, in order
        settings: the ``[tool.pinto]`` table
        config: the resolved typeo tables (``aframe.utils.config.read_typeo``)
    """

    pyproject: Path
    steps: list[Step]
    settings: dict[str, Any]
    config: dict[str, Any]
    _hashes: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path = ".", profile: str | None = None) -> Pipeline:
        """Read a pipeline, loading its ``.env`` into the environment.

        Args:
            path: the pipeline's pyproject.toml or its directory
            profile: the profile to apply (default: ``AFRAME_PROFILE``, ``.env``
                or ``[tool.typeo] profile``)

        Returns:
            the pipeline
        """
        path = Path(path).expanduser()
        if path.is_dir():
            path = path / "pyproject.toml"
        path = path.absolute()
        if not path.exists():
            raise PintoError(
                f"{path}: no such file (run pinto from a pipeline directory, "
                "e.g. projects/sandbox, or pass --pipeline)"
            )
        try:
            with open(path, "rb") as f:
                document = tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise PintoError(f"{path}: not valid TOML ({err})") from err
        settings = document.get("tool", {}).get("pinto")
        if not isinstance(settings, dict) or "steps" not in settings:
            raise PintoError(f"{path}: no [tool.pinto] steps list")
        specs = settings["steps"]
        if not isinstance(specs, list) or not specs:
            raise PintoError(f"{path}: [tool.pinto] steps must be a non-empty list")
        parsed = [Step.parse(spec) for spec in specs]
        if len(set(specs)) != len(specs):
            raise PintoError(f"{path}: [tool.pinto] steps lists a step twice")
        steps = [
            Step(s.spec, s.project, s.script, s.subcommand, key)
            for s, key in zip(parsed, _keys(specs))
        ]
        try:
            config = read_typeo(path, profile=profile)
        except ConfigError as err:
            raise PintoError(str(err)) from err
        return cls(path, steps, settings, config)

    @property
    def root(self) -> Path:
        """The pipeline directory, holding one directory per project."""
        return self.pyproject.parent

    @property
    def profile(self) -> str:
        """The selected profile's name."""
        return self.config["profile"]

    def _directory(self, key: str, variable: str) -> Path:
        value = self.config["base"].get(key) or os.environ.get(variable)
        if not value:
            raise PintoError(
                f"{self.pyproject}: neither base.{key} nor {variable} is set"
            )
        return Path(str(value)).expanduser().absolute()

    @property
    def basedir(self) -> Path:
        """Where this experiment's outputs go: ``base.basedir``, else BASE_DIR."""
        return self._directory("basedir", "BASE_DIR")

    @property
    def datadir(self) -> Path:
        """Where reusable input data go: ``base.datadir``, else DATA_DIR."""
        return self._directory("datadir", "DATA_DIR")

    @property
    def stamp_dir(self) -> Path:
        """Where a finished step's stamp is written."""
        return self.basedir / ".pinto"

    @property
    def log_dir(self) -> Path:
        """Where each step's complete output is written."""
        return self.basedir / "logs"

    def log_path(self, step: Step) -> Path:
        """The log file of ``step``."""
        return self.log_dir / f"{step.key}.log"

    def stamp_path(self, step: Step) -> Path:
        """The stamp file of ``step``."""
        return self.stamp_dir / f"{step.key}.json"

    def project_dir(self, step: Step) -> Path:
        """The directory a step runs in: its project's, beside the pyproject."""
        return self.root / step.project

    def typeo_spec(self, step: Step) -> str:
        """The ``--typeo`` argument of ``step``."""
        spec = f"{self.pyproject}:{step.script}"
        return f"{spec}:{step.subcommand}" if step.subcommand else spec

    def select(self, names: list[str] | None) -> list[Step]:
        """The steps named by ``names`` (all when empty), in pipeline order.

        Args:
            names: script names, ``project:script`` or full step specs

        Returns:
            the selected steps
        """
        if not names:
            return list(self.steps)
        unknown = [n for n in names if not any(s.matches(n) for s in self.steps)]
        if unknown:
            known = ", ".join(s.spec for s in self.steps)
            raise PintoError(
                f"unknown step(s) {', '.join(unknown)} (steps of "
                f"{self.pyproject}: {known})"
            )
        return [s for s in self.steps if any(s.matches(n) for n in names)]

    def arguments(self, step: Step) -> dict[str, Any]:
        """The resolved arguments ``step`` will read from its typeo table.

        Args:
            step: the step

        Returns:
            ``{"arguments": {...}, "subcommand": {...} or None}``
        """
        scripts = self.config["scripts"]
        if step.script not in scripts:
            raise PintoError(
                f"step {step.spec}: no [tool.typeo.scripts.{step.script}] table "
                f"in {self.pyproject}"
            )
        arguments = dict(scripts[step.script])
        commands = arguments.pop("commands", {}) or {}
        sub = None
        if step.subcommand is not None:
            if step.subcommand not in commands:
                raise PintoError(
                    f"step {step.spec}: no [tool.typeo.scripts.{step.script}."
                    f"commands.{step.subcommand}] table in {self.pyproject}"
                )
            sub = commands[step.subcommand]
        return {"arguments": arguments, "subcommand": sub}

    def step_hash(self, step: Step) -> str:
        """A hash of everything that decides a step's outputs.

        The step's resolved arguments, the profile, and the hash of the step
        before it, so a change upstream makes every later step stale too.

        Args:
            step: the step

        Returns:
            a hex digest
        """
        if step.key in self._hashes:
            return self._hashes[step.key]
        upstream = None
        for previous in self.steps:
            if previous == step:
                break
            upstream = previous
        content = {
            "step": step.spec,
            "profile": self.profile,
            **self.arguments(step),
            "upstream": self.step_hash(upstream) if upstream else None,
        }
        text = json.dumps(content, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()
        self._hashes[step.key] = digest
        return digest

    def later_steps(self, step: Step) -> list[Step]:
        """The steps after ``step`` in pipeline order."""
        return self.steps[self.steps.index(step) + 1 :]

    def earlier_steps(self, step: Step) -> list[Step]:
        """The steps before ``step`` in pipeline order."""
        return self.steps[: self.steps.index(step)]

    def vizapp_address(self) -> tuple[str, int]:
        """Host and port of the results app, from ``[tool.typeo.scripts.vizapp]``."""
        table = self.config["scripts"].get("vizapp", {}) or {}
        host = table.get("host", "127.0.0.1")
        port = table.get("port", 5005)
        return str(host), int(port)

    @property
    def min_free_bytes(self) -> int:
        """Free space required under basedir and datadir, in bytes."""
        gib = self.settings.get("min_free_gib", 1.0)
        try:
            gib = float(gib)
        except (TypeError, ValueError) as err:
            raise PintoError(
                f"{self.pyproject}: [tool.pinto] min_free_gib must be a number, "
                f"got {gib!r}"
            ) from err
        return int(gib * 2**30)
