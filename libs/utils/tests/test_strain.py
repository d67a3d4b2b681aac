"""The real-data path, on local files written here with gwpy (no network)."""

import numpy as np
import pytest
from gwpy.timeseries import TimeSeries, TimeSeriesDict

from aframe.utils.strain import (
    MISSING,
    StrainError,
    channel_name,
    expand_files,
    fetch_strain,
    finite_segments,
    read_strain,
    resample,
)

T0 = 1_240_579_783
IFOS = ["H1", "L1"]


def write_files(directory, suffix, channel="GDS-CALIB_STRAIN", rate=1024, pieces=2):
    """Two contiguous 32 s files per suffix, a 10 Hz sine plus noise per ifo."""
    rng = np.random.default_rng(0)
    truth = {}
    paths = []
    for piece in range(pieces):
        start = T0 + 32 * piece
        data = TimeSeriesDict()
        for k, ifo in enumerate(IFOS):
            t = start + np.arange(32 * rate) / rate
            name = channel_name(ifo, channel)
            values = 1e-21 * np.sin(2 * np.pi * (10 + k) * t) + 1e-23 * rng.normal(
                size=t.size
            )
            truth.setdefault(ifo, []).append(values)
            data[name] = TimeSeries(
                values, t0=start, sample_rate=rate, name=name, channel=name
            )
        path = directory / f"X-STRAIN-{start}-32.{suffix}"
        data.write(str(path), **({"overwrite": True} if suffix == "hdf5" else {}))
        paths.append(path)
    return paths, {ifo: np.concatenate(v) for ifo, v in truth.items()}


def test_channel_names():
    assert channel_name("H1", "OPEN") == "H1"
    assert channel_name("H1", "GDS-CALIB_STRAIN") == "H1:GDS-CALIB_STRAIN"
    assert channel_name("H1", "H1:DCS") == "H1:DCS"


@pytest.mark.parametrize("suffix", ["hdf5", "gwf"])
def test_reads_across_files(tmp_path, suffix):
    paths, truth = write_files(tmp_path, suffix)
    strain = fetch_strain(
        "hdf5",
        IFOS,
        T0 + 16,
        T0 + 48,
        1024,
        channel="GDS-CALIB_STRAIN",
        data_files=[str(tmp_path / f"*.{suffix}")],
    )
    for ifo in IFOS:
        assert strain[ifo].dtype == np.float64 and strain[ifo].shape == (32 * 1024,)
        np.testing.assert_allclose(strain[ifo], truth[ifo][16 * 1024 : 48 * 1024])


def test_resamples(tmp_path):
    write_files(tmp_path, "hdf5", channel="OPEN")
    strain = fetch_strain(
        "hdf5", IFOS, T0 + 8, T0 + 56, 256, data_files=[tmp_path / "*.hdf5"]
    )
    t = T0 + 8 + np.arange(48 * 256) / 256
    for k, ifo in enumerate(IFOS):
        assert strain[ifo].shape == (48 * 256,)
        # away from the ends the low-frequency line survives resampling intact
        expected = 1e-21 * np.sin(2 * np.pi * (10 + k) * t)
        middle = slice(4 * 256, 44 * 256)
        assert np.max(np.abs(strain[ifo][middle] - expected[middle])) < 5e-23


def test_gap_is_an_error(tmp_path):
    paths, _ = write_files(tmp_path, "hdf5")
    with pytest.raises(StrainError, match=r"over \[1240579783, 1240579883\)"):
        fetch_strain(
            "hdf5",
            IFOS,
            T0,
            T0 + 100,
            1024,
            channel="GDS-CALIB_STRAIN",
            data_files=[str(p) for p in paths],
        )


