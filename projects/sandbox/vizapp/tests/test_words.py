"""The run summary explained in words."""

from vizapp.words import explain_summary, published_comparison

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
    "notes": [],
}


def test_every_number_is_explained():
    text = explain_summary(SUMMARY, "end_o3_ratesandpops")
    for piece in (
        "2.00 days",
        "1234 background events",
        "3.200",
        "5000 simulated",
        "321 were found",
        "0.12 ± 0.01 Gpc³",
        "300 Mpc",
        "40% at SNR 8",
        "SNR 9.1",
        # 12 per day is 4,383 per year; IFAR 1/4383 years
        "FAR of 4,383 per year",
        "IFAR 0.000228 years",
        "end_o3_ratesandpops",
        "365 per year (once a day)",
    ):
        assert piece in text
    # one FAR unit: per year, never per day
    assert "per day" not in text


def test_nulls_and_notes():
    summary = {
        **SUMMARY,
        **{k: None for k in SUMMARY if k.endswith("1_per_day") or "zero_lag" in k},
        "efficiency_at_snr": {"8": None},
        "notes": ["1 per day is not resolved <here>"],
    }
    text = explain_summary(summary)
    assert "Gpc³" not in text and "Threshold" not in text
    assert "n/a at SNR 8" in text
    # notes are escaped, not interpreted
    assert "&lt;here&gt;" in text


def test_per_year_keys_win_over_per_day_ones():
    text = explain_summary(
        {**SUMMARY, "far_per_year_of_loudest_zero_lag": 10.0}, "end_o3_ratesandpops"
    )
    assert "FAR of 10 per year" in text and "IFAR 0.1 years" in text
    assert "worth a closer look" in text


def test_published_comparison_says_why_none_is_plotted():
    text = published_comparison("end_o3_ratesandpops", "simulated from the x curve")
    assert "None is plotted here" in text
    assert "end_o3_ratesandpops" in text and "simulated from the x curve" in text
    for citation in ("Phys. Rev. X 13, 041039", "Phys. Rev. D 107, 023021"):
        assert citation in text
