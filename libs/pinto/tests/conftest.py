"""A throwaway pipeline of tiny steps for the runner's tests.

Each step is a small Python console script written into the pipeline's bin
directory. It reads its arguments the way every aframe script does (``--typeo
PATH:SCRIPT[:SUBCOMMAND]`` resolved by ``aframe.utils.config``), appends a record
of its call to ``calls.jsonl`` and prints a line and a carriage-return progress
bar. Arguments decide whether it fails (``exit_code``) or waits while a file
exists (``block_while``).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from aframe.pinto.cli import main

STEP_SCRIPT = """#!{python}
import json, os, sys, time
from pathlib import Path

from aframe.utils.config import script_config

argv = sys.argv[1:]
spec = argv[argv.index("--typeo") + 1]
path, script, *rest = spec.split(":")
args, sub = script_config(path, script, rest[0] if rest else None)
record = dict(
    script=script, argv=sys.argv, args=args, sub=sub, cwd=os.getcwd(),
    profile=os.environ.get("AFRAME_PROFILE"), pid=os.getpid(),
    python=sys.executable,
)
calls = Path(args["calls"])
calls.parent.mkdir(parents=True, exist_ok=True)
with open(calls, "a") as f:
    f.write(json.dumps(record) + "\\n")
print(f"{{script}}: hello from {{script}}")
for _ in range(int(args.get("noise_kib", 0))):
    print("x" * 1023)
for i in range(3):
    sys.stderr.write(f"\\rprogress {{i + 1}}/3")
    sys.stderr.flush()
sys.stderr.write("\\n")
block = args.get("block_while")
while block and Path(block).exists():
    time.sleep(0.05)
code = int(args.get("exit_code", 0))
if code:
    print(f"{{script}}: failing on purpose", file=sys.stderr)
sys.exit(code)
"""

PYPROJECT = """
[tool.pinto]
steps = ["gen:make-data", "fit:train:small", "report:analyse"]
bin_dir = "bin"
min_free_gib = 0.001

[tool.typeo.base]
basedir = "${BASE_DIR}/${profile}"
datadir = "${DATA_DIR}/${profile}"
calls = "${BASE_DIR}/calls.jsonl"
seed = 1

[tool.typeo.scripts.make-data]
calls = "${base.calls}"
outdir = "${base.datadir}"
seed = "${base.seed}"
greeting = "${GREETING:-hello}"

[tool.typeo.scripts.train]
calls = "${base.calls}"
epochs = 2

[tool.typeo.scripts.train.commands.small]
width = 4

[tool.typeo.scripts.analyse]
calls = "${base.calls}"
exit_code = 0

[tool.typeo.profiles.tiny.scripts.train]
epochs = 1
"""

SCRIPTS = ["make-data", "train", "analyse"]
DATA_STEPS = ("make-data", "make-background", "make-waveforms")


def write_script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@dataclass
class Sandbox:
    """A pipeline directory and the environment its tests run in."""

    root: Path
    base: Path
    data: Path
    capsys: pytest.CaptureFixture
    calls_file: Path | None = None

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"

    def edit(self, old: str, new: str) -> None:
        text = self.pyproject.read_text()
        assert old in text, old
        self.pyproject.write_text(text.replace(old, new, 1))

    def run(self, *args: str) -> tuple[int, str]:
        """Run ``pinto ARGS`` in-process from the pipeline directory."""
        self.capsys.readouterr()
        code = main(list(args))
        captured = self.capsys.readouterr()
        return code, captured.out + captured.err

    def calls(self) -> list[dict]:
        path = self.calls_file or self.base / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def called(self) -> list[str]:
        return [c["script"] for c in self.calls()]

    def stamp(self, key: str, profile: str = "default") -> Path:
        # make-data's table names only DATA_DIR paths: its stamp lives there
        root = self.data if key in DATA_STEPS else self.base
        return root / profile / ".pinto" / f"{key}.json"

    def log(self, key: str, profile: str = "default") -> Path:
        return self.base / profile / "logs" / f"{key}.log"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Every test sees only the variables it sets, and leaves none behind.

    Reading a pipeline loads its .env into os.environ, so the environment is
    restored whole after each test.
    """
    saved = dict(os.environ)
    for name in ("AFRAME_PROFILE", "PINTO_BIN_DIR", "GREETING", "VIRTUAL_ENV"):
        os.environ.pop(name, None)
    os.environ["BASE_DIR"] = str(tmp_path / "results")
    os.environ["DATA_DIR"] = str(tmp_path / "data")
    # wide enough that tables do not truncate step names
    os.environ["COLUMNS"] = "160"
    yield
    os.environ.clear()
    os.environ.update(saved)


def write_pipeline(root: Path, pyproject: str, scripts: dict[str, str]) -> Path:
    """A pipeline directory: its pyproject, three projects and the step scripts.

    Args:
        root: the directory to make
        pyproject: the text of its ``pyproject.toml``
        scripts: name → text of each script in ``root/bin``

    Returns:
        ``root``
    """
    root.mkdir()
    (root / "pyproject.toml").write_text(pyproject)
    for project in ("gen", "fit", "report"):
        (root / project).mkdir()
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for name, text in scripts.items():
        write_script(bin_dir / name, text)
    return root


