import os
from pathlib import Path

import pytest

from aframe.utils.cli import cli

PIPELINE = """
[tool.typeo.base]
sample_rate = 2048
ifos = ["H1", "L1"]

[tool.typeo.scripts.fit]
outdir = "/tmp/out"
sample_rate = "${base.sample_rate}"
ifos = "${base.ifos}"

[tool.typeo.scripts.fit.commands.resnet]
layers = [3, 4, 6, 3]

[tool.typeo.scripts.write]
outdir = "/tmp/written"
files = ["a.hdf5", "b.hdf5"]
window = [1, 2]
"""


class ResNet:
    """A residual network.

    Args:
        layers: residual blocks per stage
        width: channels of the first stage
    """

    def __init__(self, layers: list[int], width: int = 16):
        self.layers = layers
        self.width = width


class Small:
    """A small network.

    Args:
        width: channels
    """

    def __init__(self, width: int = 4):
        self.width = width


def fit(
    outdir: Path,
    architecture: ResNet | Small,
    sample_rate: float = 4096.0,
    ifos: list[str] | None = None,
    epochs: int = 3,
) -> dict:
    """Fit a network.

    Args:
        outdir: where the checkpoints go
        architecture: the network
        sample_rate: strain samples per second, Hz
        ifos: the detectors
        epochs: passes over the training set
    """
    return dict(
        outdir=outdir,
        architecture=architecture,
        sample_rate=sample_rate,
        ifos=ifos,
        epochs=epochs,
    )


def write(
    outdir: Path,
    files: list[Path],
    window: tuple[float, float] = (0.0, 1.0),
    verbose: bool = False,
) -> dict:
    """Write files.

    Args:
        outdir: the output directory
        files: the files to write, relative to outdir
        window: start and end of the window, s
        verbose: log every file
    """
    return dict(outdir=outdir, files=files, window=window, verbose=verbose)


SUBCOMMANDS = {"resnet": ResNet, "small": Small}


@pytest.fixture
def pyproject(tmp_path) -> Path:
    saved = dict(os.environ)
    path = tmp_path / "pyproject.toml"
    path.write_text(PIPELINE)
    yield path
    os.environ.clear()
    os.environ.update(saved)


def run_fit(*args: str):
    return cli(fit, SUBCOMMANDS, "architecture", args=list(args), script="fit")


def test_help_lists_documented_typed_arguments(capsys):
    with pytest.raises(SystemExit) as exit:
        cli(write, args=["-h"], script="write")
    assert exit.value.code == 0
    text = capsys.readouterr().out
    assert "usage: write" in text
    assert "Write files." in text
    for argument, doc in (
        ("--outdir", "the output directory"),
        ("--files", "the files to write, relative to outdir"),
        ("--window", "start and end of the window, s"),
        ("--verbose", "log every file"),
        ("--typeo", "PATH[:SCRIPT[:SUBCOMMAND]]"),
    ):
        assert argument in text
        assert doc in text
    assert "required" in text  # outdir and files have no default
    assert "default: (0.0, 1.0)" in text


def test_subcommand_help(capsys):
    with pytest.raises(SystemExit):
        run_fit("resnet", "-h")
    text = capsys.readouterr().out
    assert "A residual network." in text
    assert "residual blocks per stage" in text
    assert "--width" in text


def test_typeo_table_supplies_arguments(pyproject):
    result = run_fit("--typeo", f"{pyproject}:fit:resnet")
    assert result["outdir"] == Path("/tmp/out")
    assert result["sample_rate"] == 2048
    assert result["ifos"] == ["H1", "L1"]
    assert result["epochs"] == 3
    assert isinstance(result["architecture"], ResNet)
    assert result["architecture"].layers == [3, 4, 6, 3]
    assert result["architecture"].width == 16


def test_command_line_overrides_the_table(pyproject):
    result = run_fit(
        f"--typeo={pyproject}:fit:resnet", "--epochs", "7", "resnet", "--width", "8"
    )
    assert result["epochs"] == 7
    assert result["architecture"].layers == [3, 4, 6, 3]
    assert result["architecture"].width == 8
    # another subcommand than the table's: its own defaults
    result = run_fit("--typeo", f"{pyproject}:fit:resnet", "small")
    assert isinstance(result["architecture"], Small)
    assert result["architecture"].width == 4


def test_directory_and_default_script_name(pyproject):
    # a directory means its pyproject.toml; no script means the program's name
    result = cli(write, args=["--typeo", str(pyproject.parent)], script="write")
    assert result["outdir"] == Path("/tmp/written")


def test_table_values_are_converted_to_their_types(pyproject):
    result = cli(write, args=["--typeo", f"{pyproject}:write"], script="write")
    assert result["files"] == [Path("a.hdf5"), Path("b.hdf5")]
    assert result["window"] == (1.0, 2.0)
    assert result["verbose"] is False


def test_wrong_type_in_table_is_an_error(pyproject, capsys):
    pyproject.write_text(PIPELINE.replace("window = [1, 2]", 'window = "wide"'))
    with pytest.raises(SystemExit) as exit:
        cli(write, args=["--typeo", f"{pyproject}:write"], script="write")
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert f"--typeo {pyproject}:write" in err
    assert "window" in err


def test_unknown_arguments_are_errors(pyproject, capsys):
    with pytest.raises(SystemExit) as exit:
        cli(
            write,
            args=["--outdir", "x", "--files", "[a]", "--bogus", "1"],
            script="write",
        )
    assert exit.value.code == 2
    assert "unrecognized arguments: --bogus 1" in capsys.readouterr().err

    pyproject.write_text(PIPELINE.replace("window = [1, 2]", "widow = [1, 2]"))
    with pytest.raises(SystemExit):
        cli(write, args=["--typeo", f"{pyproject}:write"], script="write")
    assert "unknown argument(s) widow" in capsys.readouterr().err

    pyproject.write_text(PIPELINE.replace("layers = [3, 4, 6, 3]", "layer = 3"))
    with pytest.raises(SystemExit):
        run_fit("--typeo", f"{pyproject}:fit:resnet")
    assert "unknown argument(s) layer of subcommand resnet" in capsys.readouterr().err


def test_configuration_errors_are_one_message(pyproject, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        cli(write, args=["--typeo", f"{tmp_path}/nope.toml:write"], script="write")
    assert exit.value.code == 2
    assert f"{tmp_path}/nope.toml: no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_fit("--typeo", f"{pyproject}:fit:vit")
    assert "no subcommand 'vit' (known: resnet)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(write, args=["--typeo"], script="write")
    assert "--typeo needs PATH" in capsys.readouterr().err


def test_missing_required_argument(capsys):
    with pytest.raises(SystemExit) as exit:
        cli(write, args=["--outdir", "x"], script="write")
    assert exit.value.code == 2
    assert "files" in capsys.readouterr().err


def _fails(path: Path) -> None:
    """Fail on bad input.

    Args:
        path: a file that must exist
    """
    raise FileNotFoundError(f"{path}: no such file")


def test_expected_errors_end_with_one_message(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli(
            _fails,
            args=["--path", "/nowhere/x.hdf5"],
            script="fails",
            expected_errors=(FileNotFoundError,),
        )
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "/nowhere/x.hdf5: no such file" in err
    assert "Traceback" not in err


def test_unexpected_errors_keep_their_traceback():
    with pytest.raises(FileNotFoundError):
        cli(_fails, args=["--path", "/nowhere/x.hdf5"], script="fails")
