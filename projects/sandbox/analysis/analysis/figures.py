"""Bokeh figures of the analysis results, shared by ``plots`` and the vizapp.

Each builder takes the results (or events) and returns a ``bokeh`` figure; the
matplotlib versions for PNG files live in ``analysis.plots``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool, Label, Span
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from aframe.ledger.far import seconds_per
from analysis.results import AnalysisResults

DAY = seconds_per("day")


def survival_curve(
    statistic: np.ndarray, tb: float, max_points: int = 4000
) -> tuple[np.ndarray, np.ndarray]:
    """False-alarm rate as a function of detection statistic.

    Args:
        statistic: (N,) background detection statistics
        tb: background livetime, s
        max_points: keep at most this many points (log-spaced in rank)

    Returns:
        ``(statistic, far_per_day)``: the k-th loudest statistic and ``k/Tb``
        per day, statistic decreasing
    """
    stats = np.sort(np.asarray(statistic, dtype=np.float64))[::-1]
    k = np.arange(1, len(stats) + 1)
    if len(stats) > max_points:
        k = np.unique(np.geomspace(1, len(stats), max_points).round().astype(int))
    return stats[k - 1], k / tb * DAY


def sensitive_volume_figure(results: AnalysisResults, **kwargs) -> figure:
    """Sensitive volume against false-alarm rate, with 1σ bands, log FAR axis.

    Args:
        results: the analysis results
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    p = figure(
        title="Sensitive volume vs false-alarm rate",
        x_axis_type="log",
        x_axis_label="False-alarm rate (per year)",
        y_axis_label="Sensitive volume (Gpc³)",
        tools="pan,box_zoom,wheel_zoom,reset,save",
        **{"width": 700, "height": 420, **kwargs},
    )
    for i, (name, pop) in enumerate(results.populations.items()):
        color = Category10_10[i % 10]
        source = ColumnDataSource(
            {
                "far": results.fars,
                "sv": pop.volume,
                "lo": pop.volume - pop.error,
                "hi": pop.volume + pop.error,
                "distance": pop.distance,
                "threshold": results.thresholds,
            }
        )
        p.varea("far", "lo", "hi", source=source, fill_color=color, fill_alpha=0.2)
        r = p.line(
            "far", "sv", source=source, color=color, line_width=2, legend_label=name
        )
        p.add_tools(
            HoverTool(
                renderers=[r],
                tooltips=[
                    ("population", name),
                    ("FAR (/yr)", "@far{0.00}"),
                    ("V (Gpc³)", "@sv{0.0000} ± @{hi}{0.0000}"),
                    ("distance (Mpc)", "@distance{0}"),
                    ("threshold", "@threshold{0.000}"),
                ],
            )
        )
    if results.populations:
        p.legend.location = "top_left"
        p.legend.click_policy = "hide"
    return p


def efficiency_figure(results: AnalysisResults, **kwargs) -> figure:
    """Detection efficiency against injected network SNR, one curve per FAR.

    Args:
        results: the analysis results
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    p = figure(
        title="Detection efficiency vs network SNR",
        x_axis_type="log",
        x_axis_label="Injected network SNR",
        y_axis_label="Fraction found",
        y_range=(-0.05, 1.05),
        tools="pan,box_zoom,wheel_zoom,reset,save",
        **{"width": 700, "height": 420, **kwargs},
    )
    for i, item in enumerate(results.efficiencies):
        c = item.curve
        ok = c.counts > 0
        color = Category10_10[i % 10]
        source = ColumnDataSource(
            {
                "snr": c.snr_centres[ok],
                "eff": c.efficiency[ok],
                "lo": (c.efficiency - c.error)[ok],
                "hi": (c.efficiency + c.error)[ok],
                "n": c.counts[ok],
                "k": c.found[ok],
            }
        )
        label = f"FAR {item.label}"
        p.segment("snr", "lo", "snr", "hi", source=source, color=color)
        r = p.line(
            "snr", "eff", source=source, color=color, line_width=2, legend_label=label
        )
        p.scatter("snr", "eff", source=source, color=color, size=5, legend_label=label)
        p.add_tools(
            HoverTool(
                renderers=[r],
                tooltips=[
                    ("FAR", item.label),
                    ("SNR", "@snr{0.0}"),
                    ("found", "@k of @n"),
                ],
            )
        )
    if results.efficiencies:
        p.legend.location = "bottom_right"
    return p


def survival_figure(
    statistic: np.ndarray,
    tb: float,
    zero_lag: np.ndarray | None = None,
    marks: Mapping[str, float] | None = None,
    **kwargs,
) -> figure:
    """Background false-alarm rate vs detection statistic (log y).

    Args:
        statistic: background detection statistics
        tb: background livetime, s
        zero_lag: zero-lag detection statistics, each drawn at the
            false-alarm rate the background gives it
        marks: label → threshold drawn as a vertical line
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    x, y = survival_curve(statistic, tb)
    p = figure(
        title="Background: false-alarm rate vs detection statistic",
        y_axis_type="log",
        x_axis_label="Detection statistic",
        y_axis_label="False-alarm rate (per day)",
        tools="pan,box_zoom,box_select,wheel_zoom,reset,save",
        **{"width": 700, "height": 420, **kwargs},
    )
    source = ColumnDataSource({"stat": x, "far": y})
    p.step(
        "stat",
        "far",
        source=source,
        mode="after",
        line_width=2,
        legend_label="background",
    )
    p.add_tools(
        HoverTool(tooltips=[("statistic", "@stat{0.000}"), ("FAR (/day)", "@far")])
    )
    if zero_lag is not None and len(zero_lag):
        stats = np.sort(np.asarray(zero_lag))[::-1]
        far = np.maximum(
            len(statistic) - np.searchsorted(np.sort(statistic), stats, side="left"), 1
        )
        p.scatter(
            stats,
            far / tb * DAY,
            color="firebrick",
            size=7,
            marker="diamond",
            legend_label="zero-lag events",
        )
    for i, (label, threshold) in enumerate((marks or {}).items()):
        if not np.isfinite(threshold):
            continue
        color = Category10_10[(i + 2) % 10]
        p.add_layout(
            Span(
                location=threshold,
                dimension="height",
                line_color=color,
                line_dash="dashed",
            )
        )
        p.add_layout(
            Label(
                x=threshold,
                y=float(y.max()),
                text=f" {label}",
                text_color=color,
                text_font_size="11px",
            )
        )
    p.legend.location = "top_right"
    return p
