"""A pipeline: the ``[tool.pinto]`` steps and ``[tool.typeo]`` tables of a pyproject.

A pipeline directory (e.g. ``projects/sandbox``) holds a ``pyproject.toml`` with

```toml
[tool.pinto]
steps = ["datagen:generate-background", "train:train:resnet", ...]
bin_dir = "..."       # optional: where the step executables are (see environment)
min_free_gib = 1.0    # optional: free space required under basedir and datadir

[tool.pinto.needs]    # optional: the steps each step reads (default: all earlier)
train = ["generate-background", "generate-waveforms"]
```

and one directory per project named in the steps. Each step is
``project:script[:subcommand]`` (names of letters, digits, ``_``, ``.`` and
``-``); it runs ``script --typeo <pyproject>:script[:subcommand]`` in the
project's directory.

A step whose table names only DATA_DIR paths (datagen) writes reusable input
data: its stamp lives in ``<datadir>/.pinto`` so that every experiment using
that data folder sees it done; every other step's stamp lives in
``<basedir>/.pinto``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aframe.utils.config import ConfigError, read_typeo


class PintoError(ValueError):
    """A pipeline that cannot be run as configured."""


# a project directory, console script or subcommand: never a path
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _check_name(spec: str, part: str, what: str) -> None:
    if not _NAME.fullmatch(part) or ".." in part:
        raise PintoError(
            f"step {spec!r}: {what} {part!r} must be a name of letters, digits, "
            "'_', '.' and '-' (not a path)"
        )


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
        for part, what in zip(parts, ("project", "script", "subcommand")):
            _check_name(spec, part, what)
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
        path = Path(str(value)).expanduser()
        # relative to the pipeline, never to where pinto was started
        return path if path.is_absolute() else self.root / path

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
        return self.stamp_dir_of(step) / f"{step.key}.json"

    def attempt_path(self, step: Step) -> Path:
        """The record of ``step``'s unfinished run."""
        return self.stamp_dir_of(step) / f"{step.key}.attempt.json"

    def outputs_path(self, step: Step) -> Path:
        """Where ``step`` reports the outputs its function returned."""
        return self.stamp_dir_of(step) / f".{step.key}.outputs.json"

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
        """A hash of the step's resolved arguments (and of its profile).

        What the step reads from other steps enters its provenance through
        their identities (``aframe.pinto.stamps``), not through this hash.

        Args:
            step: the step

        Returns:
            a hex digest
        """
        if step.key in self._hashes:
            return self._hashes[step.key]
        content = {"step": step.spec, "profile": self.profile, **self.arguments(step)}
        text = json.dumps(content, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()
        self._hashes[step.key] = digest
        return digest

    def needs(self, step: Step) -> list[Step]:
        """The steps whose outputs ``step`` reads.

        ``[tool.pinto.needs]`` lists them per step (by key, script or spec);
        a step it does not list reads every earlier step.

        Args:
            step: the step

        Returns:
            earlier steps, in pipeline order
        """
        table = self.settings.get("needs", {}) or {}
        if not isinstance(table, dict):
            raise PintoError(f"{self.pyproject}: [tool.pinto] needs must be a table")
        earlier = self.earlier_steps(step)
        entry = next(
            (v for k, v in table.items() if step.matches(k) or k == step.key), None
        )
        if entry is None:
            return earlier
        if not isinstance(entry, list):
            raise PintoError(
                f"{self.pyproject}: [tool.pinto.needs] {step.key} must be a list "
                "of step names"
            )
        chosen = []
        for name in entry:
            found = [s for s in earlier if s.matches(str(name)) or s.key == name]
            if not found:
                raise PintoError(
                    f"{self.pyproject}: [tool.pinto.needs] {step.key}: {name!r} is "
                    f"not a step before it (earlier steps: "
                    f"{', '.join(s.key for s in earlier) or 'none'})"
                )
            chosen += found
        return [s for s in earlier if s in chosen]

    def check_needs(self) -> None:
        """Check every ``[tool.pinto.needs]`` entry names a step and earlier ones."""
        table = self.settings.get("needs", {}) or {}
        if not isinstance(table, dict):
            raise PintoError(f"{self.pyproject}: [tool.pinto] needs must be a table")
        for key in table:
            if not any(s.matches(key) or s.key == key for s in self.steps):
                raise PintoError(
                    f"{self.pyproject}: [tool.pinto.needs] {key}: not a step "
                    f"({', '.join(s.key for s in self.steps)})"
                )
        for step in self.steps:
            self.needs(step)

    def writes_data(self, step: Step) -> bool:
        """Whether a step's table names DATA_DIR paths and no BASE_DIR path."""
        datadir, basedir = str(self.datadir), str(self.basedir)

        def strings(value: Any) -> list[str]:
            if isinstance(value, dict):
                return [s for v in value.values() for s in strings(v)]
            if isinstance(value, list):
                return [s for v in value for s in strings(v)]
            return [str(value)] if isinstance(value, str | Path) else []

        def under(text: str, root: str) -> bool:
            return text == root or text.startswith(root.rstrip("/") + "/")

        values = strings(self.arguments(step))
        if any(under(v, basedir) for v in values):
            return False
        return any(under(v, datadir) for v in values)

    def stamp_dir_of(self, step: Step) -> Path:
        """Where ``step``'s stamp lives: datadir for data steps, else basedir."""
        root = self.datadir if self.writes_data(step) else self.basedir
        return root / ".pinto"

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
