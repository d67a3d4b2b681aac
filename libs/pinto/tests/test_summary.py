import io

from rich.console import Console

from aframe.pinto.pipeline import Step
from aframe.pinto.summary import StepStatus, format_seconds, results_table, steps_table

SUMMARY = {
    "Tb": 172800.0,
    "Tb_days": 2.0,
    "num_background_events": 1234,
    "num_injections": 5000,
    "num_found_at_1_per_day": 321,
    "threshold_at_1_per_day": 3.2,
    "far_per_day_of_loudest_zero_lag": 12.0,
    "sensitive_volume_gpc3_at_1_per_day": 0.12,
    "sensitive_volume_err_gpc3_at_1_per_day": 0.01,
    "sensitive_distance_mpc_at_1_per_day": 300.0,
    "efficiency_at_snr": {"8": 0.4, "12": 0.9, "20": 0.99},
    "far_for_efficiency_per_day": 1.0,
    "snr_50_at_1_per_day": 9.1,
}


def render(renderable) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_format_seconds():
    assert format_seconds(12.34) == "12.3 s"
    assert format_seconds(245) == "4 min 05 s"
    assert format_seconds(7380) == "2 h 03 min"
    assert format_seconds(None) == ""


def test_results_table_shows_the_headline_figures():
    text = render(results_table(SUMMARY))
    for expected in (
        "2.00 days (172800 s)",
        "FAR threshold at 1/day",
        "3.2",
        "0.12 ± 0.01 Gpc³",
        "300 Mpc",
        "efficiency at SNR 8 (FAR 1/day)",
        "40.0%",
        "90.0%",
        "99.0%",
        "9.1",
        "12/day",
        "5000",
    ):
        assert expected in text, expected
    # efficiencies are listed by SNR, not by string order
    assert text.index("SNR 8 ") < text.index("SNR 12 ") < text.index("SNR 20 ")


def test_missing_figures_show_notes():
    partial = {"Tb": 86400.0, "threshold_at_1_per_day": None, "notes": ["too few"]}
    text = render(results_table(partial))
    assert "1.00 days (86400 s)" in text
    assert "n/a" in text
    assert "too few" in text


def test_steps_table_lists_status_and_wall():
    statuses = [
        StepStatus(Step.parse("a:one"), "ran", 3.0),
        StepStatus(Step.parse("a:two"), "skipped (done)", 65.0),
        StepStatus(Step.parse("b:three"), "not run"),
    ]
    text = render(steps_table(statuses))
    assert "a:one" in text and "3.0 s" in text
    assert "skipped (done)" in text and "1 min 05 s" in text
    assert "this run: 3.0 s" in text
