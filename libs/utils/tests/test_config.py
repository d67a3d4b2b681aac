import os
from pathlib import Path

import pytest

from aframe.utils.config import (
    DEFAULT_ENVIRONMENT,
    ConfigError,
    load_env,
    read_typeo,
    script_config,
)

PIPELINE = """
[tool.typeo.base]
datadir = "${DATA_DIR}/${profile}"
ifos = ["H1", "L1"]
sample_rate = 2048
kernel_length = 1.5
label = "run-${base.sample_rate}"

[tool.typeo.scripts.generate]
outdir = "${base.datadir}/train"
ifos = "${base.ifos}"
sample_rate = "${base.sample_rate}"
channel = "${CHANNEL:-GDS-CALIB_STRAIN}"
tag = "${base.label}-${profile}"

[tool.typeo.scripts.train]
kernel_length = "${base.kernel_length}"
epochs = 10

[tool.typeo.scripts.train.commands.resnet]
layers = [3, 4, 6, 3]

[tool.typeo.scripts.train.commands.small]
layers = [1, 1]

[tool.typeo.profiles.tiny.base]
sample_rate = 512

[tool.typeo.profiles.tiny.scripts.train]
epochs = 1

[tool.typeo.profiles.full.scripts.train.commands.resnet]
layers = [3, 4, 23, 3]
"""


@pytest.fixture(autouse=True)
def environment(tmp_path):
    """Reading a pipeline loads its .env into os.environ: restore it after."""
    saved = dict(os.environ)
    for name in ("AFRAME_PROFILE", "CHANNEL", "DATA_DIR", "BASE_DIR"):
        os.environ.pop(name, None)
    os.environ["HOME"] = str(tmp_path / "home")
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def pyproject(tmp_path) -> Path:
    path = tmp_path / "pipeline" / "pyproject.toml"
    path.parent.mkdir()
    path.write_text(PIPELINE)
    return path


def test_references_keep_their_type_or_become_text(pyproject, tmp_path):
    os.environ["DATA_DIR"] = "/data"
    config = read_typeo(pyproject)
    generate = config["scripts"]["generate"]
    # a value that is exactly one reference keeps the referenced type
    assert generate["ifos"] == ["H1", "L1"]
    assert generate["sample_rate"] == 2048
    assert config["scripts"]["train"]["kernel_length"] == 1.5
    # references inside a longer string are substituted as text, nested ones too
    assert generate["outdir"] == "/data/default/train"
    assert generate["tag"] == "run-2048-default"
    assert config["base"]["label"] == "run-2048"
    assert config["profile"] == "default"


def test_environment_defaults(pyproject, tmp_path):
    config = read_typeo(pyproject)
    # no DATA_DIR anywhere: the documented default, with ~ expanded
    home = tmp_path / "home"
    assert config["base"]["datadir"] == f"{home}/aframe/data/default"
    assert DEFAULT_ENVIRONMENT["DATA_DIR"] == "~/aframe/data"
    assert config["scripts"]["generate"]["channel"] == "GDS-CALIB_STRAIN"
    os.environ["CHANNEL"] = "DCS-CALIB_STRAIN_CLEAN"
    assert (
        read_typeo(pyproject)["scripts"]["generate"]["channel"]
        == "DCS-CALIB_STRAIN_CLEAN"
    )


def test_empty_variables_count_as_unset(pyproject, tmp_path):
    # an empty DATA_DIR must not put data at /default
    os.environ["DATA_DIR"] = ""
    os.environ["CHANNEL"] = ""
    config = read_typeo(pyproject)
    assert config["base"]["datadir"] == f"{tmp_path}/home/aframe/data/default"
    assert config["scripts"]["generate"]["channel"] == "GDS-CALIB_STRAIN"


def test_missing_variable_names_it_and_where(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.typeo.scripts.fit]\nout = "${NOWHERE_SET}/x"\n')
    with pytest.raises(ConfigError, match="scripts.fit.out: environment variable "):
        read_typeo(path)
    path.write_text('[tool.typeo.scripts.fit]\nout = "${base.missing}"\n')
    with pytest.raises(ConfigError, match=r"\$\{base.missing\} is not in"):
        read_typeo(path)


