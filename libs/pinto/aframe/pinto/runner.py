"""``pinto run``: the steps in order, skipping those already done.

Before anything runs, every step's table is checked against its script's
signature (``aframe.pinto.checks``), and the run takes the locks of BASE_DIR
and DATA_DIR (``aframe.pinto.lock``). Then, for each selected step, in
pipeline order:

1. It is skipped when done (``aframe.pinto.stamps.assess``: its arguments,
   the identities of the steps it reads and its outputs all match its stamp),
   unless ``force``.
2. Otherwise ``<script> --typeo <pyproject>:<script>[:<subcommand>]`` runs in
   ``<pipeline>/<project>``; its output goes to the terminal and to
   ``<basedir>/logs/<script>.log``. When the step is stale (its arguments,
   inputs or outputs changed) or forced, it runs with ``AFRAME_FORCE=1``, which
   the shared CLI turns into ``force=True``: the script redoes its outputs
   instead of trusting what it finds. A step that was never run, or whose
   same run was interrupted, continues from what it finds.
3. Exit 0 writes the stamp, with the outputs the step's function returned.
   Anything else stops the run with the step's name, its log and the log's
   last lines. The steps that read a rerun step are stale from then on.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aframe.pinto.checks import check_configuration
from aframe.pinto.environment import child_environment, executable
from aframe.pinto.execute import log_tail, run_step
from aframe.pinto.lock import describe, holder_of, run_locks
from aframe.pinto.pipeline import PintoError, Pipeline, Step
from aframe.pinto.stamps import (
    STAMP_VERSION,
    StepState,
    assess,
    check_outputs,
    fingerprint,
    identity,
    read_outputs,
    read_stamp,
    remove_stamps,
    write_stamp,
)
from aframe.pinto.summary import (
    StepStatus,
    format_seconds,
    print_report,
    steps_table,
)
from aframe.utils.cli import FORCE_VARIABLE, OUTPUTS_VARIABLE, PROGRESS_VARIABLE
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
    for path in (pipeline.stamp_dir, pipeline.datadir / ".pinto", pipeline.log_dir):
        try:
            ensure_writable_dir(path)
        except ArtifactError as err:
            raise PintoError(str(err)) from err


def assess_steps(pipeline: Pipeline) -> dict[str, StepState]:
    """Every step's state, in pipeline order (a step's inputs come first).

    Args:
        pipeline: the pipeline

    Returns:
        step key → state
    """
    states: dict[str, StepState] = {}
    for step in pipeline.steps:
        inputs = {
            s.key: states[s.key].identity if s.key in states else None
            for s in pipeline.needs(step)
        }
        try:
            step_hash = pipeline.step_hash(step)
        except PintoError as err:
            states[step.key] = StepState(False, str(err), "", None, None, True)
            continue
        states[step.key] = assess(
            read_stamp(pipeline.stamp_path(step)),
            read_stamp(pipeline.attempt_path(step)),
            step_hash,
            inputs,
        )
    return states


def plan(pipeline: Pipeline, steps: list[Step], isolated: bool = False) -> list[Plan]:
    """Resolve every selected step's command and whether it is done.

    Every problem that would stop a step from starting (no typeo table, no
    executable, an argument its script does not take or of the wrong type)
    is found here, before anything runs.

    Args:
        pipeline: the pipeline
        steps: the selected steps
        isolated: run each step from its project's own environment

    Returns:
        one plan per step
    """
    plans, problems = [], []
    pipeline.check_needs()
    for step in steps:
        try:
            pipeline.step_hash(step)
            exe = executable(pipeline, step, isolated)
            if not pipeline.project_dir(step).is_dir():
                raise PintoError(
                    f"step {step.spec}: no project directory "
                    f"{pipeline.project_dir(step)}"
                )
        except PintoError as err:
            problems.append(str(err))
            continue
        plans.append(
            Plan(step, [str(exe), "--typeo", pipeline.typeo_spec(step)], False)
        )
    if problems:
        raise PintoError("\n".join(dict.fromkeys(problems)))
    states = assess_steps(pipeline)
    for item in plans:
        item.done = states[item.step.key].done
    return plans


def check_arguments(
    pipeline: Pipeline, isolated: bool, say, steps: list[Step] | None = None
) -> None:
    """Check every step's table against its script; raise on any problem."""
    result = check_configuration(pipeline, steps or pipeline.steps, isolated)
    if result.problems:
        raise PintoError("\n".join(result.problems))
    if result.unchecked:
        say(
            "note: arguments not checked before running: "
            + "; ".join(result.unchecked),
            "dim",
        )


