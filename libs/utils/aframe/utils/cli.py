"""Typed command-line interfaces generated from a script's signature.

Every stage script is one typed function whose docstring documents its
arguments. ``cli(function)`` builds its command line with jsonargparse, so
``-h`` shows typed, documented arguments, and adds ``--typeo
PATH[:SCRIPT[:SUBCOMMAND]]``, which reads the arguments from a pipeline's
``[tool.typeo]`` tables (see ``aframe.utils.config``; ``--profile NAME`` picks
the profile), ``-v``/``-q`` (more or less logging) and ``--version``.
Arguments given on the command line override the table; a relative path in
the table is taken relative to the pipeline's directory.

Scripts with alternatives (e.g. the architecture a ``train`` run uses) take
them as subcommands: ``train --typeo ../pyproject.toml:train resnet --layers 2 2``.
The chosen subcommand's callable is called with its own arguments and the result
is passed to the script as the argument named by ``subcommand_dest``.

The runner (``aframe.pinto``) talks to every script through this module, one
mechanism for all of them:

- ``AFRAME_FORCE=1``: the step must redo its outputs; a script with a
  ``force`` argument gets ``force=True`` (a script without one keeps no state
  between runs and always recomputes).
- ``AFRAME_OUTPUTS_FILE=PATH``: the paths the function returns (its outputs)
  are written there as JSON, so the runner can fingerprint and validate them.
- ``AFRAME_PROGRESS=0|1``: whether progress bars are drawn (default: only when
  stderr is a terminal), so logs hold no carriage-return frames.
- ``describe_main(main)`` returns the function a console script's ``main``
  hands to ``cli`` without running it, and ``check_arguments`` checks a table
  against its signature: a pipeline is checked before anything runs
  (``python -m aframe.utils.cli check SCRIPT PYPROJECT:SCRIPT[:SUB]`` does it
  in another environment).
"""

from __future__ import annotations

import contextvars
import difflib
import errno
import functools
import importlib
import importlib.metadata
import inspect
import json
import logging
import os
import sys
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentError, ArgumentParser, Namespace
from jsonargparse import DefaultHelpFormatter as _JsonargparseFormatter

from aframe.utils.config import ConfigError, script_config
from aframe.utils.logging import configure_logging, verbosity_level
from aframe.utils.offline import disable_network_features

FORCE_VARIABLE = "AFRAME_FORCE"
OUTPUTS_VARIABLE = "AFRAME_OUTPUTS_FILE"
PROGRESS_VARIABLE = "AFRAME_PROGRESS"
#: errors that say the disk (or the quota) is full: one line, no traceback
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


# ---------------------------------------------------------------- help text
def type_name(hint: Any) -> str:
    """A type hint as a reader writes it: ``Path``, ``float | None``, ``list[str]``.

    Args:
        hint: the type hint

    Returns:
        its readable name
    """
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is type(None):
        return "None"
    if origin is typing.Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin).replace("typing.", ""))
        return f"{name}[{', '.join(type_name(a) for a in args)}]" if args else name
    if args == () and hint is Ellipsis:
        return "..."
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")


class HelpFormatter(_JsonargparseFormatter):
    """jsonargparse's help with types written as in the signature."""

    def _get_help_string(self, action) -> str:
        if getattr(action, "aframe_own", False):
            return action.help or ""
        return super()._get_help_string(action)

    def _get_type_str(self, action) -> str | None:
        hint = getattr(action, "_typehint", None)
        if hint is not None:
            return type_name(hint)
        return super()._get_type_str(action)


# ---------------------------------------------------------------- the spec
@dataclass
class CliSpec:
    """What a console script's ``main`` hands to ``cli``.

    Args:
        function: the script's typed function
        subcommands: name → callable whose signature defines the subcommand
        subcommand_dest: the function's argument filled by the subcommand
        script: the script's name in the pipeline table
        expected_errors: exception types that mean bad input
    """

    function: Callable
    subcommands: dict[str, Callable] | None = None
    subcommand_dest: str | None = None
    script: str | None = None
    expected_errors: tuple[type[BaseException], ...] = field(default_factory=tuple)

    @property
    def has_force(self) -> bool:
        """Whether the function takes ``force`` (redo its outputs)."""
        return "force" in inspect.signature(self.function).parameters


class _Captured(BaseException):
    # a BaseException, so that no script's `except Exception` swallows it
    def __init__(self, spec: CliSpec):
        super().__init__("captured")
        self.spec = spec


