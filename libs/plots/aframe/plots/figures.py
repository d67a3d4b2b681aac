"""Bokeh figures of the analysis results, shared by the ``plots`` step and the app.

Each builder takes the results (``aframe.ledger.results``) or events and
returns a ``bokeh`` figure; the matplotlib versions for PNG files are drawn by
the analysis project's ``plots`` step, from the same helpers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from bokeh.models import (
    ColumnDataSource,
    FixedTicker,
    HoverTool,
    Label,
    NumeralTickFormatter,
    Span,
)
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from aframe.ledger.far import seconds_per
from aframe.ledger.results import AnalysisResults, StatisticVsSnr

DAY = seconds_per("day")

#: labelled network-SNR ticks of the log axes, plain numbers
SNR_TICKS = (2, 3, 5, 10, 20, 50, 100, 200)


def snr_ticks(low: float, high: float) -> list[float]:
    """The ``SNR_TICKS`` within ``[low, high]`` (all of them if none is).

    Args:
        low: the axis's lowest network SNR
        high: its highest

    Returns:
        the tick positions
    """
    inside = [t for t in SNR_TICKS if low <= t <= high]
    return inside or list(SNR_TICKS)


def statistic_floor(statistic: StatisticVsSnr) -> float:
    """Where the statistic axis starts: a little below every finite value.

    Quantiles of -inf (bins where missed injections reach that quantile)
    are drawn down to here.

    Args:
        statistic: the statistic vs SNR

    Returns:
        the lowest statistic shown
    """
    values = np.concatenate(
        [
            statistic.lower,
            statistic.median,
            statistic.upper,
            [
                statistic.loudest_background,
                statistic.threshold_at_1_per_hour,
                statistic.threshold_at_1_per_day,
            ],
        ]
    )
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return 0.0
    span = max(float(finite.max() - finite.min()), 1.0)
    return float(finite.min() - 0.05 * span)


def statistic_band(statistic: StatisticVsSnr) -> tuple[np.ndarray, np.ndarray]:
    """The band's ends in the populated bins, ready to draw.

    A quantile of -inf (missed injections reach it) is drawn from the
    axis's floor (``statistic_floor``); a bin whose upper quantile is -inf
    has no band (NaN).

    Args:
        statistic: the statistic vs SNR

    Returns:
        ``(lower, upper)`` over the bins with injections
    """
    ok = statistic.counts > 0
    floor = statistic_floor(statistic)
    seen = np.isfinite(statistic.upper[ok])
    lower = np.where(seen, np.maximum(statistic.lower[ok], floor), np.nan)
    return lower, np.where(seen, statistic.upper[ok], np.nan)


def statistic_marks(statistic: StatisticVsSnr) -> dict[str, float]:
    """The horizontal lines of the statistic figure: label → statistic.

    Args:
        statistic: the statistic vs SNR

    Returns:
        the loudest background event and the 1/hour and 1/day thresholds
        that the background resolves
    """
    marks = {
        "loudest background event": statistic.loudest_background,
        "threshold at FAR 1/hour": statistic.threshold_at_1_per_hour,
        "threshold at FAR 1/day": statistic.threshold_at_1_per_day,
    }
    return {k: float(v) for k, v in marks.items() if np.isfinite(v)}


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


def _snr_axis(p: figure, low: float, high: float) -> None:
    p.xaxis.ticker = FixedTicker(ticks=snr_ticks(low, high))
    p.xaxis.formatter = NumeralTickFormatter(format="0.[0]")


def efficiency_figure(results: AnalysisResults, **kwargs) -> figure:
    """Detection efficiency against injected network SNR, one curve per FAR.

    Error bars are the (asymmetric) Wilson intervals of each bin.

    Args:
        results: the analysis results
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    size: dict = {"width": 700, "height": 420}
    if results.efficiencies:
        edges = results.efficiencies[0].curve.snr_edges
        size["x_range"] = (float(edges[0]), float(edges[-1]))
    p = figure(
        title="Detection efficiency vs network SNR",
        x_axis_type="log",
        x_axis_label="Injected network SNR",
        y_axis_label="Fraction found",
        y_range=(-0.05, 1.05),
        tools="pan,box_zoom,wheel_zoom,reset,save",
        **{**size, **kwargs},
    )
    if results.efficiencies:
        _snr_axis(p, *size["x_range"])
    for i, item in enumerate(results.efficiencies):
        c = item.curve
        ok = c.counts > 0
        color = Category10_10[i % 10]
        source = ColumnDataSource(
            {
                "snr": c.snr_mean[ok],
                "eff": c.efficiency[ok],
                "lo": c.lower[ok],
                "hi": c.upper[ok],
                "n": c.counts[ok],
                "k": c.found[ok],
            }
        )
        label = f"FAR {item.label}"
        p.segment(
            "snr", "lo", "snr", "hi", source=source, color=color, legend_label=label
        )
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
                    (
                        f"{100 * c.level:.0f}% interval",
                        "@lo{0.000} – @hi{0.000}",
                    ),
                ],
            )
        )
    if results.efficiencies:
        p.legend.location = "bottom_right"
    return p


def statistic_figure(statistic: StatisticVsSnr, **kwargs) -> figure:
    """The injections' detection statistic against injected network SNR.

    The median line and the band between the quantiles per SNR bin, with
    horizontal lines at the loudest background event and the 1/hour and
    1/day thresholds; the legend sits beside the plot, off the data.

    Args:
        statistic: the statistic vs SNR
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    edges = statistic.snr_edges
    low, high = float(edges[0]), float(edges[-1])
    floor = statistic_floor(statistic)
    p = figure(
        title="Detection statistic vs network SNR",
        x_axis_type="log",
        x_axis_label="Injected network SNR",
        y_axis_label="Detection statistic",
        x_range=(low, high),
        tools="pan,box_zoom,wheel_zoom,reset,save",
        **{"width": 860, "height": 420, **kwargs},
    )
    _snr_axis(p, low, high)
    p.y_range.start = floor
    ok = statistic.counts > 0
    q_low, q_high = statistic.quantiles
    band_low, band_high = statistic_band(statistic)
    source = ColumnDataSource(
        {
            "snr": statistic.snr_mean[ok],
            "lo": band_low,
            "median": np.where(
                np.isfinite(statistic.median[ok]), statistic.median[ok], np.nan
            ),
            "hi": band_high,
            "n": statistic.counts[ok],
        }
    )
    band = f"{100 * q_low:g}–{100 * q_high:g}% of injections"
    p.varea(
        "snr",
        "lo",
        "hi",
        source=source,
        fill_color=Category10_10[0],
        fill_alpha=0.25,
        legend_label=band,
    )
    r = p.line(
        "snr",
        "median",
        source=source,
        color=Category10_10[0],
        line_width=2,
        legend_label="median",
    )
    p.scatter("snr", "median", source=source, color=Category10_10[0], size=5)
    p.add_tools(
        HoverTool(
            renderers=[r],
            tooltips=[
                ("SNR", "@snr{0.0}"),
                ("injections", "@n"),
                ("median", "@median{0.000}"),
                (band, "@lo{0.000} – @hi{0.000}"),
            ],
        )
    )
    styles = ("solid", "dashed", "dotted")
    for i, (label, value) in enumerate(statistic_marks(statistic).items()):
        p.line(
            [low, high],
            [value, value],
            color=Category10_10[(i + 1) % 10] if i else "black",
            line_dash=styles[i % 3],
            line_width=1.5,
            legend_label=f"{label} ({value:.3g})",
        )
    p.legend.location = "top_left"
    p.add_layout(p.legend[0], "right")
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
