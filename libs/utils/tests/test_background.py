import h5py
import numpy as np
import pytest

from aframe.utils.background import (
    CHUNK_SIZE,
    BackgroundError,
    background_filename,
    list_background,
    parse_background_filename,
    read_background,
    read_injected_glitches,
    validate_background,
    write_background,
)

IFOS = ["H1", "L1"]
RATE = 64.0


def make(directory, t0=1240579783, duration=16, rate=RATE, glitches=None, seed=0):
    rng = np.random.default_rng(seed)
    n = int(duration * rate)
    strain = {ifo: rng.normal(size=n) * 1e-21 for ifo in IFOS}
    path = directory / background_filename(t0, duration)
    write_background(
        path,
        strain,
        t0,
        rate,
        {"source": "simulated", "psd": "test", "seed": seed, "channel": "SIM"},
        injected_glitches=glitches,
    )
    return path, strain


def test_filename_round_trip():
    name = background_filename(1240579783.7, 4096.2)
    assert name == "background-1240579783-4096.hdf5"
    assert parse_background_filename(f"/some/dir/{name}") == (1240579783, 4096)


@pytest.mark.parametrize(
    "name",
    [
        "background-1240579783.hdf5",
        "background-12x-4.hdf5",
        "bg-1-2.hdf5",
        "background-1-0.hdf5",
        "background-1-2.h5",
    ],
)
def test_bad_filename(name):
    with pytest.raises(BackgroundError, match=name.replace(".", r"\.")):
        parse_background_filename(name)


