"""InjectionSet (and its inject) and RejectedParameterSet."""

from __future__ import annotations

import numpy as np
import pytest

from aframe.ledger import InjectionSet, LedgerError, RejectedParameterSet

FS = 16.0  # Hz; responses are 16 samples (1 s) with coalescence at sample 8
T0 = 100.0


def ramps(n: int) -> dict[str, np.ndarray]:
    """Distinct integer-valued responses (exact in float32): H1 and L1 = -H1."""
    h1 = np.array([(k + 1) * 100 + np.arange(16) for k in range(n)], dtype=float)
    return {"H1": h1, "L1": -h1}


def test_round_trip(tmp_path, make_injections):
    inj = make_injections([10.0, 20.0, 30.0], shifts=[0.0, 1.0])
    back = InjectionSet.read(inj.write(tmp_path / "waveforms.hdf5"))
    assert back.attrs == inj.attrs
    assert back.ifos == ["H1", "L1"]
    for name, value in inj.parameters.items():
        np.testing.assert_array_equal(back.parameters[name], value)
    for ifo in ("H1", "L1"):
        np.testing.assert_array_equal(back.waveforms[ifo], inj.waveforms[ifo])


def test_per_ifo_snr_required(make_injections):
    inj = make_injections([1.0])
    params = {k: v for k, v in inj.parameters.items() if k != "L1_snr"}
    with pytest.raises(LedgerError, match=r"parameters/L1_snr missing"):
        InjectionSet(params, inj.waveforms, inj.attrs)


def test_inject_at_chunk_edges(make_injections):
    times = [
        T0 + 0.25,  # starts 4 samples before the chunk: x[0:12] += w[4:16]
        T0 + 1.875,  # runs 10 samples into the chunk's end: x[22:32] += w[0:10]
        T0 - 1.0,  # ends before the chunk
        T0 + 2.5,  # starts after it
    ]
    inj = make_injections(times, waveforms=ramps(4))
    x = np.ones((2, 32))
    out = inj.inject(x, T0, sample_rate=FS)
    w = ramps(4)
    expected = np.ones((2, 32))
    for row, ifo in enumerate(("H1", "L1")):
        expected[row, 0:12] += w[ifo][0, 4:16]
        expected[row, 22:32] += w[ifo][1, 0:10]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(x, 1.0)  # not in place by default


def test_inject_overlapping_waveforms_accumulate(make_injections):
    inj = make_injections([T0 + 0.75, T0 + 1.0], waveforms=ramps(2))
    x = np.zeros((2, 32))
    out = inj.inject(x, T0, inplace=True)
    assert out is x
    w = ramps(2)
    expected = np.zeros((2, 32))
    expected[:, 4:20] += np.stack([w["H1"][0], w["L1"][0]])
    expected[:, 8:24] += np.stack([w["H1"][1], w["L1"][1]])
    np.testing.assert_array_equal(x, expected)
    # samples 8..19 hold the sum of both responses
    assert x[0, 10] == w["H1"][0][6] + w["H1"][1][2]


def test_inject_rounds_to_nearest_sample(make_injections):
    w = ramps(2)
    inj = make_injections([T0 + (8 + 0.4) / FS, T0 + (20 + 0.6) / FS], waveforms=w)
    out = inj.inject(np.zeros((2, 48)), T0)
    expected = np.zeros((2, 48))
    expected[0, 0:16] += w["H1"][0]  # 8.4 → coalescence at sample 8
    expected[0, 13:29] += w["H1"][1]  # 20.6 → coalescence at sample 21
    np.testing.assert_array_equal(out[0], expected[0])


def test_inject_chunks_equal_one_long_chunk(make_injections):
    rng = np.random.default_rng(5)
    times = T0 + rng.uniform(-1, 5, 12)
    inj = make_injections(times)
    whole = inj.inject(np.zeros((2, 64)), T0)
    pieces = [inj.inject(np.zeros((2, 16)), T0 + i) for i in range(4)]
    np.testing.assert_allclose(
        np.concatenate(pieces, axis=1), whole, rtol=0, atol=1e-12
    )


def test_inject_row_order_and_errors(make_injections):
    inj = make_injections([T0 + 0.5], waveforms=ramps(1))
    swapped = inj.inject(np.zeros((2, 16)), T0, ifos=["L1", "H1"])
    normal = inj.inject(np.zeros((2, 16)), T0)
    np.testing.assert_array_equal(swapped, normal[::-1])
    single = inj.inject(np.zeros((1, 16)), T0, ifos=["L1"])
    np.testing.assert_array_equal(single[0], normal[1])
    with pytest.raises(LedgerError, match="32.0 Hz"):
        inj.inject(np.zeros((2, 16)), T0, sample_rate=32.0)
    with pytest.raises(LedgerError, match=r"shape \(3, 16\)"):
        inj.inject(np.zeros((3, 16)), T0)
    with pytest.raises(LedgerError, match="parameters only"):
        InjectionSet(inj.parameters, None, inj.attrs).inject(np.zeros((2, 16)), T0)


def test_inject_empty_set(make_injections):
    inj = make_injections([])
    np.testing.assert_array_equal(inj.inject(np.ones((2, 8)), T0), 1.0)


def test_rejected_round_trip_and_append(tmp_path, make_rejected):
    rejected = make_rejected(4, num_injections=10)
    back = RejectedParameterSet.read(
        rejected.write(tmp_path / "rejected-parameters.hdf5")
    )
    assert back.waveforms == {}
    np.testing.assert_array_equal(back.parameters["snr"], rejected.parameters["snr"])
    back.append(make_rejected(2, num_injections=6))
    assert len(back) == 6 and back.attrs["num_injections"] == 16
