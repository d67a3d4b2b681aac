"""Check every step's table against its script's signature before anything runs.

A step whose executable is a console script of the environment pinto runs in
is checked in this process: its entry point's ``main`` is asked, without
running, which function it hands to ``aframe.utils.cli.cli``
(``describe_main``), and the step's resolved table is parsed against that
function's signature (unknown keys, wrong types, missing required arguments,
unknown subcommands). A step run from another environment (``--isolated``,
or a ``bin_dir`` holding its own ``python``) is checked by that environment's
Python (``python -m aframe.utils.cli check``). A step with neither (a plain
executable) is noted as unchecked.

Importing every script takes seconds (torch, lightning, bilby), so a table
that passed is remembered, keyed by its resolved values and the fingerprint
of its script's package, in ``$XDG_CACHE_HOME/aframe/pinto-checks.json``: an
unchanged pipeline is checked without importing anything, and an edited
table imports only its own script.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aframe.pinto.environment import executable, project_venv, shared_bin_dir
from aframe.pinto.pipeline import PintoError, Pipeline, Step
from aframe.pinto.stamps import digest
from aframe.utils.config import ConfigError

logger = logging.getLogger(__name__)

CACHE_SIZE = 512


@dataclass
class CheckResult:
    """What checking the pipeline found.

    Attributes:
        problems: one line per problem (the run must not start)
        unchecked: steps whose arguments could not be checked, with why
    """

    problems: list[str]
    unchecked: list[str]


def _cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(root) / "aframe" / "pinto-checks.json"


def _read_cache() -> list[str]:
    try:
        values = json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return []
    return [str(v) for v in values] if isinstance(values, list) else []


def _remember(keys: list[str]) -> None:
    if not keys:
        return
    known = [k for k in _read_cache() if k not in keys] + keys
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(known[-CACHE_SIZE:]))
        os.replace(tmp, path)
    except OSError as err:  # a cache we cannot write only costs time
        logger.debug("cannot write %s: %s", path, err)


def _package_fingerprint(module: str) -> list[Any]:
    # the script's package and the shared CLI: a change to either can change
    # what the table must hold
    prints = []
    for name in (module.split(".")[0], "aframe.utils"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        locations = list(getattr(spec, "submodule_search_locations", None) or [])
        if spec is not None and spec.origin and not locations:
            locations = [str(Path(spec.origin).parent)]
        for location in locations:
            for path in sorted(Path(location).rglob("*.py")):
                stat = path.stat()
                prints.append([str(path), stat.st_size, stat.st_mtime_ns])
    return prints


def _module_tree(module: str) -> ast.Module | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    try:
        return ast.parse(Path(spec.origin).read_text())
    except (OSError, SyntaxError):
        return None


def _function_def(tree: ast.Module, name: str, module: str, hops: int = 2):
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == name
        ):
            return node
    if hops == 0:
        return None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if any((a.asname or a.name) == name for a in node.names):
                original = next(
                    a.name for a in node.names if (a.asname or a.name) == name
                )
                other = _module_tree(node.module)
                if other is not None:
                    return _function_def(other, original, node.module, hops - 1)
    return None


def static_parameters(module: str, attr: str) -> set[str] | None:
    """The argument names of the function a console script hands to ``cli``.

    Read from the source, importing nothing (a script's imports take seconds),
    so that an unknown key in its table fails at once. None when the source
    does not say plainly (then the script is imported and checked fully).

    Args:
        module: the entry point's module
        attr: its function (``main``)

    Returns:
        the names the table may use, or None
    """
    tree = _module_tree(module)
    main = _function_def(tree, attr, module, hops=0) if tree else None
    if main is None:
        return None
    for node in ast.walk(main):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        called = node.func
        name = getattr(called, "id", None) or getattr(called, "attr", None)
        if name != "cli" or not isinstance(node.args[0], ast.Name):
            continue
        function = _function_def(tree, node.args[0].id, module)
        if function is None:
            return None
        arguments = function.args
        if arguments.vararg or arguments.kwarg:
            return None
        names = {
            a.arg
            for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        }
        for keyword in node.keywords:
            if keyword.arg == "subcommand_dest" and isinstance(
                keyword.value, ast.Constant
            ):
                names.discard(keyword.value.value)
        return names
    return None


def _unknown_keys(step: Step, table: dict[str, Any], names: set[str]) -> str | None:
    problems = []
    for key in sorted(set(table) - names):
        close = difflib.get_close_matches(key, sorted(names), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(
            f"[tool.typeo.scripts.{step.script}]: unknown argument {key}{hint}"
        )
    return "\n".join(problems) or None


def _static_problem(step: Step, arguments: dict[str, Any]) -> str | None:
    """A misspelt key of a step's table, found from the source alone."""
    from aframe.utils.cli import entry_point

    point = entry_point(step.script)
    if point is None:
        return None
    names = static_parameters(point.module, point.attr)
    if names is None:
        return None
    return _unknown_keys(step, arguments["arguments"], names)


def _in_process(step: Step, arguments: dict[str, Any], root: Path) -> str | None:
    """Check a step in this process: the problem, 'unchecked: …', or None."""
    from aframe.utils.cli import check_arguments, describe_main, entry_point

    point = entry_point(step.script)
    if point is None:
        return f"unchecked: no console script {step.script} in this environment"
    key = digest(
        {
            "script": step.script,
            "entry_point": point.value,
            "python": sys.executable,
            "arguments": arguments,
            "root": str(root),
            "code": _package_fingerprint(point.module),
        }
    )
    if key in _read_cache():
        return None
    try:
        spec = describe_main(point.load())
        check_arguments(
            spec,
            dict(arguments["arguments"]),
            arguments["subcommand"],
            step.subcommand,
            f"[tool.typeo.scripts.{step.script}]",
            root,
        )
    except ConfigError as err:
        return str(err)
    except ImportError as err:
        return f"unchecked: {step.script} does not import ({err})"
    _remember([key])
    return None


def _in_environment(
    python: Path, step: Step, pipeline: Pipeline, timeout: float = 300.0
) -> str | None:
    """Check a step with another environment's Python."""
    command = [
        str(python),
        "-m",
        "aframe.utils.cli",
        "check",
        step.script,
        pipeline.typeo_spec(step),
        pipeline.profile,
    ]
    try:
        result = subprocess.run(
            command,
            cwd=pipeline.project_dir(step),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"unchecked: {python} could not check it ({err})"
    out = result.stdout.strip()
    if result.returncode == 0:
        return None
    if result.returncode == 2 and out:
        return out
    if result.returncode == 3:
        return f"unchecked: no console script {step.script} in {python.parent.parent}"
    last = (result.stderr.strip().splitlines() or [out or "no output"])[-1]
    return f"unchecked: {python.parent.parent} cannot check arguments ({last})"


def check_configuration(
    pipeline: Pipeline, steps: list[Step], isolated: bool = False
) -> CheckResult:
    """Check the tables of ``steps`` against their scripts' signatures.

    Args:
        pipeline: the pipeline
        steps: the steps to check
        isolated: the steps run from their projects' own environments

    Returns:
        the problems and the steps left unchecked
    """
    problems, unchecked = [], []
    here = Path(sys.executable).absolute().parent
    checks = []
    for step in steps:
        try:
            arguments = pipeline.arguments(step)
            exe = executable(pipeline, step, isolated)
        except PintoError as err:
            problems.append(str(err))
            continue
        if isolated:
            python = project_venv(pipeline, step.project) / "bin" / "python"
            checks.append(
                (step, lambda s=step, p=python: _in_environment(p, s, pipeline))
            )
        elif shared_bin_dir(pipeline) == here or exe.parent == here:
            # a misspelt key is found from the source before anything imports
            static = _static_problem(step, arguments)
            if static:
                problems += [
                    f"step {step.spec}: {line}" for line in static.splitlines()
                ]
            checks.append(
                (step, lambda s=step, a=arguments: _in_process(s, a, pipeline.root))
            )
        elif (exe.parent / "python").exists():
            python = exe.parent / "python"
            checks.append(
                (step, lambda s=step, p=python: _in_environment(p, s, pipeline))
            )
        else:
            unchecked.append(
                f"{step.spec}: {exe} is not a script of a Python environment"
            )
    if problems:
        # enough to stop the run: no need to import every script first
        return CheckResult(problems, unchecked)
    for step, check in checks:
        outcome = check()
        if outcome is None:
            continue
        if outcome.startswith("unchecked: "):
            unchecked.append(f"{step.spec}: {outcome.removeprefix('unchecked: ')}")
        else:
            problems += [f"step {step.spec}: {line}" for line in outcome.splitlines()]
    return CheckResult(problems, unchecked)
