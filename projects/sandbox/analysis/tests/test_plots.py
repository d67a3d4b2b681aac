"""The plots script writes standalone HTML and PNG figures."""

import pytest
from matplotlib.image import imread

from analysis.plots import main as plots_main
from analysis.sensitive_volume import main as sv_main


def test_plots_are_written(experiment):
    args = ["--basedir", str(experiment.basedir), "--datadir", str(experiment.datadir)]
    sv_main(args)
    plots_main(args)
    outdir = experiment.basedir / "analysis" / "plots"
    names = {p.name for p in outdir.iterdir()}
    for stem in ("sensitive-volume", "efficiency", "background"):
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
