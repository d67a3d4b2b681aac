"""Generic record-set behaviour: validation, slicing, merging, files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from aframe.ledger import (
    EventSet,
    InjectionSet,
    LedgerError,
    RecordSet,
    WaveformSet,
    read_any,
)
from aframe.utils.io import ArtifactError


def test_ledger_error_is_value_and_artifact_error():
    assert issubclass(LedgerError, ValueError)
    assert issubclass(LedgerError, ArtifactError)


def test_length_mismatch_names_field(make_events):
    events = make_events([1.0, 2.0, 3.0])
    params = dict(events.parameters)
    params["detection_statistic"] = np.zeros(2)
    with pytest.raises(
        LedgerError, match=r"parameters/detection_statistic has 2 records, expected 3"
    ):
        EventSet(
            {"detection_time": params["detection_time"], **params}, attrs=events.attrs
        )


def test_missing_parameter_and_attr(make_events):
    events = make_events([1.0])
    params = dict(events.parameters)
    del params["shift"]
    with pytest.raises(LedgerError, match=r"EventSet: parameters/shift missing"):
        EventSet(params, attrs=events.attrs)
    with pytest.raises(LedgerError, match=r"attribute Tb missing"):
        EventSet(events.parameters, attrs={"ifos": ["H1", "L1"]})


def test_dtype_and_shape_sanity(make_events, make_waveforms):
    events = make_events([1.0, 2.0])
    params = dict(events.parameters, detection_time=np.array(["a", "b"]))
    with pytest.raises(LedgerError, match=r"parameters/detection_time has dtype"):
        EventSet(params, attrs=events.attrs)
    params = dict(events.parameters, shift=np.zeros((2, 3)))
    with pytest.raises(
        LedgerError,
        match=r"parameters/shift has shape \(2, 3\), expected \(records, 2\)",
    ):
        EventSet(params, attrs=events.attrs)
    params = dict(events.parameters, shift=np.zeros(2))
    with pytest.raises(LedgerError, match=r"parameters/shift has shape \(2,\)"):
        EventSet(params, attrs=events.attrs)
    with pytest.raises(LedgerError, match=r"attribute extra is \{"):
        EventSet(events.parameters, attrs=dict(events.attrs, extra={"a": 1}))
    wf = make_waveforms(2)
    with pytest.raises(LedgerError, match=r"waveforms/cross has shape \(2,\)"):
        WaveformSet(
            wf.parameters, {"cross": np.zeros(2), "plus": np.zeros(2)}, wf.attrs
        )
    with pytest.raises(LedgerError, match=r"waveforms/plus missing"):
        WaveformSet(wf.parameters, {"cross": wf.waveforms["cross"]}, wf.attrs)


@pytest.mark.parametrize(
    "index, expected",
    [
        (1, [1]),
        (-1, [4]),
        (slice(1, 3), [1, 2]),
        (np.array([True, False, True, False, True]), [0, 2, 4]),
        (np.array([4, 0]), [4, 0]),
        ([3], [3]),
    ],
)
def test_getitem_returns_same_type(make_injections, index, expected):
    inj = make_injections(np.arange(5.0) * 10)
    sub = inj[index]
    assert type(sub) is InjectionSet
    assert sub.attrs == inj.attrs
    np.testing.assert_array_equal(
        sub.parameters["injection_time"], np.array(expected) * 10.0
    )
    np.testing.assert_array_equal(sub.waveforms["L1"], inj.waveforms["L1"][expected])
    assert sub.parameters["shift"].shape == (len(expected), 2)


def test_getitem_errors(make_events):
    events = make_events([1.0, 2.0])
    with pytest.raises(IndexError):
        events[2]
    with pytest.raises(IndexError, match="mask"):
        events[np.array([True])]


def test_append_adds_Tb_and_keeps_order(make_events):  # noqa: N802
    a = make_events([1.0, 2.0], Tb=10.0)
    b = make_events([3.0], Tb=5.5)
    a.append(b)
    assert a.Tb == 15.5
    np.testing.assert_array_equal(a.detection_time, [1.0, 2.0, 3.0])
    assert len(b) == 1  # the other set is untouched


def test_append_mismatched_attr_raises(make_events, make_injections):
    a = make_events([1.0])
    b = EventSet(
        a.parameters, attrs={"Tb": 1.0, "ifos": ["H1", "V1"]}, source="other.hdf5"
    )
    with pytest.raises(LedgerError, match=r"other.hdf5: attribute ifos differs"):
        a.append(b)
    x = make_injections([1.0], num_injections=5)
    y = make_injections([2.0], num_injections=7)
    y.attrs["sample_rate"] = 32.0
    with pytest.raises(LedgerError, match=r"attribute sample_rate differs"):
        x.append(y)
    with pytest.raises(
        LedgerError, match=r"cannot merge a EventSet into a InjectionSet"
    ):
        x.append(a)


def test_append_missing_field_raises(make_events):
    a = make_events([1.0])
    b = make_events([2.0])
    b.parameters["extra"] = np.ones(1)
    with pytest.raises(LedgerError, match=r"parameters/extra present in only one"):
        a.append(b)


def test_empty_plus_non_empty(make_events):
    empty = EventSet(attrs={"Tb": 0.0, "ifos": ["H1", "L1"]})
    assert len(empty) == 0
    assert empty.parameters["shift"].shape == (0, 2)
    full = make_events([5.0, 6.0], Tb=3.0)
    empty.append(full)
    assert len(empty) == 2 and empty.Tb == 3.0
    np.testing.assert_array_equal(empty.detection_time, [5.0, 6.0])
    full.append(EventSet(attrs={"Tb": 2.0, "ifos": ["H1", "L1"]}))
    assert len(full) == 2 and full.Tb == 5.0


def test_concatenate(make_injections):
    a = make_injections([1.0, 2.0], num_injections=10)
    b = make_injections([3.0], num_injections=4, seed=1)
    c = InjectionSet.concatenate([a, b])
    assert len(c) == 3
    assert c.attrs["num_injections"] == 14
    np.testing.assert_array_equal(c.waveforms["H1"][2], b.waveforms["H1"][0])
    assert len(a) == 2  # inputs untouched
    with pytest.raises(LedgerError, match="nothing to concatenate"):
        InjectionSet.concatenate([])


def test_sort_by(make_events):
    events = make_events([1.0, 2.0, 3.0], stats=[2.0, 9.0, -1.0])
    asc = events.sort_by("detection_statistic")
    np.testing.assert_array_equal(asc.detection_time, [3.0, 1.0, 2.0])
    desc = events.sort_by("detection_statistic", descending=True)
    np.testing.assert_array_equal(desc.detection_statistic, [9.0, 2.0, -1.0])
    with pytest.raises(LedgerError, match="parameters/nope"):
        events.sort_by("nope")
    with pytest.raises(LedgerError, match="shape"):
        events.sort_by("shift")


def test_get_shift_and_shifts(make_events):
    shifts = [[0, 0], [0, 1], [0, 1], [0, 2]]
    events = make_events([1.0, 2.0, 3.0, 4.0], shifts=shifts)
    np.testing.assert_array_equal(events.get_shift([0, 1]).detection_time, [2.0, 3.0])
    np.testing.assert_array_equal(
        events.get_shift([[0, 0], [0, 2]]).detection_time, [1.0, 4.0]
    )
    np.testing.assert_array_equal(events.shifts(), [[0, 0], [0, 1], [0, 2]])
    with pytest.raises(LedgerError, match="do not match"):
        events.get_shift([0, 1, 2])


def test_aggregate_streams_files(tmp_path, make_injections):
    pieces = [
        make_injections([1.0, 2.0], num_injections=10, seed=0),
        make_injections([], num_injections=3, seed=1),
        make_injections([3.0], num_injections=4, seed=2),
    ]
    paths = [p.write(tmp_path / f"piece-{i}.hdf5") for i, p in enumerate(pieces)]
    out = InjectionSet.aggregate(paths, tmp_path / "all.hdf5")
    merged = InjectionSet.read(out)
    assert len(merged) == 3
    assert merged.attrs["num_injections"] == 17
    expected = InjectionSet.concatenate(pieces)
    for name, value in expected.parameters.items():
        np.testing.assert_array_equal(merged.parameters[name], value)
    np.testing.assert_array_equal(merged.waveforms["L1"], expected.waveforms["L1"])
    assert not list(tmp_path.glob(".*tmp*"))


def test_aggregate_first_file_empty(tmp_path, make_events):
    paths = [
        EventSet(attrs={"Tb": 1.0, "ifos": ["H1", "L1"]}).write(tmp_path / "a.hdf5"),
        make_events([2.0, 3.0], Tb=4.0).write(tmp_path / "b.hdf5"),
    ]
    merged = EventSet.read(EventSet.aggregate(paths, tmp_path / "all.hdf5"))
    assert merged.Tb == 5.0 and len(merged) == 2


def test_aggregate_mismatch_is_atomic(tmp_path, make_events):
    a = make_events([1.0]).write(tmp_path / "a.hdf5")
    b = EventSet(
        make_events([2.0]).parameters, attrs={"Tb": 1.0, "ifos": ["H1", "V1"]}
    ).write(tmp_path / "b.hdf5")
    with pytest.raises(LedgerError, match=r"b.hdf5: attribute ifos differs"):
        EventSet.aggregate([a, b], tmp_path / "all.hdf5")
    assert not (tmp_path / "all.hdf5").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.hdf5", "b.hdf5"]


def test_read_filters_time_and_shift(tmp_path, make_events):
    shifts = [[0, 1], [0, 2], [0, 1], [0, 3], [0, 2]]
    events = make_events([10.0, 20.0, 30.0, 40.0, 50.0], shifts=shifts)
    path = events.write(tmp_path / "background.hdf5")
    sub = EventSet.read(path, start=20.0, end=50.0)
    np.testing.assert_array_equal(sub.detection_time, [20.0, 30.0, 40.0])
    assert sub.Tb == events.Tb
    sub = EventSet.read(path, shifts=[0, 2])  # one shift vector
    np.testing.assert_array_equal(sub.detection_time, [20.0, 50.0])
    sub = EventSet.read(path, shifts=[[0, 1], [0, 3]])  # several
    np.testing.assert_array_equal(sub.detection_time, [10.0, 30.0, 40.0])
    sub = EventSet.read(path, start=25.0, shifts=[[0, 1], [0, 2]])
    np.testing.assert_array_equal(sub.detection_time, [30.0, 50.0])
    assert len(EventSet.read(path, start=100.0)) == 0


def test_read_filter_one_dimensional_shift_field(tmp_path, make_waveforms):
    # a set whose shift field is 1-D (one shifted ifo) filters on its values
    class LegacyEvents(RecordSet):
        required_parameters = ("time", "shift")
        time_field = "time"

    legacy = LegacyEvents({"time": np.arange(4.0), "shift": np.array([0, 1, 2, 1.0])})
    path = legacy.write(tmp_path / "legacy.hdf5")
    np.testing.assert_array_equal(
        LegacyEvents.read(path, shifts=1).parameters["time"], [1, 3]
    )
    np.testing.assert_array_equal(
        LegacyEvents.read(path, shifts=[0, 2]).parameters["time"], [0, 2]
    )


def test_read_many_runs(tmp_path, make_events):
    n = 400
    shifts = np.stack([np.zeros(n), np.arange(n) % 2], axis=1)
    events = make_events(np.arange(n, dtype=float), shifts=shifts)
    path = events.write(tmp_path / "e.hdf5")
    sub = EventSet.read(path, shifts=[0, 1])
    np.testing.assert_array_equal(sub.detection_time, np.arange(1, n, 2))


def test_read_wrong_type_names_file(tmp_path, make_events):
    path = make_events([1.0]).write(tmp_path / "background.hdf5")
    with pytest.raises(
        LedgerError,
        match=r"background.hdf5: ledger_type is EventSet, expected InjectionSet",
    ):
        InjectionSet.read(path)
    assert type(read_any(path)) is EventSet


def test_read_foreign_missing_and_corrupt(tmp_path):
    foreign = tmp_path / "foreign.hdf5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(LedgerError, match=r"foreign.hdf5: no ledger_type attribute"):
        EventSet.read(foreign)
    with pytest.raises(LedgerError, match=r"missing.hdf5: no such file"):
        EventSet.read(tmp_path / "missing.hdf5")
    corrupt = tmp_path / "corrupt.hdf5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"garbage" * 50)
    with pytest.raises(LedgerError, match=r"corrupt.hdf5: not a readable HDF5 file"):
        EventSet.read(corrupt)


def test_read_bad_content_names_file_and_field(tmp_path, make_injections):
    path = make_injections([1.0, 2.0, 3.0]).write(tmp_path / "waveforms.hdf5")
    with h5py.File(path, "a") as f:
        del f["parameters/snr"]
        f["parameters/snr"] = np.zeros(2)
    with pytest.raises(
        LedgerError, match=r"waveforms.hdf5: parameters/snr has 2 records, expected 3"
    ):
        InjectionSet.read(path)
    with h5py.File(path, "a") as f:
        del f["parameters/snr"]
    with pytest.raises(LedgerError, match=r"waveforms.hdf5: parameters/snr missing"):
        InjectionSet.read(path)
    path = make_injections([1.0]).write(tmp_path / "nowf.hdf5")
    with h5py.File(path, "a") as f:
        del f["waveforms/L1"]
    with pytest.raises(LedgerError, match=r"nowf.hdf5: waveforms/L1 missing"):
        InjectionSet.read(path)
    assert len(InjectionSet.read(path, waveforms=False)) == 1


def test_truncated_file_names_file(tmp_path, make_injections):
    path = make_injections(np.arange(50.0), length=256).write(tmp_path / "cut.hdf5")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LedgerError, match=r"cut.hdf5"):
        InjectionSet.read(path)


def test_parameters_only_set_cannot_be_written(tmp_path, make_injections):
    inj = make_injections([1.0])
    params_only = InjectionSet(inj.parameters, None, inj.attrs)
    with pytest.raises(LedgerError, match=r"without waveforms/H1"):
        params_only.write(tmp_path / "x.hdf5")
    assert not (tmp_path / "x.hdf5").exists()


def test_chunked_along_records(tmp_path, make_injections):
    path = make_injections(np.arange(3.0), length=64).write(tmp_path / "w.hdf5")
    with h5py.File(path) as f:
        assert f["waveforms/H1"].chunks[1] == 64
        assert f["waveforms/H1"].maxshape == (None, 64)
        assert f["parameters/shift"].shape == (3, 2)
        assert f.attrs["ledger_type"] == "InjectionSet"


def test_check_file_finds_a_damaged_file_without_reading_data(
    tmp_path, make_waveforms, make_injections
):
    from aframe.ledger.recordset import check_any

    path = make_waveforms(n=4).write(tmp_path / "signals.hdf5")
    WaveformSet.check_file(path)
    assert check_any(path) == "WaveformSet"
    # a dataset deleted in place (the file still opens and reads its attrs)
    with h5py.File(path, "r+") as f:
        del f["waveforms/plus"]
    WaveformSet.read_attrs(path)
    with pytest.raises(LedgerError, match="signals.hdf5: waveforms/plus missing"):
        check_any(path)

    injections = make_injections([10.0, 20.0]).write(tmp_path / "waveforms.hdf5")
    InjectionSet.check_file(injections)
    with h5py.File(injections, "r+") as f:
        del f["waveforms/L1"]
    with pytest.raises(LedgerError, match="waveforms/L1 missing"):
        InjectionSet.check_file(injections)

    events = tmp_path / "events.hdf5"
    with h5py.File(events, "w") as f:
        f.attrs["ledger_type"] = "EventSet"
        f.attrs["Tb"] = 1.0
        f.attrs["ifos"] = ["H1", "L1"]
        f["parameters/detection_statistic"] = np.zeros(3)
        f["parameters/detection_time"] = np.zeros(2)
        f["parameters/shift"] = np.zeros((3, 2))
    with pytest.raises(LedgerError, match="has 2 records"):
        EventSet.check_file(events)


def test_non_finite_waveforms_are_an_error_naming_the_record(tmp_path, make_waveforms):
    good = make_waveforms(n=4)
    bad = dict(good.waveforms)
    bad["plus"] = bad["plus"].copy()
    bad["plus"][2, 5] = np.nan
    with pytest.raises(
        LedgerError, match="waveforms/plus has a non-finite value in record 2"
    ):
        WaveformSet(good.parameters, bad, good.attrs, source="signals.hdf5")

    # a file damaged after it was written: found by a read, or by check_file
    path = good.write(tmp_path / "signals.hdf5")
    with h5py.File(path, "r+") as f:
        f["waveforms/cross"][3, 0] = np.inf
    WaveformSet.check_file(path)  # the structure is fine
    with pytest.raises(LedgerError, match="signals.hdf5: waveforms/cross .* record 3"):
        WaveformSet.check_file(path, values=True)
    with pytest.raises(LedgerError, match="record 3"):
        WaveformSet.read(path)
