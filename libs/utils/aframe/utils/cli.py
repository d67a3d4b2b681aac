"""Typed command-line interfaces generated from a script's signature.

Every stage script is one typed function whose docstring documents its
arguments. ``cli(function)`` builds its command line with jsonargparse, so
``-h`` shows typed, documented arguments, and adds ``--typeo
PATH[:SCRIPT[:SUBCOMMAND]]``, which reads the arguments from a pipeline's
``[tool.typeo]`` tables (see ``aframe.utils.config``). Arguments given on the
command line override the table.

Scripts with alternatives (e.g. the architecture a ``train`` run uses) take
them as subcommands: ``train --typeo ../pyproject.toml:train resnet --layers 2 2``.
The chosen subcommand's callable is called with its own arguments and the result
is passed to the script as the argument named by ``subcommand_dest``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentError, ArgumentParser, Namespace

from aframe.utils.config import ConfigError, script_config
from aframe.utils.logging import configure_logging
from aframe.utils.offline import disable_network_features


def _split_typeo(argv: list[str]) -> tuple[str | None, list[str]]:
    rest, spec = [], None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--typeo":
            if i + 1 >= len(argv):
                raise ConfigError("--typeo needs PATH[:SCRIPT[:SUBCOMMAND]]")
            spec = argv[i + 1]
            i += 2
            continue
        if arg.startswith("--typeo="):
            spec = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return spec, rest


def _parse_spec(spec: str, default_script: str) -> tuple[Path, str, str | None]:
    # a Windows drive letter is no concern here: paths are POSIX
    parts = spec.split(":")
    path = Path(parts[0])
    if path.is_dir():
        path = path / "pyproject.toml"
    script = parts[1] if len(parts) > 1 and parts[1] else default_script
    subcommand = parts[2] if len(parts) > 2 and parts[2] else None
    return path, script, subcommand


def _check_table_values(
    parser: ArgumentParser, fresh: ArgumentParser, namespace: Namespace, spec: str
) -> Namespace:
    # the table's values are set as defaults, which jsonargparse neither
    # type-checks nor converts; parsing the complete configuration with a
    # parser that has no such defaults makes `epochs = "ten"` an error and
    # turns `list[Path]` values into Paths
    parsers = [fresh]
    if fresh._subcommands_action is not None:
        parsers += fresh._subcommands_action._name_parser_map.values()
    for p in parsers:
        p.exit_on_error = False
    try:
        return fresh.parse_object(namespace.as_dict())
    except ArgumentError as err:
        parser.error(f"--typeo {spec}: {err}")


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
        prog=prog, description=(function.__doc__ or "").strip().split("\n\n")[0]
    )
    parser.add_argument(
        "--typeo",
        help="read arguments from PATH[:SCRIPT[:SUBCOMMAND]], a pipeline's "
        "pyproject.toml and its [tool.typeo.scripts.SCRIPT] table",
    )
    parser.add_function_arguments(
        function, skip={subcommand_dest} if subcommand_dest else set(), as_group=False
    )
    if subcommands:
        subs = parser.add_subcommands(required=True, dest="subcommand")
        for name, sub in subcommands.items():
            sub_parser = ArgumentParser(
                description=(sub.__doc__ or "").strip().split("\n\n")[0]
            )
            if isinstance(sub, type):
                sub_parser.add_class_arguments(sub, as_group=False)
            else:
                sub_parser.add_function_arguments(sub, as_group=False)
            subs.add_subcommand(name, sub_parser)
    return parser


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
    configure_logging()
    disable_network_features()
    argv = list(sys.argv[1:] if args is None else args)
    prog = script or Path(sys.argv[0]).name
    parser = build_parser(
        function, subcommands, prog=prog, subcommand_dest=subcommand_dest
    )
    try:
        spec, rest = _split_typeo(argv)
        table, sub_table, subcommand = {}, None, None
        if spec:
            path, name, subcommand = _parse_spec(spec, prog)
            table, sub_table = script_config(path, name, subcommand)
    except ConfigError as err:
        parser.error(str(err))

    known = {a.dest for a in parser._actions}
    unknown = sorted(set(table) - known - {"subcommand"})
    if unknown:
        parser.error(f"--typeo {spec}: unknown argument(s) {', '.join(unknown)}")
    parser.set_defaults(**table)
    if subcommands:
        if subcommand and not any(a in subcommands for a in rest):
            rest = [*rest, subcommand]
        chosen = next((a for a in rest if a in subcommands), None)
        if sub_table and chosen == subcommand:
            sub_parser = parser._subcommands_action._name_parser_map[chosen]
            sub_known = {a.dest for a in sub_parser._actions}
            sub_unknown = sorted(set(sub_table) - sub_known)
            if sub_unknown:
                parser.error(
                    f"--typeo {spec}: unknown argument(s) "
                    f"{', '.join(sub_unknown)} of subcommand {chosen}"
                )
            sub_parser.set_defaults(**sub_table)
    namespace = parser.parse_args(rest)
    if spec:
        fresh = build_parser(function, subcommands, prog, subcommand_dest)
        namespace = _check_table_values(parser, fresh, namespace, spec)
    kwargs = namespace.as_dict()
    kwargs.pop("typeo", None)
    kwargs.pop("config", None)
    if subcommands:
        name = kwargs.pop("subcommand")
        sub_kwargs = kwargs.pop(name, {}) or {}
        for other in subcommands:
            kwargs.pop(other, None)
        kwargs[subcommand_dest or "subcommand"] = subcommands[name](**sub_kwargs)
    if not expected_errors:
        return function(**kwargs)
    try:
        return function(**kwargs)
    except expected_errors as err:
        logging.getLogger(prog).error("%s", err)
        raise SystemExit(1) from None
