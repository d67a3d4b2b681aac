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
        path = self.base / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def called(self) -> list[str]:
        return [c["script"] for c in self.calls()]

    def stamp(self, key: str, profile: str = "default") -> Path:
        return self.base / profile / ".pinto" / f"{key}.json"

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


@pytest.fixture
def sandbox(tmp_path, monkeypatch, capsys) -> Sandbox:
    root = tmp_path / "pipeline"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    for project in ("gen", "fit", "report"):
        (root / project).mkdir()
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for name in SCRIPTS:
        write_script(bin_dir / name, STEP_SCRIPT.format(python=sys.executable))
    monkeypatch.chdir(root)
    return Sandbox(root, tmp_path / "results", tmp_path / "data", capsys)
