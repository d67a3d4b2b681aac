import logging
import os

import h5py
import numpy as np
import pytest
from gwpy.timeseries import TimeSeries, TimeSeriesDict

from aframe.utils.background import (
    list_background,
    read_background,
    read_injected_glitches,
    validate_background,
)
from aframe.utils.segments import write_segment_file
from datagen.background import (
    BackgroundConfigError,
    generate_background,
    main,
    plan_segments,
)
from datagen.glitch_population import optimal_snr
from datagen.psd import load_psd

T0 = 1_240_579_783
IFOS = ["H1", "L1"]


def run(datadir, **kwargs):
    args = dict(
        datadir=datadir,
        ifos=IFOS,
        sample_rate=512,
        train_start=T0,
        train_stop=T0 + 600,
        test_start=T0 + 600,
        test_stop=T0 + 900,
        min_train_length=100,
        min_test_length=64,
        max_segment_length=256,
        seed=7,
    )
    args.update(kwargs)
    return generate_background(**args)


def read_all(path):
    with h5py.File(path) as f:
        return {ifo: f[ifo][:] for ifo in IFOS}


def test_plan_segments_splits_evenly():
    assert plan_segments(0, 600, 100, 256) == [(0, 200), (200, 400), (400, 600)]
    gaps = [(0, 50), (100, 400), (500, 1000)]
    assert plan_segments(0, 900, 100, 256, gaps) == [
        (100, 250),
        (250, 400),
        (500, 700),
        (700, 900),
    ]


def test_plan_segments_all_too_short():
    with pytest.raises(BackgroundConfigError) as info:
        plan_segments(0, 1000, 200, 500, [(0, 50), (100, 250)], label="train")
    message = str(info.value)
    assert "train [0, 1000): no segment of at least 200 s" in message
    assert "longest available: 150 s in 2 segments" in message


def test_simulated_files(tmp_path):
    paths = run(tmp_path)
    train = list_background(tmp_path / "train" / "background", IFOS, 512)
    test = list_background(tmp_path / "test" / "background", IFOS, 512)
    assert [(f.t0, f.duration) for f in train] == [
        (T0, 200),
        (T0 + 200, 200),
        (T0 + 400, 200),
    ]
    assert [(f.t0, f.duration) for f in test] == [(T0 + 600, 150), (T0 + 750, 150)]
    assert [p.name for p in paths] == [f.path.name for f in train + test]
    with h5py.File(train[0].path) as f:
        assert f.attrs["source"] == "simulated"
        assert f.attrs["psd"] == "aLIGO_O4_high_asd.txt"
        assert f.attrs["seed"] == 7
        assert list(f.attrs["ifos"]) == IFOS
        assert f["H1"].attrs["channel"] == "SIMULATED"
        assert "injected_glitches" not in f
    h1, l1 = read_background(train[0].path, IFOS)
    # independent detectors, strain-sized numbers
    assert abs(np.corrcoef(h1, l1)[0, 1]) < 0.05
    assert 1e-22 < np.std(h1) < 1e-17


@pytest.mark.parametrize("sample_rate", [512, 1024, 2048])
def test_sample_rates(tmp_path, sample_rate):
    run(
        tmp_path,
        sample_rate=sample_rate,
        train_stop=T0 + 64,
        test_start=T0 + 64,
        test_stop=T0 + 96,
        min_train_length=32,
        min_test_length=32,
    )
    files = list_background(tmp_path / "train" / "background", IFOS, sample_rate)
    assert files[0].num_samples == 64 * sample_rate


def test_reproducible_per_segment(tmp_path):
    run(tmp_path / "a")
    run(tmp_path / "b")
    victim = tmp_path / "a" / "train" / "background" / f"background-{T0 + 200}-200.hdf5"
    before = read_all(victim)
    victim.unlink()
    run(tmp_path / "a")
    after = read_all(victim)
    other = read_all(tmp_path / "b" / "train" / "background" / victim.name)
    for ifo in IFOS:
        np.testing.assert_array_equal(before[ifo], after[ifo])
        np.testing.assert_array_equal(before[ifo], other[ifo])
    different = read_all(run(tmp_path / "c", seed=8)[1])
    assert abs(np.corrcoef(different["H1"], before["H1"])[0, 1]) < 0.1


def test_resume_skips_valid_and_repairs_bad(tmp_path, caplog):
    run(tmp_path)
    directory = tmp_path / "train" / "background"
    files = sorted(directory.glob("background-*.hdf5"))
    stamps = {p: p.stat().st_mtime_ns for p in files}
    with h5py.File(files[1], "a") as f:
        f["L1"][10] = np.nan
    (directory / ".background-1-2.hdf5.tmp-xyz").write_bytes(b"partial write")
    with caplog.at_level(logging.WARNING):
        run(tmp_path)
    assert "rewriting" in caplog.text and files[1].name in caplog.text
    assert files[0].stat().st_mtime_ns == stamps[files[0]]
    assert files[2].stat().st_mtime_ns == stamps[files[2]]
    validate_background(files[1], IFOS, 512)
    # a different setting is not taken as done
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        run(tmp_path, psd="aLIGOZeroDetHighPower")
    assert "made with psd" in caplog.text
    with h5py.File(files[0]) as f:
        assert f.attrs["psd"] == "aLIGOZeroDetHighPower"


def test_resegmenting_removes_stale_files(tmp_path, caplog):
    run(tmp_path)
    with caplog.at_level(logging.WARNING):
        run(tmp_path, max_segment_length=600)
    files = list_background(tmp_path / "train" / "background", IFOS)
    assert [(f.t0, f.duration) for f in files] == [(T0, 600)]
    assert "removing" in caplog.text


