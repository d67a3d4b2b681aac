import json

from aframe.pinto.stamps import is_done, read_stamp, remove_stamps, write_stamp


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


def test_is_done_needs_matching_hash_and_success():
    assert is_done({"hash": "h", "exit_code": 0}, "h")
    assert not is_done({"hash": "h", "exit_code": 0}, "other")
    assert not is_done({"hash": "h", "exit_code": 1}, "h")
    assert not is_done({"hash": "h"}, "h")
    assert not is_done(None, "h")


def test_remove_stamps_reports_what_existed(tmp_path):
    present = tmp_path / "a.json"
    write_stamp(present, {"hash": "h"})
    removed = remove_stamps([present, tmp_path / "b.json"])
    assert removed == [present]
    assert not present.exists()
