"""``pinto run``: the steps in order, skipping those already done.

For each selected step, in pipeline order:

1. If its stamp (``<basedir>/.pinto/<script>.json``) matches the hash of its
   current resolved arguments (and of the steps before it), it is skipped,
   unless ``force``.
2. Otherwise its stamp and every later step's stamp are removed, and
   ``<script> --typeo <pyproject>:<script>[:<subcommand>]`` runs in
   ``<pipeline>/<project>``; its output goes to the terminal and to
   ``<basedir>/logs/<script>.log``.
3. Exit 0 writes the stamp. Anything else stops the run with the step's name,
   its log and the log's last lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aframe.pinto.environment import child_environment, executable
from aframe.pinto.execute import log_tail, run_step
from aframe.pinto.pipeline import PintoError, Pipeline, Step
from aframe.pinto.stamps import is_done, read_stamp, remove_stamps, write_stamp
from aframe.pinto.summary import (
    StepStatus,
    format_seconds,
    print_report,
    steps_table,
)
from aframe.utils.io import ArtifactError, ensure_writable_dir

TAIL_LINES = 20


@dataclass
class Plan:
    """A selected step, what it will run and whether it is done already."""

    step: Step
    command: list[str]
    done: bool


def check_directories(pipeline: Pipeline) -> None:
    """Create basedir and datadir if needed; check they are writable with room.

    Args:
        pipeline: the pipeline
    """
    for label, variable, path in (
        ("basedir", "BASE_DIR", pipeline.basedir),
        ("datadir", "DATA_DIR", pipeline.datadir),
    ):
        try:
            ensure_writable_dir(path, min_free_bytes=pipeline.min_free_bytes)
        except ArtifactError as err:
            raise PintoError(
                f"{label}: {err} (choose another with {variable} in the "
                f"environment or {pipeline.root / '.env'})"
            ) from err
    for path in (pipeline.stamp_dir, pipeline.log_dir):
        try:
            ensure_writable_dir(path)
        except ArtifactError as err:
            raise PintoError(str(err)) from err


def plan(pipeline: Pipeline, steps: list[Step], isolated: bool = False) -> list[Plan]:
    """Resolve every selected step's command and whether it is done.

    Every problem that would stop a step from starting (no typeo table, no
    executable) is found here, before anything runs.

    Args:
        pipeline: the pipeline
        steps: the selected steps
        isolated: run each step from its project's own environment

    Returns:
        one plan per step
    """
    plans, problems = [], []
    for step in steps:
        try:
            step_hash = pipeline.step_hash(step)
            exe = executable(pipeline, step, isolated)
            if not pipeline.project_dir(step).is_dir():
                raise PintoError(
                    f"step {step.spec}: no project directory "
                    f"{pipeline.project_dir(step)}"
                )
        except PintoError as err:
            problems.append(str(err))
            continue
        command = [str(exe), "--typeo", pipeline.typeo_spec(step)]
        done = is_done(read_stamp(pipeline.stamp_path(step)), step_hash)
        plans.append(Plan(step, command, done))
    if problems:
        # a step without a table also breaks the hash of every later step
        raise PintoError("\n".join(dict.fromkeys(problems)))
    return plans


def step_done(pipeline: Pipeline, step: Step) -> bool:
    """Whether a step's stamp matches its current arguments."""
    try:
        step_hash = pipeline.step_hash(step)
    except PintoError:
        return False
    return is_done(read_stamp(pipeline.stamp_path(step)), step_hash)


def _stamp_wall(pipeline: Pipeline, step: Step) -> float | None:
    stamp = read_stamp(pipeline.stamp_path(step)) or {}
    wall = stamp.get("wall_seconds")
    return float(wall) if isinstance(wall, int | float) else None


