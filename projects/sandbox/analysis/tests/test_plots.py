"""The plots script writes standalone HTML and PNG figures."""

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
    for stem in ("sensitive-volume", "efficiency", "statistic", "background"):
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
    assert any("1/hour" in label for label in labels)
