"""Provenance: a step is done only if its inputs and outputs are what it made.

The steps here are built on the shared CLI and keep the habit the real
scripts had (an output with the same arguments is reused unless ``force``), so
each test fails if pinto only compares a step's own arguments or never tells
the script to redo its work.
"""

import json
import os
import re


def output(sandbox, name: str) -> dict:
    root = sandbox.data if name.startswith("make-") else sandbox.base
    return json.loads((root / "default" / f"{name}.json").read_text())


def forced(sandbox) -> dict[str, list[bool]]:
    calls: dict[str, list[bool]] = {}
    for call in sandbox.calls():
        calls.setdefault(call["script"], []).append(call["force"])
    return calls


def test_an_upstream_change_reruns_exactly_the_steps_that_read_it(cli_sandbox):
    sandbox = cli_sandbox
    code, out = sandbox.run("run")
    assert code == 0, out
    assert output(sandbox, "train")["inputs"][0]["value"] == 120
    first = len(sandbox.calls())

    sandbox.edit("value = 120", "value = 60")
    code, out = sandbox.run("run")
    assert code == 0, out
    again = sandbox.calls()[first:]
    # make-waveforms does not read the background: it is left alone
    assert [c["script"] for c in again] == ["make-background", "train", "analyse"]
    assert "gen:make-waveforms: skipped (done)" in out
    assert "fit:train (an upstream step changed (make-background)" in out
    # and every rerun step was told to redo its work, so nothing is stale
    assert all(c["force"] for c in again)
    assert output(sandbox, "train")["inputs"][0]["value"] == 60
    assert output(sandbox, "analyse")["inputs"][0]["inputs"][0]["value"] == 60
    code, out = sandbox.run("run")
    assert out.count("skipped (done)") >= 4


def test_force_reaches_the_script(cli_sandbox):
    sandbox = cli_sandbox
    assert sandbox.run("run")[0] == 0
    # without force the script would say "already complete" and keep its output
    sandbox.edit("value = 1\n", "value = 1\n")
    code, out = sandbox.run("run", "train", "--force")
    assert code == 0, out
    assert sandbox.calls()[-1] == {"script": "train", "force": True, "value": 1}
    assert "already complete" not in sandbox.log("train").read_text()


def test_changed_arguments_redo_the_step(cli_sandbox):
    sandbox = cli_sandbox
    assert sandbox.run("run")[0] == 0
    sandbox.edit("value = 1\n", "value = 2\n")
    code, out = sandbox.run("run")
    assert code == 0
    assert "fit:train (arguments changed; redoing its outputs)" in out
    assert forced(sandbox)["train"] == [False, True]
    assert output(sandbox, "train")["value"] == 2


def test_a_damaged_or_missing_output_is_not_done(cli_sandbox):
    sandbox = cli_sandbox
    assert sandbox.run("run")[0] == 0
    path = sandbox.data / "default" / "make-waveforms.json"
    path.write_text('{"value": 7, "inputs": [], "damaged": true}')
    code, out = sandbox.run("list")
    assert re.search(r"gen:make-waveforms\s+│ stale \(outputs changed", out), out
    code, out = sandbox.run("run")
    assert code == 0
    assert "damaged" not in path.read_text()
    assert forced(sandbox)["make-waveforms"] == [False, True]
    # what read it runs again too
    assert forced(sandbox)["train"] == [False, True]

    (sandbox.base / "default" / "analyse.json").unlink()
    _, out = sandbox.run("list")
    assert re.search(r"report:analyse\s+│ stale \(outputs missing", out), out


def test_list_says_why_a_step_is_not_done(cli_sandbox):
    sandbox = cli_sandbox
    _, out = sandbox.run("list")
    assert re.search(r"gen:make-background\s+│ not done \(never run\)", out), out
    sandbox.run("run")
    _, out = sandbox.run("list")
    assert out.count("│ done") == 4, out
    sandbox.edit("value = 7", "value = 8")
    _, out = sandbox.run("list")
    assert re.search(r"gen:make-waveforms\s+│ stale \(arguments changed\)", out)
    assert re.search(
        r"fit:train\s+│ stale \(upstream step make-waveforms is not done\)", out
    )
    # analyse reads train, which reads make-waveforms
    assert re.search(r"report:analyse\s+│ stale \(upstream step train is not done", out)
    assert re.search(r"gen:make-background\s+│ done", out)


def test_an_interrupted_fresh_step_continues_and_a_redo_stays_a_redo(cli_sandbox):
    sandbox = cli_sandbox
    fail = sandbox.root / "fail"
    fail.write_text("")
    sandbox.edit("value = 1\n", f'value = 1\nfail = "{fail}"\n')
    assert sandbox.run("run")[0] == 1
    _, out = sandbox.run("list")
    assert re.search(r"fit:train\s+│ not done \(interrupted\)", out), out
    fail.unlink()
    code, out = sandbox.run("run")
    assert code == 0, out
    # a fresh step continues from what it left
    assert forced(sandbox)["train"] == [False, False]

    # a stale step that fails is redone, not continued, on the next run
    sandbox.edit("value = 1\n", "value = 3\n")
    fail.write_text("")
    assert sandbox.run("run")[0] == 1
    fail.unlink()
    assert sandbox.run("run")[0] == 0
    assert forced(sandbox)["train"] == [False, False, True, True]


def test_data_steps_keep_their_stamps_with_the_data(cli_sandbox, tmp_path):
    # a second experiment (another BASE_DIR) on the same DATA_DIR reuses the
    # data steps and runs its own
    profile = "default"
    sandbox = cli_sandbox
    assert sandbox.run("run")[0] == 0
    assert (sandbox.data / profile / ".pinto" / "make-background.json").exists()
    os.environ["BASE_DIR"] = str(tmp_path / "second")
    code, out = sandbox.run("run")
    assert code == 0
    assert "gen:make-background: skipped (done)" in out
    assert "gen:make-waveforms: skipped (done)" in out
    assert (tmp_path / "second" / profile / "train.json").exists()


def test_a_step_that_leaves_a_damaged_output_fails_the_run(cli_sandbox):
    # make-waveforms exits 0 but leaves a file its output check rejects: the
    # run stops there instead of stamping it done and running its readers on
    # an input the next run would call damaged
    sandbox = cli_sandbox
    script = sandbox.root / "bin" / "make-waveforms"
    text = script.read_text()
    good = "    out.write_text(json.dumps(content))"
    script.write_text(text.replace(good, "    out.write_text('{')"))
    code, out = sandbox.run("run")
    assert code == 1, out
    assert "gen:make-waveforms" in out and "exited 0 but its output damaged" in out
    assert "train" not in [c["script"] for c in sandbox.calls()]
    _, out = sandbox.run("list")
    assert re.search(r"gen:make-waveforms\s+│ not done", out), out
