import pytest

from aframe.utils.segments import (
    SegmentError,
    filter_segments,
    intersect,
    normalize,
    read_segment_file,
    restrict,
    split_segments,
    write_segment_file,
)


def test_normalize_merges_and_sorts():
    assert normalize([(5, 7), (0, 2), (1, 3), (7, 8), (9, 9)]) == [(0, 3), (5, 8)]


def test_intersect_two_ifos():
    h1 = [(0, 10), (20, 30)]
    l1 = [(5, 25), (28, 40)]
    assert intersect({"H1": h1, "L1": l1}) == [(5, 10), (20, 25), (28, 30)]


def test_intersect_single_and_restrict():
    assert intersect({"H1": [(3, 1), (0, 4)]}) == [(0, 4)]
    assert restrict([(0, 10), (20, 30)], 5, 25) == [(5, 10), (20, 25)]


def test_filter_segments():
    assert filter_segments([(0, 10), (20, 21), (30, 60)], 10) == [(0, 10), (30, 60)]


def test_split_near_equal_without_short_remainder():
    # reference §12.7: 20001 s with max 20000 must not leave a 1 s file
    pieces = split_segments([(0, 20001)], max_length=20000, min_length=1024)
    assert pieces == [(0, 10001), (10001, 20001)]
    pieces = split_segments([(100, 100 + 45000)], 20000, 128)
    lengths = [b - a for a, b in pieces]
    assert (
        len(pieces) == 3 and max(lengths) <= 20000 and max(lengths) - min(lengths) <= 1
    )
    assert pieces[0][0] == 100 and pieces[-1][1] == 45100
    assert all(p[1] == q[0] for p, q in zip(pieces, pieces[1:]))


def test_split_drops_short_and_rounds_inwards():
    pieces = split_segments([(0.5, 99.5), (200, 250), (300, 1300)], 400, 60)
    assert pieces == [(1, 99), (300, 634), (634, 967), (967, 1300)]
    for a, b in pieces:
        assert isinstance(a, int) and isinstance(b, int)
        assert 60 <= b - a <= 400


def test_split_min_longer_than_half_max():
    pieces = split_segments([(0, 25000)], 20000, 15000)
    assert pieces == [(0, 20000)]
    with pytest.raises(SegmentError, match="longer than max_length"):
        split_segments([(0, 10)], 5, 6)


def test_segment_file_round_trip(tmp_path):
    path = tmp_path / "segments.txt"
    write_segment_file(path, [(10, 20), (30.5, 40)])
    assert read_segment_file(path) == [(10, 20), (30.5, 40)]
    text = path.read_text()
    assert text.startswith("#") and "0\t10\t20\t10" in text


def test_two_column_file(tmp_path):
    path = tmp_path / "segs.txt"
    path.write_text("# comment\n100 200\n\n150 300  # overlapping\n400 500\n")
    assert read_segment_file(path) == [(100, 300), (400, 500)]


@pytest.mark.parametrize(
    "text, message",
    [
        ("100 200\n1 2 3\n", "line 2: expected"),
        ("0 100 abc 100\n", "line 1: not numbers"),
        ("0 100 200 50\n", "line 1: duration 50"),
        ("200 100\n", "line 1: stop 100 is not after"),
    ],
)
def test_bad_segment_file(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(SegmentError, match=message) as info:
        read_segment_file(path)
    assert "bad.txt" in str(info.value)


def test_missing_segment_file(tmp_path):
    with pytest.raises(SegmentError, match="no such segment file"):
        read_segment_file(tmp_path / "nope.txt")