@pytest.fixture
def sandbox(tmp_path, monkeypatch, capsys) -> Sandbox:
    step = STEP_SCRIPT.format(python=sys.executable)
    root = write_pipeline(
        tmp_path / "pipeline", PYPROJECT, {name: step for name in SCRIPTS}
    )
    monkeypatch.chdir(root)
    return Sandbox(root, tmp_path / "results", tmp_path / "data", capsys)


# ---------------------------------------------------------------------------
# A pipeline whose steps are built on the shared CLI (aframe.utils.cli), with
# the habit the real scripts had: an output made with the same arguments is
# reused unless `force`. Each step records its call (and whether it was
# forced) and returns its output, which holds its value and its inputs'.
CLI_STEP = """#!{python}
import json
import sys
from pathlib import Path

from aframe.utils.cli import cli


def step(
    outdir: Path,
    calls: Path,
    value: int = 0,
    inputs: list[Path] | None = None,
    fail: Path | None = None,
    force: bool = False,
) -> Path:
    \"\"\"Write {script}.json from the value and the inputs.

    Args:
        outdir: where the output goes
        calls: file each call is recorded in
        value: what the output holds
        inputs: outputs of other steps this one reads
        fail: exit 1 after writing a partial file while this file exists
        force: redo the output even if one with this value exists
    \"\"\"
    out = Path(outdir) / "{script}.json"
    record = dict(script="{script}", force=force, value=value)
    with open(calls, "a") as f:
        f.write(json.dumps(record) + "\\n")
    if not force and out.exists() and json.loads(out.read_text())["value"] == value:
        print("{script}: already complete: nothing to do")
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    if fail is not None and Path(fail).exists():
        (out.parent / ".{script}.partial").write_text("half")
        print("{script}: failing on purpose", file=sys.stderr)
        sys.exit(1)
    content = dict(
        value=value, inputs=[json.loads(Path(p).read_text()) for p in inputs or []]
    )
    out.write_text(json.dumps(content))
    return out


cli(step, script="{script}")
"""

CLI_PIPELINE = """
[tool.pinto]
steps = [
    "gen:make-background",
    "gen:make-waveforms",
    "fit:train",
    "report:analyse",
]
bin_dir = "bin"
min_free_gib = 0.001

[tool.pinto.needs]
make-waveforms = []
train = ["make-background", "make-waveforms"]
analyse = ["train"]

[tool.typeo.base]
basedir = "${BASE_DIR}/${profile}"
datadir = "${DATA_DIR}/${profile}"
calls = "${DATA_DIR}/../calls.jsonl"

[tool.typeo.scripts.make-background]
outdir = "${base.datadir}"
calls = "${base.calls}"
value = 120

[tool.typeo.scripts.make-waveforms]
outdir = "${base.datadir}"
calls = "${base.calls}"
value = 7

[tool.typeo.scripts.train]
outdir = "${base.basedir}"
calls = "${base.calls}"
value = 1
inputs = ["${base.datadir}/make-background.json", "${base.datadir}/make-waveforms.json"]

[tool.typeo.scripts.analyse]
outdir = "${base.basedir}"
calls = "${base.calls}"
inputs = ["${base.basedir}/train.json"]
"""

CLI_SCRIPTS = ["make-background", "make-waveforms", "train", "analyse"]


@pytest.fixture
def cli_sandbox(tmp_path, monkeypatch, capsys) -> Sandbox:
    scripts = {
        name: CLI_STEP.format(python=sys.executable, script=name)
        for name in CLI_SCRIPTS
    }
    root = write_pipeline(tmp_path / "pipeline", CLI_PIPELINE, scripts)
    monkeypatch.chdir(root)
    return Sandbox(
        root, tmp_path / "results", tmp_path / "data", capsys, tmp_path / "calls.jsonl"
    )


# ---------------------------------------------------------------------------
# The same three steps, described to pinto as an installed distribution: the
# bin directory holds a `python` that sees `fakesteps` and its console-script
# entry points, so pinto checks each table against the function's signature
# there before running anything.
FAKE_STEPS = '''
from pathlib import Path

from aframe.utils.cli import cli


class Small:
    """A small network.

    Args:
        width: channels
    """

    def __init__(self, width: int = 1):
        self.width = width


def make_data(
    calls: Path, outdir: Path, seed: int = 0, greeting: str = "hello"
) -> None:
    """Make data."""


def train(calls: Path, architecture: Small, epochs: int = 1) -> None:
    """Train."""


def analyse(calls: Path, exit_code: int = 0) -> None:
    """Analyse."""


def main_make_data():
    cli(make_data, script="make-data")


def main_train():
    cli(train, subcommands={"small": Small}, subcommand_dest="architecture")


def main_analyse():
    cli(analyse, script="analyse")
'''

PYTHON_WRAPPER = """#!/bin/sh
PYTHONPATH="{site}${{PYTHONPATH:+:$PYTHONPATH}}" exec {python} "$@"
"""


@pytest.fixture
def checked_sandbox(sandbox, tmp_path) -> Sandbox:
    site = tmp_path / "site"
    site.mkdir()
    (site / "fakesteps.py").write_text(FAKE_STEPS)
    dist = site / "fake_steps-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-steps\n")
    (dist / "entry_points.txt").write_text(
        "[console_scripts]\n"
        "make-data = fakesteps:main_make_data\n"
        "train = fakesteps:main_train\n"
        "analyse = fakesteps:main_analyse\n"
    )
    write_script(
        sandbox.root / "bin" / "python",
        PYTHON_WRAPPER.format(site=site, python=sys.executable),
    )
    return sandbox