_CAPTURE = contextvars.ContextVar("aframe_cli_capture", default=False)


def describe_main(main: Callable[..., Any]) -> CliSpec:
    """The function (and subcommands) a console script's ``main`` runs.

    ``main`` is called with the capture switched on: its call to ``cli``
    returns the spec without parsing anything or running the function.

    Args:
        main: the console script's entry point

    Returns:
        the spec

    Raises:
        ConfigError: ``main`` did not call ``aframe.utils.cli.cli``
    """
    token = _CAPTURE.set(True)
    try:
        main()
    except _Captured as captured:
        return captured.spec
    except SystemExit as err:
        raise ConfigError(
            f"{getattr(main, '__module__', main)}: main() exited ({err}) "
            "before calling aframe.utils.cli.cli"
        ) from None
    finally:
        _CAPTURE.reset(token)
    raise ConfigError(
        f"{getattr(main, '__module__', main)}: main() does not call "
        "aframe.utils.cli.cli"
    )


def entry_point(script: str) -> importlib.metadata.EntryPoint | None:
    """The console-script entry point named ``script`` in this environment."""
    found = importlib.metadata.entry_points(group="console_scripts", name=script)
    return next(iter(found), None)


def script_spec(script: str) -> CliSpec | None:
    """The spec of an installed console script, or None if there is none."""
    point = entry_point(script)
    if point is None:
        return None
    return describe_main(point.load())


# ---------------------------------------------------------------- versions
def version_of(function: Callable) -> str:
    """The distribution (and its version) that provides ``function``."""
    module = getattr(function, "__module__", "") or ""
    parts = module.split(".")
    # the namespace package: aframe.utils lives in aframe-utils
    top = ".".join(parts[:2]) if parts[0] == "aframe" else parts[0]
    for point in importlib.metadata.entry_points(group="console_scripts"):
        if point.module == top or point.module.startswith(f"{top}."):
            if point.dist is not None:
                return f"{point.dist.name} {point.dist.version}"
    name = f"aframe-{parts[1]}" if parts[0] == "aframe" and len(parts) > 1 else top
    try:
        return f"{name} {importlib.metadata.version(name)}"
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return "version unknown"