def test_segment_file_adds_gaps(tmp_path):
    segments = tmp_path / "segments.txt"
    write_segment_file(
        segments, [(T0, T0 + 150), (T0 + 170, T0 + 250), (T0 + 300, T0 + 900)]
    )
    run(tmp_path, segment_file=segments)
    train = list_background(tmp_path / "train" / "background", IFOS)
    assert [(f.t0, f.stop) for f in train] == [
        (T0, T0 + 150),
        (T0 + 300, T0 + 450),
        (T0 + 450, T0 + 600),
    ]


def test_glitches_recorded_and_added(tmp_path):
    kwargs = dict(train_stop=T0 + 256, test_start=T0 + 256, test_stop=T0 + 320)
    run(tmp_path / "clean", **kwargs)
    run(
        tmp_path / "glitchy",
        glitch_rate=200,
        glitch_snr_min=10,
        glitch_snr_max=20,
        **kwargs,
    )
    name = f"background-{T0}-256.hdf5"
    clean = read_all(tmp_path / "clean" / "train" / "background" / name)
    path = tmp_path / "glitchy" / "train" / "background" / name
    glitchy = read_all(path)
    with h5py.File(path) as f:
        assert set(f["injected_glitches"]) == set(IFOS)
        assert set(f["injected_glitches/H1"]) == {
            "time",
            "snr",
            "frequency",
            "quality",
            "kind",
        }
    psd = load_psd("aLIGO_O4_high_asd.txt")
    tables = {ifo: read_injected_glitches(path, ifo) for ifo in IFOS}
    assert len(tables["H1"]["time"]) >= 5 and len(tables["L1"]["time"]) >= 5
    # each detector has its own population
    assert not np.isin(tables["H1"]["time"], tables["L1"]["time"]).any()
    for ifo in IFOS:
        # the noise is the same stream with or without glitches
        difference = glitchy[ifo] - clean[ifo]
        table = tables[ifo]
        for time, snr in zip(table["time"], table["snr"]):
            i = int((time - T0) * 512)
            segment = difference[max(i - 512, 0) : i + 512]
            assert optimal_snr(segment, 512, psd, 32.0) == pytest.approx(snr, rel=1e-6)
        quiet = np.ones(len(difference), bool)
        for time in table["time"]:
            i = int((time - T0) * 512)
            quiet[max(i - 512, 0) : i + 512] = False
        assert np.all(difference[quiet] == 0)


def test_real_data_from_local_files(tmp_path):
    rate = 1024
    files = []
    truth = {}
    rng = np.random.default_rng(1)
    for start in (T0, T0 + 512):
        data = TimeSeriesDict()
        for ifo in IFOS:
            values = 1e-21 * rng.normal(size=512 * rate)
            truth.setdefault(ifo, []).append(values)
            data[ifo] = TimeSeries(values, t0=start, sample_rate=rate, name=ifo)
        path = tmp_path / f"open-{start}.hdf5"
        data.write(str(path))
        files.append(str(path))
    segments = tmp_path / "segments.txt"
    write_segment_file(segments, [(T0 + 10, T0 + 500), (T0 + 520, T0 + 1000)])
    datadir = tmp_path / "data"
    run(
        datadir,
        source="hdf5",
        data_files=[str(tmp_path / "open-*.hdf5")],
        segment_file=segments,
        sample_rate=rate,
        train_start=T0,
        train_stop=T0 + 600,
        test_start=T0 + 600,
        test_stop=T0 + 1024,
        max_segment_length=1000,
    )
    train = list_background(datadir / "train" / "background", IFOS, rate)
    test = list_background(datadir / "test" / "background", IFOS, rate)
    assert [(f.t0, f.stop) for f in train] == [(T0 + 10, T0 + 500)]
    assert [(f.t0, f.stop) for f in test] == [(T0 + 600, T0 + 1000)]
    full = {ifo: np.concatenate(v) for ifo, v in truth.items()}
    x = read_background(test[0].path, IFOS)
    np.testing.assert_array_equal(x[1], full["L1"][600 * rate : 1000 * rate])
    with h5py.File(train[0].path) as f:
        assert f.attrs["source"] == "hdf5" and f.attrs["psd"] == ""
        assert f["H1"].attrs["channel"] == "H1:OPEN"
    # a rerun fetches nothing again, whatever the seed
    stamp = train[0].path.stat().st_mtime_ns
    run(
        datadir,
        source="hdf5",
        data_files=[str(tmp_path / "open-*.hdf5")],
        segment_file=segments,
        sample_rate=rate,
        train_start=T0,
        train_stop=T0 + 600,
        test_start=T0 + 600,
        test_stop=T0 + 1024,
        max_segment_length=1000,
        seed=99,
    )
    assert train[0].path.stat().st_mtime_ns == stamp


def test_cli_reports_expected_errors(tmp_path, capsys):
    base = [
        "--datadir",
        str(tmp_path),
        "--ifos",
        "[H1,L1]",
        "--sample_rate",
        "512",
        "--train_start",
        str(T0),
        "--train_stop",
        str(T0 + 100),
        "--test_start",
        str(T0 + 100),
        "--test_stop",
        str(T0 + 200),
    ]
    with pytest.raises(SystemExit) as info:
        main([*base, "--min_train_length", "1000"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "no segment of at least 1000 s" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(
            [
                *base,
                "--min_train_length",
                "50",
                "--min_test_length",
                "50",
                "--psd",
                "not-a-curve",
            ]
        )
    assert "unknown PSD 'not-a-curve'" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "train")
