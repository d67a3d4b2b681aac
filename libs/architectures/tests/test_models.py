import pytest
import torch

from aframe.architectures import (
    ArchitectureError,
    ModelFileError,
    PreprocessingConfig,
    ResNet1D,
    build_model,
    load_model,
    read_model_file,
    save_model,
)


def test_build_model_by_name():
    model = build_model("resnet", 2, layers=[1, 1], widths=[8, 16])
    assert isinstance(model, ResNet1D)
    with pytest.raises(ArchitectureError, match="unknown architecture 'wavenet'"):
        build_model("wavenet", 2)
    with pytest.raises(ArchitectureError, match="resnet"):
        build_model("resnet", 2, depth=3)


def test_save_load_round_trip(tmp_path, config):
    kwargs = {"layers": [1, 1], "widths": [8, 16], "norm_groups": 4}
    model = build_model("resnet", 2, **kwargs)
    path = save_model(tmp_path, model, "resnet", kwargs, config, {"valid_auroc": 0.5})
    config.save(tmp_path / "preprocessing.json")
    assert path == tmp_path / "model.pt"
    loaded, loaded_config = load_model(tmp_path)
    assert loaded_config == config
    assert not loaded.training
    x = torch.randn(3, 2, config.kernel_size)
    model.eval()
    torch.testing.assert_close(loaded(x), model(x))
    assert read_model_file(path)["metadata"] == {"valid_auroc": 0.5}


def test_inconsistent_or_broken_files_raise(tmp_path, config):
    kwargs = {"layers": [1], "widths": [8]}
    save_model(tmp_path, build_model("resnet", 2, **kwargs), "resnet", kwargs, config)
    other = PreprocessingConfig(**(config.to_dict() | {"psd_length": 16.0}))
    other.save(tmp_path / "preprocessing.json")
    with pytest.raises(ModelFileError, match="preprocessing.json: disagrees"):
        load_model(tmp_path)
    (tmp_path / "preprocessing.json").unlink()
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "elsewhere")
    (tmp_path / "model.pt").write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="model.pt: not a readable model file"):
        load_model(tmp_path)
    torch.save({"architecture": "resnet"}, tmp_path / "model.pt")
    with pytest.raises(ModelFileError, match="missing field"):
        load_model(tmp_path)
