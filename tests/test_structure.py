"""The structural rules hold: libs import no project, projects import each other not.

``lint-imports`` (import-linter, contracts in the root ``pyproject.toml``)
checks the packages; it must pass on the tree and fail on a copy of it with
bad imports added. import-linter sees packages only, so the tests folders are
checked here, from their syntax trees: a lib's tests import no project, a
project's tests import no other project. No member's ``pyproject.toml``
depends on a project either.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "projects" / "sandbox"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {c["id"]: c for c in CONFIG["contracts"]}
PROJECTS = tuple(CONTRACTS["projects-independent"]["modules"])
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, pythonpath: Path | None = None):
    env = dict(os.environ)
    if pythonpath is not None:
        # ahead of the workspace's editable installs, so the copy is analysed
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the absolute imports in a file, wherever they stand."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def foreign_imports(tests: Path, own: str | None) -> list[str]:
    """``file: project`` for each project a tests folder imports besides ``own``."""
    return [
        f"{path}: imports {name}"
        for path in sorted(tests.rglob("*.py"))
        for name in sorted(imported_modules(path) & set(PROJECTS) - {own})
    ]


def test_the_contracts_cover_every_lib_and_project():
    assert CONFIG["root_packages"] == ["aframe", *PROJECTS]
    assert CONTRACTS["libs-import-no-project"]["source_modules"] == ["aframe"]
    assert CONTRACTS["libs-import-no-project"]["forbidden_modules"] == list(PROJECTS)
    on_disk = {p.parent.name for p in PIPELINE.glob("*/pyproject.toml")}
    assert on_disk == set(PROJECTS)


def test_lint_imports_passes():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_lint_imports_fails_on_bad_imports(tmp_path):
    # a copy of the packages (never the tree itself: nothing can be left behind)
    packages = tmp_path / "packages"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for portion in sorted(ROOT.glob("libs/*/aframe")):
        shutil.copytree(portion, packages / "aframe", dirs_exist_ok=True, ignore=ignore)
    # a regular package here, so the installed namespace portions stay out of it
    (packages / "aframe" / "__init__.py").touch()
    for name in PROJECTS:
        shutil.copytree(PIPELINE / name / name, packages / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    clean = lint_imports(tmp_path, packages)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (packages / "vizapp" / "_bad_import_probe.py").write_text("import infer\n")
    (packages / "aframe" / "search" / "_bad_import_probe.py").write_text(
        "from export import exporter\n"
    )
    bad = lint_imports(tmp_path, packages)
    assert bad.returncode != 0
    assert "Contracts: 0 kept, 2 broken." in bad.stdout, bad.stdout + bad.stderr
    assert "vizapp._bad_import_probe -> infer" in bad.stdout
    assert "aframe.search._bad_import_probe -> export" in bad.stdout


def distribution_name(pyproject: Path) -> str:
    """The ``[project] name`` of a member."""
    return tomllib.loads(pyproject.read_text())["project"]["name"]


# a project's distribution is `aframe-<project>`, except where a lib took that
# name first (the lib aframe-search and the project search, aframe-search-project)
PROJECT_DISTRIBUTIONS = {
    distribution_name(PIPELINE / name / "pyproject.toml"): name for name in PROJECTS
}


def declared_projects(pyproject: Path) -> set[str]:
    """The projects a member's ``pyproject.toml`` depends on."""
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = project.get("optional-dependencies", {}).values()
    requirements = [*project.get("dependencies", []), *(r for e in extras for r in e)]
    names = {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0] for r in requirements}
    return {PROJECT_DISTRIBUTIONS[n] for n in names if n in PROJECT_DISTRIBUTIONS}


def test_members_depend_on_libs_not_projects():
    for name in PROJECTS:
        assert declared_projects(PIPELINE / name / "pyproject.toml") == set(), name
    for pyproject in sorted(ROOT.glob("libs/*/pyproject.toml")):
        assert declared_projects(pyproject) == set(), pyproject


@pytest.mark.parametrize("project", PROJECTS)
def test_project_tests_import_no_other_project(project):
    assert foreign_imports(PIPELINE / project / "tests", project) == []


def test_lib_tests_import_no_project():
    for tests in sorted(ROOT.glob("libs/*/tests")):
        assert foreign_imports(tests, None) == []


def test_the_test_check_sees_every_kind_of_import(tmp_path):
    (tmp_path / "test_probe.py").write_text(
        "import infer.stream\n"
        "from analysis import results\n"
        "from vizapp.experiment import Experiment\n"
        "from . import helpers\n"
        "def fixture():\n"
        "    from export.exporter import export_network\n"
    )
    found = {line.rsplit(" ", 1)[1] for line in foreign_imports(tmp_path, "vizapp")}
    assert found == {"infer", "analysis", "export"}
