import sys

from aframe.pinto.execute import log_tail, run_step

CHILD = (
    "import sys\n"
    "print('out line')\n"
    "for i in range(1, 4):\n"
    "    sys.stderr.write(f'\\rstep {i}/3'); sys.stderr.flush()\n"
    "sys.stderr.write('\\n')\n"
    "print('err line', file=sys.stderr)\n"
    "sys.exit(int(sys.argv[1]))\n"
)


def test_output_reaches_terminal_and_log(tmp_path, capfd):
    log = tmp_path / "logs" / "child.log"
    result = run_step([sys.executable, "-c", CHILD, "0"], tmp_path, {}, log)
    assert result.exit_code == 0
    assert result.wall_seconds > 0
    assert result.started <= result.finished
    terminal = capfd.readouterr().out
    # read_text would turn carriage returns into newlines
    text = log.read_bytes().decode()
    for expected in ("out line", "\rstep 1/3\rstep 2/3\rstep 3/3", "err line"):
        assert expected in terminal
    # the log holds what the terminal finally showed: no progress-bar frames
    assert "\r" not in text
    for expected in ("out line", "\nstep 3/3\n", "err line"):
        assert expected in text
    assert text.startswith("# pinto ")


def test_exit_code_and_cwd(tmp_path):
    log = tmp_path / "child.log"
    assert (
        run_step([sys.executable, "-c", CHILD, "7"], tmp_path, {}, log).exit_code == 7
    )
    where = tmp_path / "here"
    where.mkdir()
    run_step(
        [sys.executable, "-c", "import os; print('cwd=' + os.getcwd())"],
        where,
        {},
        log,
    )
    # the log is replaced on each run
    assert f"cwd={where}" in log.read_text()
    assert "out line" not in log.read_text()


def test_log_tail_shows_final_state_of_redrawn_lines(tmp_path):
    log = tmp_path / "x.log"
    log.write_bytes(
        b"".join(f"line {i}\n".encode() for i in range(30))
        + b"\rbar 1\rbar 2\rbar 9\nlast\n\n"
    )
    tail = log_tail(log, 5)
    assert tail == ["line 27", "line 28", "line 29", "bar 9", "last"]
    assert log_tail(tmp_path / "missing.log") == []
