"""The real-data path, on local files written here with gwpy (no network)."""

import numpy as np
import pytest
from gwpy.timeseries import TimeSeries, TimeSeriesDict

from datagen.strain import StrainError, channel_name, expand_files, fetch_strain

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
