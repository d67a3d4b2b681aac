"""The ``pinto`` command line.

```
pinto run [STEP ...] [--force] [--isolated] [--profile NAME] [--dry-run]
pinto list [--profile NAME] [--isolated]
pinto build PROJECT [PROJECT ...]
pinto --version
```

Run from a pipeline directory (e.g. ``projects/sandbox``), or pass
``--pipeline PATH``. Exit status: 0 on success, 1 when a step or a build
failed, 2 for a configuration that cannot run, 3 when another run holds the
pipeline's folders, 130 when interrupted. Problems are one line each
(``pinto: error: ...``), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import sys
from collections.abc import Sequence

from rich.console import Console

from aframe.pinto.environment import BuildError, build
from aframe.pinto.lock import LockError
from aframe.pinto.pipeline import PintoError, Pipeline
from aframe.pinto.runner import list_steps, run
from aframe.utils.config import PROFILE_VARIABLE, ConfigError
from aframe.utils.io import ArtifactError
from aframe.utils.logging import configure_logging
from aframe.utils.offline import disable_network_features


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--pipeline",
        "-p",
        default="pyproject.toml",
        help="the pipeline's pyproject.toml or its directory "
        "(default: ./pyproject.toml)",
    )
    profile = argparse.ArgumentParser(add_help=False)
    profile.add_argument(
        "--profile",
        help=f"the configuration profile (sets {PROFILE_VARIABLE} for the run "
        "and its steps), e.g. tiny, default, full",
    )
    parser = argparse.ArgumentParser(
        prog="pinto",
        description="Run a pipeline's steps in order, each with its arguments "
        "from the pipeline's [tool.typeo] tables.",
    )
    parser.add_argument("--version", action="version", version=version())
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser(
        "run",
        parents=[common, profile],
        help="run the steps, skipping those already done",
        description="Run the pipeline's steps in order. A step whose stamp "
        "matches its current arguments is skipped; a failure stops the run.",
    )
    run_parser.add_argument(
        "steps",
        nargs="*",
        metavar="STEP",
        help="run only these steps (script, project:script or "
        "project:script:subcommand); all by default",
    )
    run_parser.add_argument(
        "--force", action="store_true", help="rerun the selected steps even if done"
    )
    run_parser.add_argument(
        "--isolated",
        action="store_true",
        help="run each step from its project's own environment "
        "(made by `pinto build PROJECT`)",
    )
    run_parser.add_argument(
        "--dry-run", action="store_true", help="show what would run, run nothing"
    )

    list_parser = commands.add_parser(
        "list",
        parents=[common, profile],
        help="list the steps, whether each is done and why not",
    )
    list_parser.add_argument(
        "--isolated",
        action="store_true",
        help="check arguments in each project's own environment",
    )

    build_parser = commands.add_parser(
        "build",
        parents=[common],
        help="make a project's own environment with uv",
        description="Make <pipeline>/PROJECT/.venv with uv, holding the project "
        "and the workspace libraries it needs, for `pinto run --isolated`.",
    )
    build_parser.add_argument("projects", nargs="+", metavar="PROJECT")
    return parser


def version() -> str:
    """``pinto X.Y.Z (aframe-pinto)``."""
    try:
        number = importlib.metadata.version("aframe-pinto")
    except importlib.metadata.PackageNotFoundError:
        number = "unknown"
    return f"pinto {number} (aframe-pinto)"


def _console() -> Console:
    # off a terminal (a pipe, a log) rich would cut tables at 80 columns
    interactive = sys.stdout.isatty()
    width = None if interactive else max(shutil.get_terminal_size().columns, 200)
    return Console(highlight=False, width=width)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pinto`` command line.

    Args:
        argv: the arguments (default ``sys.argv[1:]``)

    Returns:
        the exit status
    """
    args = _parser().parse_args(argv)
    configure_logging()
    disable_network_features()
    console = _console()
    try:
        # the steps get the profile as AFRAME_PROFILE (child_environment)
        pipeline = Pipeline.load(args.pipeline, getattr(args, "profile", None))
        if args.command == "run":
            return run(
                pipeline,
                args.steps,
                force=args.force,
                isolated=args.isolated,
                dry_run=args.dry_run,
                console=console,
            )
        if args.command == "list":
            return list_steps(pipeline, console, isolated=args.isolated)
        for project in args.projects:
            console.print(f"building {project}", style="bold", highlight=False)
            venv = build(pipeline, project)
            console.print(
                f"built {venv}; `pinto run --isolated` runs {project}'s steps in it",
                soft_wrap=True,
                markup=False,
            )
        return 0
    except LockError as err:
        print(f"pinto: error: {err}", file=sys.stderr)
        return 3
    except (PintoError, ConfigError) as err:
        for line in str(err).splitlines():
            print(f"pinto: error: {line}", file=sys.stderr)
        return 1 if isinstance(err, BuildError) else 2
    except (ArtifactError, OSError) as err:
        # a full disk or an unwritable folder while writing pinto's own records
        reason = getattr(err, "strerror", None) or err
        where = getattr(err, "filename", None)
        print(f"pinto: error: {where + ': ' if where else ''}{reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pinto: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
