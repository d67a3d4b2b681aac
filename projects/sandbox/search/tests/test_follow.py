"""The online search in this process, on frames written beforehand.

60 one-second frames from T1 (white noise, an SNR-30 chirp at T1 + 20.3 s):
HDF5 files holding both ifos, except T1 + 10 … 14, which come as one GWF file
per detector. T1 + 32 … 34 are missing, T1 + 40 holds a NaN, and a second
file repeats T1 + 25.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from aframe.ledger import EventSet
from aframe.search.backends import LocalBackend
from search.follow import (
    CANDIDATES_DIR,
    STATE_FILE,
    Follower,
    FollowError,
    FollowSettings,
)
from search.main import search

T1 = 1_100_000_000
MERGER = T1 + 20.3
CHANNEL = "GDS-CALIB_STRAIN"


@pytest.fixture(scope="module")
def strain(kit):
    data = kit.simulate(T1, 60, signals=[(MERGER, 30.0)], seed=5)
    return {**data, "t0": T1}


@pytest.fixture
def frames(tmp_path, strain, kit):
    directory = tmp_path / "frames"
    directory.mkdir()
    for k in range(60):
        if k in (32, 33, 34):
            continue
        kind = "gwf" if 10 <= k < 15 else "hdf5"
        if k == 40:
            bad = {**strain, "L1": strain["L1"].copy()}
            bad["L1"][int(40.5 * kit.FS)] = np.nan
            kit.write_frame(directory, bad, T1 + k, kind=kind)
            continue
        kit.write_frame(directory, strain, T1 + k, kind=kind)
    kit.write_frame(directory, strain, T1 + 25, description="HL-AGAIN")
    return directory


def settings(background: EventSet, kit, **changes) -> FollowSettings:
    # alert on the loudest background event's statistic and above
    values = dict(
        **kit.SETTINGS,
        time_offset=0.75,
        alert_far=1.5 * 86400 / background.Tb,
        channel=CHANNEL,
        late_timeout=0.0,
        poll_interval=0.0,
        stop=T1 + 60,
    )
    return FollowSettings(**{**values, **changes})


def follower(frames, outdir, model, noise_background, kit, **changes):
    background = EventSet.read(noise_background)
    return Follower(
        frames,
        outdir,
        model,
        LocalBackend(model),
        background,
        settings(background, kit, **changes),
    )


def candidate_files(outdir):
    return sorted((outdir / CANDIDATES_DIR).glob("candidate-*.json"))


def test_one_candidate_gaps_and_skipped_frames(
    tmp_path, frames, strain, model, noise_background, kit
):
    outdir = tmp_path / "out"
    search_ = follower(frames, outdir, model, noise_background, kit)
    # up to the gap, then a late frame arrives for it
    while search_.next_gps is None or search_.next_gps < T1 + 36:
        assert search_.step()
    kit.write_frame(frames, strain, T1 + 33)
    state = search_.run()

    files = candidate_files(outdir)
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    assert record["stage"] == "final"
    assert abs(record["gps"] - MERGER) < 1.0
    assert record["far_per_year"] == pytest.approx(
        365.25 * 86400 / search_.background.Tb
    )
    assert record["times"] == {"H1": record["gps"], "L1": record["gps"]}
    assert record["model"] == model.key
    assert record["first_written_unix"] <= record["written_unix"]

    gaps = [(g["start"] - T1, g["stop"] - T1, g["reason"]) for g in state["gaps"]]
    assert gaps == [(32, 35, "missing"), (40, 41, "non-finite values in the frame")]
    # one of the two files of T1 + 25 is read, the other is a repeat
    skipped = sorted((s["gps"] - T1, s["reason"]) for s in state["skipped_frames"])
    assert skipped == [(25, "repeated"), (33, "late")]
    assert state["next_gps"] == T1 + 60
    assert state["frames_analysed"] == 60 - 3 - 1
    saved = json.loads((outdir / STATE_FILE).read_text())
    assert saved["gaps"] == state["gaps"]


def test_online_events_are_the_offline_search_s(
    tmp_path, frames, model, noise_background, kit
):
    outdir = tmp_path / "out"
    follower(frames, outdir, model, noise_background, kit, stop=T1 + 30).run()
    online = json.loads(candidate_files(outdir)[0].read_text())
    # the offline search on the same frames (HDF5 and GWF files alike)
    written = search(
        repository=model.repository,
        outdir=tmp_path / "offline",
        ifos=kit.IFOS,
        start=T1,
        stop=T1 + 30,
        data_files=[str(frames / "*TEST-*")],
        channel=CHANNEL,
        Tb=100.0,
        time_offset=0.75,
        num_workers=1,
        **kit.SETTINGS,
    )
    zero_lag = EventSet.read(written["zero-lag"])
    k = int(np.argmin(np.abs(zero_lag.detection_time - MERGER)))
    statistic = zero_lag.detection_statistic[k]
    assert online["statistic"] == pytest.approx(statistic, rel=1e-5)
    assert online["gps"] == pytest.approx(zero_lag.detection_time[k], abs=1e-3)


@pytest.mark.parametrize("stage", ["preliminary", "final"])
def test_a_restart_completes_without_duplicates(
    tmp_path, frames, model, noise_background, kit, stage
):
    outdir = tmp_path / "out"
    first = follower(frames, outdir, model, noise_background, kit)
    # run until the candidate reaches the stage, then drop everything: what a
    # kill -9 leaves is the state and candidate files written so far
    while not [
        f
        for f in candidate_files(outdir)
        if json.loads(f.read_text())["stage"] == stage
    ]:
        assert first.step()
    written = json.loads(candidate_files(outdir)[0].read_text())
    stopped_at = first.next_gps
    del first

    second = follower(frames, outdir, model, noise_background, kit)
    second.restore()
    assert second.next_gps < stopped_at  # replays frames to rebuild the state
    second.run()
    files = candidate_files(outdir)
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    assert record["id"] == written["id"] and record["stage"] == "final"
    if stage == "final":
        assert record == written  # not rewritten
    else:
        assert record["first_written_unix"] == written["first_written_unix"]


def test_state_of_other_settings_is_refused(
    tmp_path, frames, model, noise_background, kit
):
    outdir = tmp_path / "out"
    follower(frames, outdir, model, noise_background, kit, stop=T1 + 5).run()
    other = follower(
        frames, outdir, model, noise_background, kit, cluster_window_length=8.0
    )
    with pytest.raises(FollowError, match="another settings"):
        other.restore()
