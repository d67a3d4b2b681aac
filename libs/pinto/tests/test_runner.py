import json
import os
import re
import sys

from aframe.pinto.pipeline import Pipeline


def test_runs_steps_in_order_with_the_typeo_contract(sandbox):
    code, out = sandbox.run("run")
    assert code == 0, out
    calls = sandbox.calls()
    assert [c["script"] for c in calls] == ["make-data", "train", "analyse"]
    train = calls[1]
    # <script> --typeo <abs pyproject>:<script>[:<subcommand>], in the project
    assert train["argv"] == [
        str(sandbox.root / "bin" / "train"),
        "--typeo",
        f"{sandbox.pyproject}:train:small",
    ]
    assert train["cwd"] == str(sandbox.root / "fit")
    assert train["sub"] == {"width": 4}
    assert train["profile"] == "default"
    assert calls[0]["args"]["outdir"] == str(sandbox.data / "default")
    assert calls[0]["args"]["greeting"] == "hello"

    for i, spec in enumerate(["gen:make-data", "fit:train:small", "report:analyse"]):
        assert f"[{i + 1}/3] {spec}" in out
    # the child's output is streamed, progress bar included
    assert "train: hello from train" in out
    assert "progress 3/3" in out
    log = sandbox.log("train").read_bytes().decode()
    assert "train: hello from train" in log
    # the log keeps the bar's final state, not its frames
    assert "\nprogress 3/3\n" in log and "\r" not in log

    stamp = json.loads(sandbox.stamp("train").read_text())
    assert stamp["exit_code"] == 0
    assert stamp["profile"] == "default"
    assert stamp["hash"] == Pipeline.load().step_hash(Pipeline.load().steps[1])
    assert stamp["wall_seconds"] > 0
    assert stamp["started"] <= stamp["finished"]
    assert stamp["log"] == str(sandbox.log("train"))
    assert "View the results: vizapp --typeo" in out
    assert f"{sandbox.pyproject}:vizapp  →  http://127.0.0.1:5005" in out


def test_second_run_skips_every_step(sandbox):
    assert sandbox.run("run")[0] == 0
    code, out = sandbox.run("run")
    assert code == 0
    assert sandbox.called() == ["make-data", "train", "analyse"]
    assert out.count("skipped (done)") >= 6  # three lines and three table rows
    # wall times come from the stamps
    wall = json.loads(sandbox.stamp("analyse").read_text())["wall_seconds"]
    assert re.search(rf"report:analyse\s+│ skipped \(done\)\s+│\s+{wall:.1f} s", out)


def test_force_reruns_selected_steps_and_later_ones_next_time(sandbox):
    assert sandbox.run("run")[0] == 0
    code, out = sandbox.run("run", "train", "--force")
    assert code == 0
    assert "--force: rerunning fit:train:small even if done" in out
    assert "fit:train:small (forced; redoing its outputs)" in out
    assert sandbox.called() == ["make-data", "train", "analyse", "train"]
    # analyse reads train's outputs, so it is stale now that train ran again
    assert "steps that read it will run again: report:analyse" in out
    _, listed = sandbox.run("list")
    assert re.search(r"report:analyse\s+│ stale \(an upstream step changed", listed)
    sandbox.run("run")
    assert sandbox.called()[-1:] == ["analyse"]
    assert len(sandbox.called()) == 5


def test_select_steps_by_name(sandbox):
    code, _ = sandbox.run("run", "report:analyse", "make-data")
    assert code == 0
    assert sandbox.called() == ["make-data", "analyse"]
    code, out = sandbox.run("run", "nope")
    assert code == 2
    assert "pinto: error: unknown step(s) nope" in out
    assert "fit:train:small" in out


def test_selecting_a_step_whose_upstream_is_not_done_warns(sandbox):
    code, out = sandbox.run("run", "analyse")
    assert code == 0
    assert "earlier step(s) gen:make-data, fit:train:small are not done" in out


def test_failure_stops_the_run_naming_step_and_log(sandbox):
    sandbox.edit("epochs = 2", "epochs = 2\nexit_code = 3")
    code, out = sandbox.run("run")
    assert code == 1
    assert sandbox.called() == ["make-data", "train"]
    log = sandbox.log("train")
    assert f"step fit:train:small failed (exit 3); log: {log}" in out
    # the tail of the log, as the terminal showed it
    assert "  | train: failing on purpose" in out
    assert "  | progress 3/3" in out
    assert not sandbox.stamp("train").exists()
    assert sandbox.stamp("make-data").exists()
    assert not sandbox.stamp("analyse").exists()

    sandbox.edit("exit_code = 3", "exit_code = 0")
    code, out = sandbox.run("run")
    assert code == 0
    assert sandbox.called() == ["make-data", "train", "train", "analyse"]


