"""The ``plots`` script: standalone HTML (Bokeh) and PNG (matplotlib) figures.

Writes ``BASE_DIR/analysis/plots/{sensitive-volume,efficiency,statistic,background}``
``.{html,png}`` from ``sensitive-volume.hdf5`` and the background (and zero-lag)
events. The HTML files embed Bokeh's JavaScript, so they open without a network.
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
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

from aframe.ledger.far import threshold_at_far
from aframe.ledger.results import AnalysisResults, StatisticVsSnr, read_results
from aframe.plots.figures import (
    efficiency_figure,
    sensitive_volume_figure,
    snr_ticks,
    statistic_band,
    statistic_figure,
    statistic_floor,
    statistic_marks,
    survival_curve,
    survival_figure,
)
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError, atomic_dir
from analysis.inputs import AnalysisInputError, InferPaths, read_inputs

logger = logging.getLogger(__name__)

#: thresholds marked on the background plot, per day
MARKS = {"1 per hour": 24.0, "1 per day": 1.0}


def _png_sensitive_volume(results: AnalysisResults, path: Path) -> None:
    fig = Figure(figsize=(7, 4.2), dpi=120)
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
    ax.set_xlabel("False-alarm rate (per year)")
    ax.set_ylabel("Sensitive volume (Gpc³)")
    ax.set_title("Sensitive volume vs false-alarm rate")
    if results.populations and len(results.fars):
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path)


def snr_axis(ax: Axes, low: float, high: float) -> None:
    """A log network-SNR axis labelled with plain numbers (5, 10, 20, …)."""
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.xaxis.set_major_locator(FixedLocator(snr_ticks(low, high)))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _png_efficiency(results: AnalysisResults, path: Path) -> None:
    fig = Figure(figsize=(7, 4.2), dpi=120)
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
            label=f"FAR {item.label}",
        )
    if results.efficiencies:
        edges = results.efficiencies[0].curve.snr_edges
        snr_axis(ax, edges[0], edges[-1])
        level = results.efficiencies[0].curve.level
        ax.legend(fontsize=8, loc="best", title=f"{100 * level:.0f}% Wilson")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("Injected network SNR")
    ax.set_ylabel("Fraction found")
    ax.set_title("Detection efficiency vs network SNR")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
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
    fig = Figure(figsize=(7, 4.2), dpi=120)
    ax = fig.subplots()
    ax.step(x, y, where="post", label="background")
    if zero_lag is not None and len(zero_lag):
        sorted_bg = np.sort(statistic)
        nb = np.maximum(len(sorted_bg) - np.searchsorted(sorted_bg, zero_lag), 1)
        ax.scatter(
            zero_lag,
            nb / tb * 86400,
            color="firebrick",
            marker="D",
            s=16,
            label="zero-lag events",
            zorder=3,
        )
    for label, threshold in marks.items():
        if np.isfinite(threshold):
            ax.axvline(threshold, linestyle="--", color="grey")
            ax.text(threshold, y.max(), f" {label}", fontsize=8, va="top")
    ax.set_yscale("log")
    ax.set_xlabel("Detection statistic")
    ax.set_ylabel("False-alarm rate (per day)")
    ax.set_title("Background: false-alarm rate vs detection statistic")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
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
    statistic = background.parameters["detection_statistic"]
    zero_lag = (
        inputs.zero_lag.parameters["detection_statistic"] if inputs.zero_lag else None
    )
    marks = {
        label: threshold_at_far(background, rate, unit="day")
        for label, rate in MARKS.items()
    }
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
