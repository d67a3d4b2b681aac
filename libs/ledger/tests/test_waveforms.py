"""WaveformSet: training polarisations."""

from __future__ import annotations

import numpy as np

from aframe.ledger import WaveformSet


def test_round_trip(tmp_path, make_waveforms):
    wf = make_waveforms(6, length=32)
    path = wf.write(tmp_path / "signals.hdf5")
    back = WaveformSet.read(path)
    assert back.attrs == wf.attrs
    assert back.source == "signals.hdf5"
    for name, value in wf.parameters.items():
        np.testing.assert_array_equal(back.parameters[name], value)
    for name in ("cross", "plus"):
        assert back.waveforms[name].dtype == np.float32
        np.testing.assert_array_equal(back.waveforms[name], wf.waveforms[name])


def test_waveforms_are_float32_and_polarizations_order(make_waveforms):
    wf = make_waveforms(3)
    assert wf.waveforms["cross"].dtype == np.float32
    stacked = wf.polarizations()
    assert stacked.shape == (3, 2, 16)
    np.testing.assert_array_equal(stacked[:, 0], wf.waveforms["cross"])
    np.testing.assert_array_equal(stacked[:, 1], wf.waveforms["plus"])
    assert wf.coalescence_sample == 8
    assert wf.sample_rate == 16.0


def test_extra_prior_keys_are_kept(tmp_path, make_waveforms):
    wf = make_waveforms(2)
    wf.parameters["chirp_mass"] = np.array([10.0, 20.0])
    back = WaveformSet.read(wf.write(tmp_path / "s.hdf5"))
    np.testing.assert_array_equal(back.parameters["chirp_mass"], [10.0, 20.0])


def test_parameters_only_read(tmp_path, make_waveforms):
    path = make_waveforms(4).write(tmp_path / "s.hdf5")
    back = WaveformSet.read(path, waveforms=False)
    assert back.waveforms == {} and len(back) == 4
    assert WaveformSet.read_attrs(path)["approximant"] == "IMRPhenomPv2"
