import h5py
import numpy as np
import pytest

from aframe.architectures.snr import background_psd
from train.inputs import (
    Segment,
    TrainingInputError,
    attach_reference_psds,
    load_background,
    load_glitches,
    load_waveforms,
)


def test_latest_background_is_held_out(tmp_path, config, writers):
    directory = writers["background"](tmp_path / "bg", durations=(300, 200))
    train, valid = load_background(
        directory, config, valid_length=250, min_valid_length=10
    )
    # the 200 s file and the last 50 s of the 300 s file
    assert [s.num_samples / 256 for s in valid] == [50.0, 200.0]
    assert [s.num_samples / 256 for s in train] == [250.0]
    assert valid[0].t0 == train[0].t0 + 250
    assert train[0].strain.dtype == np.float32


def test_missing_or_short_background_raises(tmp_path, config, writers):
    with pytest.raises(TrainingInputError, match="no such background directory"):
        load_background(tmp_path / "nowhere", config, 100, 10)
    directory = writers["background"](tmp_path / "bg", durations=(20,))
    with pytest.raises(TrainingInputError, match="held out for validation"):
        load_background(directory, config, valid_length=18, min_valid_length=5)
    with pytest.raises(TrainingInputError, match="validation needs at least"):
        load_background(directory, config, valid_length=4, min_valid_length=5)


def test_background_sample_rate_mismatch_raises(tmp_path, config, writers):
    directory = writers["background"](tmp_path / "bg", durations=(60,), fs=128.0)
    with pytest.raises(
        TrainingInputError, match="sample_rate is 128 Hz, expected 256 Hz"
    ):
        load_background(directory, config, 10, 5)


def test_waveforms_are_checked_then_read_in_blocks(tmp_path, config, writers):
    path = writers["signals"](tmp_path / "signals.hdf5", 10)
    waveforms = load_waveforms(path, config, num_valid=3)
    assert (waveforms.num_waveforms, waveforms.size) == (10, 1024)
    assert waveforms.coalescence_sample == 768
    block = waveforms.read(7, 10)
    assert block.shape == (3, 2, 1024) and block.dtype == np.float32
    with h5py.File(path) as f:
        np.testing.assert_array_equal(block[:, 0], f["waveforms/cross"][7:10])
        np.testing.assert_array_equal(block[:, 1], f["waveforms/plus"][7:10])


def test_bad_waveforms_raise(tmp_path, config, writers):
    path = writers["signals"](tmp_path / "signals.hdf5", 4, fs=512.0)
    with pytest.raises(
        TrainingInputError, match="signals.hdf5: waveforms are sampled at 512 Hz"
    ):
        load_waveforms(path, config, 1)
    path = writers["signals"](tmp_path / "few.hdf5", 4)
    with pytest.raises(TrainingInputError, match="4 waveforms, but 4 are held out"):
        load_waveforms(path, config, 4)
    broken = writers["signals"](tmp_path / "broken.hdf5", 4)
    with h5py.File(broken, "a") as f:
        del f["waveforms/plus"]
    with pytest.raises(TrainingInputError, match="broken.hdf5.*plus"):
        load_waveforms(broken, config, 1)
    stretched = writers["signals"](tmp_path / "stretched.hdf5", 4)
    with h5py.File(stretched, "a") as f:
        f.attrs["duration"] = 8.0
    with pytest.raises(TrainingInputError, match="hold 1024 samples, expected 2048"):
        load_waveforms(stretched, config, 1)
    nan = writers["signals"](tmp_path / "nan.hdf5", 4)
    with h5py.File(nan, "a") as f:
        f["waveforms/cross"][2, 5] = np.nan
    with pytest.raises(
        TrainingInputError, match="nan.hdf5: waveform 2 holds non-finite"
    ):
        load_waveforms(nan, config, 1).read(0, 4)
    (tmp_path / "junk.hdf5").write_bytes(b"junk")
    with pytest.raises(TrainingInputError, match="junk.hdf5"):
        load_waveforms(tmp_path / "junk.hdf5", config, 1)


def test_glitches_skip_gracefully_and_respect_validation(tmp_path, config, writers):
    assert load_glitches(None, config, []) is None
    assert load_glitches(tmp_path / "missing.hdf5", config, []) is None
    empty = writers["glitches"](tmp_path / "empty.hdf5", empty=True)
    assert load_glitches(empty, config, []) is None
    path = writers["glitches"](tmp_path / "glitches.hdf5", n=6)
    glitches = load_glitches(path, config, [])
    assert [len(s) for s in glitches.snippets] == [6, 6]
    assert glitches.trigger_sample == 5 * 256
    # glitches at t0 + 20 k with snippets [t - 5 s, t + 2 s): those at t0 + 40
    # and t0 + 60 overlap [t0 + 30, t0 + 70); t0 + 80 starts at t0 + 75 and
    # t0 + 20 ends at t0 + 22; a span ending at t0 + 76 also takes t0 + 80
    t0 = 1_000_000_050.0
    held = load_glitches(path, config, [(t0 + 30, t0 + 70)])
    assert [len(s) for s in held.snippets] == [4, 4]
    held = load_glitches(path, config, [(t0 + 30, t0 + 76)])
    assert [len(s) for s in held.snippets] == [3, 3]
    short = writers["glitches"](tmp_path / "short.hdf5", pad=(1.0, 1.0))
    assert load_glitches(short, config, []) is None
    wrong_rate = writers["glitches"](tmp_path / "rate.hdf5", fs=512.0)
    with pytest.raises(TrainingInputError, match="sampled at 512 Hz"):
        load_glitches(wrong_rate, config, [])


def test_reference_psd_is_the_whole_segments_median_welch(tmp_path, config, writers):
    directory = writers["background"](tmp_path / "bg", durations=(300, 200))
    train, valid = load_background(directory, config, 100, 10)
    segments = train + valid
    attach_reference_psds(segments, config.sample_rate, fftlength=4.0)
    freqs = np.fft.rfftfreq(1024, 1 / config.sample_rate)
    band = (freqs >= config.highpass) & (freqs < config.sample_rate / 2)
    for segment in segments:
        # on the 4 s waveforms' rFFT grid, one PSD per detector
        assert segment.psd.shape == (2, 513)
        np.testing.assert_allclose(
            segment.psd,
            background_psd(segment.strain.astype(np.float64), 256.0, 4.0),
        )
        # tens to hundreds of median-averaged Welch segments: the true PSD,
        # unbiased, with the scatter of a median of that many periodograms
        ratio = segment.psd[:, band] / writers["psd"](freqs[band])
        assert abs(float(np.median(ratio)) - 1) < 0.05
        low, high = np.percentile(ratio, [5, 95])
        assert 0.6 < low and high < 1.4
    short = Segment(0.0, valid[0].strain[:, :512], "short-piece.hdf5")
    with pytest.raises(
        TrainingInputError,
        match="short-piece.hdf5: the longest background piece is 2 s",
    ):
        attach_reference_psds([short], config.sample_rate, 4.0)
