import inspect

import pytest
import torch

from aframe.architectures import ARCHITECTURES, ResNet1D, build_model
from aframe.utils.cli import build_parser
from train.architectures import COMMANDS, Architecture, resnet
from train.cli import train

#: what a command line needs besides the architecture
REQUIRED = [
    "--background_dir",
    "bg",
    "--signals",
    "s.hdf5",
    "--outdir",
    "out",
    "--inference_sampling_rate",
    "2",
    "--integration_length",
    "1",
    "--cluster_window_length",
    "4",
]


def _defaults(network):
    return {
        name: list(p.default) if isinstance(p.default, tuple) else p.default
        for name, p in inspect.signature(network).parameters.items()
        if name != "num_ifos"
    }


def test_every_registered_network_is_a_subcommand():
    assert set(COMMANDS) == set(ARCHITECTURES)
    parameters = inspect.signature(COMMANDS["resnet"]).parameters
    assert "num_ifos" not in parameters
    assert {"norm", "amplitude_window", "stem_kernel_size"} <= set(parameters)
    # the annotations are resolved, so the command line can check them
    assert "affine" in str(parameters["norm"].annotation)


def test_resnet_takes_the_networks_own_defaults_and_arguments():
    default = resnet()
    assert default == Architecture("resnet", _defaults(ResNet1D))
    chosen = resnet(layers=(2, 2), widths=[8, 16], norm="affine", amplitude_window=0)
    assert chosen.kwargs["layers"] == [2, 2]  # tuples stored as YAML gives them
    assert chosen.kwargs["norm"] == "affine" and chosen.kwargs["amplitude_window"] == 0
    assert chosen.kwargs["kernel_size"] == default.kwargs["kernel_size"]


@pytest.mark.parametrize("norm", ["group", "batch", "affine"])
def test_the_kwargs_build_the_network(norm):
    arch = resnet(layers=[1, 1], widths=[8, 16], norm=norm, amplitude_window=16)
    model = build_model(arch.name, 2, **arch.kwargs)
    assert isinstance(model, ResNet1D)
    assert model.stem_conv.in_channels == 2 and model.stem_conv.out_channels == 8
    assert model.stem_conv.bias is None  # h(λx) = λh(x) for the amplitude term
    assert model.amplitude is not None
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(3, 2, 256)).shape == (3, 1)
    plain = resnet(layers=[1], widths=[8], norm=norm, amplitude_window=0)
    assert build_model(plain.name, 2, **plain.kwargs).amplitude is None


def test_command_line_parses_the_new_resnet_arguments():
    parser = build_parser(train, COMMANDS, subcommand_dest="architecture")
    namespace = parser.parse_args(
        [*REQUIRED, "resnet", "--norm", "batch", "--amplitude_window", "0"]
    )
    arch = COMMANDS[namespace.subcommand](**namespace.resnet.as_dict())
    assert arch.kwargs["norm"] == "batch" and arch.kwargs["amplitude_window"] == 0
    with pytest.raises(SystemExit):
        parser.parse_args([*REQUIRED, "resnet", "--norm", "layer"])
