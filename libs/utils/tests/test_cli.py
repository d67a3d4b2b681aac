import errno
import json
import os
from pathlib import Path

import pytest

from aframe.utils.cli import check_arguments, cli, configure_progress, describe_main
from aframe.utils.config import ConfigError

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
    # relative paths of a table are taken relative to the pipeline's directory
    root = pyproject.parent
    assert result["files"] == [root / "a.hdf5", root / "b.hdf5"]
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
    assert "unknown argument widow (did you mean window?)" in capsys.readouterr().err

    pyproject.write_text(PIPELINE.replace("layers = [3, 4, 6, 3]", "layer = 3"))
    with pytest.raises(SystemExit):
        run_fit("--typeo", f"{pyproject}:fit:resnet")
    err = capsys.readouterr().err
    assert "unknown argument layer of subcommand resnet (did you mean layers?)" in err


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


def _fills_the_disk(path: Path, code: str = "ENOSPC") -> None:
    """Write a file.

    Args:
        path: where
        code: the errno the write fails with
    """
    raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)), str(path))


@pytest.mark.parametrize("code", ["ENOSPC", "EDQUOT"])
def test_a_full_disk_in_any_script_is_one_line(code, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli(_fills_the_disk, args=["--path", "/full/x.hdf5", "--code", code])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "/full/x.hdf5" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_other_os_errors_keep_their_traceback():
    with pytest.raises(OSError):
        cli(_fills_the_disk, args=["--path", "/x", "--code", "EIO"])


# ---------------------------------------------------------------- the runner's side
def redo(outdir: Path, force: bool = False) -> dict:
    """Redo things.

    Args:
        outdir: where they go
        force: redo even if done
    """
    return {"outputs": [Path(outdir) / "a.hdf5", Path(outdir) / "b"], "force": force}


def test_the_runner_forces_a_redo_through_the_environment(monkeypatch, tmp_path):
    assert cli(redo, args=["--outdir", str(tmp_path)], script="redo")["force"] is False
    monkeypatch.setenv("AFRAME_FORCE", "1")
    assert cli(redo, args=["--outdir", str(tmp_path)], script="redo")["force"] is True
    # a script without `force` is run as usual
    result = cli(write, args=["--outdir", "x", "--files", "[a]"], script="write")
    assert "force" not in result


def test_returned_paths_are_reported_to_the_runner(monkeypatch, tmp_path):
    report = tmp_path / "outputs.json"
    monkeypatch.setenv("AFRAME_OUTPUTS_FILE", str(report))
    cli(redo, args=["--outdir", str(tmp_path)], script="redo")
    assert json.loads(report.read_text()) == [
        str(tmp_path / "a.hdf5"),
        str(tmp_path / "b"),
    ]


def main_of_fit():
    # a console script's main, as the scripts write it
    try:
        cli(fit, SUBCOMMANDS, "architecture", script="fit")
    except ValueError:
        raise SystemExit(1) from None


def test_describe_main_returns_the_function_without_running_it():
    spec = describe_main(main_of_fit)
    assert spec.function is fit
    assert spec.subcommands == SUBCOMMANDS
    assert spec.subcommand_dest == "architecture"
    assert not spec.has_force
    with pytest.raises(ConfigError, match="does not call aframe.utils.cli.cli"):
        describe_main(lambda: None)


def test_check_arguments_names_every_kind_of_mistake(tmp_path):
    spec = describe_main(main_of_fit)
    good = {"outdir": "/x", "sample_rate": 1024, "ifos": ["H1"]}
    check_arguments(spec, good, {"layers": [1]}, "resnet", "fit")
    for table, sub, subcommand, message in (
        ({**good, "epohcs": 3}, {"layers": [1]}, "resnet", "unknown argument epohcs"),
        ({**good, "epochs": "ten"}, {"layers": [1]}, "resnet", 'key "epochs"'),
        (good, {"layer": [1]}, "resnet", "layer of subcommand resnet"),
        (good, {}, "vit", "unknown subcommand vit"),
        ({"sample_rate": 1}, {"layers": [1]}, "resnet", "outdir"),
    ):
        with pytest.raises(ConfigError, match=message):
            check_arguments(spec, table, sub, subcommand, "fit")


def test_version_of_every_script(capsys):
    with pytest.raises(SystemExit) as exit:
        cli(redo, args=["--version"], script="redo")
    assert exit.value.code == 0
    assert capsys.readouterr().out.startswith("redo (")


def test_help_shows_types_as_written(capsys):
    with pytest.raises(SystemExit):
        cli(fit, SUBCOMMANDS, "architecture", args=["-h"], script="fit")
    text = capsys.readouterr().out
    assert "<class" not in text
    assert "type: Path" in text
    assert "type: list[str] | None" in text
    assert "-v, --verbose" in text and "-q, --quiet" in text


def test_verbosity_options(tmp_path):
    import logging

    cli(redo, args=["--outdir", str(tmp_path), "-q"], script="redo")
    assert logging.getLogger().level == logging.WARNING
    cli(redo, args=["--outdir", str(tmp_path), "-vv"], script="redo")
    assert logging.getLogger().level == logging.DEBUG
    cli(redo, args=["--outdir", str(tmp_path)], script="redo")
    assert logging.getLogger().level == logging.INFO


def test_the_profile_option_picks_the_table(pyproject):
    pyproject.write_text(
        PIPELINE + "\n[tool.typeo.profiles.tiny.scripts.fit]\nepochs = 1\n"
    )
    assert run_fit("--typeo", f"{pyproject}:fit:resnet")["epochs"] == 3
    result = run_fit("--profile", "tiny", "--typeo", f"{pyproject}:fit:resnet")
    assert result["epochs"] == 1


def test_progress_bars_only_on_a_terminal(monkeypatch):
    import tqdm.std

    saved = tqdm.std.tqdm.__dict__["__init__"]
    try:
        monkeypatch.setenv("AFRAME_PROGRESS", "1")
        configure_progress()
        assert not tqdm.std.tqdm(range(3)).disable
        monkeypatch.setenv("AFRAME_PROGRESS", "0")
        configure_progress()
        assert tqdm.std.tqdm(range(3)).disable
        assert os.environ["TQDM_DISABLE"] == "1"
    finally:
        tqdm.std.tqdm.__init__ = saved
        os.environ.pop("TQDM_DISABLE", None)


def test_an_unresolvable_path_in_a_table_is_an_error():
    spec = describe_main(main_of_fit)
    table = {"outdir": "$HOME/results", "sample_rate": 1024}
    with pytest.raises(ConfigError, match="'\\$HOME/results' is not a resolvable path"):
        check_arguments(spec, table, {"layers": [1]}, "resnet", "fit")
    table = {"outdir": "~no-such-user-here/x"}
    with pytest.raises(ConfigError, match="no such user's home"):
        check_arguments(spec, table, {"layers": [1]}, "resnet", "fit")
