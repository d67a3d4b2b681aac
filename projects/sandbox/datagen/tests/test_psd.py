import numpy as np
import pytest

from datagen.psd import (
    DEFAULT_PSD,
    PSDError,
    bilby_curves,
    lalsimulation_curves,
    load_psd,
    psd_on_grid,
    read_curve_file,
)


def test_default_is_a_bilby_ligo_curve():
    assert DEFAULT_PSD in bilby_curves()
    f = np.array([20.0, 100.0, 1000.0])
    asd = np.sqrt(psd_on_grid(DEFAULT_PSD, f))
    # design aLIGO: a few 1e-24 /sqrt(Hz) in the bucket, rising at both ends
    assert 1e-24 < asd[1] < 1e-23
    assert asd[0] > asd[1] and asd[2] > asd[1]


def test_bilby_name_without_suffix():
    f = np.linspace(10, 2000, 50)
    np.testing.assert_array_equal(
        psd_on_grid("aLIGO_O4_high_asd", f), psd_on_grid("aLIGO_O4_high_asd.txt", f)
    )


def test_bilby_asd_and_psd_files_agree():
    f = np.geomspace(20, 1000, 30)
    asd = psd_on_grid("aLIGO_ZERO_DET_high_P_asd.txt", f)
    psd = psd_on_grid("aLIGO_ZERO_DET_high_P_psd.txt", f)
    np.testing.assert_allclose(asd, psd, rtol=1e-3)


def test_lalsimulation_curves_by_name():
    import lalsimulation

    assert "aLIGOZeroDetHighPower" in lalsimulation_curves()
    f = np.array([30.0, 100.0, 500.0])
    expected = [lalsimulation.SimNoisePSDaLIGOZeroDetHighPower(x) for x in f]
    np.testing.assert_allclose(
        psd_on_grid("aLIGOZeroDetHighPower", f), expected, rtol=1e-3
    )
    # the tabulated kind takes a frequency series; it must load too
    tabulated = psd_on_grid("aLIGODesignSensitivityT1800044", f)
    assert np.all(tabulated > 0) and np.all(np.isfinite(tabulated))
    np.testing.assert_allclose(
        psd_on_grid("SimNoisePSDaLIGOZeroDetHighPower", f), expected, rtol=1e-3
    )


def test_file_asd_psd_and_magnitude(tmp_path):
    f = np.array([10.0, 100.0, 1000.0])
    asd = np.array([1e-22, 4e-24, 1e-23])
    np.savetxt(tmp_path / "my_asd.txt", np.column_stack([f, asd]))
    np.savetxt(tmp_path / "my_psd.txt", np.column_stack([f, asd**2]))
    np.savetxt(tmp_path / "curve.dat", np.column_stack([f, asd]))
    for name in ("my_asd.txt", "my_psd.txt", "curve.dat"):
        _, psd = read_curve_file(tmp_path / name)
        np.testing.assert_allclose(psd, asd**2)
    curve = load_psd(str(tmp_path / "my_asd.txt"))
    # log-log interpolation between points, held constant outside
    np.testing.assert_allclose(
        curve(np.array([100.0, 5.0, 4000.0])), [16e-48, 1e-44, 1e-46]
    )
    mid = curve(np.array([np.sqrt(10 * 100)]))
    np.testing.assert_allclose(mid, [np.sqrt(1e-44 * 16e-48)])


def test_unknown_name_lists_known_curves():
    with pytest.raises(PSDError) as info:
        load_psd("aLIGO_O9_dream")
    message = str(info.value)
    assert "aLIGO_O9_dream" in message
    assert "aLIGO_O4_high_asd.txt" in message and "aLIGOZeroDetHighPower" in message


@pytest.mark.parametrize(
    "text, problem",
    [
        ("10 1e-23\n5 1e-23\n", "increasing"),
        ("10 1e-23\n20 -1e-23\n", "positive"),
        ("just words\n", "two-column"),
        ("10\n20\n", "two columns"),
    ],
)
def test_bad_curve_file(tmp_path, text, problem):
    path = tmp_path / "bad_asd.txt"
    path.write_text(text)
    with pytest.raises(PSDError, match=problem) as info:
        read_curve_file(path)
    assert "bad_asd.txt" in str(info.value)