# ---------------------------------------------------------------- parsing
def _split_option(argv: list[str], name: str) -> tuple[str | None, list[str]]:
    rest, value = [], None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == name:
            if i + 1 >= len(argv):
                raise ConfigError(f"{name} needs a value")
            value = argv[i + 1]
            i += 2
            continue
        if arg.startswith(f"{name}="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return value, rest


def _split_typeo(argv: list[str]) -> tuple[str | None, list[str]]:
    if argv and argv[-1] == "--typeo":
        raise ConfigError("--typeo needs PATH[:SCRIPT[:SUBCOMMAND]]")
    return _split_option(argv, "--typeo")


def _parse_spec(spec: str, default_script: str) -> tuple[Path, str, str | None]:
    # a Windows drive letter is no concern here: paths are POSIX
    parts = spec.split(":")
    path = Path(parts[0])
    if path.is_dir():
        path = path / "pyproject.toml"
    script = parts[1] if len(parts) > 1 and parts[1] else default_script
    subcommand = parts[2] if len(parts) > 2 and parts[2] else None
    return path, script, subcommand


def build_parser(
    function: Callable,
    subcommands: dict[str, Callable] | None = None,
    prog: str | None = None,
    subcommand_dest: str | None = None,
) -> ArgumentParser:
    """The jsonargparse parser of a script (and its subcommands).

    Args:
        function: the script's function
        subcommands: callables whose signatures define each subcommand
        prog: the program name shown in help
        subcommand_dest: the argument of ``function`` filled by the subcommand,
            left off the command line

    Returns:
        the parser
    """
    parser = ArgumentParser(
        prog=prog,
        description=(function.__doc__ or "").strip().split("\n\n")[0],
        formatter_class=HelpFormatter,
    )
    taken = set(inspect.signature(function).parameters)
    own = []  # options of ours that the function does not use itself
    if "version" not in taken:
        parser.add_argument(
            "--version",
            action="version",
            version=f"{prog or function.__name__} ({version_of(function)})",
        )
    parser.add_argument(
        "--typeo",
        help="read arguments from PATH[:SCRIPT[:SUBCOMMAND]], a pipeline's "
        "pyproject.toml and its [tool.typeo.scripts.SCRIPT] table",
    )
    if "profile" not in taken:
        own.append("profile")
        parser.add_argument(
            "--profile",
            help="the pipeline profile --typeo reads (default: AFRAME_PROFILE)",
        )
    if not taken & {"verbose", "quiet"}:
        own += ["verbose", "quiet"]
        parser.add_argument(
            "-v", "--verbose", action="count", default=0, help="log more (-vv: debug)"
        )
        parser.add_argument(
            "-q",
            "--quiet",
            action="count",
            default=0,
            help="log only warnings (-qq: only errors)",
        )
    parser.aframe_options = ("typeo", *own)
    for action in parser._actions:
        if action.dest in (*parser.aframe_options, "version"):
            action.aframe_own = True
    parser.add_function_arguments(
        function, skip={subcommand_dest} if subcommand_dest else set(), as_group=False
    )
    if subcommands:
        subs = parser.add_subcommands(required=True, dest="subcommand")
        for name, sub in subcommands.items():
            sub_parser = ArgumentParser(
                description=(sub.__doc__ or "").strip().split("\n\n")[0],
                formatter_class=HelpFormatter,
            )
            if isinstance(sub, type):
                sub_parser.add_class_arguments(sub, as_group=False)
            else:
                sub_parser.add_function_arguments(sub, as_group=False)
            subs.add_subcommand(name, sub_parser)
    return parser


def _is_path_hint(hint: Any) -> bool:
    if hint is None:
        return False
    if isinstance(hint, type) and issubclass(hint, os.PathLike):
        return True
    return any(_is_path_hint(a) for a in typing.get_args(hint))


def _absolute_paths(
    parser: ArgumentParser, table: dict[str, Any], root: Path | None
) -> dict[str, Any]:
    """Relative path values of a table, taken relative to the pipeline."""
    if root is None:
        return table
    hints = {a.dest: getattr(a, "_typehint", None) for a in parser._actions}

    def absolute(value: Any) -> Any:
        if isinstance(value, str) and value and not Path(value).is_absolute():
            return str(root / Path(value).expanduser())
        if isinstance(value, list):
            return [absolute(v) for v in value]
        return value

    return {
        key: absolute(value) if _is_path_hint(hints.get(key)) else value
        for key, value in table.items()
    }


def _unresolved(parser: ArgumentParser, table: dict[str, Any], where: str) -> list[str]:
    """Path values that still hold a shell variable or an unknown ``~user``."""
    hints = {a.dest: getattr(a, "_typehint", None) for a in parser._actions}
    problems = []
    for key, value in table.items():
        if not _is_path_hint(hints.get(key)):
            continue
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str):
                continue
            if "$" in text:
                problems.append(
                    f"{where}: {key} = {text!r} is not a resolvable path (tables "
                    "expand ${NAME} and ${base.key}, not $NAME)"
                )
            elif text.startswith("~") and os.path.expanduser(text).startswith("~"):
                problems.append(f"{where}: {key} = {text!r}: no such user's home")
    return problems


def _unknown(
    table: dict[str, Any], parser: ArgumentParser, where: str, of: str = ""
) -> list[str]:
    known = sorted(
        a.dest
        for a in parser._actions
        if a.dest not in ("help", *getattr(parser, "aframe_options", ()))
    )
    problems = []
    for key in sorted(set(table) - set(known) - {"subcommand"}):
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(f"{where}: unknown argument {key}{of}{hint}")
    return problems


def _apply_table(
    parser: ArgumentParser,
    spec: CliSpec,
    table: dict[str, Any],
    sub_table: dict[str, Any] | None,
    subcommand: str | None,
    rest: list[str],
    where: str,
    root: Path | None,
) -> list[str]:
    """Set a table's values as defaults; returns the command line to parse."""
    problems = _unknown(table, parser, where) + _unresolved(parser, table, where)
    table = _absolute_paths(parser, table, root)
    sub_parser = None
    if spec.subcommands:
        if subcommand and not any(a in spec.subcommands for a in rest):
            rest = [*rest, subcommand]
        chosen = next((a for a in rest if a in spec.subcommands), None)
        if subcommand and subcommand not in spec.subcommands:
            problems.append(
                f"{where}: unknown subcommand {subcommand} "
                f"(known: {', '.join(spec.subcommands)})"
            )
        elif sub_table and chosen == subcommand:
            sub_parser = parser._subcommands_action._name_parser_map[chosen]
            problems += _unknown(
                sub_table, sub_parser, where, f" of subcommand {chosen}"
            )
    if problems:
        raise ConfigError("\n".join(problems))
    if sub_parser is not None:
        sub_parser.set_defaults(**_absolute_paths(sub_parser, sub_table, root))
    if spec.has_force and os.environ.get(FORCE_VARIABLE) == "1":
        # the runner decided this step must redo its outputs
        table = {**table, "force": True}
    parser.set_defaults(**{k: v for k, v in table.items() if k != "subcommand"})
    return rest


