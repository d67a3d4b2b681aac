import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from aframe.pinto.cli import main


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


def _start_blocking(sandbox, table_line: str, stdout) -> tuple[subprocess.Popen, Path]:
    """Start `pinto run`; the step whose table has ``table_line`` waits."""
    block = sandbox.root / "block"
    block.write_text("")
    sandbox.edit(table_line, f'{table_line}\nblock_while = "{block}"')
    pinto = subprocess.Popen(
        [sys.executable, "-m", "aframe.pinto", "run"],
        cwd=sandbox.root,
        env=dict(os.environ),
        stdout=stdout,
        stderr=subprocess.STDOUT,
    )
    return pinto, block


def test_kill_9_leaves_no_stamp_and_the_next_run_reruns(sandbox):
    pinto, block = _start_blocking(sandbox, "epochs = 2", subprocess.DEVNULL)
    try:
        _wait_for(lambda: len(sandbox.calls()) == 2)
        step_pid = sandbox.calls()[1]["pid"]
        os.kill(pinto.pid, signal.SIGKILL)
        pinto.wait()
        # the step dies with pinto rather than writing on unsupervised
        _wait_for(lambda: _gone(step_pid), timeout=10)
    finally:
        if pinto.poll() is None:
            pinto.kill()
    assert sandbox.stamp("make-data").exists()
    assert not sandbox.stamp("train").exists()
    assert not sandbox.stamp("analyse").exists()

    block.unlink()
    code, out = sandbox.run("run")
    assert code == 0, out
    assert "gen:make-data: skipped (done)" in out
    assert sandbox.called() == ["make-data", "train", "train", "analyse"]
    assert sandbox.stamp("train").exists()


def test_sigterm_stops_the_step_without_a_stamp(sandbox):
    pinto, _ = _start_blocking(sandbox, "exit_code = 0", subprocess.PIPE)
    try:
        _wait_for(lambda: len(sandbox.calls()) == 3)
        pinto.send_signal(signal.SIGTERM)
        out, _ = pinto.communicate(timeout=30)
    finally:
        if pinto.poll() is None:
            pinto.kill()
    assert pinto.returncode == 130
    assert b"interrupted: report:analyse did not finish" in out
    assert not sandbox.stamp("analyse").exists()
    assert sandbox.stamp("train").exists()


def test_console_script_help_and_usage_errors(capsys):
    try:
        main(["--help"])
    except SystemExit as exit:
        assert exit.code == 0
    text = capsys.readouterr().out
    for command in ("run", "list", "build"):
        assert command in text
    try:
        main(["run", "--nonsense"])
    except SystemExit as exit:
        assert exit.code == 2
    assert "unrecognized arguments: --nonsense" in capsys.readouterr().err


def test_module_entry_point_runs_a_pipeline(sandbox):
    result = subprocess.run(
        [sys.executable, "-m", "aframe.pinto", "run", "--pipeline", str(sandbox.root)],
        cwd=sandbox.root.parent,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.called() == ["make-data", "train", "analyse"]
    stamp = json.loads(sandbox.stamp("analyse").read_text())
    assert stamp["command"][1:] == ["--typeo", f"{sandbox.pyproject}:analyse"]


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exit:
        assert exit.code == 0
    assert re.fullmatch(r"pinto \S+ \(aframe-pinto\)\n", capsys.readouterr().out)


def test_list_is_not_cut_at_80_columns_off_a_terminal(sandbox):
    del os.environ["COLUMNS"]
    sandbox.edit('"report:analyse"', '"report:analyse-every-result-of-the-experiment"')
    sandbox.edit(
        "[tool.typeo.scripts.analyse]",
        "[tool.typeo.scripts.analyse-every-result-of-the-experiment]",
    )
    (sandbox.root / "bin" / "analyse").rename(
        sandbox.root / "bin" / "analyse-every-result-of-the-experiment"
    )
    result = subprocess.run(
        [sys.executable, "-m", "aframe.pinto", "list"],
        cwd=sandbox.root,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "report:analyse" in line)
    assert "report:analyse-every-result-of-the-experiment" in row
    assert "not done (never run)" in row
    assert "…" not in result.stdout


def test_the_app_command_carries_the_profile(sandbox):
    code, out = sandbox.run("run", "--profile", "tiny")
    assert code == 0
    assert (
        f"View the results: vizapp --profile tiny --typeo {sandbox.pyproject}:vizapp"
        in out
    )


def test_dotenv_paths_expand_and_the_calling_environment_wins(sandbox, tmp_path):
    del os.environ["BASE_DIR"]
    os.environ["HOME"] = str(tmp_path / "home")
    (sandbox.root / ".env").write_text(
        "PROJECT=first-run\nBASE_DIR=$HOME/aframe/results/$PROJECT\n"
    )
    os.environ["PROJECT"] = "my-second-run"
    code, out = sandbox.run("run", "train")
    assert code == 0, out
    results = tmp_path / "home" / "aframe" / "results" / "my-second-run" / "default"
    assert (results / ".pinto" / "train.json").exists()
    assert not (sandbox.root / "$HOME").exists()
