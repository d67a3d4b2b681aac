"""The run summary in plain words, for an astronomer new to the search."""

from __future__ import annotations

import html
from typing import Any


def _num(value: Any, fmt: str) -> str | None:
    return None if value is None else format(value, fmt)


def explain_summary(summary: dict[str, Any], headline: str = "") -> str:
    """HTML paragraphs explaining ``summary.json``.

    Args:
        summary: the run summary (schema in docs/artifacts.md)
        headline: name of the population the volume refers to

    Returns:
        HTML
    """
    s = summary
    items = []
    items.append(
        f"<li><b>Background.</b> The network searched "
        f"{_num(s.get('Tb_days'), '.2f')} days ({_num(s.get('Tb'), ',.0f')} s) of "
        "time-shifted data: one detector's data is slid against the other's by "
        "more than the light travel time, so nothing found there can be a real "
        f"signal. It produced {s.get('num_background_events')} background events; "
        "their rate above a detection statistic is that statistic's "
        "<i>false-alarm rate</i> (FAR).</li>"
    )
    threshold = s.get("threshold_at_1_per_day")
    if threshold is not None:
        items.append(
            "<li><b>Threshold.</b> Noise alone exceeds a detection statistic of "
            f"{threshold:.3f} once a day: candidates louder than that have a FAR "
            "below 1 per day, the threshold used for the numbers below.</li>"
        )
        items.append(
            f"<li><b>Injections.</b> {s.get('num_injections')} simulated binary "
            "black hole mergers were drawn (the quiet ones that could never be seen "
            "are counted too); "
            f"{s.get('num_found_at_1_per_day')} were found above that threshold.</li>"
        )
    volume = s.get("sensitive_volume_gpc3_at_1_per_day")
    if volume is not None:
        pop = (
            f" for the <code>{html.escape(headline)}</code> population"
            if headline
            else ""
        )
        err = s.get("sensitive_volume_err_gpc3_at_1_per_day")
        items.append(
            f"<li><b>Sensitive volume{pop}.</b> {volume:.3g} ± {err:.2g} Gpc³: "
            "the comoving volume (corrected for cosmological time dilation) in which "
            "the search would detect such mergers at a FAR of 1 per day. The same "
            "volume as a sphere has a radius of "
            f"{s.get('sensitive_distance_mpc_at_1_per_day'):.0f} Mpc, the "
            "<i>sensitive distance</i>. The ± is the Monte Carlo uncertainty from the "
            "finite number of injections.</li>"
        )
    snr50 = s.get("snr_50_at_1_per_day")
    eff = s.get("efficiency_at_snr") or {}
    if eff:
        parts = ", ".join(
            f"{100 * v:.0f}% at SNR {k}" if v is not None else f"n/a at SNR {k}"
            for k, v in eff.items()
        )
        items.append(
            "<li><b>Efficiency.</b> Fraction of injections found at 1 per day, by "
            f"their network signal-to-noise ratio: {parts}."
            + (
                f" Half of the signals with network SNR {snr50:.1f} are found."
                if snr50 is not None
                else ""
            )
            + "</li>"
        )
    zero = s.get("far_per_day_of_loudest_zero_lag")
    if zero is not None:
        items.append(
            "<li><b>Zero-lag.</b> In the unshifted data, where real signals would "
            f"be, the loudest event has a FAR of {zero:.3g} per day"
            + (
                ": consistent with noise."
                if zero > 1
                else ": rarer than once a day in noise, worth a closer look."
            )
            + "</li>"
        )
    notes = s.get("notes") or []
    if notes:
        items.append(
            "<li><b>Notes.</b><ul>"
            + "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
            + "</ul></li>"
        )
    return (
        '<ul class="summary-words" style="max-width:820px">' + "".join(items) + "</ul>"
    )
