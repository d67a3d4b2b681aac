"""The offline search on a simulated file: three chirps, a loud glitch, gaps, NaNs.

Strain (white noise, 256 Hz) from GPS T0 in two files:

- ``X-STRAIN-{T0}-1210.hdf5``: chirps of network SNR 8, 12 and 30 at T0 + 150,
  450 and 750 s and a sine-Gaussian glitch of SNR 50 in H1 alone at T0 + 1050 s,
  300 s apart so that no shift up to Tb puts two of them in coincidence;
- ``X-STRAIN-{T0 + 1230}-20.gwf``: 20 s with H1 NaN over [1240, 1248) s.

The search over [T0, T0 + 1260) must analyse [T0, T0 + 1210) and [T0 + 1230,
T0 + 1240) and report the rest: the missing [1210, 1230) and [1250, 1260),
H1's NaNs, and the 2 s left after them (shorter than the 4 s burn-in).
"""

from __future__ import annotations

import csv
import json

import lal
import numpy as np
import pytest
import torch

from aframe.architectures import PreprocessingConfig, Preprocessor
from aframe.ledger import CandidateSet, EventSet
from aframe.ledger.far import far
from aframe.search.backends import LocalBackend
from aframe.search.postprocess import fallback_time_offset, find_events
from aframe.search.stream import StreamGeometry, run_streams
from search.main import search

T0 = 1_240_000_000
SIGNALS = {8: T0 + 150.3, 12: T0 + 450.55, 30: T0 + 750.8}
GLITCH = T0 + 1050.2
TB = 1.1 * 86400  # a FAR below 1/day needs more than a day of background
PER_DAY = 365.25  # a rate per year over this is more than one a day

pytestmark = pytest.mark.slow  # about a minute: 1.1 days of background


@pytest.fixture(scope="module")
def run(tmp_path_factory, model, kit):
    """One search over the two files, fanned out on two Ray workers."""
    root = tmp_path_factory.mktemp("offline")
    strain = kit.simulate(
        T0,
        1210,
        signals=[(t, snr) for snr, t in SIGNALS.items()],
        glitches=[(GLITCH, 50.0, "H1")],
        seed=1,
    )
    kit.write_hdf5(root / f"X-STRAIN-{T0}-1210.hdf5", strain, T0, "GDS-CALIB_STRAIN")
    tail = kit.simulate(T0 + 1230, 20, seed=2)
    tail["H1"][10 * 256 : 18 * 256] = np.nan
    kit.write_gwf(
        root / f"X-STRAIN-{T0 + 1230}-20.gwf", tail, T0 + 1230, "GDS-CALIB_STRAIN"
    )
    arguments = dict(
        repository=model.repository,
        outdir=root / "search",
        ifos=kit.IFOS,
        start=T0,
        stop=T0 + 1260,
        source="hdf5",
        data_files=[str(root / "X-STRAIN-*")],
        channel="GDS-CALIB_STRAIN",
        Tb=TB,
        shift_step=1.0,
        max_far=1e6,  # every zero-lag event, so the glitch's is listed too
        **kit.SETTINGS,
    )
    written = search(**arguments, num_workers=2)
    return root, arguments, written, strain


def nearest(candidates: CandidateSet, t: float) -> int:
    return int(np.argmin(np.abs(candidates.detection_time - t)))


def test_signals_found_below_one_per_day_and_the_glitch_above(run):
    _, _, written, _ = run
    candidates = CandidateSet.read(written["candidates"])
    assert candidates.attrs["Tb"] >= TB
    found = {}
    for snr, t in SIGNALS.items():
        k = nearest(candidates, t)
        found[snr] = k
        # times use the fallback offset: within a second of the merger
        assert abs(candidates.detection_time[k] - t) < 1.0, snr
    for snr in (12, 30):
        assert candidates.far[found[snr]] < PER_DAY, snr
    assert (
        candidates.detection_statistic[found[30]]
        > candidates.detection_statistic[found[12]]
    )
    glitch = nearest(candidates, GLITCH)
    assert abs(candidates.detection_time[glitch] - GLITCH) < 2.0
    assert candidates.far[glitch] > max(
        candidates.far[found[12]], candidates.far[found[30]]
    )
    assert candidates.far[glitch] > PER_DAY


