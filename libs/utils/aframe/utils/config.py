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

The tables are checked strictly, so a typo fails at once instead of being
ignored: ``[tool.typeo]`` holds only ``base``, ``scripts``, ``profiles`` and
``profile``; a profile holds only ``base`` and ``scripts`` tables that override
existing ones (``profiles.tiny.scripts.trian`` is an error); every base value
is referenced by some table (a misspelt base key is an error). Each
script's table is checked against its signature by ``aframe.utils.cli``.

``.env`` lines may use ``$VAR``, ``${VAR}`` and ``${VAR:-default}``: they
expand from the calling environment first, then from earlier lines of the
file (single-quoted values stay literal). A relative ``DATA_DIR`` or
``BASE_DIR`` (any ``*_DIR`` variable a table references) is taken relative
to the pipeline's directory, wherever the script runs.
"""

from __future__ import annotations

import copy
import difflib
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from dotenv.parser import parse_stream

logger = logging.getLogger(__name__)

PROFILE_VARIABLE = "AFRAME_PROFILE"
DEFAULT_ENVIRONMENT = {
    # where reusable input data and one experiment's outputs go when neither
    # the environment nor .env says otherwise
    "DATA_DIR": "~/aframe/data",
    "BASE_DIR": "~/aframe/results",
}

_REFERENCE = re.compile(r"\$\{([^}]+)\}")
# $NAME or ${NAME} or ${NAME:-default} in a .env value
_SHELL_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
_SINGLE_QUOTED = re.compile(r"^\s*(?:export\s+)?[^=]+=\s*'")
#: tables of [tool.typeo] and of each profile
TYPEO_TABLES = ("base", "scripts", "profiles", "profile")
PROFILE_TABLES = ("base", "scripts")
#: base keys read by the runner itself rather than by a table's reference
RUNNER_BASE_KEYS = ("datadir", "basedir")


class ConfigError(ValueError):
    """A pipeline configuration that cannot be resolved."""


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def expand_variables(
    value: str, lookup: Any, where: str = "", warn: bool = True
) -> str:
    """Expand ``$NAME``, ``${NAME}`` and ``${NAME:-default}`` as a shell would.

    Args:
        value: the text
        lookup: name → value or None (unset)
        where: what holds the text, for the warning about unset names
        warn: log a warning for each unset name (it expands to "")

    Returns:
        the expanded text
    """

    def replace(match: re.Match) -> str:
        expression = match.group("braced") or match.group("plain") or ""
        name, _, default = expression.partition(":-")
        found = lookup(name)
        if ":-" in expression and not found:
            return default
        if found is None:
            if warn:
                logger.warning("%s: %s is not set (it expands to nothing)", where, name)
            return ""
        return found

    return _SHELL_VARIABLE.sub(replace, value)


def read_env_file(path: str | Path) -> dict[str, str]:
    """The variables of a ``.env`` file, with references expanded.

    A value's ``$VAR``/``${VAR}`` take the calling environment's (non-empty)
    value first, then an earlier line's; single-quoted values stay literal.

    Args:
        path: the ``.env`` file

    Returns:
        name → expanded value, in file order
    """
    path = Path(path)
    values: dict[str, str] = {}

    def lookup(name: str) -> str | None:
        return os.environ.get(name) or values.get(name)

    with open(path) as f:
        for binding in parse_stream(f):
            if binding.error:
                raise ConfigError(
                    f"{path}:{binding.original.line}: not a NAME=value line "
                    f"({binding.original.string.strip()!r})"
                )
            if binding.key is None:
                continue
            value = binding.value or ""
            if not _SINGLE_QUOTED.match(binding.original.string):
                where = f"{path.name}:{binding.original.line} {binding.key}"
                value = expand_variables(value, lookup, where)
            values[binding.key] = value
    return values


def load_env(pyproject: Path) -> dict[str, str]:
    """Load the ``.env`` file beside ``pyproject`` into ``os.environ``.

    Values already set (non-empty) in the environment win over the file, and
    the file's references expand from the environment first. The documented
    defaults of ``DATA_DIR`` and ``BASE_DIR`` apply when neither sets them;
    relative ones become absolute against the pipeline's directory, so every
    step, whichever directory it runs in, sees the same folders.

    Args:
        pyproject: path to the pipeline's pyproject.toml

    Returns:
        the variables that were read from the ``.env`` file
    """
    root = Path(pyproject).resolve().parent
    env_file = root / ".env"
    values: dict[str, str] = {}
    if env_file.exists():
        values = read_env_file(env_file)
        for key, value in values.items():
            if not os.environ.get(key):
                os.environ[key] = value
    for key, value in DEFAULT_ENVIRONMENT.items():
        # an empty DATA_DIR would put data under the filesystem root
        if not os.environ.get(key):
            os.environ[key] = value
        os.environ[key] = str(_directory_value(os.environ[key], root))
    return values


def _directory_value(value: str, root: Path) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else root / path


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _lookup_env(expression: str, where: str, root: Path | None = None) -> str:
    name, _, default = expression.partition(":-")
    # as in the shell, ${NAME:-default} also replaces an empty value
    if ":-" in expression and not os.environ.get(name):
        value = default
    elif name in os.environ:
        value = os.environ[name]
    else:
        raise ConfigError(f"{where}: environment variable {name} is not set")
    if name.endswith("_DIR") and value:
        # relative to the pipeline, not to the directory a step runs in
        return str(_directory_value(value, root)) if root else os.path.expanduser(value)
    return value


def _resolve(
    value: Any,
    base: dict,
    where: str,
    depth: int = 0,
    profile: str = "default",
    root: Path | None = None,
) -> Any:
    if depth > 20:
        raise ConfigError(f"{where}: references nest too deeply (a cycle?)")
    if isinstance(value, dict):
        return {
            k: _resolve(v, base, f"{where}.{k}", depth, profile, root)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_resolve(v, base, where, depth, profile, root) for v in value]
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
            return _resolve(base[key], base, f"base.{key}", depth + 1, profile, root)
        return _lookup_env(expression, where, root)

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
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.typeo] must be a table")
    check_tables(table, pyproject)

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
    root = pyproject.resolve().parent
    resolved_base = {
        k: _resolve(v, base, f"base.{k}", profile=profile, root=root)
        for k, v in base.items()
    }
    scripts = {
        name: _resolve(args, base, f"scripts.{name}", profile=profile, root=root)
        for name, args in merged["scripts"].items()
    }
    # after resolving, so a value that cannot resolve is named first
    check_base_references(table, pyproject)
    return {"profile": profile, "base": resolved_base, "scripts": scripts}


def _references(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value))
    if isinstance(value, str):
        return {m[len("base.") :] for m in _REFERENCE.findall(value)} - {""}
    return set()


def _check_keys(found: Any, allowed: list[str], where: str, what: str) -> list[str]:
    if not isinstance(found, dict):
        return [f"{where} must be a table"]
    return [
        f"{where}.{key}: unknown {what}{_suggest(key, allowed)} "
        f"(known: {', '.join(allowed) or 'none'})"
        for key in found
        if key not in allowed
    ]


def check_tables(table: dict[str, Any], pyproject: str | Path = "") -> None:
    """Check the shape of ``[tool.typeo]`` so a typo in a table name fails.

    Every key of ``[tool.typeo]`` and of each profile must be a known table; a
    profile may only override base values and script tables that exist
    without it (``check_base_references`` checks the base values are used).

    Args:
        table: the ``[tool.typeo]`` table as read from TOML
        pyproject: the file, for messages

    Raises:
        ConfigError: listing every problem
    """
    problems = _check_keys(table, list(TYPEO_TABLES), "tool.typeo", "table")
    base = table.get("base", {})
    scripts = table.get("scripts", {})
    for name, value in (("base", base), ("scripts", scripts)):
        if not isinstance(value, dict):
            problems.append(f"tool.typeo.{name} must be a table")
    profiles = table.get("profiles", {})
    if not isinstance(profiles, dict):
        problems.append("tool.typeo.profiles must be a table of profiles")
        profiles = {}
    if problems:
        raise ConfigError(f"{pyproject}: " + f"\n{pyproject}: ".join(problems))
    for name, profile in profiles.items():
        where = f"tool.typeo.profiles.{name}"
        problems += _check_keys(profile, list(PROFILE_TABLES), where, "table")
        if not isinstance(profile, dict):
            continue
        problems += _check_keys(
            profile.get("base", {}), list(base), f"{where}.base", "base key"
        )
        profile_scripts = profile.get("scripts", {})
        problems += _check_keys(
            profile_scripts, list(scripts), f"{where}.scripts", "script table"
        )
        if not isinstance(profile_scripts, dict):
            continue
        for script, values in profile_scripts.items():
            commands = (
                (values or {}).get("commands") if isinstance(values, dict) else None
            )
            if script in scripts and commands:
                known = list((scripts[script] or {}).get("commands", {}) or {})
                problems += _check_keys(
                    commands,
                    known,
                    f"{where}.scripts.{script}.commands",
                    "subcommand table",
                )
    if problems:
        raise ConfigError(f"{pyproject}: " + f"\n{pyproject}: ".join(problems))


def check_base_references(table: dict[str, Any], pyproject: str | Path = "") -> None:
    """Every base value must be referenced somewhere: a misspelt key is an error.

    Args:
        table: the ``[tool.typeo]`` table as read from TOML
        pyproject: the file, for messages

    Raises:
        ConfigError: listing every unreferenced key
    """
    problems = []
    base = table.get("base", {})
    used = _references(table) | set(RUNNER_BASE_KEYS)
    for key in base:
        if key not in used:
            problems.append(
                f"tool.typeo.base.{key}: not referenced by any table (as "
                f"${{base.{key}}}){_suggest(key, sorted(used - {key}))}"
            )
    if problems:
        raise ConfigError(f"{pyproject}: " + f"\n{pyproject}: ".join(problems))


def script_config(
    pyproject: str | Path,
    script: str,
    subcommand: str | None = None,
    profile: str | None = None,
) -> tuple[dict, dict | None]:
    """Arguments of one script (and of one of its subcommands) from a pipeline.

    A script table may hold a ``commands`` table with one table of arguments per
    subcommand, e.g. ``[tool.typeo.scripts.train.commands.resnet]``.

    Args:
        pyproject: path to the pipeline's pyproject.toml
        script: the script's name in ``[tool.typeo.scripts]``
        subcommand: the subcommand whose arguments to return as well
        profile: the profile (default: ``AFRAME_PROFILE`` or the table's)

    Returns:
        the script's arguments, and the subcommand's (None without one)
    """
    config = read_typeo(pyproject, profile=profile)
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