def step_done(pipeline: Pipeline, step: Step) -> bool:
    """Whether a step is done (``aframe.pinto.stamps.assess``)."""
    try:
        return assess_steps(pipeline)[step.key].done
    except PintoError:
        return False


def _stamp_wall(pipeline: Pipeline, step: Step) -> float | None:
    stamp = read_stamp(pipeline.stamp_path(step)) or {}
    wall = stamp.get("wall_seconds")
    return float(wall) if isinstance(wall, int | float) else None


def _readers(pipeline: Pipeline, step: Step) -> list[Step]:
    # every later step that reads `step`, directly or through another
    readers: list[Step] = []
    for later in pipeline.later_steps(step):
        if any(s == step or s in readers for s in pipeline.needs(later)):
            readers.append(later)
    return readers


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _progress_setting() -> str:
    try:
        return "1" if sys.stdout.isatty() else "0"
    except (AttributeError, ValueError):
        return "0"


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
        force: rerun the selected steps even when done, redoing their outputs
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
    check_arguments(pipeline, isolated, say)
    say(
        f"pipeline {pipeline.pyproject}  profile {pipeline.profile}  "
        f"basedir {pipeline.basedir}  datadir {pipeline.datadir}",
        "bold",
    )
    states = assess_steps(pipeline)
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
            for s in pipeline.needs(item.step)
            if s not in selected and not states[s.key].done
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
            state = states[item.step.key]
            if item.done and not force:
                what = "done, would skip"
            else:
                why = "forced" if force else state.reason
                redo = force or state.redo
                what = f"would run ({why}{'; redoing its outputs' if redo else ''})"
            say(f"[{i}/{len(plans)}] {item.step.spec}: {what}")
            say(f"    {' '.join(item.command)}  (in {pipeline.project_dir(item.step)})")
        return 0

    check_directories(pipeline)
    with run_locks(
        [
            (f"BASE_DIR/{pipeline.profile}", pipeline.basedir),
            (f"DATA_DIR/{pipeline.profile}", pipeline.datadir),
        ]
    ):
        return _run_locked(pipeline, plans, force, console, say)


