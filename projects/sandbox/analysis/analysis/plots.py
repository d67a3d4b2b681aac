"""The ``plots`` script: standalone HTML (Bokeh) and PNG (matplotlib) figures.

Writes ``BASE_DIR/analysis/plots/{sensitive-volume, efficiency, statistic,
background, cumulative-ifar, found-missed, chirp-mass}.{html,png}`` from
``sensitive-volume.hdf5``, the events and the injection campaign. Every
false-alarm rate is per year (IFAR in years), every legend sits beside its
plot, every efficiency has its Wilson interval. The HTML files embed Bokeh's
JavaScript, so they open without a network.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
from bokeh.embed import file_html
from bokeh.resources import INLINE
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    NullFormatter,
)

from aframe.ledger.far import seconds_per, threshold_at_far
from aframe.ledger.results import AnalysisResults, StatisticVsSnr, read_results
from aframe.ledger.sensitive_volume import EfficiencyCurve, campaign
from aframe.plots.figures import (
    binned_efficiency_figure,
    chirp_mass_curves,
    cumulative_ifar_figure,
    efficiency_figure,
    far_of_label,
    far_text,
    found_missed_columns,
    found_missed_figure,
    log_ticks,
    sensitive_volume_figure,
    snr_ticks,
    statistic_band,
    statistic_figure,
    statistic_floor,
    statistic_marks,
    survival_curve,
    survival_figure,
)
from aframe.plots.ifar import CumulativeIfar, cumulative_ifar
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError, atomic_dir
from analysis.inputs import AnalysisInputError, InferPaths, read_inputs

logger = logging.getLogger(__name__)

#: thresholds marked on the background plot: label → FAR per day
MARKS = {f"FAR {far_of_label(rate)}": rate for rate in (24.0, 1.0)}
#: the FAR (per day) of the found/missed and chirp-mass figures: once a day
FOUND_AT_PER_DAY = 1.0
YEAR = seconds_per("year")


def plain_log_axis(axis, values: np.ndarray, decades: float = 2.5) -> None:
    """Label a log axis spanning few decades with plain 1-2-5 numbers, no minors."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) == 0 or np.log10(values.max() / values.min()) > decades:
        return
    axis.set_major_locator(FixedLocator(log_ticks(values)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.6g}"))
    axis.set_minor_formatter(NullFormatter())


def _legend_beside(ax: Axes) -> None:
    """The legend to the right of the axes, off the data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))


def _png_sensitive_volume(results: AnalysisResults, path: Path) -> None:
    fig = Figure(figsize=(8.6, 4.2), dpi=120, layout="constrained")
    ax = fig.subplots()
    for name, pop in results.populations.items():
        (line,) = ax.plot(results.fars, pop.volume, label=name)
        ax.fill_between(
            results.fars,
            pop.volume - pop.error,
            pop.volume + pop.error,
            color=line.get_color(),
            alpha=0.2,
        )
    ax.set_xscale("log")
    plain_log_axis(ax.xaxis, results.fars)
    ax.set_xlabel("False-alarm rate (per year)")
    ax.set_ylabel("Sensitive volume (Gpc³)")
    ax.set_title("Sensitive volume vs false-alarm rate")
    if results.populations and len(results.fars):
        _legend_beside(ax)
    ax.grid(alpha=0.3, which="both")
    fig.savefig(path)


def snr_axis(ax: Axes, low: float, high: float) -> None:
    """A log network-SNR axis labelled with plain numbers (5, 10, 20, …)."""
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.xaxis.set_major_locator(FixedLocator(snr_ticks(low, high)))
    # plain numbers whatever the rcParams (gwpy, imported in the same process,
    # turns on mathtext labels)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _png_efficiency(results: AnalysisResults, path: Path) -> None:
    fig = Figure(figsize=(8.6, 4.2), dpi=120, layout="constrained")
    ax = fig.subplots()
    for item in results.efficiencies:
        c = item.curve
        ok = c.counts > 0
        ax.errorbar(
            c.snr_mean[ok],
            c.efficiency[ok],
            yerr=c.yerr[:, ok],
            marker="o",
            markersize=3,
            capsize=2,
            label=f"FAR {far_of_label(item.far_per_day)}",
        )
    if results.efficiencies:
        edges = results.efficiencies[0].curve.snr_edges
        snr_axis(ax, edges[0], edges[-1])
        level = results.efficiencies[0].curve.level
        ax.legend(
            fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            title=f"{100 * level:.0f}% Wilson intervals",
            title_fontsize=8,
        )
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("Injected network SNR")
    ax.set_ylabel("Fraction found")
    ax.set_title("Detection efficiency vs network SNR")
    ax.grid(alpha=0.3, which="both")
    fig.savefig(path)


def _png_statistic(statistic: StatisticVsSnr, path: Path) -> None:
    fig = Figure(figsize=(8.6, 4.2), dpi=120, layout="constrained")
    ax = fig.subplots()
    floor = statistic_floor(statistic)
    ok = statistic.counts > 0
    x = statistic.snr_mean[ok]
    q_low, q_high = statistic.quantiles
    band_low, band_high = statistic_band(statistic)
    ax.fill_between(
        x,
        band_low,
        band_high,
        alpha=0.25,
        color="C0",
        label=f"{100 * q_low:g}–{100 * q_high:g}% of injections",
    )
    median = statistic.median[ok]
    ax.plot(
        x, np.where(np.isfinite(median), median, np.nan), "o-", ms=3, label="median"
    )
    styles = ("-", "--", ":")
    for i, (label, value) in enumerate(statistic_marks(statistic).items()):
        ax.axhline(
            value,
            color="black" if i == 0 else f"C{i + 1}",
            linestyle=styles[i % 3],
            linewidth=1.2,
            label=f"{label} ({value:.3g})",
        )
    edges = statistic.snr_edges
    snr_axis(ax, edges[0], edges[-1])
    ax.set_ylim(bottom=floor)
    ax.set_xlabel("Injected network SNR")
    ax.set_ylabel("Detection statistic")
    ax.set_title("Detection statistic vs network SNR")
    ax.grid(alpha=0.3, which="both")
    # beside the axes, so it never covers the curve
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.savefig(path)


def _png_background(
    statistic: np.ndarray,
    tb: float,
    zero_lag: np.ndarray | None,
    marks: dict[str, float],
    path: Path,
) -> None:
    x, y = survival_curve(statistic, tb)
    fig = Figure(figsize=(8.6, 4.2), dpi=120, layout="constrained")
    ax = fig.subplots()
    ax.step(x, y, where="post", label="background")
    if zero_lag is not None and len(zero_lag):
        sorted_bg = np.sort(statistic)
        nb = np.maximum(len(sorted_bg) - np.searchsorted(sorted_bg, zero_lag), 1)
        ax.scatter(
            zero_lag,
            nb / tb * YEAR,
            color="firebrick",
            marker="D",
            s=16,
            label="zero-lag events",
            zorder=3,
        )
    for i, (label, threshold) in enumerate(marks.items()):
        if np.isfinite(threshold):
            ax.axvline(
                threshold,
                linestyle="--",
                color=f"C{i + 2}",
                label=f"{label} ({threshold:.3g})",
            )
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis, y)
    ax.set_xlabel("Detection statistic")
    ax.set_ylabel("False-alarm rate (per year)")
    ax.set_title("Background: false-alarm rate vs detection statistic")
    _legend_beside(ax)
    ax.grid(alpha=0.3, which="both")
    fig.savefig(path)


def _png_cumulative_ifar(data: CumulativeIfar, path: Path) -> None:
    fig = Figure(figsize=(8.6, 4.2), dpi=120, layout="constrained")
    ax = fig.subplots()
    floor = 0.5
    for sigma, alpha in ((2, 0.15), (1, 0.3)):
        lo, hi = data.bands[sigma]
        ax.fill_between(
            data.grid,
            np.maximum(lo, floor),
            np.maximum(hi, floor),
            color="grey",
            alpha=alpha,
            step="mid",
            label=f"noise: {sigma}σ Poisson interval",
        )
    ax.plot(data.grid, data.expected, "k--", label="noise: expected (T/IFAR)")
    if len(data.ifar):
        ax.step(
            data.ifar,
            data.count,
            where="post",
            color="firebrick",
            label="zero-lag events",
        )
        limit = data.lower_limit
        if limit.any():
            ax.scatter(
                data.ifar[limit],
                data.count[limit],
                marker=">",
                color="firebrick",
                label="IFAR ≥ Tb (a lower limit)",
                zorder=3,
            )
    ax.axvline(data.background_years, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.set_xlabel("Inverse false-alarm rate (years)")
    ax.set_ylabel("Number of zero-lag events with larger IFAR")
    ax.set_title("Cumulative number of zero-lag events above an IFAR")
    _legend_beside(ax)
    ax.grid(alpha=0.3, which="both")
    fig.savefig(path)


def _png_found_missed(columns: dict, found: np.ndarray, path: Path) -> None:
    fig = Figure(figsize=(8.6, 4.2), dpi=120, layout="constrained")
    ax = fig.subplots()
    ax.scatter(
        columns["chirp_mass"][~found],
        columns["distance"][~found],
        marker="x",
        s=10,
        color="grey",
        alpha=0.6,
        label=f"missed ({int((~found).sum())})",
    )
    ax.scatter(
        columns["chirp_mass"][found],
        columns["distance"][found],
        s=8,
        color="C0",
        label=f"found ({int(found.sum())})",
    )
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis, columns["distance"], decades=6)
    ax.set_xlabel("Chirp mass, source frame (M☉)")
    ax.set_ylabel("Luminosity distance (Mpc)")
    far_year = FOUND_AT_PER_DAY * YEAR / seconds_per("day")
    ax.set_title(f"Injections found and missed at FAR {far_text(far_year)}")
    _legend_beside(ax)
    ax.grid(alpha=0.3, which="both")
    fig.savefig(path)


def _png_chirp_mass(curves: list[tuple[str, EfficiencyCurve]], path: Path) -> None:
    fig = Figure(figsize=(8.6, 4.2), dpi=120, layout="constrained")
    ax = fig.subplots()
    for label, c in curves:
        ok = c.counts > 0
        left, right = c.snr_edges[:-1][ok], c.snr_edges[1:][ok]
        x = c.snr_mean[ok]
        ax.errorbar(
            x,
            c.efficiency[ok],
            xerr=[x - left, right - x],
            yerr=c.yerr[:, ok],
            fmt="o",
            markersize=3,
            capsize=2,
            label=label,
        )
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("Chirp mass, source frame (M☉)")
    ax.set_ylabel("Fraction found (Wilson interval)")
    ax.set_title("Fraction of injections found, by chirp mass")
    _legend_beside(ax)
    ax.grid(alpha=0.3, which="both")
    fig.savefig(path)


def _html(fig, title: str, path: Path) -> None:
    path.write_text(file_html(fig, INLINE, title))


def plots(basedir: Path, datadir: Path) -> Path:
    """Write the analysis figures as standalone HTML and PNG.

    Args:
        basedir: the experiment's directory (BASE_DIR/profile); reads
            ``analysis/sensitive-volume.hdf5`` and ``infer/*.hdf5``
        datadir: the input data directory (DATA_DIR/profile)

    Returns:
        the plots directory, ``BASE_DIR/analysis/plots``
    """
    basedir, datadir = Path(basedir).expanduser(), Path(datadir).expanduser()
    results = read_results(basedir / "analysis" / "sensitive-volume.hdf5")
    inputs = read_inputs(InferPaths.from_dirs(basedir, datadir))
    background = inputs.background
    found_at = threshold_at_far(background, FOUND_AT_PER_DAY, unit="day")
    statistic = background.parameters["detection_statistic"]
    zero_lag = (
        inputs.zero_lag.parameters["detection_statistic"] if inputs.zero_lag else None
    )
    marks = {
        label: threshold_at_far(background, rate, unit="day")
        for label, rate in MARKS.items()
    }
    marks_by_rate = {rate: marks[label] for label, rate in MARKS.items()}
    outdir = basedir / "analysis" / "plots"
    with atomic_dir(outdir) as tmp:
        _html(
            sensitive_volume_figure(results),
            "Sensitive volume",
            tmp / "sensitive-volume.html",
        )
        _png_sensitive_volume(results, tmp / "sensitive-volume.png")
        _html(efficiency_figure(results), "Efficiency", tmp / "efficiency.html")
        _png_efficiency(results, tmp / "efficiency.png")
        if results.statistic is not None:
            _html(
                statistic_figure(results.statistic),
                "Detection statistic",
                tmp / "statistic.html",
            )
            _png_statistic(results.statistic, tmp / "statistic.png")
        else:
            logger.warning(
                "sensitive-volume.hdf5 has no statistic group (an older file): "
                "no statistic figure; rerun sensitive-volume"
            )
        _html(
            survival_figure(statistic, background.Tb, zero_lag, marks),
            "Background",
            tmp / "background.html",
        )
        _png_background(
            statistic, background.Tb, zero_lag, marks, tmp / "background.png"
        )
        if inputs.zero_lag is not None and len(inputs.zero_lag):
            data = cumulative_ifar(
                statistic, background.Tb, zero_lag, inputs.zero_lag.Tb
            )
            _html(
                cumulative_ifar_figure(data),
                "Cumulative IFAR",
                tmp / "cumulative-ifar.html",
            )
            _png_cumulative_ifar(data, tmp / "cumulative-ifar.png")
        else:
            logger.warning("no zero-lag events: no cumulative IFAR figure")
        if np.isfinite(found_at):
            per_year = FOUND_AT_PER_DAY * YEAR / seconds_per("day")
            columns, found = found_missed_columns(
                inputs.foreground, background, found_at, inputs.found
            )
            _html(
                found_missed_figure(columns, found, per_year),
                "Found and missed injections",
                tmp / "found-missed.html",
            )
            _png_found_missed(columns, found, tmp / "found-missed.png")
        else:
            logger.warning(
                "the background does not resolve a FAR of %s: no found/missed figure",
                far_of_label(FOUND_AT_PER_DAY),
            )
        draws = campaign(inputs.foreground, inputs.rejected, found=inputs.found)
        curves = chirp_mass_curves(
            draws, {f"FAR {far_of_label(r)}": t for r, t in marks_by_rate.items()}
        )
        if curves:
            _html(
                binned_efficiency_figure(curves),
                "Found fraction by chirp mass",
                tmp / "chirp-mass.html",
            )
            _png_chirp_mass(curves, tmp / "chirp-mass.png")
    logger.info("wrote plots to %s", outdir)
    return outdir


def main(args: list[str] | None = None) -> None:
    """Entry point: expected bad input ends with one message, no traceback."""
    try:
        cli(plots, args=args, script="plots")
    except (AnalysisInputError, ArtifactError, ValueError) as err:
        logger.error("%s", err)
        sys.exit(f"plots: {err}")


if __name__ == "__main__":
    main()
