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
        "statistic threshold at FAR 365/yr",
        "3.2",
        "0.12 ± 0.01 Gpc³",
        "300 Mpc",
        "efficiency at SNR 8 (FAR 365/yr)",
        "40.0%",
        "90.0%",
        "99.0%",
        "9.1",
        "4,383/yr",
        "5000",
    ):
        assert expected in text, expected
    # efficiencies are listed by SNR, not by string order
    assert text.index("SNR 8 ") < text.index("SNR 12 ") < text.index("SNR 20 ")


FULL = {
    **SUMMARY,
    "interval_level": 0.6827,
    "snr_50_at_1_per_hour": 8.4,
    "snr_50_interval_at_1_per_hour": [8.1, 8.8],
    "snr_50_interval_at_1_per_day": [8.7, None],
    "fraction_snr_ge_20_above_loudest_background": 0.97,
    "num_snr_ge_20": 123,
    "validation_vs_test": {
        "recall_snr_ge_12_at_1_per_hour": {
            "validation": 0.92,
            "test": 0.885,
            "validation_count": 4000,
            "test_count": 300,
        }
    },
    "notes": ["a note"],
}


def test_results_table_shows_snr50_intervals_loud_signals_and_recall():
    text = render(results_table(FULL))
    for expected in (
        "SNR50 at FAR 8,766/yr (68% interval)",
        "8.4 [8.1, 8.8]",
        # an interval unbounded above
        "9.1 [8.7, ∞]",
        "SNR ≥ 20 above loudest background",
        "97.0% of 123",
        "recall SNR ≥ 12, FAR 8,766/yr: valid. | test",
        "92.0% | 88.5%",
    ):
        assert expected in text, expected
    assert text.index("SNR50 at FAR 8,766/yr") < text.index("SNR50 at FAR 365/yr")
    # one FAR unit on the screen
    assert "/day" not in text and "/hour" not in text
    # still one screen
    assert len(text.strip().splitlines()) <= 24


def test_validation_recall_missing_shows_na():
    summary = {
        **FULL,
        "validation_vs_test": {
            "recall_snr_ge_12_at_1_per_hour": {"validation": None, "test": 0.5}
        },
        "snr_50_interval_at_1_per_hour": None,
    }
    text = render(results_table(summary))
    assert "n/a | 50.0%" in text
    assert "8.4 " in text and "[8.1" not in text


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
