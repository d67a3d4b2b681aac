"""Bokeh figures of the analysis results, shared by the ``plots`` step and the app.

Each builder takes the results (``aframe.ledger.results``) or events and
returns a ``bokeh`` figure; the matplotlib versions for PNG files are drawn by
the analysis project's ``plots`` step, from the same helpers. Every
false-alarm rate a reader sees is per year (``far_text``), every legend sits
beside its plot (``legend_beside``), never over the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from bokeh.models import (
    ColumnDataSource,
    FixedTicker,
    HoverTool,
    Legend,
    NumeralTickFormatter,
    Span,
    Whisker,
)
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from aframe.ledger.far import far, seconds_per
from aframe.ledger.results import AnalysisResults, EfficiencyResult, StatisticVsSnr
from aframe.ledger.sensitive_volume import (
    Campaign,
    EfficiencyCurve,
    chirp_mass,
    efficiency_in_bins,
)
from aframe.plots.ifar import CumulativeIfar

DAY = seconds_per("day")
YEAR = seconds_per("year")
#: days in the (Julian) year the FARs are quoted per
DAYS_PER_YEAR = YEAR / DAY

#: the tools of every figure (``survival_figure`` adds box select, the
#: found-missed figure tap)
TOOLS = "pan,box_zoom,wheel_zoom,reset,save"
#: the figures' size unless told otherwise
SIZE = {"width": 700, "height": 420}


def _figure(
    kwargs: Mapping[str, Any],
    tools: str = TOOLS,
    size: Mapping[str, Any] = SIZE,
    **options: Any,
) -> figure:
    """A figure with the shared tools and size.

    Args:
        kwargs: the caller's arguments for ``bokeh.plotting.figure``; they
            override ``size``
        tools: the toolbar
        size: ``width``, ``height`` (and a range) unless ``kwargs`` say otherwise
        **options: the figure's own arguments (title, axes)

    Returns:
        the figure
    """
    return figure(tools=tools, **options, **{**size, **kwargs})


def _hover(p: figure, renderers: list, tooltips: list[tuple[str, str]]) -> None:
    """Show ``tooltips`` on hovering over ``renderers`` of ``p``."""
    p.add_tools(HoverTool(renderers=renderers, tooltips=tooltips))


#: where a legend goes: beside the plot, never over the data
LEGEND_SIDE = "right"


def far_text(per_year: float) -> str:
    """A false-alarm rate per year as a reader sees it: ``365/yr``, ``8,766/yr``.

    Args:
        per_year: the rate, per year

    Returns:
        the rate and its unit
    """
    if per_year >= 100:
        return f"{per_year:,.0f}/yr"
    return f"{per_year:.3g}/yr"


def legend_beside(p: figure) -> None:
    """Move the figure's legend to the right of the plot, off the data."""
    legends = [r for r in p.center if isinstance(r, Legend)]
    for legend in legends:
        p.center.remove(legend)
        legend.location = "top_left"
        legend.click_policy = "hide"
        p.add_layout(legend, LEGEND_SIDE)


def far_of_label(per_day: float) -> str:
    """The per-year text of a rate given per day (e.g. a results label)."""
    return far_text(per_day * DAYS_PER_YEAR)


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
        the loudest background event and the thresholds at FARs of
        8,766/yr and 365/yr (once an hour, once a day) that the background
        resolves
    """
    marks = {
        "loudest background event": statistic.loudest_background,
        f"threshold at FAR {far_of_label(24.0)}": statistic.threshold_at_1_per_hour,
        f"threshold at FAR {far_of_label(1.0)}": statistic.threshold_at_1_per_day,
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
        ``(statistic, far_per_year)``: the k-th loudest statistic and
        ``k/Tb`` per year, statistic decreasing
    """
    stats = np.sort(np.asarray(statistic, dtype=np.float64))[::-1]
    k = np.arange(1, len(stats) + 1)
    if len(stats) > max_points:
        k = np.unique(np.geomspace(1, len(stats), max_points).round().astype(int))
    return stats[k - 1], k / tb * YEAR