def _typed(spec: CliSpec, prog: str, namespace: Namespace) -> Namespace:
    # the table's values are set as defaults, which jsonargparse neither
    # type-checks nor converts; parsing the complete configuration with a
    # parser that has no such defaults makes `epochs = "ten"` an error and
    # turns `list[Path]` values into Paths
    fresh = build_parser(spec.function, spec.subcommands, prog, spec.subcommand_dest)
    parsers = [fresh]
    if fresh._subcommands_action is not None:
        parsers += fresh._subcommands_action._name_parser_map.values()
    for p in parsers:
        p.exit_on_error = False
    return fresh.parse_object(namespace.as_dict())


def check_arguments(
    spec: CliSpec,
    table: dict[str, Any],
    sub_table: dict[str, Any] | None = None,
    subcommand: str | None = None,
    where: str = "",
    root: Path | None = None,
) -> None:
    """Check a pipeline table against a script's signature, running nothing.

    Args:
        spec: the script's spec (``describe_main``)
        table: the resolved ``[tool.typeo.scripts.SCRIPT]`` table
        sub_table: the subcommand's table
        subcommand: the subcommand the step runs
        where: names the table in messages
        root: the pipeline's directory (relative paths)

    Raises:
        ConfigError: an unknown argument, a value of the wrong type, a
            missing required argument or an unknown subcommand
    """
    prog = spec.script or spec.function.__name__
    parser = build_parser(spec.function, spec.subcommands, prog, spec.subcommand_dest)
    for p in [parser, *_subparsers(parser)]:
        p.exit_on_error = False
    rest = _apply_table(parser, spec, table, sub_table, subcommand, [], where, root)
    try:
        namespace = parser.parse_args(rest)
        _typed(spec, prog, namespace)
    except ArgumentError as err:
        raise ConfigError(f"{where}: {_one_line(err)}") from None


def _subparsers(parser: ArgumentParser) -> list[ArgumentParser]:
    if parser._subcommands_action is None:
        return []
    return list(parser._subcommands_action._name_parser_map.values())


def _one_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return " ".join(lines)


# ---------------------------------------------------------------- outputs
def output_paths(result: Any) -> list[str]:
    """The paths in a function's return value (a path, or containers of them)."""
    if isinstance(result, os.PathLike):
        return [str(Path(result).expanduser().absolute())]
    if isinstance(result, dict):
        return [p for v in result.values() for p in output_paths(v)]
    if isinstance(result, list | tuple | set):
        return [p for v in result for p in output_paths(v)]
    return []


def _write_outputs(result: Any) -> None:
    target = os.environ.get(OUTPUTS_VARIABLE)
    if not target:
        return
    # a plain write: the runner reads it after the process ends
    Path(target).write_text(json.dumps(output_paths(result)) + "\n")


# ---------------------------------------------------------------- progress
def progress_enabled() -> bool:
    """Whether progress bars are drawn: ``AFRAME_PROGRESS``, else a terminal."""
    setting = os.environ.get(PROGRESS_VARIABLE)
    if setting in ("0", "1"):
        return setting == "1"
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def configure_progress() -> None:
    """Switch tqdm's bars off unless they reach a terminal.

    A bar that redraws with carriage returns makes a log file unreadable; off
    a terminal every bar (this process's and its children's) is disabled by
    default.
    """
    try:
        import tqdm.std
    except ImportError:
        return
    # the raw descriptor: attribute access would unwrap a partialmethod
    init = tqdm.std.tqdm.__dict__["__init__"]
    original = getattr(init, "aframe_original", None)
    if progress_enabled():
        if original is not None:
            tqdm.std.tqdm.__init__ = original
        return
    os.environ["TQDM_DISABLE"] = "1"  # processes started from here
    if original is None:
        quiet = functools.partialmethod(init, disable=True)
        quiet.aframe_original = init
        tqdm.std.tqdm.__init__ = quiet