def test_missing_channel_and_files(tmp_path):
    paths, _ = write_files(tmp_path, "hdf5", pieces=1)
    with pytest.raises(StrainError, match="cannot read H1:NOPE, L1:NOPE"):
        fetch_strain("hdf5", IFOS, T0, T0 + 16, 1024, channel="NOPE", data_files=paths)
    with pytest.raises(StrainError, match="no such data file"):
        expand_files([tmp_path / "missing-*.gwf"])
    with pytest.raises(StrainError, match="needs data_files"):
        fetch_strain("hdf5", IFOS, T0, T0 + 16, 1024)
    with pytest.raises(StrainError, match="frametype or frame_cache"):
        fetch_strain("frames", IFOS, T0, T0 + 16, 1024, channel="GDS")


def test_frames_from_a_cache(tmp_path):
    paths, truth = write_files(tmp_path, "gwf")
    cache = tmp_path / "frames.lcf"
    cache.write_text("".join(f"{p}\n" for p in paths))
    strain = fetch_strain(
        "frames",
        IFOS,
        T0 + 4,
        T0 + 60,
        1024,
        channel="GDS-CALIB_STRAIN",
        frame_cache=cache,
    )
    np.testing.assert_allclose(strain["L1"], truth["L1"][4 * 1024 : 60 * 1024])


def test_read_strain_marks_gaps_and_nans(tmp_path):
    # two 32 s files with 68 s missing between them; L1 holds NaNs in the first
    rate = 256
    rng = np.random.default_rng(1)
    truth = {}
    for start, suffix in ((T0, "hdf5"), (T0 + 100, "gwf")):
        data = TimeSeriesDict()
        for ifo in IFOS:
            values = rng.normal(size=32 * rate)
            if ifo == "L1" and start == T0:
                values[10 * rate : 12 * rate] = np.nan
            truth[(ifo, start)] = values
            name = channel_name(ifo, "GDS-CALIB_STRAIN")
            data[name] = TimeSeries(values, t0=start, sample_rate=rate, name=name)
        path = tmp_path / f"X-STRAIN-{start}-32.{suffix}"
        data.write(str(path), **({"overwrite": True} if suffix == "hdf5" else {}))
    spans = read_strain(
        "hdf5",
        IFOS,
        T0 - 8,
        T0 + 140,
        channel="GDS-CALIB_STRAIN",
        data_files=[tmp_path / "X-STRAIN-*"],
    )
    for ifo in IFOS:
        span = spans[ifo]
        assert span.sample_rate == rate and span.start == T0 - 8
        assert span.stop == T0 + 140
        assert np.all(span.values[: 8 * rate] == MISSING)
        np.testing.assert_array_equal(
            span.values[108 * rate : 140 * rate], truth[(ifo, T0 + 100)]
        )
    segments, problems = finite_segments(spans)
    assert segments == [
        (T0 + 0.0, T0 + 10.0),
        (T0 + 12.0, T0 + 32.0),
        (T0 + 100.0, T0 + 132.0),
    ]
    gaps = {(p["ifo"], p["start"], p["stop"], p["reason"]) for p in problems}
    assert ("L1", T0 + 10.0, T0 + 12.0, "nan") in gaps
    assert ("H1", T0 + 32.0, T0 + 100.0, "gap") in gaps
    assert ("H1", T0 + 132.0, T0 + 140.0, "gap") in gaps
    assert ("H1", T0 - 8.0, T0 + 0.0, "gap") in gaps
    assert not any(p["ifo"] == "H1" and p["reason"] == "nan" for p in problems)

    same = resample(spans["H1"], T0 + 100, T0 + 132, rate, "H1")
    np.testing.assert_array_equal(same, truth[("H1", T0 + 100)])
    assert resample(spans["H1"], T0 + 100, T0 + 132, 128, "H1").shape == (32 * 128,)
    with pytest.raises(StrainError, match="not a finite part"):
        resample(spans["L1"], T0, T0 + 20, rate, "L1")


def test_read_strain_with_no_file_in_the_span(tmp_path):
    paths, _ = write_files(tmp_path, "hdf5", pieces=1)
    spans = read_strain(
        "hdf5", IFOS, T0 + 100, T0 + 110, channel="GDS-CALIB_STRAIN", data_files=paths
    )
    segments, problems = finite_segments(spans)
    assert segments == []
    assert {p["reason"] for p in problems} == {"gap"}
    assert len(problems) == 2
