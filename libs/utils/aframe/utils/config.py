"""Pipeline configuration: ``[tool.typeo]`` tables of a pyproject.toml.

A pipeline's ``pyproject.toml`` holds a ``[tool.typeo.base]`` table of shared
values and one ``[tool.typeo.scripts.NAME]`` table per script. Values may
reference ``${base.key}`` (another base value) and ``${ENV_VAR}`` or
``${ENV_VAR:-default}`` (the environment, after loading the ``.env`` file that
sits beside the pyproject). A string that is exactly one reference takes the
referenced value with its type (a list stays a list); a reference inside a longer
string is substituted as text.

Profiles: ``[tool.typeo.profiles.NAME]`` holds ``base`` and ``scripts`` tables
that are merged over the defaults when that profile is selected, by the
``AFRAME_PROFILE`` environment variable (or ``.env``), else by ``profile`` in
``[tool.typeo]``; ``${profile}`` in any value is the selected profile's name
(``default`` when none is). One setting thus switches every step between, e.g.,
a tiny CI run, the laptop default and a GPU-cluster ``full`` run.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

PROFILE_VARIABLE = "AFRAME_PROFILE"
DEFAULT_ENVIRONMENT = {
    # where reusable input data and one experiment's outputs go when neither
    # the environment nor .env says otherwise
    "DATA_DIR": "~/aframe/data",
    "BASE_DIR": "~/aframe/results",
}

_REFERENCE = re.compile(r"\$\{([^}]+)\}")


class ConfigError(ValueError):
    """A pipeline configuration that cannot be resolved."""


def load_env(pyproject: Path) -> dict[str, str]:
    """Load the ``.env`` file beside ``pyproject`` into ``os.environ``.

    Values already set (non-empty) in the environment win over the file. The
    documented defaults of ``DATA_DIR`` and ``BASE_DIR`` apply when neither
    sets them.

    Args:
        pyproject: path to the pipeline's pyproject.toml

    Returns:
        the variables that were read from the ``.env`` file
    """
    env_file = Path(pyproject).resolve().parent / ".env"
    values: dict[str, str] = {}
    if env_file.exists():
        values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        for key, value in values.items():
            if not os.environ.get(key):
                os.environ[key] = value
    for key, value in DEFAULT_ENVIRONMENT.items():
        # an empty DATA_DIR would put data under the filesystem root
        if not os.environ.get(key):
            os.environ[key] = value
    return values


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _lookup_env(expression: str, where: str) -> str:
    name, _, default = expression.partition(":-")
    # as in the shell, ${NAME:-default} also replaces an empty value
    if ":-" in expression and not os.environ.get(name):
        value = default
    elif name in os.environ:
        value = os.environ[name]
    else:
        raise ConfigError(f"{where}: environment variable {name} is not set")
    return os.path.expanduser(value) if name.endswith("_DIR") else value


def _resolve(
    value: Any, base: dict, where: str, depth: int = 0, profile: str = "default"
) -> Any:
    if depth > 20:
        raise ConfigError(f"{where}: references nest too deeply (a cycle?)")
    if isinstance(value, dict):
        return {
            k: _resolve(v, base, f"{where}.{k}", depth, profile)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_resolve(v, base, where, depth, profile) for v in value]
    if not isinstance(value, str):
        return value

    def lookup(expression: str) -> Any:
        if expression == "profile":
            return profile
        if expression.startswith("base."):
            key = expression[len("base.") :]
            if key not in base:
                raise ConfigError(
                    f"{where}: ${{base.{key}}} is not in [tool.typeo.base]"
                )
            return _resolve(base[key], base, f"base.{key}", depth + 1, profile)
        return _lookup_env(expression, where)

    whole = _REFERENCE.fullmatch(value)
    if whole:
        return lookup(whole.group(1))
    return _REFERENCE.sub(lambda m: str(lookup(m.group(1))), value)


def read_typeo(pyproject: str | Path, profile: str | None = None) -> dict:
    """Read and resolve the ``[tool.typeo]`` tables of a pipeline.

    Args:
        pyproject: path to the pipeline's pyproject.toml
        profile: profile to apply; by default ``AFRAME_PROFILE`` or the
            ``profile`` key of ``[tool.typeo]``

    Returns:
        ``{"profile": name, "base": {...}, "scripts": {name: {...}}}`` with every
        reference resolved
    """
    pyproject = Path(pyproject)
    if not pyproject.exists():
        raise ConfigError(f"{pyproject}: no such file")
    try:
        with open(pyproject, "rb") as f:
            document = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{pyproject}: not valid TOML ({err})") from err
    load_env(pyproject)
    table = document.get("tool", {}).get("typeo")
    if table is None:
        raise ConfigError(f"{pyproject}: no [tool.typeo] table")

    profiles = table.get("profiles", {})
    profile = profile or os.environ.get(PROFILE_VARIABLE) or table.get("profile")
    merged = {"base": table.get("base", {}), "scripts": table.get("scripts", {})}
    if profile and profile != "default":
        if profile not in profiles:
            known = ", ".join(["default", *profiles]) or "none"
            raise ConfigError(
                f"{pyproject}: unknown profile {profile!r} (known profiles: {known})"
            )
        merged = _merge(merged, profiles[profile])
    profile = profile or "default"
    base = merged["base"]
    resolved_base = {
        k: _resolve(v, base, f"base.{k}", profile=profile) for k, v in base.items()
    }
    scripts = {
        name: _resolve(args, base, f"scripts.{name}", profile=profile)
        for name, args in merged["scripts"].items()
    }
    return {"profile": profile, "base": resolved_base, "scripts": scripts}


def script_config(
    pyproject: str | Path, script: str, subcommand: str | None = None
) -> tuple[dict, dict | None]:
    """Arguments of one script (and of one of its subcommands) from a pipeline.

    A script table may hold a ``commands`` table with one table of arguments per
    subcommand, e.g. ``[tool.typeo.scripts.train.commands.resnet]``.

    Args:
        pyproject: path to the pipeline's pyproject.toml
        script: the script's name in ``[tool.typeo.scripts]``
        subcommand: the subcommand whose arguments to return as well

    Returns:
        the script's arguments, and the subcommand's (None without one)
    """
    config = read_typeo(pyproject)
    if script not in config["scripts"]:
        raise ConfigError(f"{pyproject}: no [tool.typeo.scripts.{script}] table")
    args = dict(config["scripts"][script])
    commands = args.pop("commands", {})
    if subcommand is None:
        return args, None
    if subcommand not in commands:
        raise ConfigError(
            f"{pyproject}: script {script} has no subcommand {subcommand!r} "
            f"(known: {', '.join(commands) or 'none'})"
        )
    return args, dict(commands[subcommand])