def test_reference_cycle_is_an_error(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.typeo.base]\na = "${base.b}"\nb = "${base.a}"\n')
    with pytest.raises(ConfigError, match="nest too deeply"):
        read_typeo(path)


def test_dotenv_beside_the_pyproject(pyproject, tmp_path):
    (pyproject.parent / ".env").write_text(
        "DATA_DIR=~/from-dotenv\nCHANNEL=FROM-DOTENV\nAFRAME_PROFILE=tiny\n"
    )
    os.environ["CHANNEL"] = "FROM-ENVIRONMENT"
    values = load_env(pyproject)
    assert values["CHANNEL"] == "FROM-DOTENV"
    config = read_typeo(pyproject)
    # the environment wins over .env; .env fills what the environment lacks
    assert config["scripts"]["generate"]["channel"] == "FROM-ENVIRONMENT"
    assert config["base"]["datadir"] == f"{tmp_path}/home/from-dotenv/tiny"
    assert config["profile"] == "tiny"
    # the documented default, made absolute
    assert os.environ["BASE_DIR"] == f"{tmp_path}/home/aframe/results"


def test_profiles_override_only_what_they_list(pyproject):
    default = read_typeo(pyproject)
    tiny = read_typeo(pyproject, profile="tiny")
    assert tiny["profile"] == "tiny"
    assert tiny["base"]["sample_rate"] == 512
    # references see the profile's base values
    assert tiny["scripts"]["generate"]["sample_rate"] == 512
    assert tiny["scripts"]["generate"]["tag"] == "run-512-tiny"
    assert tiny["scripts"]["train"]["epochs"] == 1
    # keys the profile does not list keep their defaults
    assert tiny["scripts"]["train"]["kernel_length"] == 1.5
    assert tiny["base"]["ifos"] == default["base"]["ifos"]
    full = read_typeo(pyproject, profile="full")
    assert full["scripts"]["train"]["commands"]["resnet"]["layers"] == [3, 4, 23, 3]
    assert full["scripts"]["train"]["commands"]["small"]["layers"] == [1, 1]
    assert full["scripts"]["train"]["epochs"] == 10


def test_profile_from_environment_and_from_the_table(pyproject):
    os.environ["AFRAME_PROFILE"] = "tiny"
    assert read_typeo(pyproject)["profile"] == "tiny"
    # an explicit profile wins over the environment
    assert read_typeo(pyproject, profile="default")["base"]["sample_rate"] == 2048
    del os.environ["AFRAME_PROFILE"]
    pyproject.write_text('[tool.typeo]\nprofile = "full"\n' + PIPELINE)
    assert read_typeo(pyproject)["profile"] == "full"


def test_unknown_profile_lists_the_known_ones(pyproject):
    with pytest.raises(
        ConfigError,
        match=r"unknown profile 'huge' \(known profiles: default, tiny, full\)",
    ):
        read_typeo(pyproject, profile="huge")


def test_script_config_and_subcommands(pyproject):
    args, sub = script_config(pyproject, "train")
    assert args == {"kernel_length": 1.5, "epochs": 10}
    assert sub is None
    args, sub = script_config(pyproject, "train", "resnet")
    assert "commands" not in args
    assert sub == {"layers": [3, 4, 6, 3]}
    with pytest.raises(
        ConfigError, match=r"no subcommand 'vit' \(known: resnet, small\)"
    ):
        script_config(pyproject, "train", "vit")
    with pytest.raises(ConfigError, match=r"no \[tool.typeo.scripts.export\] table"):
        script_config(pyproject, "export")