def _run_locked(pipeline, plans, force, console, say) -> int:
    results = {item.step.key: StepStatus(item.step, "not run") for item in plans}
    failed: tuple[Plan, int] | None = None
    for i, item in enumerate(plans, 1):
        step, status = item.step, results[item.step.key]
        header = f"[{i}/{len(plans)}] {step.spec}"
        # an earlier step that ran in this loop may have made this one stale
        state = assess_steps(pipeline)[step.key]
        if state.done and not force:
            status.status = "skipped (done)"
            status.wall_seconds = _stamp_wall(pipeline, step)
            say(f"{header}: skipped (done)", "cyan")
            continue
        redo = force or state.redo
        reason = "forced" if force and state.done else state.reason
        if force and not state.done:
            reason = f"forced; {state.reason}"
        say(
            f"{header} ({reason}{'; redoing its outputs' if redo else ''})",
            "bold green",
        )
        attempt = {"provenance": state.provenance, "redo": redo, "started": _now()}
        write_stamp(pipeline.attempt_path(step), attempt)
        remove_stamps([pipeline.stamp_path(step)])
        env = child_environment(Path(item.command[0]).parent, pipeline.profile)
        outputs_file = pipeline.outputs_path(step)
        outputs_file.unlink(missing_ok=True)
        env[OUTPUTS_VARIABLE] = str(outputs_file)
        env[PROGRESS_VARIABLE] = _progress_setting()
        if redo:
            env[FORCE_VARIABLE] = "1"
        else:
            env.pop(FORCE_VARIABLE, None)
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
        if result.log_error:
            say(f"warning: {result.log_error}", "yellow")
        status.wall_seconds = result.wall_seconds
        if result.exit_code != 0:
            status.status = f"failed (exit {result.exit_code})"
            failed = (item, result.exit_code)
            break
        outputs = read_outputs(outputs_file)
        prints = fingerprint(outputs) if outputs is not None else None
        problem = check_outputs(prints) if prints is not None else None
        if problem is not None:
            # never stamp as done what the next run would call damaged: the
            # steps after it would record it as missing and rerun forever
            say(f"{header} exited 0 but its {problem}", "bold red")
            status.status = "failed (outputs)"
            failed = (item, 1)
            break
        # a step that does not report its outputs is a new thing each run
        made = prints if prints is not None else {"run": [result.started, uuid4().hex]}
        write_stamp(
            pipeline.stamp_path(step),
            {
                "version": STAMP_VERSION,
                "step": step.spec,
                "hash": pipeline.step_hash(step),
                "inputs": _inputs(pipeline, step),
                "provenance": state.provenance,
                "outputs": prints,
                "identity": identity(state.provenance, made),
                "redone": redo,
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
        remove_stamps([pipeline.attempt_path(step)])
        status.status = "forced" if force else "ran"
        say(f"{header} done in {format_seconds(result.wall_seconds)}", "green")
        stale = [
            s.spec
            for s in _readers(pipeline, step)
            if read_stamp(pipeline.stamp_path(s)) is not None
        ]
        if stale:
            say(f"    steps that read it will run again: {', '.join(stale)}", "yellow")

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


def _inputs(pipeline: Pipeline, step: Step) -> dict[str, str | None]:
    states = assess_steps(pipeline)
    return {s.key: states[s.key].identity for s in pipeline.needs(step)}


def _all_statuses(
    pipeline: Pipeline, results: dict[str, StepStatus]
) -> list[StepStatus]:
    states = assess_steps(pipeline)
    statuses = []
    for step in pipeline.steps:
        if step.key in results:
            statuses.append(results[step.key])
        elif states[step.key].done:
            statuses.append(StepStatus(step, "done", _stamp_wall(pipeline, step)))
        else:
            statuses.append(StepStatus(step, f"not done ({states[step.key].reason})"))
    return statuses


def _utc(stamp: dict | None) -> str:
    finished = str((stamp or {}).get("finished", ""))
    return finished.replace("T", " ").removesuffix("+00:00")


def list_steps(
    pipeline: Pipeline, console: Console | None = None, isolated: bool = False
) -> int:
    """Print the steps, whether each is done, and why not.

    Args:
        pipeline: the pipeline
        console: where to print
        isolated: check the arguments in the projects' own environments

    Returns:
        the exit status: 0, or 2 when a step's arguments are wrong
    """
    console = console or Console(highlight=False)
    result = check_configuration(pipeline, pipeline.steps, isolated)
    table = Table(
        title=f"{pipeline.pyproject} (profile {pipeline.profile})",
        title_justify="left",
        caption=f"logs in {pipeline.log_dir}, stamps in {pipeline.stamp_dir} "
        f"and {pipeline.datadir / '.pinto'}",
        caption_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("step", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("finished (UTC)", no_wrap=True)
    table.add_column("wall", justify="right", no_wrap=True)
    problems = list(result.problems)
    try:
        pipeline.check_needs()
        states = assess_steps(pipeline)
    except PintoError as err:
        problems.append(str(err))
        states = {}
    for i, step in enumerate(pipeline.steps, 1):
        state = states.get(step.key)
        stamp = state.stamp if state else None
        done = bool(state and state.done)
        if state is None or not state.provenance:
            text, style = "not runnable", "red"
        elif done:
            text, style = "done", "green"
        elif state.reason == "never run" or state.reason.startswith("interrupted"):
            text, style = f"not done ({state.reason})", "dim"
        else:
            text, style = f"stale ({state.reason})", "yellow"
        table.add_row(
            str(i),
            Text(step.spec),
            Text(text, style=style),
            _utc(stamp) if done else "",
            format_seconds(_stamp_wall(pipeline, step)) if done else "",
        )
    console.print(table)
    for directory in dict.fromkeys([pipeline.basedir, pipeline.datadir]):
        with contextlib.suppress(OSError):
            holder = holder_of(directory)
            if holder is not None:
                console.print(
                    Text(f"running now in {directory}: {describe(holder)}", "yellow"),
                    soft_wrap=True,
                )
    for line in result.unchecked:
        console.print(
            Text(f"note: arguments not checked: {line}", "dim"), soft_wrap=True
        )
    for problem in problems:
        console.print(Text(problem, style="red"), soft_wrap=True)
    return 2 if problems else 0
