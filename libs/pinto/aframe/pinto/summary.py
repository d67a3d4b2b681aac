"""The one-screen report at the end of a run: steps, results, where to look."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aframe.ledger.far import seconds_per
from aframe.pinto.pipeline import Pipeline, Step


@dataclass
class StepStatus:
    """What happened to one step in this run (or what its stamp says).

    Args:
        step: the step
        status: e.g. ``ran``, ``skipped (done)``, ``failed (exit 1)``, ``not run``
        wall_seconds: the step's wall time (this run's, or its stamp's)
    """

    step: Step
    status: str
    wall_seconds: float | None = None


def format_seconds(seconds: float | None) -> str:
    """``12.3 s``, ``4 min 05 s`` or ``2 h 03 min``."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


_STYLES = {"ran": "green", "forced": "green", "skipped": "cyan", "failed": "red"}


def steps_table(statuses: list[StepStatus], title: str = "steps") -> Table:
    """A table of steps with their status and wall time."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("step", no_wrap=True)
    table.add_column("status")
    table.add_column("wall", justify="right")
    for i, item in enumerate(statuses, 1):
        style = _STYLES.get(item.status.split(" ")[0], "dim")
        table.add_row(
            str(i),
            Text(item.step.spec),
            Text(item.status, style=style),
            format_seconds(item.wall_seconds),
        )
    total = sum(s.wall_seconds or 0.0 for s in statuses if s.status.startswith("ran"))
    if total:
        table.caption = f"this run: {format_seconds(total)}"
        table.caption_justify = "left"
    return table


def _number(value: Any, fmt: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return str(value)
    return format(value, fmt)


def _snr_with_interval(value: Any, interval: Any) -> str | None:
    """``9.1 [8.7, 9.6]``; an unbounded end shows as ``-∞`` or ``∞``."""
    snr = _number(value, ".1f")
    if snr is None or not isinstance(interval, list | tuple) or len(interval) != 2:
        return snr
    low = _number(interval[0], ".1f") or "-∞"
    high = _number(interval[1], ".1f") or "∞"
    return f"{snr} [{low}, {high}]"


def _percent_of(fraction: Any, count: Any) -> str | None:
    """``97.0% of 123``."""
    value = _number(fraction, ".1%")
    total = _number(count, "d")
    if value is None:
        return None
    return f"{value} of {total}" if total is not None else value


def far_label(unit: str) -> str:
    """A once-per-``unit`` FAR in the one unit people read: ``FAR 365/yr``."""
    return f"FAR {seconds_per('year') / seconds_per(unit):,.0f}/yr"


def results_table(summary: dict[str, Any]) -> Table:
    """The headline figures of ``analysis/summary.json`` (docs/artifacts.md).

    Every false-alarm rate reads per year (once a day is ``FAR 365/yr``, once
    an hour ``FAR 8,766/yr``), as in the app and the plots.
    """
    daily, hourly = far_label("day"), far_label("hour")
    table = Table(title="results", title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")

    def row(label: str, text: str | None) -> None:
        table.add_row(label, text if text is not None else "n/a")

    tb, tb_days = summary.get("Tb"), summary.get("Tb_days")
    if tb_days is None and _number(tb, "g") is not None:
        tb_days = tb / 86400
    days = _number(tb_days, ".2f")
    row(
        "background livetime Tb",
        f"{days} days ({_number(tb, '.0f')} s)" if days is not None else None,
    )
    row("background events", _number(summary.get("num_background_events"), "d"))
    row("injections (all draws)", _number(summary.get("num_injections"), "d"))
    row(
        f"statistic threshold at {daily}",
        _number(summary.get("threshold_at_1_per_day"), ".3g"),
    )
    found = _number(summary.get("num_found_at_1_per_day"), "d")
    row(f"injections found at {daily}", found)
    volume = _number(summary.get("sensitive_volume_gpc3_at_1_per_day"), ".3g")
    error = _number(summary.get("sensitive_volume_err_gpc3_at_1_per_day"), ".2g")
    if volume is not None:
        volume = f"{volume} ± {error} Gpc³" if error is not None else f"{volume} Gpc³"
    row(f"sensitive volume at {daily}", volume)
    distance = _number(summary.get("sensitive_distance_mpc_at_1_per_day"), ".0f")
    row(
        f"sensitive distance at {daily}",
        f"{distance} Mpc" if distance is not None else None,
    )
    per_day = summary.get("far_for_efficiency_per_day")
    far = daily
    if _number(per_day, "g") is not None and per_day != 1:
        far = f"FAR {per_day * seconds_per('year') / seconds_per('day'):,.3g}/yr"
    efficiency = summary.get("efficiency_at_snr") or {}
    for snr in sorted(efficiency, key=lambda s: float(s)):
        value = _number(efficiency[snr], ".1%")
        row(f"efficiency at SNR {snr} ({far})", value)
    level = _number(summary.get("interval_level"), ".0%")
    interval = f" ({level} interval)" if level is not None else ""
    for unit in ("hour", "day"):
        row(
            f"network SNR50 at {far_label(unit)}{interval}",
            _snr_with_interval(
                summary.get(f"snr_50_at_1_per_{unit}"),
                summary.get(f"snr_50_interval_at_1_per_{unit}"),
            ),
        )
    if "fraction_snr_ge_20_above_loudest_background" in summary:
        row(
            "SNR ≥ 20 above loudest background",
            _percent_of(
                summary.get("fraction_snr_ge_20_above_loudest_background"),
                summary.get("num_snr_ge_20"),
            ),
        )
    recall = (summary.get("validation_vs_test") or {}).get(
        "recall_snr_ge_12_at_1_per_hour"
    )
    if isinstance(recall, dict):
        validation = _number(recall.get("validation"), ".1%") or "n/a"
        test = _number(recall.get("test"), ".1%") or "n/a"
        row(f"recall SNR ≥ 12, {hourly}: valid. | test", f"{validation} | {test}")
    per_day = summary.get("far_per_day_of_loudest_zero_lag")
    if _number(per_day, "g") is not None:
        per_year = per_day * seconds_per("year") / seconds_per("day")
        fmt = ",.0f" if per_year >= 100 else ".3g"
        row("FAR of the loudest zero-lag event", f"{per_year:{fmt}}/yr")
    for note in summary.get("notes") or []:
        table.add_row(Text("note", style="dim"), Text(str(note), style="dim"))
    return table


def read_summary(path: Path) -> dict[str, Any] | None:
    """``analysis/summary.json`` if present and readable, else None."""
    try:
        with open(path) as f:
            summary = json.load(f)
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def print_report(
    console: Console, pipeline: Pipeline, statuses: list[StepStatus]
) -> None:
    """Print the end-of-run report: steps, results and how to view them.

    Args:
        console: where to print
        pipeline: the pipeline
        statuses: every step's status
    """
    console.print(steps_table(statuses))
    summary_path = pipeline.basedir / "analysis" / "summary.json"
    summary = read_summary(summary_path)
    if summary is not None:
        console.print(results_table(summary))
        console.print(Text(f"(from {summary_path})", style="dim"), soft_wrap=True)
    elif summary_path.exists():
        console.print(Text(f"{summary_path}: not readable JSON", style="yellow"))
    host, port = pipeline.vizapp_address()
    console.print(
        Text(f"View the results: {vizapp_command(pipeline)}  →  http://{host}:{port}"),
        soft_wrap=True,
    )


def vizapp_command(pipeline: Pipeline) -> str:
    """The command that serves this run's results (its profile included)."""
    profile = "" if pipeline.profile == "default" else f"--profile {pipeline.profile} "
    return f"vizapp {profile}--typeo {pipeline.pyproject}:vizapp"
