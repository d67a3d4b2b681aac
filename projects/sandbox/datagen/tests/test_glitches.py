from pathlib import Path

import numpy as np
import pytest

from aframe.ledger import GlitchSet
from aframe.utils.background import (
    list_background,
    read_background,
    read_injected_glitches,
)
from datagen.background import generate_background
from datagen.glitches import GlitchConfigError, generate_glitches, glitch_pad, main

T0 = 1_240_579_783
IFOS = ["H1", "L1"]
RATE = 512
PREPROCESSING = dict(psd_length=8.0, kernel_length=1.5, fduration=1.0, highpass=32.0)


def background(datadir, glitch_rate, duration=600, seed=3):
    generate_background(
        datadir=datadir,
        ifos=IFOS,
        sample_rate=RATE,
        train_start=T0,
        train_stop=T0 + duration,
        test_start=T0 + duration,
        test_stop=T0 + duration + 64,
        min_train_length=64,
        min_test_length=32,
        max_segment_length=300,
        seed=seed,
        glitch_rate=glitch_rate,
        glitch_snr_min=8.0,
        glitch_snr_max=40.0,
        glitch_frequency_range=(40.0, 200.0),
    )


def search(datadir, **kwargs):
    args = dict(datadir=datadir, ifos=IFOS, sample_rate=RATE, snr_threshold=6.0)
    args.update(PREPROCESSING)
    args.update(kwargs)
    return generate_glitches(**args)


def test_pad():
    assert glitch_pad(8.0, 1.5, 1.0) == (10.0, 2.0)


def test_recovers_injected_glitches(tmp_path):
    background(tmp_path, glitch_rate=120)
    path = search(tmp_path)
    assert path == tmp_path / "train" / "glitches.hdf5"
    glitches = GlitchSet.read(path)
    assert glitches.attrs["method"] == "qtransform"
    assert glitches.attrs["pad"] == [10.0, 2.0]
    assert glitches.attrs["sample_rate"] == RATE
    files = list_background(tmp_path / "train" / "background", IFOS)
    recovered = injected = false = 0
    for ifo in IFOS:
        found = glitches[ifo]
        assert found["snippets"].shape == (len(found["time"]), 12 * RATE)
        truth = []
        for item in files:
            table = read_injected_glitches(item.path, ifo)
            # a trigger needs a whole snippet and a searched chunk around it
            usable = (table["time"] > item.t0 + 10.5) & (table["time"] < item.stop - 4)
            truth.append(table["time"][usable])
        truth = np.concatenate(truth)
        injected += len(truth)
        for t in truth:
            recovered += np.min(np.abs(found["time"] - t), initial=np.inf) < 0.1
        for t in found["time"]:
            false += np.min(np.abs(truth - t), initial=np.inf) > 0.5
        # snippets are the raw strain around each trigger
        item = files[0]
        inside = (found["time"] > item.t0 + 10) & (found["time"] < item.stop - 2)
        for t, snippet in zip(found["time"][inside][:3], found["snippets"][inside][:3]):
            start = round((t - 10.0 - item.t0) * RATE)
            raw = read_background(item.path, [ifo])[0, start : start + 12 * RATE]
            np.testing.assert_array_equal(snippet, raw)
    assert injected >= 20
    assert recovered >= 0.9 * injected, (recovered, injected)
    assert false <= 2


def test_clean_noise_gives_an_empty_but_valid_set(tmp_path):
    background(tmp_path, glitch_rate=0, duration=300)
    glitches = GlitchSet.read(search(tmp_path))
    for ifo in IFOS:
        assert glitches.num_glitches(ifo) <= 1
        assert glitches[ifo]["snippets"].shape[1] == 12 * RATE
    # nothing found at all is still a valid file
    empty = GlitchSet.read(search(tmp_path, snr_threshold=1000.0))
    assert empty.ifos == IFOS
    assert all(empty.num_glitches(ifo) == 0 for ifo in IFOS)
    assert empty["H1"]["snippets"].shape == (0, 12 * RATE)
    assert empty.attrs["snr_threshold"] == 1000.0


def test_rerun_skips_and_settings_change_reruns(tmp_path):
    background(tmp_path, glitch_rate=120, duration=300)
    path = search(tmp_path, max_duration=150)
    stamp = path.stat().st_mtime_ns
    search(tmp_path, max_duration=150)
    assert path.stat().st_mtime_ns == stamp
    search(tmp_path, max_duration=150, snr_threshold=7.0)
    assert path.stat().st_mtime_ns != stamp
    glitches = GlitchSet.read(path)
    assert glitches.attrs["snr_threshold"] == 7.0
    # only the first 150 s per ifo were searched
    for ifo in IFOS:
        assert np.all(glitches[ifo]["time"] < T0 + 150)


def test_bad_settings(tmp_path, capsys):
    with pytest.raises(GlitchConfigError, match="below Nyquist"):
        search(tmp_path, max_frequency=300.0)
    with pytest.raises(GlitchConfigError, match="no omicron executable"):
        search(tmp_path, method="omicron")
    with pytest.raises(SystemExit) as info:
        main(
            [
                "--datadir",
                str(tmp_path),
                "--ifos",
                "[H1,L1]",
                "--sample_rate",
                "512",
                "--psd_length",
                "8",
                "--kernel_length",
                "1.5",
                "--fduration",
                "1",
                "--highpass",
                "32",
            ]
        )
    assert info.value.code == 1
    assert "no such background directory" in capsys.readouterr().err


def test_tiny_profile_of_the_pipeline(tmp_path, monkeypatch):
    from aframe.utils.config import script_config
    from datagen.background import main as background_main

    pipeline = Path(__file__).resolve().parents[2] / "pyproject.toml"
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AFRAME_PROFILE", "tiny")
    background_main(["--typeo", f"{pipeline}:generate-background"])
    main(["--typeo", f"{pipeline}:generate-glitches"])
    config, _ = script_config(pipeline, "generate-glitches")
    glitches = GlitchSet.read(tmp_path / "tiny" / "train" / "glitches.hdf5")
    assert glitches.ifos == config["ifos"]
    assert glitches.attrs["sample_rate"] == config["sample_rate"]
    assert sum(glitches.num_glitches(ifo) for ifo in glitches.ifos) > 0
    train = list_background(tmp_path / "tiny" / "train" / "background", config["ifos"])
    test = list_background(tmp_path / "tiny" / "test" / "background", config["ifos"])
    assert len(train) >= 2 and len(test) >= 1