# ---------------------------------------------------------------- the CLI
def cli(
    function: Callable,
    subcommands: dict[str, Callable] | None = None,
    subcommand_dest: str | None = None,
    args: Sequence[str] | None = None,
    script: str | None = None,
    expected_errors: tuple[type[BaseException], ...] = (),
) -> Any:
    """Parse the command line for ``function`` and call it.

    Expected bad input (``expected_errors``: a missing file, a corrupt artifact,
    a value out of range) ends the program with its one-line message and exit
    status 1, never a traceback; anything else is a bug and keeps its traceback.

    Args:
        function: the script's typed function
        subcommands: name → callable whose result becomes the argument
            ``subcommand_dest`` of ``function``
        subcommand_dest: the argument of ``function`` that receives the
            subcommand's result
        args: the command line (default ``sys.argv[1:]``)
        script: the script's name in the pipeline table (default: the
            program's name)
        expected_errors: exception types that mean bad input

    Returns:
        whatever ``function`` returns
    """
    spec = CliSpec(function, subcommands, subcommand_dest, script, expected_errors)
    if _CAPTURE.get():
        raise _Captured(spec)
    configure_logging()
    disable_network_features()
    configure_progress()
    argv = list(sys.argv[1:] if args is None else args)
    prog = script or Path(sys.argv[0]).name
    parser = build_parser(function, subcommands, prog, subcommand_dest)
    try:
        typeo, rest = _split_typeo(argv)
        profile = None
        if "profile" in parser.aframe_options:
            profile, rest = _split_option(rest, "--profile")
        table, sub_table, subcommand, root = {}, None, None, None
        if typeo:
            path, name, subcommand = _parse_spec(typeo, prog)
            table, sub_table = script_config(path, name, subcommand, profile=profile)
            root = path.resolve().parent
        elif profile:
            raise ConfigError("--profile only applies with --typeo")
        rest = _apply_table(
            parser, spec, table, sub_table, subcommand, rest, f"--typeo {typeo}", root
        )
    except ConfigError as err:
        parser.error(str(err))

    namespace = parser.parse_args(rest)
    if typeo:
        try:
            namespace = _typed(spec, prog, namespace)
        except ArgumentError as err:
            parser.error(f"--typeo {typeo}: {err}")
    kwargs = namespace.as_dict()
    own = {name: kwargs.pop(name, None) for name in parser.aframe_options}
    kwargs.pop("config", None)
    level = verbosity_level(own.get("verbose") or 0, own.get("quiet") or 0)
    if level is not None:
        configure_logging(level)
    if subcommands:
        name = kwargs.pop("subcommand")
        sub_kwargs = kwargs.pop(name, {}) or {}
        for other in subcommands:
            kwargs.pop(other, None)
        kwargs[subcommand_dest or "subcommand"] = subcommands[name](**sub_kwargs)
    try:
        result = function(**kwargs)
        _write_outputs(result)
    except expected_errors as err:
        logging.getLogger(prog).error("%s", err)
        raise SystemExit(1) from None
    except OSError as err:
        # a full disk or quota is the machine's state, not a bug: one line;
        # every writer is atomic, so what the run leaves is the last good state
        if err.errno not in DISK_FULL:
            raise
        logging.getLogger(prog).error("%s", err)
        raise SystemExit(1) from None
    return result


# ---------------------------------------------------------------- checking elsewhere
def _check_main(argv: list[str]) -> int:
    """``python -m aframe.utils.cli check SCRIPT PYPROJECT:SCRIPT[:SUB] [PROFILE]``.

    Prints ``ok``, ``no-entry-point`` or the problems; exit 0, 3 or 2.
    """
    if len(argv) not in (3, 4) or argv[0] != "check":
        print(
            "usage: python -m aframe.utils.cli check SCRIPT PYPROJECT:SCRIPT[:SUB] "
            "[PROFILE]",
            file=sys.stderr,
        )
        return 64
    script, typeo = argv[1], argv[2]
    profile = argv[3] if len(argv) == 4 else None
    try:
        spec = script_spec(script)
        if spec is None:
            print("no-entry-point")
            return 3
        path, name, subcommand = _parse_spec(typeo, script)
        table, sub_table = script_config(path, name, subcommand, profile=profile)
        check_arguments(
            spec,
            table,
            sub_table,
            subcommand,
            f"[tool.typeo.scripts.{name}]",
            path.resolve().parent,
        )
    except ConfigError as err:
        print(str(err))
        return 2
    print("ok")
    return 0


if __name__ == "__main__":
    # run as a module this file is __main__, a second copy: the scripts call
    # the cli of the real aframe.utils.cli, whose capture switch must be set
    from aframe.utils import cli as _module

    sys.exit(_module._check_main(sys.argv[1:]))