def test_changed_arguments_rerun_the_step_and_those_after(sandbox):
    sandbox.run("run")
    sandbox.edit("epochs = 2", "epochs = 3")
    code, out = sandbox.run("run")
    assert code == 0
    assert "fit:train:small (arguments changed; redoing its outputs)" in out
    assert sandbox.called() == ["make-data", "train", "analyse", "train", "analyse"]
    assert sandbox.calls()[-2]["args"]["epochs"] == 3


def test_dotenv_and_environment_references(sandbox, tmp_path):
    del os.environ["BASE_DIR"]
    elsewhere = tmp_path / "from-dotenv"
    (sandbox.root / ".env").write_text(f"BASE_DIR={elsewhere}\nGREETING=bonjour\n")
    code, _ = sandbox.run("run", "make-data")
    assert code == 0
    call = json.loads((elsewhere / "calls.jsonl").read_text().splitlines()[0])
    assert call["args"]["greeting"] == "bonjour"
    # make-data writes only DATA_DIR: its stamp lives there
    assert (sandbox.data / "default" / ".pinto" / "make-data.json").exists()
    # the environment wins over .env
    os.environ["GREETING"] = "hej"
    sandbox.run("run", "make-data", "--force")
    calls = (elsewhere / "calls.jsonl").read_text().splitlines()
    assert json.loads(calls[-1])["args"]["greeting"] == "hej"


def test_runs_with_no_variables_set(sandbox, tmp_path):
    # DATA_DIR and BASE_DIR default to ~/aframe/data and ~/aframe/results
    del os.environ["BASE_DIR"], os.environ["DATA_DIR"]
    os.environ["HOME"] = str(tmp_path / "home")
    code, out = sandbox.run("run", "make-data")
    assert code == 0, out
    results = tmp_path / "home" / "aframe" / "results"
    data = tmp_path / "home" / "aframe" / "data"
    assert (data / "default" / ".pinto" / "make-data.json").exists()
    assert (results / "default" / "logs" / "make-data.log").exists()
    call = json.loads((results / "calls.jsonl").read_text())
    assert call["args"]["outdir"] == str(tmp_path / "home/aframe/data/default")


def test_profile_selection(sandbox):
    code, out = sandbox.run("run", "--profile", "tiny")
    assert code == 0
    train = sandbox.calls()[1]
    assert train["args"]["epochs"] == 1
    assert train["profile"] == "tiny"
    assert "profile tiny" in out
    assert sandbox.stamp("train", "tiny").exists()
    assert not sandbox.stamp("train").exists()
    # the default profile has its own stamps, so it runs
    sandbox.run("run")
    assert sandbox.calls()[-2]["args"]["epochs"] == 2


def test_profile_from_dotenv_and_unknown_profile(sandbox):
    (sandbox.root / ".env").write_text("AFRAME_PROFILE=tiny\n")
    assert sandbox.run("run", "train")[0] == 0
    assert sandbox.calls()[0]["profile"] == "tiny"
    code, out = sandbox.run("run", "--profile", "huge")
    assert code == 2
    assert "unknown profile 'huge' (known profiles: default, tiny)" in out