def test_bad_files_are_named(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match=f"{missing}: no such file"):
        read_typeo(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[tool.typeo\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_typeo(broken)
    empty = tmp_path / "empty.toml"
    empty.write_text("[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.typeo\] table"):
        read_typeo(empty)


# ---------------------------------------------------------------- .env expansion
def test_dotenv_expands_variables_and_the_calling_environment_wins(pyproject, tmp_path):
    (pyproject.parent / ".env").write_text(
        "PROJECT=first-run\n"
        "BASE_DIR=$HOME/aframe/results/$PROJECT\n"
        "DATA_DIR=${HOME}/aframe/data/${PROJECT}-${SUFFIX:-x}\n"
        "LITERAL='$HOME/not-expanded'\n"
    )
    os.environ["PROJECT"] = "my-second-run"
    values = load_env(pyproject)
    home = tmp_path / "home"
    assert values["BASE_DIR"] == f"{home}/aframe/results/my-second-run"
    assert os.environ["BASE_DIR"] == f"{home}/aframe/results/my-second-run"
    assert values["DATA_DIR"] == f"{home}/aframe/data/my-second-run-x"
    assert values["LITERAL"] == "$HOME/not-expanded"
    # the calling environment's own value is kept
    assert os.environ["PROJECT"] == "my-second-run"


def test_dotenv_references_earlier_lines_when_the_environment_lacks_them(pyproject):
    (pyproject.parent / ".env").write_text(
        "PROJECT=first-run\nBASE_DIR=/results/$PROJECT\n"
    )
    os.environ.pop("PROJECT", None)
    load_env(pyproject)
    assert os.environ["BASE_DIR"] == "/results/first-run"


def test_a_bad_dotenv_line_is_named(pyproject):
    (pyproject.parent / ".env").write_text("GOOD=1\nthis is not an assignment\n")
    with pytest.raises(ConfigError, match=r"\.env:2: not a NAME=value line"):
        load_env(pyproject)


def test_relative_directories_resolve_against_the_pipeline(pyproject, tmp_path):
    os.environ["DATA_DIR"] = "reldata"
    config = read_typeo(pyproject)
    expected = pyproject.parent / "reldata" / "default"
    assert config["base"]["datadir"] == str(expected)
    # the same from any working directory
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert read_typeo(pyproject)["base"]["datadir"] == str(expected)
    finally:
        os.chdir(cwd)


# ---------------------------------------------------------------- strict tables
@pytest.mark.parametrize(
    "extra, message",
    [
        (
            "[tool.typeo.profiles.tiny.scripts.trian]\nepochs = 1\n",
            r"profiles.tiny.scripts.trian: unknown script table "
            r"\(did you mean train\?\)",
        ),
        (
            "[tool.typeo.profiles.tiny.base]\nsampel_rate = 1\n",
            r"profiles.tiny.base.sampel_rate: unknown base key "
            r"\(did you mean sample_rate\?\)",
        ),
        (
            "[tool.typeo.base]\nkernal_length = 2.0\n",
            r"tool.typeo.base.kernal_length: not referenced by any table "
            r".*\(did you mean kernel_length\?\)",
        ),
        (
            "[tool.typeo.scirpts.fit]\nx = 1\n",
            r"tool.typeo.scirpts: unknown table \(did you mean scripts\?\)",
        ),
        (
            "[tool.typeo.profiles.tiny.scripts.train.commands.resnt]\nx = 1\n",
            r"commands.resnt: unknown subcommand table \(did you mean resnet\?\)",
        ),
        (
            "[tool.typeo.profiles.tiny.sripts.train]\nepochs = 1\n",
            r"profiles.tiny.sripts: unknown table",
        ),
    ],
)
def test_typos_in_table_names_fail(pyproject, extra, message):
    text = PIPELINE
    if extra.startswith("[tool.typeo.base]"):
        # a second key in the existing base table
        text = text.replace(
            "[tool.typeo.base]\n", "[tool.typeo.base]\nkernal_length = 2.0\n"
        )
    elif "profiles.tiny.base" in extra:
        text = text.replace(
            "[tool.typeo.profiles.tiny.base]\n",
            "[tool.typeo.profiles.tiny.base]\nsampel_rate = 1\n",
        )
    else:
        text += "\n" + extra
    pyproject.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_typeo(pyproject)
