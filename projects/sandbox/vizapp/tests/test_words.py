"""The run summary explained in words."""

from vizapp.words import explain_summary

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
        "FAR of 12 per day",
        "end_o3_ratesandpops",
    ):
        assert piece in text


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
