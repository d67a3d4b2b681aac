import numpy as np

from aframe.ledger import EventSet
from aframe.utils.background import background_filename, write_background
from analysis.glitches import loudest_near_glitches


def _background_file(directory, t0, duration, glitches):
    fs = 64.0
    n = int(duration * fs)
    strain = {ifo: np.zeros(n) for ifo in ("H1", "L1")}
    table = {
        ifo: {
            "time": np.asarray(times, dtype=float),
            "snr": np.full(len(times), 10.0),
            "frequency": np.full(len(times), 100.0),
            "quality": np.full(len(times), 9.0),
            "kind": np.zeros(len(times), dtype=int),
        }
        for ifo, times in glitches.items()
    }
    path = directory / background_filename(t0, duration)
    write_background(path, strain, t0, fs, {"source": "test"}, table)
    return path


def test_loudest_events_near_glitches_in_their_own_shifted_detector(tmp_path):
    _background_file(tmp_path, 1000, 1000, {"H1": [1100.0], "L1": [1500.0]})
    # event 0: H1 time 1101 → near H1's glitch; event 1: L1 sees 1497 + 5 =
    # 1502 → near L1's; event 2: nothing near; event 3 (quietest) near H1
    events = EventSet(
        {
            "detection_statistic": np.array([9.0, 8.0, 7.0, 1.0]),
            "detection_time": np.array([1101.0, 1497.0, 1300.0, 1099.0]),
            "shift": np.array([[0.0, 1.0], [0.0, 5.0], [0.0, 1.0], [0.0, 1.0]]),
        },
        attrs={"Tb": 1000.0, "ifos": ["H1", "L1"]},
    )
    out = loudest_near_glitches(events, tmp_path, count=3, window=2.0)
    assert out == {
        "count": 3,
        "near": 2,
        "fraction": 2 / 3,
        "window_s": 2.0,
        "chance": 3 / 4,
    }
    # without recorded glitches there is nothing to say
    empty = tmp_path / "clean"
    empty.mkdir()
    _background_file(empty, 1000, 1000, {"H1": [], "L1": []})
    assert loudest_near_glitches(events, empty) is None
