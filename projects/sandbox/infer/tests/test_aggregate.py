"""Per-job results merge into the three artifacts; injections are counted once."""

import numpy as np
import pytest

from aframe.ledger import EventSet, InjectionSet, RecoveredInjectionSet
from infer.aggregate import aggregate


def events(times, stats, shift, tb):
    return EventSet(
        {
            "detection_statistic": np.asarray(stats, float),
            "detection_time": np.asarray(times, float),
            "shift": np.tile(shift, (len(times), 1)).astype(float),
        },
        attrs={"Tb": tb, "ifos": ["H1", "L1"]},
    )


def test_aggregate(tmp_path, sandbox):
    waveforms = sandbox / "test" / "waveforms.hdf5"
    injections = InjectionSet.read(waveforms, waveforms=False)
    one = injections.get_shift([0.0, 1.0])
    two = injections.get_shift([0.0, 2.0])
    jobs = []
    for k, (chosen, shift) in enumerate(((one, [0, 1]), (two, [0, 2]))):
        d = tmp_path / f"job{k}"
        d.mkdir()
        t = chosen.parameters["injection_time"]
        # background: two events; foreground: the first injection found 0.05 s
        # late, the second only 1.5 s away (outside the window)
        events([10.0, 20.0], [1.0, 2.0], shift, 100.0).write(d / "background.hdf5")
        events([t[0] + 0.05, t[1] + 1.5], [5.0, 6.0], shift, 100.0).write(
            d / "foreground.hdf5"
        )
        jobs.append(d)
    zero = tmp_path / "zero"
    zero.mkdir()
    events([30.0], [3.0], [0, 0], 120.0).write(zero / "zero-lag.hdf5")

    written = aggregate(jobs, [zero], tmp_path / "out", waveforms, 1.0, {"model": "m"})
    background = EventSet.read(written["background"])
    assert len(background) == 4 and background.Tb == 200.0
    assert EventSet.read(written["zero-lag"]).Tb == 120.0

    recovered = RecoveredInjectionSet.read(written["foreground"])
    assert len(recovered) == len(injections)
    assert recovered.attrs["num_injections"] == injections.attrs["num_injections"]
    assert recovered.Tb == 200.0 and recovered.attrs["model"] == "m"
    assert recovered.recovered.sum() == 2
    found = recovered[recovered.recovered]
    np.testing.assert_allclose(
        found.parameters["detection_time"] - found.parameters["injection_time"],
        0.05,
        atol=1e-6,
    )
    assert np.all(
        np.isneginf(recovered[~recovered.recovered].parameters["detection_statistic"])
    )
    assert recovered.attrs["match_window"] == pytest.approx(1.0)
