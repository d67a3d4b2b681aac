"""The plots script writes standalone HTML and PNG figures."""

import re

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread

from aframe.ledger.results import read_results
from aframe.plots.figures import efficiency_figure, statistic_figure
from analysis.plots import main as plots_main
from analysis.plots import snr_axis
from analysis.sensitive_volume import main as sv_main


def test_plots_are_written(experiment):
    args = ["--basedir", str(experiment.basedir), "--datadir", str(experiment.datadir)]
    sv_main(args)
    plots_main(args)
    outdir = experiment.basedir / "analysis" / "plots"
    names = {p.name for p in outdir.iterdir()}
    for stem in (
        "sensitive-volume",
        "efficiency",
        "statistic",
        "background",
        "cumulative-ifar",
        "found-missed",
        "chirp-mass",
    ):
        assert f"{stem}.html" in names and f"{stem}.png" in names
        image = imread(outdir / f"{stem}.png")
        assert image.shape[0] > 300 and image.shape[1] > 600
        # something was drawn: not a blank canvas
        assert image[..., :3].std() > 0.05
        html = (outdir / f"{stem}.html").read_text()
        # the JavaScript is inline: the page opens without a network
        assert "Bokeh" in html and "cdn.bokeh.org" not in html
    assert not any(".tmp-" in n for n in names)


def test_plots_without_results_is_one_clear_error(experiment):
    args = ["--basedir", str(experiment.basedir), "--datadir", str(experiment.datadir)]
    with pytest.raises(SystemExit, match="sensitive-volume.hdf5: no such file"):
        plots_main(args)


def test_snr_axes_are_labelled_with_plain_numbers(experiment):
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot([4, 100], [0, 1])
    snr_axis(ax, 4.0, 100.0)
    fig.canvas.draw()
    major = [t.get_text() for t in ax.get_xticklabels()]
    assert major == ["5", "10", "20", "50", "100"]
    # no labelled minor ticks to collide with them (no "3×10⁰4×10⁰")
    assert not any(t.get_text() for t in ax.get_xticklabels(minor=True))

    sv_main(
        ["--basedir", str(experiment.basedir), "--datadir", str(experiment.datadir)]
    )
    results = read_results(experiment.basedir / "analysis" / "sensitive-volume.hdf5")
    for p in (efficiency_figure(results), statistic_figure(results.statistic)):
        assert list(p.xaxis[0].ticker.ticks) == [5, 10, 20, 50, 100]
    # the statistic figure's legend sits beside the plot, not on the data
    p = statistic_figure(results.statistic)
    assert p.legend[0] in p.right
    labels = [item.label.value for item in p.legend[0].items]
    assert any(label.startswith("loudest background event") for label in labels)
    assert any("8,766/yr" in label for label in labels)


def test_far_is_per_year_on_every_figure(experiment):
    """One FAR unit: no axis, legend or hover of the written figures says per day."""
    args = ["--basedir", str(experiment.basedir), "--datadir", str(experiment.datadir)]
    sv_main(args)
    plots_main(args)
    outdir = experiment.basedir / "analysis" / "plots"
    for path in outdir.glob("*.html"):
        # the document (axes, legends, hovers), not the inline BokehJS library
        html = re.search(
            r'<script type="application/json"[^>]*>(.*?)</script>',
            path.read_text(),
            re.S,
        ).group(1)
        for wrong in ("per day", "/day", "per hour", "/hour", "(/yr)"):
            assert wrong not in html, (path.name, wrong)
    background = (outdir / "background.html").read_text()
    assert "False-alarm rate (per year)" in background
    assert "IFAR (years)" in background
    ifar = (outdir / "cumulative-ifar.html").read_text()
    assert "Inverse false-alarm rate (years)" in ifar


def test_png_legends_sit_beside_the_axes(experiment):
    """Legends never cover data: each lies right of its axes' box."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from analysis import plots

    args = ["--basedir", str(experiment.basedir), "--datadir", str(experiment.datadir)]
    sv_main(args)
    results = read_results(experiment.basedir / "analysis" / "sensitive-volume.hdf5")
    drawn = []

    def capture(fig_method):
        def wrapped(self, path, *a, **k):
            drawn.append(self)
            return fig_method(self, path, *a, **k)

        return wrapped

    original = Figure.savefig
    Figure.savefig = capture(original)
    try:
        outdir = experiment.basedir / "analysis"
        plots._png_efficiency(results, outdir / "e.png")
        plots._png_sensitive_volume(results, outdir / "s.png")
        plots._png_statistic(results.statistic, outdir / "t.png")
    finally:
        Figure.savefig = original
    for fig in drawn:
        FigureCanvasAgg(fig)
        fig.canvas.draw()
        ax = fig.axes[0]
        legend = ax.get_legend()
        renderer = fig.canvas.get_renderer()
        box, frame = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.x0 >= frame.x1 - 1, "legend over the axes"


def test_png_far_axes_have_plain_labels(experiment):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from analysis.plots import plain_log_axis

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot([180, 9000], [0, 1])
    ax.set_xscale("log")
    plain_log_axis(ax.xaxis, np.array([180.0, 9000.0]))
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["200", "500", "1,000", "2,000", "5,000"]
    assert not any(t.get_text() for t in ax.get_xticklabels(minor=True))