def sensitive_volume_figure(results: AnalysisResults, **kwargs) -> figure:
    """Sensitive volume against false-alarm rate, with 1σ bands, log FAR axis.

    Args:
        results: the analysis results
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    p = _figure(
        kwargs,
        title="Sensitive volume vs false-alarm rate",
        x_axis_type="log",
        x_axis_label="False-alarm rate (per year)",
        y_axis_label="Sensitive volume (Gpc³)",
    )
    for i, (name, pop) in enumerate(results.populations.items()):
        color = Category10_10[i % 10]
        source = ColumnDataSource(
            {
                "far": results.fars,
                "sv": pop.volume,
                "err": pop.error,
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
        plain_log_axis(p.xaxis[0], results.fars)
        _hover(
            p,
            [r],
            [
                ("population", name),
                ("FAR (per year)", "@far{0,0.00}"),
                ("V (Gpc³)", "@sv{0.0000} ± @err{0.0000}"),
                ("distance (Mpc)", "@distance{0}"),
                ("threshold", "@threshold{0.000}"),
            ],
        )
    legend_beside(p)
    return p


def _snr_axis(p: figure, low: float, high: float) -> None:
    p.xaxis.ticker = FixedTicker(ticks=snr_ticks(low, high))
    p.xaxis.formatter = NumeralTickFormatter(format="0.[0]")


def efficiency_figure(results: AnalysisResults, **kwargs) -> figure:
    """Detection efficiency against injected network SNR, one curve per FAR.

    Error bars are the (asymmetric) Wilson score intervals of each bin, which
    keep a width at 0 and 1 found; the legend names each curve's FAR per year.

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
    p = _figure(
        kwargs,
        title="Detection efficiency vs network SNR",
        x_axis_type="log",
        x_axis_label="Injected network SNR",
        y_axis_label="Fraction found",
        y_range=(-0.05, 1.05),
        size=size,
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
        label = f"FAR {far_of_label(item.far_per_day)}"
        p.segment(
            "snr", "lo", "snr", "hi", source=source, color=color, legend_label=label
        )
        r = p.line(
            "snr", "eff", source=source, color=color, line_width=2, legend_label=label
        )
        p.scatter("snr", "eff", source=source, color=color, size=5, legend_label=label)
        _hover(
            p,
            [r],
            [
                ("FAR (per year)", far_of_label(item.far_per_day)),
                ("SNR", "@snr{0.0}"),
                ("found", "@k of @n"),
                (
                    f"{100 * c.level:.0f}% interval",
                    "@lo{0.000} – @hi{0.000}",
                ),
            ],
        )
    legend_beside(p)
    return p


def statistic_figure(statistic: StatisticVsSnr, **kwargs) -> figure:
    """The injections' detection statistic against injected network SNR.

    The median line and the band between the quantiles per SNR bin, with
    horizontal lines at the loudest background event and the thresholds at
    FARs of 8,766/yr and 365/yr; the legend sits beside the plot, off the data.

    Args:
        statistic: the statistic vs SNR
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    edges = statistic.snr_edges
    low, high = float(edges[0]), float(edges[-1])
    floor = statistic_floor(statistic)
    p = _figure(
        kwargs,
        title="Detection statistic vs network SNR",
        x_axis_type="log",
        x_axis_label="Injected network SNR",
        y_axis_label="Detection statistic",
        x_range=(low, high),
        size={"width": 860, "height": 420},
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
    _hover(
        p,
        [r],
        [
            ("SNR", "@snr{0.0}"),
            ("injections", "@n"),
            ("median", "@median{0.000}"),
            (band, "@lo{0.000} – @hi{0.000}"),
        ],
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
    legend_beside(p)
    return p


def survival_figure(
    statistic: np.ndarray,
    tb: float,
    zero_lag: np.ndarray | None = None,
    marks: Mapping[str, float] | None = None,
    **kwargs,
) -> figure:
    """Background false-alarm rate (per year) vs detection statistic (log y).

    Args:
        statistic: background detection statistics
        tb: background livetime, s
        zero_lag: zero-lag detection statistics, each drawn at the
            false-alarm rate the background gives it
        marks: label → threshold drawn as a vertical line (in the legend)
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    x, y = survival_curve(statistic, tb)
    p = _figure(
        kwargs,
        title="Background: false-alarm rate vs detection statistic",
        y_axis_type="log",
        x_axis_label="Detection statistic",
        y_axis_label="False-alarm rate (per year)",
        tools="pan,box_zoom,box_select,wheel_zoom,reset,save",
    )
    source = ColumnDataSource({"stat": x, "far": y, "ifar": 1 / y})
    r = p.step(
        "stat",
        "far",
        source=source,
        mode="after",
        line_width=2,
        legend_label="background",
    )
    tooltips = [
        ("statistic", "@stat{0.000}"),
        ("FAR (per year)", "@far{0,0.00}"),
        ("IFAR (years)", "@ifar{0.0000}"),
    ]
    _hover(p, [r], tooltips)
    if zero_lag is not None and len(zero_lag):
        stats = np.sort(np.asarray(zero_lag, dtype=np.float64))[::-1]
        nb = len(statistic) - np.searchsorted(np.sort(statistic), stats, side="left")
        far = np.maximum(nb, 1) / tb * YEAR
        zl = ColumnDataSource({"stat": stats, "far": far, "ifar": 1 / far})
        r = p.scatter(
            "stat",
            "far",
            source=zl,
            color="firebrick",
            size=7,
            marker="diamond",
            legend_label="zero-lag events",
        )
        _hover(p, [r], tooltips)
    plain_log_axis(p.yaxis[0], y)
    low, high = (float(y.min()), float(y.max())) if len(y) else (1.0, 10.0)
    for i, (label, threshold) in enumerate((marks or {}).items()):
        if not np.isfinite(threshold):
            continue
        p.line(
            [threshold, threshold],
            [low, high],
            line_color=Category10_10[(i + 2) % 10],
            line_dash="dashed",
            line_width=1.5,
            legend_label=f"{label} ({threshold:.3g})",
        )
    legend_beside(p)
    return p


def cumulative_ifar_figure(data: CumulativeIfar, **kwargs) -> figure:
    """Zero-lag events by IFAR against noise's expectation and its Poisson bands.

    Args:
        data: the counts and expectation (``aframe.plots.ifar``)
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure (log-log)
    """
    floor = 0.5  # counts below one sit at the bottom of the log axis
    p = _figure(
        kwargs,
        title="Cumulative number of zero-lag events above an IFAR",
        x_axis_type="log",
        y_axis_type="log",
        x_axis_label="Inverse false-alarm rate (years)",
        y_axis_label="Number of zero-lag events with larger IFAR",
    )
    for sigma, alpha in ((2, 0.15), (1, 0.3)):
        lo, hi = data.bands[sigma]
        p.varea(
            x=data.grid,
            y1=np.maximum(lo, floor),
            y2=np.maximum(hi, floor),
            fill_color="grey",
            fill_alpha=alpha,
            legend_label=f"noise: {sigma}σ Poisson interval",
        )
    p.line(
        data.grid,
        data.expected,
        color="black",
        line_dash="dashed",
        legend_label="noise: expected (T/IFAR)",
    )
    source = ColumnDataSource(
        {
            "ifar": data.ifar,
            "count": data.count,
            "stat": data.statistic,
            "limit": np.where(data.lower_limit, "≥ (louder than all background)", ""),
        }
    )
    r = p.step(
        "ifar",
        "count",
        source=source,
        mode="after",
        color="firebrick",
        line_width=2,
        legend_label="zero-lag events",
    )
    p.scatter("ifar", "count", source=source, color="firebrick", size=4)
    if data.lower_limit.any():
        p.scatter(
            data.ifar[data.lower_limit],
            data.count[data.lower_limit],
            marker="triangle",
            angle=-np.pi / 2,
            size=10,
            color="firebrick",
            legend_label="IFAR ≥ Tb (a lower limit)",
        )
    _hover(
        p,
        [r],
        [
            ("IFAR (years)", "@ifar{0.00000} @limit"),
            ("events with larger IFAR", "@count{0}"),
            ("statistic", "@stat{0.000}"),
        ],
    )
    p.y_range.start = floor
    p.add_layout(
        Span(location=data.background_years, dimension="height", line_dash="dotted")
    )
    legend_beside(p)
    return p


def found_missed_figure(
    columns: Mapping[str, np.ndarray],
    found: np.ndarray,
    far_per_year: float,
    x: str = "chirp_mass",
    y: str = "distance",
    **kwargs,
) -> figure:
    """Injections found and missed at a FAR, by chirp mass and distance.

    Args:
        columns: ``index``, ``chirp_mass`` (source frame, M☉), ``distance``
            (luminosity, Mpc), ``snr``, ``stat`` (``NaN`` when missed), ``far``
            (per year, ``NaN`` when missed), one value per injection
        found: (N,) bool, found at the FAR
        far_per_year: the FAR that decides found, per year
        x: the column on the x axis
        y: the column on the (log) y axis
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure; its two scatter renderers' sources hold ``index``
    """
    labels = {
        "chirp_mass": "Chirp mass, source frame (M☉)",
        "distance": "Luminosity distance (Mpc)",
        "redshift": "Redshift",
        "snr": "Injected network SNR",
    }
    found = np.asarray(found, dtype=bool)
    p = _figure(
        kwargs,
        title=f"Injections found and missed at FAR {far_text(far_per_year)}",
        y_axis_type="log",
        x_axis_label=labels.get(x, x),
        y_axis_label=labels.get(y, y),
        tools="pan,box_zoom,wheel_zoom,reset,tap,save",
    )
    renderers = []
    for name, mask, style in (
        ("missed", ~found, dict(marker="x", color="grey", size=6, alpha=0.6)),
        ("found", found, dict(marker="circle", color=Category10_10[0], size=5)),
    ):
        source = ColumnDataSource({k: np.asarray(v)[mask] for k, v in columns.items()})
        renderers.append(
            p.scatter(
                x, y, source=source, legend_label=f"{name} ({mask.sum()})", **style
            )
        )
    _hover(
        p,
        renderers,
        [
            ("injection", "@index"),
            ("chirp mass (M☉)", "@chirp_mass{0.0}"),
            ("distance (Mpc)", "@distance{0}"),
            ("network SNR", "@snr{0.0}"),
            ("statistic", "@stat{0.000}"),
            ("FAR (per year)", "@far{0,0.00}"),
        ],
    )
    plain_log_axis(p.yaxis[0], columns[y], decades=6)
    legend_beside(p)
    return p


def plain_log_axis(axis, values: np.ndarray, decades: float = 2.5) -> None:
    """Label a log axis over few decades with plain 1-2-5 numbers.

    Bokeh's log ticker labels only powers of ten, which leaves an axis that
    spans less than a couple of decades with one or two labels.

    Args:
        axis: the axis (``p.xaxis[0]``)
        values: the values it shows
        decades: above this span, keep Bokeh's powers of ten
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) == 0 or np.log10(values.max() / values.min()) > decades:
        return
    axis.ticker = FixedTicker(ticks=log_ticks(values))
    axis.formatter = NumeralTickFormatter(format="0,0.[00]")


def log_ticks(values: np.ndarray) -> list[float]:
    """1-2-5 ticks spanning ``values`` (a log axis with plain, spaced labels)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) == 0:
        return [1.0, 10.0]
    lo, hi = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))
    ticks = [m * 10.0**e for e in range(int(lo), int(hi) + 1) for m in (1, 2, 5)]
    inside = [t for t in ticks if values.min() <= t <= values.max()]
    return inside if len(inside) >= 2 else ticks