def test_write_layout(tmp_path):
    path, strain = make(tmp_path)
    with h5py.File(path) as f:
        assert set(f) == {"H1", "L1"}
        d = f["H1"]
        assert d.dtype == np.float64 and d.shape == (16 * 64,)
        assert d.chunks == (16 * 64,) and d.compression is None
        assert d.attrs["x0"] == 1240579783 and d.attrs["dx"] == 1 / RATE
        assert d.attrs["channel"] == "SIM"
        assert f.attrs["t0"] == 1240579783 and f.attrs["duration"] == 16
        assert f.attrs["sample_rate"] == RATE
        assert list(f.attrs["ifos"]) == IFOS
        assert f.attrs["source"] == "simulated" and f.attrs["seed"] == 0
        assert "aframe_version" in f.attrs
        np.testing.assert_array_equal(f["L1"][:], strain["L1"])
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_long_file_is_chunked(tmp_path):
    path, _ = make(tmp_path, duration=2 * CHUNK_SIZE // 64 + 3)
    with h5py.File(path) as f:
        assert f["H1"].chunks == (CHUNK_SIZE,)


def test_validate_and_read(tmp_path):
    path, strain = make(tmp_path)
    item = validate_background(path, IFOS, sample_rate=RATE)
    assert item.t0 == 1240579783 and item.duration == 16
    assert item.sample_rate == RATE and item.ifos == ("H1", "L1")
    assert item.stop == 1240579799 and item.num_samples == 1024

    x = read_background(path, ["L1", "H1"])
    assert x.shape == (2, 1024) and x.dtype == np.float64
    np.testing.assert_array_equal(x[0], strain["L1"])
    part = read_background(path, IFOS, start=1240579785, end=1240579785.5)
    np.testing.assert_array_equal(part, np.stack([strain[i][128:160] for i in IFOS]))
    with pytest.raises(BackgroundError, match="outside the file"):
        read_background(path, IFOS, start=1240579780, end=1240579790)


def test_validate_missing_ifo(tmp_path):
    path, _ = make(tmp_path)
    with h5py.File(path, "a") as f:
        del f["L1"]
    with pytest.raises(BackgroundError) as info:
        validate_background(path, IFOS)
    assert str(info.value) == (
        "background-1240579783-16.hdf5: dataset L1 missing (expected ifos H1, L1)"
    )


def test_validate_truncated(tmp_path):
    path, _ = make(tmp_path)
    with h5py.File(path, "a") as f:
        data = f["H1"][:-10]
        del f["H1"]
        f["H1"] = data
    with pytest.raises(BackgroundError, match="H1 holds 1014 samples, expected 1024"):
        validate_background(path, IFOS)


def test_validate_sample_rate(tmp_path):
    path, _ = make(tmp_path)
    with pytest.raises(BackgroundError, match="sample_rate is 64 Hz, expected 128 Hz"):
        validate_background(path, IFOS, sample_rate=128)


def test_validate_nan_names_ifo_and_time(tmp_path):
    path, _ = make(tmp_path)
    with h5py.File(path, "a") as f:
        f["L1"][320] = np.nan
    with pytest.raises(BackgroundError, match=r"L1 .*GPS 1240579788\.000000"):
        validate_background(path, IFOS)
    assert validate_background(path, IFOS, check_finite=False).duration == 16
    with pytest.raises(BackgroundError, match="L1 has a non-finite value at GPS"):
        read_background(path, IFOS)


def test_validate_not_hdf5(tmp_path):
    path = tmp_path / "background-1240579783-16.hdf5"
    path.write_bytes(b"not hdf5 at all")
    with pytest.raises(BackgroundError, match="not a readable HDF5 file"):
        validate_background(path, IFOS)


def test_write_refuses_bad_strain(tmp_path):
    n = 16 * 64
    bad = {"H1": np.zeros(n), "L1": np.full(n, np.inf)}
    path = tmp_path / background_filename(100, 16)
    with pytest.raises(BackgroundError, match="L1 strain has a non-finite value"):
        write_background(path, bad, 100, 64, {})
    with pytest.raises(BackgroundError, match="shapes differ"):
        write_background(path, {"H1": np.zeros(n), "L1": np.zeros(n - 1)}, 100, 64, {})
    with pytest.raises(BackgroundError, match="does not match"):
        write_background(
            tmp_path / "background-100-8.hdf5", {"H1": np.zeros(n)}, 100, 64, {}
        )
    assert not list(tmp_path.iterdir())


def test_list_background_sorted_and_filtered(tmp_path):
    make(tmp_path, t0=2000, duration=8)
    make(tmp_path, t0=1000, duration=16)
    make(tmp_path, t0=3000, duration=32)
    (tmp_path / ".background-4000-8.hdf5.tmp-abc").write_bytes(b"partial")
    (tmp_path / "notes.txt").write_text("ignored")
    files = list_background(tmp_path, IFOS, sample_rate=RATE)
    assert [f.t0 for f in files] == [1000, 2000, 3000]
    files = list_background(tmp_path, IFOS, min_duration=10)
    assert [f.duration for f in files] == [16, 32]
    with pytest.raises(BackgroundError, match="no background files of at least 100 s"):
        list_background(tmp_path, IFOS, min_duration=100)


def test_list_background_bad_name_and_empty(tmp_path):
    with pytest.raises(BackgroundError, match="no background files"):
        list_background(tmp_path, IFOS)
    with pytest.raises(BackgroundError, match="no such background directory"):
        list_background(tmp_path / "missing", IFOS)
    make(tmp_path, t0=1000)
    (tmp_path / "background-oops.hdf5").write_bytes(b"")
    with pytest.raises(BackgroundError, match="background-oops.hdf5: not a background"):
        list_background(tmp_path, IFOS)


def test_list_background_overlap(tmp_path):
    make(tmp_path, t0=1000, duration=16)
    make(tmp_path, t0=1010, duration=16)
    with pytest.raises(BackgroundError, match="overlaps"):
        list_background(tmp_path, IFOS)


def test_injected_glitches_round_trip(tmp_path):
    table = {
        "time": np.array([1240579785.5]),
        "snr": np.array([12.0]),
        "frequency": np.array([100.0]),
        "quality": np.array([9.0]),
        "kind": np.array([0]),
    }
    path, _ = make(tmp_path, glitches={"H1": table})
    got = read_injected_glitches(path, "H1")
    for key, value in table.items():
        np.testing.assert_array_equal(got[key], value)
    assert read_injected_glitches(path, "L1")["time"].size == 0


def test_a_folder_named_like_a_background_file_is_an_error(tmp_path):
    make(tmp_path, t0=1000)
    (tmp_path / "background-2000-16.hdf5").mkdir()
    with pytest.raises(
        BackgroundError,
        match=r"background-2000-16.hdf5: named like a background file but not a file",
    ):
        list_background(tmp_path, IFOS)
