"""GlitchSet: per-ifo glitch snippets."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from aframe.ledger import EventSet, GlitchSet, LedgerError, read_any

ATTRS = {
    "sample_rate": 64.0,
    "pad": [0.5, 0.5],
    "snr_threshold": 6.0,
    "method": "qtransform",
}


def make(n_h1: int = 3, n_l1: int = 2) -> GlitchSet:
    rng = np.random.default_rng(0)

    def ifo(n, t0):
        return {
            "snippets": rng.normal(size=(n, 64)),
            "time": t0 + np.arange(n) * 10.0,
            "snr": rng.uniform(6, 20, n),
            "frequency": rng.uniform(30, 500, n),
            "quality": rng.uniform(4, 100, n),
        }

    return GlitchSet({"H1": ifo(n_h1, 100.0), "L1": ifo(n_l1, 105.0)}, ATTRS)


def test_round_trip_and_time_filter(tmp_path):
    glitches = make()
    path = glitches.write(tmp_path / "glitches.hdf5")
    back = GlitchSet.read(path)
    assert back.ifos == ["H1", "L1"]
    assert back.num_glitches("H1") == 3 and back.num_glitches("L1") == 2
    np.testing.assert_array_equal(back["L1"]["snippets"], glitches["L1"]["snippets"])
    assert back.attrs["pad"] == [0.5, 0.5]
    sub = GlitchSet.read(path, start=105.0, end=120.0)
    np.testing.assert_array_equal(sub["H1"]["time"], [110.0])
    np.testing.assert_array_equal(sub["L1"]["time"], [105.0, 115.0])
    assert GlitchSet.read(path, ifos=["L1"]).ifos == ["L1"]


def test_append():
    a, b = make(), make(1, 1)
    a.append(b)
    assert a.num_glitches("H1") == 4 and a.num_glitches("L1") == 3
    c = make()
    c.attrs["method"] = "omicron"
    with pytest.raises(LedgerError, match="attribute method differs"):
        a.append(c)


def test_errors(tmp_path):
    g = make()
    bad = dict(g["H1"], snr=np.ones(2))
    with pytest.raises(LedgerError, match=r"H1/snr has 2 records, expected 3"):
        GlitchSet({"H1": bad}, ATTRS)
    with pytest.raises(LedgerError, match=r"attribute method missing"):
        GlitchSet({"H1": g["H1"]}, {k: v for k, v in ATTRS.items() if k != "method"})
    path = g.write(tmp_path / "glitches.hdf5")
    with h5py.File(path, "a") as f:
        del f["L1/quality"]
    with pytest.raises(LedgerError, match=r"glitches.hdf5: L1/quality missing"):
        GlitchSet.read(path)
    with pytest.raises(LedgerError, match=r"glitches.hdf5: group V1 missing"):
        GlitchSet.read(path, ifos=["V1"])


def test_ledger_type_checked(tmp_path):
    path = make().write(tmp_path / "glitches.hdf5")
    with pytest.raises(
        LedgerError, match=r"glitches.hdf5: ledger_type is GlitchSet, expected EventSet"
    ):
        EventSet.read(path)
    assert type(read_any(path)) is GlitchSet
    other = EventSet(attrs={"Tb": 1.0, "ifos": ["H1"]}).write(tmp_path / "events.hdf5")
    with pytest.raises(
        LedgerError, match=r"events.hdf5: ledger_type is EventSet, expected GlitchSet"
    ):
        GlitchSet.read(other)


def test_structure_check_of_a_glitch_file(tmp_path):
    # every ledger type answers check_any, the check pinto runs on a step's
    # outputs before it calls the step done
    from aframe.ledger.recordset import LEDGER_TYPES, check_any

    assert all(hasattr(kind, "check_file") for kind in LEDGER_TYPES.values())
    path = make().write(tmp_path / "glitches.hdf5")
    assert check_any(path) == "GlitchSet"
    with h5py.File(path, "a") as f:
        del f["L1/quality"]
    with pytest.raises(LedgerError, match=r"glitches.hdf5: L1/quality missing"):
        check_any(path)