#: chirp-mass bin edges (source frame, M☉) of the found fraction
CHIRP_MASS_EDGES = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 70.0, 100.0)


def chirp_mass_edges(values: np.ndarray) -> np.ndarray:
    """The ``CHIRP_MASS_EDGES`` that span ``values`` (extended past 100 M☉).

    Args:
        values: (N,) chirp masses, M☉

    Returns:
        increasing edges from the last edge below the lightest to the first
        above the heaviest
    """
    edges = np.asarray(CHIRP_MASS_EDGES)
    lo, hi = float(np.min(values)), float(np.max(values))
    first = max(int(np.searchsorted(edges, lo, side="right")) - 1, 0)
    last = int(np.searchsorted(edges, hi, side="left"))
    kept = edges[first : last + 1]
    if hi > edges[-1]:
        kept = np.append(kept, np.ceil(hi))
    return kept


def chirp_mass_curves(
    draws: Campaign, thresholds: Mapping[str, float]
) -> list[tuple[str, EfficiencyCurve]]:
    """Found fraction of every draw (accepted and rejected) by chirp mass.

    Unweighted: the fraction of the campaign's draws in each source-frame
    chirp-mass bin that reach the threshold, with Wilson score intervals. It
    ranks the bins' sensitivity within the injection prior's own population;
    a volume per bin needs the importance weights of the sensitive-volume
    step (``aframe.ledger.sensitive_volume.binned_volume``).

    Args:
        draws: the campaign (``aframe.ledger.sensitive_volume.campaign``)
        thresholds: label → detection statistic; unresolved (infinite) ones
            are left out

    Returns:
        ``(label, curve)`` per resolved threshold
    """
    p = draws.parameters
    mc = chirp_mass(p["mass_1_source"], p["mass_2_source"])
    edges = chirp_mass_edges(mc)
    return [
        (label, efficiency_in_bins(mc, draws.statistic, threshold, edges))
        for label, threshold in thresholds.items()
        if np.isfinite(threshold)
    ]