def test_unwritable_basedir_is_one_clear_error(sandbox, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    os.environ["BASE_DIR"] = str(blocker / "results")
    code, out = sandbox.run("run")
    assert code == 2
    lines = [line for line in out.splitlines() if line.startswith("pinto: error")]
    assert len(lines) == 1
    assert f"pinto: error: basedir: {blocker}/results/default: cannot create" in out
    assert f"with BASE_DIR in the environment or {sandbox.root}/.env" in lines[0]
    assert sandbox.called() == []


def test_too_little_free_space_is_one_clear_error(sandbox):
    sandbox.edit("min_free_gib = 0.001", "min_free_gib = 1e9")
    code, out = sandbox.run("run")
    assert code == 2
    assert re.search(r"pinto: error: basedir: .*MiB free, \d+ MiB needed", out)
    assert sandbox.called() == []


def test_missing_executable_or_table_fails_before_anything_runs(sandbox):
    (sandbox.root / "bin" / "analyse").unlink()
    code, out = sandbox.run("run")
    assert code == 2
    assert "step report:analyse: no executable analyse in" in out
    assert "pinto build report" in out
    assert sandbox.called() == []


def test_bin_dir_from_the_environment(sandbox, tmp_path):
    other = tmp_path / "other-bin"
    (sandbox.root / "bin").rename(other)
    os.environ["PINTO_BIN_DIR"] = str(other)
    assert sandbox.run("run", "make-data")[0] == 0
    assert sandbox.calls()[0]["argv"][0] == str(other / "make-data")


def test_summary_and_vizapp_address_are_printed(sandbox):
    sandbox.edit(
        "[tool.typeo.profiles",
        '[tool.typeo.scripts.vizapp]\nhost = "0.0.0.0"\nport = 5006\n\n'
        "[tool.typeo.profiles",
    )
    analysis = sandbox.base / "default" / "analysis"
    analysis.mkdir(parents=True)
    (analysis / "summary.json").write_text(
        json.dumps(
            {
                "Tb": 172800.0,
                "Tb_days": 2.0,
                "threshold_at_1_per_day": 3.2,
                "sensitive_distance_mpc_at_1_per_day": 300.0,
                "efficiency_at_snr": {"8": 0.4, "12": 0.9, "20": 0.99},
                "far_for_efficiency_per_day": 1.0,
            }
        )
    )
    code, out = sandbox.run("run")
    assert code == 0
    for expected in (
        "2.00 days",
        "300 Mpc",
        "40.0%",
        "99.0%",
        "statistic threshold at FAR 365/yr",
    ):
        assert expected in out
    assert out.rstrip().endswith(
        f"vizapp --typeo {sandbox.pyproject}:vizapp  →  http://0.0.0.0:5006"
    )


def test_list_shows_what_is_done(sandbox):
    sandbox.run("run", "make-data")
    code, out = sandbox.run("list")
    assert code == 0
    assert re.search(r"gen:make-data\s+│ done", out)
    assert re.search(r"fit:train:small\s+│ not done", out)
    sandbox.edit("seed = 1", "seed = 5")
    _, out = sandbox.run("list")
    assert re.search(r"gen:make-data\s+│ stale \(arguments changed\)", out)
    assert sandbox.called() == ["make-data"]


def test_dry_run_runs_nothing(sandbox):
    code, out = sandbox.run("run", "--dry-run")
    assert code == 0
    assert sandbox.called() == []
    assert not (sandbox.base / "default").exists()
    assert f"bin/train --typeo {sandbox.pyproject}:train:small" in out
    assert "[2/3] fit:train:small: would run" in out


def test_a_step_that_runs_makes_later_selected_steps_run(sandbox):
    assert sandbox.run("run")[0] == 0
    # make-data lost its stamp (a killed forced rerun, say): it runs, and so
    # must analyse, although analyse was done when the run started
    sandbox.stamp("make-data").unlink()
    code, out = sandbox.run("run", "make-data", "analyse")
    assert code == 0
    assert sandbox.called()[3:] == ["make-data", "analyse"]
    assert sandbox.stamp("analyse").exists()
    # train, not selected, is stale: it read the make-data that was replaced
    _, listed = sandbox.run("list")
    assert re.search(r"fit:train:small\s+│ stale \(an upstream step changed", listed)


CLI_STEP = """#!{python}
import json
from pathlib import Path

from aframe.utils.cli import cli


class Small:
    \"\"\"A small network.

    Args:
        width: channels
    \"\"\"

    def __init__(self, width: int = 1):
        self.width = width


def train(calls: Path, architecture: Small, epochs: int = 1) -> None:
    \"\"\"Record the arguments.

    Args:
        calls: file the call is appended to
        architecture: the network
        epochs: passes over the data
    \"\"\"
    with open(calls, "a") as f:
        record = dict(script="train", epochs=epochs, width=architecture.width)
        f.write(json.dumps(record) + "\\n")


cli(train, subcommands={{"small": Small}}, subcommand_dest="architecture")
"""


def test_a_step_built_on_the_shared_cli(sandbox):
    # the real typed CLI reads the table and the subcommand pinto names
    train = sandbox.root / "bin" / "train"
    train.write_text(CLI_STEP.format(python=sys.executable))
    code, out = sandbox.run("run", "train")
    assert code == 0, out
    assert sandbox.calls() == [{"script": "train", "epochs": 2, "width": 4}]
    # a wrong type in the table is the step's one clear error
    sandbox.edit("epochs = 2", 'epochs = "two"')
    code, out = sandbox.run("run", "train")
    assert code == 1
    assert "step fit:train:small failed (exit 2)" in out
    assert 'Parser key "epochs"' in out
