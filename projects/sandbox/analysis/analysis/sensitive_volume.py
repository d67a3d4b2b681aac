"""The ``sensitive-volume`` script: volumes, efficiencies and the run summary."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from aframe.priors import get_prior
from aframe.utils.cli import cli
from aframe.utils.io import ArtifactError, atomic_path
from analysis.compute import analyse
from analysis.glitches import loudest_near_glitches
from analysis.inputs import AnalysisInputError, InferPaths, read_inputs
from analysis.populations import (
    LOG_NORMAL_POPULATIONS,
    injection_density,
    target_populations,
)

logger = logging.getLogger(__name__)


def sensitive_volume(
    basedir: Path,
    datadir: Path,
    populations: list[str] | None = None,
    injection_prior: str | None = None,
    max_far: float = 24.0,
    efficiency_fars: list[float] | None = None,
    efficiency_snrs: list[float] | None = None,
    vetoes: dict[str, str] | None = None,
) -> Path:
    """Sensitive volume vs false-alarm rate, efficiency vs SNR, run summary.

    Reads ``BASE_DIR/infer/{background,foreground,zero-lag}.hdf5``,
    ``DATA_DIR/test/rejected-parameters.hdf5`` and, when present, training's
    ``BASE_DIR/training/validation-{background,signals}.hdf5`` (validation vs
    test recall); writes ``BASE_DIR/analysis/sensitive-volume.hdf5`` and
    ``summary.json``. Efficiency bins are pooled from fixed SNR edges to at
    least 25 injections each, with Wilson intervals; the SNR of 50%
    efficiency comes with a bootstrap interval.

    Args:
        basedir: the experiment's directory (BASE_DIR/profile)
        datadir: the input data directory (DATA_DIR/profile)
        populations: target populations (prior names) besides the injection
            prior's own masses, which always come first and head the summary;
            default the four log-normal mass bins
        injection_prior: name of the prior the injections were drawn from;
            default the ``prior`` attribute of rejected-parameters.hdf5
        max_far: largest false-alarm rate of the volume curves, per day
        efficiency_fars: false-alarm rates of the efficiency curves, per day;
            default 1 per hour and 1 per day (rates below 1/Tb are skipped
            with a note)
        efficiency_snrs: network SNRs whose efficiency at 1 per day the
            summary reports; default 8, 12, 20
        vetoes: ifo → veto segment file (two columns or segwizard, GPS s),
            applied at each detector's shifted time

    Returns:
        the path of summary.json
    """
    basedir, datadir = Path(basedir).expanduser(), Path(datadir).expanduser()
    names = list(LOG_NORMAL_POPULATIONS if populations is None else populations)
    rates = [24.0, 1.0] if efficiency_fars is None else efficiency_fars
    snrs = [8.0, 12.0, 20.0] if efficiency_snrs is None else efficiency_snrs

    paths = InferPaths.from_dirs(basedir, datadir)
    inputs = read_inputs(paths, vetoes)
    prior_name = injection_prior or str(inputs.rejected.attrs["prior"])
    injection = get_prior(prior_name)
    targets = target_populations(
        [prior_name, *[n for n in names if n != prior_name]], injection
    )
    results, summary = analyse(
        inputs,
        injection_density(injection),
        targets,
        injection_prior=prior_name,
        max_far=max_far,
        efficiency_fars=rates,
        efficiency_snrs=snrs,
    )
    summary["loudest_background_near_glitches"] = loudest_near_glitches(
        inputs.background, datadir / "test" / "background"
    )
    outdir = basedir / "analysis"
    results.write(outdir / "sensitive-volume.hdf5")
    summary_path = outdir / "summary.json"
    with atomic_path(summary_path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    logger.info("wrote %s and %s", outdir / "sensitive-volume.hdf5", summary_path)
    return summary_path


def main(args: list[str] | None = None) -> None:
    """Entry point: expected bad input ends with one message, no traceback."""
    try:
        cli(sensitive_volume, args=args, script="sensitive-volume")
    except (AnalysisInputError, ArtifactError, ValueError) as err:
        logger.error("%s", err)
        sys.exit(f"sensitive-volume: {err}")


if __name__ == "__main__":
    main()
