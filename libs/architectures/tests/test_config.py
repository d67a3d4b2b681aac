import json

import pytest

from aframe.architectures import PreprocessingConfig, PreprocessingConfigError


def test_sizes(config):
    assert config.kernel_size == 768
    assert config.pad_size == 256
    assert config.window_size == 1280
    assert config.window_length == 2.5
    assert config.psd_size == 4096
    assert config.sample_size == 4096 + 1280
    assert config.fft_size == 1280
    assert config.fft_stride == 640
    assert config.num_freqs == 641


def test_save_load_round_trip(tmp_path, config):
    path = tmp_path / "preprocessing.json"
    config.save(path)
    assert PreprocessingConfig.load(path) == config
    assert json.loads(path.read_text())["ifos"] == ["H1", "L1"]
    # nothing but the file: the write went through a temporary name
    assert [p.name for p in tmp_path.iterdir()] == ["preprocessing.json"]


def test_lists_become_tuples():
    config = PreprocessingConfig(512, 1.5, 1.0, 8.0, 2.5, ifos=["H1", "L1", "V1"])
    assert config.ifos == ("H1", "L1", "V1")
    hash(config)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"kernel_length": 1.0001}, "kernel_length"),
        ({"fduration": 1 / 512}, "even number"),
        ({"fftlength": 9.0}, "longer than"),
        ({"highpass": 300.0}, "highpass"),
        ({"psd_average": "max"}, "psd_average"),
        ({"sample_rate": 0}, "sample_rate"),
        ({"ifos": ("H1", "H1")}, "repeat"),
    ],
)
def test_bad_values_raise(changes, message):
    values = dict(
        sample_rate=512, kernel_length=1.5, fduration=1.0, psd_length=8.0, fftlength=2.5
    )
    values.update(changes)
    with pytest.raises(PreprocessingConfigError, match=message):
        PreprocessingConfig(**values)


def test_load_names_the_file_and_problem(tmp_path, config):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PreprocessingConfigError, match="bad.json: not valid JSON"):
        PreprocessingConfig.load(bad)
    partial = tmp_path / "partial.json"
    values = config.to_dict()
    del values["fftlength"]
    partial.write_text(json.dumps(values))
    with pytest.raises(
        PreprocessingConfigError, match="partial.json: missing .*fftlength"
    ):
        PreprocessingConfig.load(partial)
    values = config.to_dict() | {"colour": "blue"}
    partial.write_text(json.dumps(values))
    with pytest.raises(PreprocessingConfigError, match="unknown .*colour"):
        PreprocessingConfig.load(partial)
    with pytest.raises(PreprocessingConfigError, match="no such file"):
        PreprocessingConfig.load(tmp_path / "missing.json")


def test_from_settings_reads_the_preprocessing_of_a_settings_table():
    base = {
        "ifos": ["H1", "L1"],
        "sample_rate": 2048,
        "kernel_length": 1.5,
        "fduration": 1,
        "psd_length": 8,
        "fftlength": 2.5,
        "highpass": 32,
        "seed": 1122,
        "Tb": 345600.0,
    }
    config = PreprocessingConfig.from_settings(base)
    assert config == PreprocessingConfig(2048.0, 1.5, 1.0, 8.0, 2.5, 32.0)
    assert isinstance(config.sample_rate, float)
    assert config.psd_average == "median"
    del base["fftlength"]
    with pytest.raises(PreprocessingConfigError, match="base: missing .*fftlength"):
        PreprocessingConfig.from_settings(base, "base")
