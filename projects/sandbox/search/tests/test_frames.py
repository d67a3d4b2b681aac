"""Frame names and frame reading (HDF5 and GWF, one file or one per ifo)."""

from __future__ import annotations

import numpy as np
import pytest

from search.frames import FrameError, parse_frame, read_frames, scan_frames

GPS = 1_300_000_000


def test_the_naming_rule(tmp_path):
    frame = parse_frame(tmp_path / "H-H1_llhoft-1389448192-1.gwf")
    assert (frame.gps, frame.duration, frame.stop) == (1389448192, 1, 1389448193)
    assert parse_frame("L-L1_GWOSC_4KHZ_R1-1389448192-4096.hdf5").duration == 4096
    assert parse_frame("background-1240579783-3600.hdf5").gps == 1240579783
    for name in (
        ".H-H1_llhoft-1389448192-1.gwf.tmp",  # an atomic write in progress
        ".H-H1_llhoft-1389448192-1.gwf",
        "H-H1_llhoft-1389448192-0.gwf",
        "H-H1_llhoft-1389448192.gwf",
        "H-H1_llhoft-1389448192-1.txt",
    ):
        assert parse_frame(name) is None, name


def test_scan_and_read_one_file_or_one_per_ifo(tmp_path, kit):
    strain = {**kit.simulate(GPS, 4, seed=3), "t0": GPS}
    kit.write_frame(tmp_path, strain, GPS, duration=2)
    kit.write_frame(tmp_path, strain, GPS + 2, kind="gwf")
    kit.write_frame(tmp_path, strain, GPS + 3, kind="gwf")
    (tmp_path / "notes.txt").write_text("not a frame")
    frames = scan_frames(tmp_path)
    assert [(f.gps, f.path.name[:4]) for f in frames] == [
        (GPS, "HL-T"),
        (GPS + 2, "H-H1"),
        (GPS + 2, "L-L1"),
        (GPS + 3, "H-H1"),
        (GPS + 3, "L-L1"),
    ]
    x, used = read_frames(
        frames[:1], kit.IFOS, "GDS-CALIB_STRAIN", kit.FS, GPS + 1, GPS + 2
    )
    np.testing.assert_array_equal(x[1], strain["L1"][256:512])
    assert used == frames[:1]
    x, used = read_frames(
        frames[1:3], kit.IFOS, "GDS-CALIB_STRAIN", kit.FS, GPS + 2, GPS + 3
    )
    np.testing.assert_array_equal(x[0], strain["H1"][512:768])
    np.testing.assert_array_equal(x[1], strain["L1"][512:768])
    assert used == frames[1:3]


def test_bad_frames(tmp_path, kit):
    strain = {**kit.simulate(GPS, 2, seed=3), "t0": GPS}
    [path] = kit.write_frame(tmp_path, strain, GPS)
    [frame] = scan_frames(tmp_path)
    with pytest.raises(FrameError, match="no channel H1:OTHER"):
        read_frames([frame], kit.IFOS, "OTHER", kit.FS, GPS, GPS + 1)
    with pytest.raises(FrameError, match="at 256 Hz, but the model takes 512 Hz"):
        read_frames([frame], kit.IFOS, "GDS-CALIB_STRAIN", 512.0, GPS, GPS + 1)
    with pytest.raises(FrameError, match="not all of"):
        read_frames([frame], kit.IFOS, "GDS-CALIB_STRAIN", kit.FS, GPS, GPS + 2)
    path.write_bytes(b"half a file")
    with pytest.raises(FrameError, match="not a readable HDF5 frame"):
        read_frames([frame], kit.IFOS, "GDS-CALIB_STRAIN", kit.FS, GPS, GPS + 1)
