"""The ``search`` script: arguments that cannot work end in one message."""

from __future__ import annotations

import numpy as np
import pytest

from aframe.ledger import EventSet
from search.main import main

T0 = 1_260_000_000


def run(capfd, argv):
    """The error ``search`` ends with (its log line on stderr)."""
    capfd.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    assert exit_info.value.code == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err
    return err


def test_bad_arguments(tmp_path, model, kit, capfd):
    base = ["--repository", model.repository, "--outdir", tmp_path / "out"]
    rate = ["--inference_sampling_rate", 2.0]
    message = run(capfd, [*base, *rate, "--ifos", '["L1", "H1"]', "--start", T0])
    assert "ifos ['L1', 'H1'] given, but the model" in message
    ifos = ["--ifos", '["H1", "L1"]']
    message = run(capfd, [*base, *rate, *ifos, "--start", T0, "--Tb", 100])
    assert "needs start < stop" in message
    message = run(capfd, [*base, *rate, *ifos, "--start", T0, "--stop", T0 + 10])
    assert "needs Tb" in message
    message = run(
        capfd,
        [*base, "--inference_sampling_rate", 3.0, "--integration_length", 0.5, *ifos],
    )
    assert "integration_length = 0.5 s is not a whole" in message
    message = run(
        capfd,
        ["--repository", tmp_path / "nowhere", "--outdir", tmp_path, *rate, *ifos],
    )
    assert "no such model repository" in message

    # offline: 4 s of data, no more than the burn-in; 8 s, too little for Tb
    path = kit.write_hdf5(
        tmp_path / f"X-S-{T0}-8.hdf5", kit.simulate(T0, 8), T0, "OPEN"
    )
    offline = [
        *base, *rate, *ifos, "--start", T0, "--Tb", 100,
        "--integration_length", 0.5, "--cluster_window_length", 4.0,
        "--data_files", f"[{path}]",
    ]  # fmt: skip
    message = run(capfd, [*offline, "--stop", T0 + 4])
    assert "no segment of [1260000000, 1260000004) is longer than the burn-in" in (
        message
    )
    message = run(capfd, [*offline, "--stop", T0 + 8])
    assert "too little data for the background: Tb = 100.0 s cannot be" in message


def test_online_background_must_fit(tmp_path, model, kit, capfd, noise_background):
    frames = tmp_path / "frames"
    frames.mkdir()
    base = [
        "--repository", model.repository, "--outdir", tmp_path / "out",
        "--ifos", '["H1", "L1"]', "--inference_sampling_rate", 2.0,
        "--integration_length", 0.5, "--follow", frames,
    ]  # fmt: skip
    message = run(capfd, base)
    assert "background.hdf5: no such background" in message
    message = run(
        capfd, [*base, "--background", noise_background, "--cluster_window_length", 8]
    )
    assert "cluster_window_length = 4.0, but the search uses 8.0" in message
    other = EventSet(
        {"detection_statistic": np.ones(1), "detection_time": np.ones(1),
         "shift": np.zeros((1, 2))},
        attrs={"Tb": 100.0, "ifos": ["H1", "L1"], "model": "aframe-v9-other"},
    )  # fmt: skip
    path = other.write(tmp_path / "other.hdf5")
    message = run(capfd, [*base, "--background", path, "--cluster_window_length", 4])
    assert "made with model aframe-v9-other" in message
