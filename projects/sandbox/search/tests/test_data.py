"""The segments a search analyses: a segment file, reuse, rereading."""

from __future__ import annotations

import json

from search.data import SEGMENTS_FILE, describe, prepare_data

T0 = 1_250_000_000


def test_segment_file_and_reuse(tmp_path, kit):
    path = kit.write_hdf5(
        tmp_path / f"X-S-{T0}-60.hdf5", kit.simulate(T0, 60), T0, "OPEN"
    )
    segments = tmp_path / "segments.txt"
    segments.write_text(f"{T0 + 5} {T0 + 25}\n{T0 + 30.5} {T0 + 33}\n")
    args = dict(
        outdir=tmp_path / "search",
        ifos=kit.IFOS,
        start=T0,
        stop=T0 + 60,
        sample_rate=kit.FS,
        burn_in=4.0,
        data_files=[path],
        segment_file=segments,
    )
    data = prepare_data(**args)
    assert [(f.t0 - T0, f.duration) for f in data.files] == [(5, 20)]
    skipped = [(s["start"] - T0, s["stop"] - T0, s["reason"]) for s in data.skipped]
    assert skipped == [
        (0, 5, "excluded"),
        (25, 30.5, "excluded"),
        (31, 33, "short"),  # 2.5 s, rounded inwards to 2 s
        (33, 60, "excluded"),
    ]
    assert describe(data.skipped[2]).endswith("not more than the burn-in of 4 s")

    record = json.loads((tmp_path / "search" / "data" / SEGMENTS_FILE).read_text())
    assert record["files"] == [f"background-{T0 + 5}-20.hdf5"]
    stamp = data.files[0].path.stat().st_mtime_ns
    again = prepare_data(**args)
    assert again == data and data.files[0].path.stat().st_mtime_ns == stamp

    # other settings: read again, and the old segment's file goes
    segments.write_text(f"{T0 + 40} {T0 + 60}\n")
    other = prepare_data(**args)
    assert [(f.t0 - T0, f.duration) for f in other.files] == [(40, 20)]
    assert not data.files[0].path.exists()
