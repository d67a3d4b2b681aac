import json

import h5py
import numpy as np

from aframe.pinto.stamps import (
    STAMP_VERSION,
    assess,
    check_outputs,
    fingerprint,
    identity,
    provenance,
    read_stamp,
    remove_stamps,
    write_stamp,
)


def test_write_then_read(tmp_path):
    path = tmp_path / ".pinto" / "train.json"
    write_stamp(path, {"hash": "abc", "exit_code": 0, "wall_seconds": 1.5})
    assert read_stamp(path) == {"hash": "abc", "exit_code": 0, "wall_seconds": 1.5}
    # written atomically: no temporary left beside it
    assert [p.name for p in path.parent.iterdir()] == ["train.json"]


def test_missing_or_unreadable_stamp_is_none(tmp_path):
    assert read_stamp(tmp_path / "none.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text('{"hash": ')
    assert read_stamp(broken) is None
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([1, 2]))
    assert read_stamp(listed) is None


def test_remove_stamps_reports_what_existed(tmp_path):
    present = tmp_path / "a.json"
    write_stamp(present, {"hash": "h"})
    removed = remove_stamps([present, tmp_path / "b.json"])
    assert removed == [present]
    assert not present.exists()


def stamp_of(step_hash, inputs, outputs=None):
    current = provenance(step_hash, inputs)
    return {
        "version": STAMP_VERSION,
        "hash": step_hash,
        "inputs": inputs,
        "provenance": current,
        "outputs": outputs,
        "identity": identity(current, outputs),
        "exit_code": 0,
    }


def test_done_needs_arguments_inputs_and_outputs_to_match(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("x")
    inputs = {"make-data": "id-1"}
    stamp = stamp_of("h", inputs, fingerprint([str(out)]))
    state = assess(stamp, None, "h", inputs)
    assert state.done and state.reason == "done" and not state.redo
    assert state.identity == stamp["identity"]

    assert assess(stamp, None, "other", inputs).reason == "arguments changed"
    changed = assess(stamp, None, "h", {"make-data": "id-2"})
    assert changed.reason == "an upstream step changed (make-data)"
    assert changed.redo and changed.identity is None
    missing = assess(stamp, None, "h", {"make-data": None})
    assert missing.reason == "upstream step make-data is not done"

    out.write_text("rewritten, longer")
    assert assess(stamp, None, "h", inputs).reason == f"outputs changed ({out})"
    out.unlink()
    assert assess(stamp, None, "h", inputs).reason == f"outputs missing ({out})"


def test_never_run_and_interrupted_attempts(tmp_path):
    state = assess(None, None, "h", {})
    assert state.reason == "never run" and not state.redo
    # a stamp of an older pinto counts as none
    assert assess({"hash": "h", "exit_code": 0}, None, "h", {}).reason == "never run"
    # the same run, killed: it continues as it was told to
    fresh = {"provenance": provenance("h", {}), "redo": False}
    assert assess(None, fresh, "h", {}).reason == "interrupted"
    assert not assess(None, fresh, "h", {}).redo
    redo = {"provenance": provenance("h", {}), "redo": True}
    assert assess(None, redo, "h", {}).redo
    # killed, then its inputs changed: what it left is stale
    other = {"provenance": provenance("other", {}), "redo": False}
    state = assess(None, other, "h", {})
    assert state.reason == "interrupted, inputs changed" and state.redo


def test_damaged_hdf5_outputs_are_not_complete(tmp_path):
    from aframe.ledger import SOURCE_PARAMETERS, WAVEFORM_ATTRS, WaveformSet

    path = WaveformSet(
        {name: np.ones(2) for name in SOURCE_PARAMETERS},
        {"cross": np.zeros((2, 4)), "plus": np.zeros((2, 4))},
        {name: 1.0 for name in WAVEFORM_ATTRS},
    ).write(tmp_path / "signals.hdf5")
    recorded = fingerprint([str(path)])
    assert check_outputs(recorded) is None
    with h5py.File(path, "r+") as f:
        del f["waveforms/plus"]
    assert check_outputs(recorded).startswith("outputs changed")
    # even when its size and time match (a copy restored over it, say)
    assert "waveforms/plus missing" in check_outputs(fingerprint([str(path)]))

    truncated = tmp_path / "background-1000-16.hdf5"
    truncated.write_bytes(b"not hdf5")
    assert "not a readable HDF5 file" in check_outputs(fingerprint([str(truncated)]))


def test_a_directory_output_stands_for_its_files(tmp_path):
    version = tmp_path / "model_repo" / "aframe" / "1"
    version.mkdir(parents=True)
    (version / "model.onnx").write_bytes(b"onnx")
    (version / ".hidden.tmp").write_bytes(b"x")
    prints = fingerprint([str(version)])
    assert list(prints) == [str(version / "model.onnx")]
    assert check_outputs(prints) is None
    (version / "model.onnx").write_bytes(b"truncated")
    assert check_outputs(prints) == f"outputs changed ({version / 'model.onnx'})"


def test_background_outputs_are_checked_against_their_contract(tmp_path):
    from aframe.utils.background import background_filename, write_background

    path = tmp_path / background_filename(1000, 16)
    strain = {ifo: np.zeros(16 * 64) for ifo in ("H1", "L1")}
    write_background(path, strain, 1000, 64.0, {"source": "simulated"})
    prints = fingerprint([str(path)])
    assert check_outputs(prints) is None
    with h5py.File(path, "r+") as f:
        del f["L1"]
    assert "dataset L1 missing" in check_outputs(fingerprint([str(path)]))
