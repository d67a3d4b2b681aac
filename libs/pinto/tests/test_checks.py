"""Every step's table is checked against its script before anything runs."""

import re
import time

import pytest


def test_good_tables_pass_and_nothing_is_left_unchecked(checked_sandbox):
    code, out = checked_sandbox.run("run", "--dry-run")
    assert code == 0, out
    assert "not checked" not in out
    assert checked_sandbox.called() == []


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "epochs = 2",
            "epocs = 2",
            r"step fit:train:small: \[tool.typeo.scripts.train\]: unknown argument "
            r"epocs \(did you mean epochs\?\)",
        ),
        ("epochs = 2", 'epochs = "two"', r'Parser key "epochs"'),
        ("width = 4", "widht = 4", r"unknown argument widht of subcommand small"),
        (
            'greeting = "${GREETING:-hello}"',
            "greeting = 3\nsede = 1",
            r"unknown argument sede \(did you mean seed\?\)",
        ),
    ],
)
def test_a_bad_step_table_fails_every_command_before_anything_runs(
    checked_sandbox, old, new, message
):
    checked_sandbox.edit(old, new)
    commands = [["run", "--dry-run"]]
    if new == "epocs = 2":
        commands += [["run"], ["run", "analyse"], ["list"]]
    for command in commands:
        started = time.monotonic()
        code, out = checked_sandbox.run(*command)
        assert code == 2, (command, out)
        assert re.search(message, out), (command, out)
        assert time.monotonic() - started < 60
    assert checked_sandbox.called() == []
    assert not (checked_sandbox.base / "default" / "logs").exists()


def test_a_missing_required_argument_is_found(checked_sandbox):
    checked_sandbox.edit(
        '[tool.typeo.scripts.analyse]\ncalls = "${base.calls}"\n',
        "[tool.typeo.scripts.analyse]\n",
    )
    code, out = checked_sandbox.run("run", "--dry-run")
    assert code == 2
    assert "report:analyse" in out and "calls" in out


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "[tool.typeo.profiles.tiny.scripts.train]",
            "[tool.typeo.profiles.tiny.scripts.trian]",
            r"profiles.tiny.scripts.trian: unknown script table "
            r"\(did you mean train\?\)",
        ),
        ("seed = 1\n", "seed = 1\nsed = 2\n", r"base.sed: not referenced"),
        (
            "[tool.typeo.profiles.tiny.scripts.train]",
            "[tool.typeo.profiles.tiny.base]\nsede = 1\n\n"
            "[tool.typeo.profiles.tiny.scripts.train]",
            r"profiles.tiny.base.sede: unknown base key \(did you mean seed\?\)",
        ),
    ],
)
def test_a_typo_in_a_table_name_or_base_fails_at_once(
    checked_sandbox, old, new, message
):
    checked_sandbox.edit(old, new)
    started = time.monotonic()
    code, out = checked_sandbox.run("run", "--dry-run")
    assert time.monotonic() - started < 10
    assert code == 2
    assert re.search(message, out), out


def test_plain_executables_are_noted_as_unchecked(sandbox):
    code, out = sandbox.run("run", "--dry-run")
    assert code == 0
    assert "note: arguments not checked before running: gen:make-data" in out


def test_relative_data_dir_resolves_against_the_pipeline(sandbox, tmp_path):
    import os

    os.environ["DATA_DIR"] = "reldata"
    code, out = sandbox.run("run")
    assert code == 0, out
    expected = str(sandbox.root / "reldata" / "default")
    # every step sees the same absolute folder, whatever its working directory
    assert sandbox.calls()[0]["args"]["outdir"] == expected
    assert (sandbox.root / "reldata" / "default" / ".pinto" / "make-data.json").exists()