def test_fars_agree_with_the_background_and_a_direct_stream(run, model, kit):
    root, _, written, strain = run
    candidates = CandidateSet.read(written["candidates"])
    background = EventSet.read(written["background"])
    zero_lag = EventSet.read(written["zero-lag"])
    np.testing.assert_allclose(
        candidates.far, far(background, candidates.detection_statistic)
    )
    assert len(candidates) == len(zero_lag)  # max_far lets every event through
    np.testing.assert_allclose(candidates.ifar, 1 / candidates.far)

    # the same preprocessing, network and clustering, run directly on the
    # simulated arrays (not the search's files): the zero-lag statistics of
    # the first segment, and the background events of shift 40 s
    config = PreprocessingConfig.load(model.preprocessing_path)
    preprocessor = Preprocessor(config)
    backend = LocalBackend(model)
    geometry = StreamGeometry.of(preprocessor, 2.0)
    offset = fallback_time_offset(config.kernel_length, 0.5)
    x = np.stack([strain[ifo] for ifo in kit.IFOS])
    for shift in (0, 40):
        n = x.shape[1] - int(shift * 256)
        shifted = np.stack([x[0, :n], x[1, int(shift * 256) :]])
        with torch.no_grad():
            y = run_streams(
                lambda a, b, data=shifted: data[:, a:b],
                n,
                T0,
                preprocessor,
                backend,
                2.0,
            )["background"]
        stats, times, livetime = find_events(y, geometry.kernel_end(T0), 2.0, 0.5, 4.0)
        events = zero_lag if shift == 0 else background.get_shift([0.0, float(shift)])
        mine = events.detection_time < T0 + 1210
        np.testing.assert_allclose(events.detection_statistic[mine], stats, rtol=1e-4)
        np.testing.assert_allclose(
            events.detection_time[mine], times - offset, atol=1e-3
        )


def test_skipped_stretches_are_reported(run):
    root, _, written, _ = run
    summary = json.loads(written["json"].read_text())
    assert [(s["start"], s["stop"]) for s in summary["segments"]] == [
        (T0, T0 + 1210),
        (T0 + 1230, T0 + 1240),
    ]
    skipped = {
        (s.get("ifo"), round(s["start"] - T0), round(s["stop"] - T0), s["reason"])
        for s in summary["skipped"]
    }
    assert skipped == {
        ("H1", 1210, 1230, "gap"),
        ("L1", 1210, 1230, "gap"),
        ("H1", 1240, 1248, "nan"),
        (None, 1248, 1250, "short"),
        ("H1", 1250, 1260, "gap"),
        ("L1", 1250, 1260, "gap"),
    }
    assert summary["Tb"] >= TB and summary["settings"]["num_shifts"] > 0


def test_reports(run, model):
    _, _, written, _ = run
    candidates = CandidateSet.read(written["candidates"])
    summary = json.loads(written["json"].read_text())
    rows = list(csv.DictReader(written["csv"].open()))
    assert len(rows) == len(summary["candidates"]) == len(candidates)
    first = summary["candidates"][0]
    assert first["gps"] == pytest.approx(SIGNALS[30], abs=1.0)
    # lal's own conversion, leap seconds included
    utc = lal.GPSToUTC(int(first["gps"]))
    assert first["utc"].startswith(
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*utc)
    )
    assert first["model"] == model.key == candidates.attrs["model"]
    assert first["times"] == {"H1": first["gps"], "L1": first["gps"]}
    assert first["ifar_years"] == pytest.approx(1 / first["far_per_year"])
    assert float(rows[0]["far_per_year"]) == pytest.approx(first["far_per_year"])
    assert rows[0]["H1_time"] == rows[0]["L1_time"]


def test_a_rerun_reuses_data_and_jobs(run, caplog):
    root, arguments, written, _ = run
    before = {name: path.stat().st_mtime_ns for name, path in written.items()}
    data = sorted((root / "search" / "data").glob("*.hdf5"))
    stamps = [p.stat().st_mtime_ns for p in data]
    again = search(**arguments, num_workers=1)
    assert [p.stat().st_mtime_ns for p in data] == stamps  # not read again
    first = CandidateSet.read(written["candidates"])
    np.testing.assert_array_equal(CandidateSet.read(again["candidates"]).far, first.far)
    assert set(again) == set(before)
