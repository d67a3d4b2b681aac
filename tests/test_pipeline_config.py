"""The sandbox's own tables are checked before anything runs, and fail fast.

A typo in ``[tool.typeo.base]``, in a step's table or in a profile's table
name each stop ``pinto run --dry-run`` with one line naming it, in seconds
(a misspelt key is found from the scripts' source, before their imports),
and a value of the wrong type is found against the script's signature.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SANDBOX = REPO / "projects" / "sandbox"
PINTO = Path(sys.executable).parent / "pinto"


@pytest.fixture
def pipeline(tmp_path) -> Path:
    root = tmp_path / "sandbox"
    root.mkdir()
    shutil.copy(SANDBOX / "pyproject.toml", root / "pyproject.toml")
    for project in SANDBOX.glob("*/pyproject.toml"):
        (root / project.parent.name).mkdir()
    return root


def dry_run(root: Path, tmp_path: Path, *args: str) -> tuple[int, str, float]:
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        BASE_DIR=str(tmp_path / "results"),
        PINTO_BIN_DIR=str(PINTO.parent),
        XDG_CACHE_HOME=str(tmp_path / "cache"),  # nothing checked before
    )
    started = time.monotonic()
    result = subprocess.run(
        [str(PINTO), "run", "--dry-run", "--profile", "tiny", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def edit(root: Path, old: str, new: str) -> None:
    path = root / "pyproject.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "[tool.typeo.base]\n",
            "[tool.typeo.base]\nsampel_rate = 512\n",
            "tool.typeo.base.sampel_rate: not referenced by any table "
            "(as ${base.sampel_rate}) (did you mean sample_rate?)",
        ),
        (
            "[tool.typeo.profiles.tiny.scripts.train]\n",
            "[tool.typeo.profiles.tiny.scripts.trian]\n",
            "tool.typeo.profiles.tiny.scripts.trian: unknown script table "
            "(did you mean train?)",
        ),
        (
            "[tool.typeo.profiles.tiny.scripts.train]\n",
            "[tool.typeo.profiles.tiny.scripts.train]\nlrr = 1e-3\n",
            "step train:train:resnet: [tool.typeo.scripts.train]: unknown argument "
            "lrr (did you mean lr?)",
        ),
        (
            "[tool.typeo.scripts.infer]\n",
            "[tool.typeo.scripts.infer]\nbackedn = 'local'\n",
            "step infer:infer: [tool.typeo.scripts.infer]: unknown argument backedn "
            "(did you mean backend?)",
        ),
    ],
)
def test_a_typo_fails_the_dry_run_in_seconds(pipeline, tmp_path, old, new, message):
    edit(pipeline, old, new)
    code, out, seconds = dry_run(pipeline, tmp_path)
    assert code == 2, out
    assert message in out, out
    assert "Traceback" not in out
    assert seconds < 10, f"{seconds:.1f} s"
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_a_wrong_type_is_found_against_the_signature(pipeline, tmp_path):
    edit(
        pipeline,
        "[tool.typeo.profiles.tiny.scripts.train]\n",
        '[tool.typeo.profiles.tiny.scripts.train]\nlr = "fast"\n',
    )
    code, out, _ = dry_run(pipeline, tmp_path)
    assert code == 2, out
    assert 'step train:train:resnet: [tool.typeo.scripts.train]: Parser key "lr"' in out


@pytest.mark.slow
def test_the_sandbox_tables_fit_their_scripts(pipeline, tmp_path):
    for profile in ("tiny", "default"):
        code, out, _ = dry_run(pipeline, tmp_path, "--profile", profile)
        assert code == 0, out
        assert "not checked" not in out, out