def run(
    pipeline: Pipeline,
    names: list[str] | None = None,
    force: bool = False,
    isolated: bool = False,
    dry_run: bool = False,
    console: Console | None = None,
) -> int:
    """Run a pipeline's steps.

    Args:
        pipeline: the pipeline
        names: the steps to run (script, project:script or the spec); all
            when empty
        force: rerun the selected steps even when done
        isolated: run each step from its project's own environment
        dry_run: only show what would run
        console: where pinto's own messages go

    Returns:
        the exit status: 0, 1 when a step failed, 130 when interrupted
    """
    console = console or Console(highlight=False)

    def say(message: str, style: str | None = None) -> None:
        console.print(Text(message, style=style), soft_wrap=True)

    selected = pipeline.select(names)
    plans = plan(pipeline, selected, isolated)
    say(
        f"pipeline {pipeline.pyproject}  profile {pipeline.profile}  "
        f"basedir {pipeline.basedir}",
        "bold",
    )
    if force:
        redone = [p.step.spec for p in plans if p.done]
        say(
            "--force: rerunning "
            + (", ".join(redone) if redone else "the selected steps")
            + " even if done",
            "yellow",
        )
    for item in plans:
        missing = [
            s.spec
            for s in pipeline.earlier_steps(item.step)
            if s not in selected and not step_done(pipeline, s)
        ]
        if missing:
            say(
                f"note: {item.step.spec} runs although earlier step(s) "
                f"{', '.join(missing)} are not done",
                "yellow",
            )
            break
    if dry_run:
        for i, item in enumerate(plans, 1):
            state = "done, would skip" if item.done and not force else "would run"
            say(f"[{i}/{len(plans)}] {item.step.spec}: {state}")
            say(f"    {' '.join(item.command)}  (in {pipeline.project_dir(item.step)})")
        return 0

    check_directories(pipeline)
    results = {item.step.key: StepStatus(item.step, "not run") for item in plans}
    failed: tuple[Plan, int] | None = None
    for i, item in enumerate(plans, 1):
        step, status = item.step, results[item.step.key]
        header = f"[{i}/{len(plans)}] {step.spec}"
        # an earlier step that ran in this loop removed this one's stamp
        item.done = step_done(pipeline, step)
        if item.done and not force:
            status.status = "skipped (done)"
            status.wall_seconds = _stamp_wall(pipeline, step)
            say(f"{header}: skipped (done)", "cyan")
            continue
        reason = "forced" if item.done else _why(pipeline, step)
        say(f"{header} ({reason})", "bold green")
        # the outputs this step reads may change: later steps must run again
        stale = [pipeline.stamp_path(s) for s in [step, *pipeline.later_steps(step)]]
        dropped = [p.stem for p in remove_stamps(stale) if p.stem != step.key]
        if dropped:
            say(f"    later steps will run again: {', '.join(dropped)}", "yellow")
        env = child_environment(Path(item.command[0]).parent, pipeline.profile)
        log = pipeline.log_path(step)
        try:
            result = run_step(item.command, pipeline.project_dir(step), env, log)
        except KeyboardInterrupt:
            status.status = "interrupted"
            say(
                f"interrupted: {step.spec} did not finish and is not marked done; "
                f"`pinto run` continues it. log: {log}",
                "red",
            )
            return 130
        status.wall_seconds = result.wall_seconds
        if result.exit_code != 0:
            status.status = f"failed (exit {result.exit_code})"
            failed = (item, result.exit_code)
            break
        write_stamp(
            pipeline.stamp_path(step),
            {
                "step": step.spec,
                "hash": pipeline.step_hash(step),
                "profile": pipeline.profile,
                "command": item.command,
                "cwd": str(pipeline.project_dir(step)),
                "log": str(log),
                "started": result.started,
                "finished": result.finished,
                "wall_seconds": round(result.wall_seconds, 3),
                "exit_code": result.exit_code,
            },
        )
        status.status = "forced" if item.done else "ran"
        say(f"{header} done in {format_seconds(result.wall_seconds)}", "green")

    statuses = _all_statuses(pipeline, results)
    if failed is None:
        print_report(console, pipeline, statuses)
        return 0
    item, code = failed
    console.print(steps_table(statuses))
    log = pipeline.log_path(item.step)
    say(f"step {item.step.spec} failed (exit {code}); log: {log}", "bold red")
    tail = log_tail(log, TAIL_LINES)
    if tail:
        say(f"last {len(tail)} lines of the log:", "red")
        for line in tail:
            say(f"  | {line}")
    return 1


def _why(pipeline: Pipeline, step: Step) -> str:
    stamp = read_stamp(pipeline.stamp_path(step))
    if stamp is None:
        return "not done"
    return "arguments changed"


def _all_statuses(
    pipeline: Pipeline, results: dict[str, StepStatus]
) -> list[StepStatus]:
    statuses = []
    for step in pipeline.steps:
        if step.key in results:
            statuses.append(results[step.key])
        elif step_done(pipeline, step):
            statuses.append(StepStatus(step, "done", _stamp_wall(pipeline, step)))
        else:
            statuses.append(StepStatus(step, "not done"))
    return statuses


def _utc(stamp: dict | None) -> str:
    finished = str((stamp or {}).get("finished", ""))
    return finished.replace("T", " ").removesuffix("+00:00")


def list_steps(pipeline: Pipeline, console: Console | None = None) -> None:
    """Print the steps and whether each is done.

    Args:
        pipeline: the pipeline
        console: where to print
    """
    console = console or Console(highlight=False)
    table = Table(
        title=f"{pipeline.pyproject} (profile {pipeline.profile})",
        title_justify="left",
        caption=f"logs in {pipeline.log_dir}, stamps in {pipeline.stamp_dir}",
        caption_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("step", no_wrap=True)
    table.add_column("status")
    table.add_column("finished (UTC)", no_wrap=True)
    table.add_column("wall", justify="right")
    problems = []
    for i, step in enumerate(pipeline.steps, 1):
        stamp = read_stamp(pipeline.stamp_path(step))
        done = False
        try:
            pipeline.arguments(step)
        except PintoError as err:
            problems.append(str(err))
            state, style = "not runnable", "red"
        else:
            done = step_done(pipeline, step)
            if done:
                state, style = "done", "green"
            elif stamp is not None:
                state, style = "stale (arguments changed)", "yellow"
            else:
                state, style = "not done", "dim"
        table.add_row(
            str(i),
            Text(step.spec),
            Text(state, style=style),
            _utc(stamp) if done else "",
            format_seconds(_stamp_wall(pipeline, step)) if done else "",
        )
    console.print(table)
    for problem in problems:
        console.print(Text(problem, style="red"), soft_wrap=True)