def found_missed_columns(
    foreground,
    background,
    threshold: float,
    kept: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per accepted injection, what ``found_missed_figure`` shows, and found.

    Args:
        foreground: the ``RecoveredInjectionSet``
        background: the background ``EventSet`` (rates the statistics)
        threshold: the statistic an injection must reach to count as found
        kept: (N,) False where an injection's event was vetoed

    Returns:
        ``(columns, found)``: ``index``, ``chirp_mass``, ``distance``, ``snr``,
        ``stat`` and ``far`` (per year; NaN where not recovered), and the
        found mask
    """
    p = foreground.parameters
    statistic = np.asarray(p["detection_statistic"], dtype=np.float64)
    hit = np.asarray(p["recovered"], bool) & np.isfinite(statistic)
    if kept is not None:
        hit &= np.asarray(kept, dtype=bool)
    rate = np.full(len(statistic), np.nan)
    if hit.any():
        rate[hit] = far(background, statistic[hit], unit="year")
    columns = {
        "index": np.arange(len(statistic)),
        "chirp_mass": chirp_mass(p["mass_1_source"], p["mass_2_source"]),
        "distance": np.asarray(p["luminosity_distance"], dtype=np.float64),
        "snr": np.asarray(p["snr"], dtype=np.float64),
        "stat": np.where(hit, statistic, np.nan),
        "far": rate,
    }
    return columns, hit & (statistic >= threshold)


def binned_efficiency_figure(
    curves: Sequence[EfficiencyResult] | Sequence[tuple[str, EfficiencyCurve]],
    parameter: str = "Chirp mass, source frame (M☉)",
    **kwargs,
) -> figure:
    """Fraction of draws found per bin of a parameter, with Wilson intervals.

    Each bin is drawn at its draws' geometric mean with a horizontal bar over
    the bin and a vertical bar over its Wilson score interval.

    Args:
        curves: ``(label, curve)`` pairs (``efficiency_in_bins``)
        parameter: the x axis's label
        **kwargs: passed to ``bokeh.plotting.figure``

    Returns:
        the figure
    """
    pairs = [(c.label, c.curve) if hasattr(c, "curve") else c for c in curves]
    p = _figure(
        kwargs,
        title="Fraction of injections found, by chirp mass",
        x_axis_label=parameter,
        y_axis_label="Fraction found (Wilson interval)",
        y_range=(-0.05, 1.05),
    )
    renderers = []
    for i, (label, c) in enumerate(pairs):
        ok = c.counts > 0
        color = Category10_10[i % 10]
        source = ColumnDataSource(
            {
                "x": c.snr_mean[ok],
                "left": c.snr_edges[:-1][ok],
                "right": c.snr_edges[1:][ok],
                "eff": c.efficiency[ok],
                "lo": c.lower[ok],
                "hi": c.upper[ok],
                "n": c.counts[ok],
                "k": c.found[ok],
            }
        )
        p.add_layout(
            Whisker(
                source=source,
                base="x",
                lower="lo",
                upper="hi",
                line_color=color,
            )
        )
        p.segment("left", "eff", "right", "eff", source=source, color=color, alpha=0.5)
        renderers.append(
            p.scatter(
                "x", "eff", source=source, color=color, size=7, legend_label=label
            )
        )
        _hover(
            p,
            renderers[-1:],
            [
                ("", label),
                ("bin", "@left{0.0} – @right{0.0}"),
                ("found", "@k of @n"),
                (f"{100 * c.level:.0f}% Wilson", "@lo{0.000} – @hi{0.000}"),
            ],
        )
    legend_beside(p)
    return p
