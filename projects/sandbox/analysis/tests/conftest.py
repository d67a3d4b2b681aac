"""A synthetic experiment shared by the analysis tests (written once per session)."""

import shutil

import pytest

from aframe.ledger.synthetic import write_synthetic_experiment


@pytest.fixture(scope="session")
def experiment_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiment")
    # enough draws that the efficiency bins, pooled to ≥ 25 injections, stay
    # narrow up to SNR ≈ 15 (the campaign is ~8% accepted)
    return write_synthetic_experiment(
        root / "base", root / "data", seed=3, num_injections=12_000
    )


@pytest.fixture
def experiment(experiment_template, tmp_path):
    """A private copy of the synthetic experiment that a test may modify."""
    base, data = tmp_path / "base", tmp_path / "data"
    shutil.copytree(experiment_template.basedir, base)
    shutil.copytree(experiment_template.datadir, data)
    return type(experiment_template)(
        basedir=base,
        datadir=data,
        background=base / "infer" / "background.hdf5",
        foreground=base / "infer" / "foreground.hdf5",
        zero_lag=base / "infer" / "zero-lag.hdf5",
        rejected=data / "test" / "rejected-parameters.hdf5",
        injections=None,
    )
