"""The run summary in plain words, for an astronomer new to the search.

Every false-alarm rate is quoted per year (IFAR in years), whatever unit
``summary.json`` stores it in: a key ending ``_per_year`` is used when
present, otherwise the ``_per_day`` one is converted with
``aframe.ledger.far.seconds_per``.
"""

from __future__ import annotations

import html
from typing import Any

from aframe.ledger.far import seconds_per
from aframe.ledger.p_astro import BBH_RATE, BBH_RATE_RANGE, RATE_SOURCE

DAYS_PER_YEAR = seconds_per("year") / seconds_per("day")
#: FAR, per year, of the reference rate the summary's numbers use: once a day
ONCE_A_DAY = DAYS_PER_YEAR


def _num(value: Any, fmt: str) -> str | None:
    return None if value is None else format(value, fmt)


def per_year(summary: dict[str, Any], key: str) -> float | None:
    """A FAR of the summary, per year.

    Args:
        summary: the run summary
        key: the key with ``{unit}`` where its unit goes, e.g.
            ``far_{unit}_of_loudest_zero_lag``: ``per_year`` is read when
            present, otherwise ``per_day`` converted

    Returns:
        the rate per year, or None
    """
    value = summary.get(key.format(unit="per_year"))
    if value is not None:
        return float(value)
    value = summary.get(key.format(unit="per_day"))
    return None if value is None else float(value) * DAYS_PER_YEAR


def far_words(per_year_value: float) -> str:
    """``4,383 per year`` (thousands separated, three significant figures below)."""
    if per_year_value >= 100:
        return f"{per_year_value:,.0f} per year"
    return f"{per_year_value:.3g} per year"


def explain_summary(summary: dict[str, Any], headline: str = "") -> str:
    """HTML paragraphs explaining ``summary.json``.

    Args:
        summary: the run summary (schema in docs/artifacts.md)
        headline: name of the population the volume refers to

    Returns:
        HTML
    """
    s = summary
    reference = far_words(ONCE_A_DAY)
    items = []
    items.append(
        f"<li><b>Background.</b> The network searched "
        f"{_num(s.get('Tb_days'), '.2f')} days ({_num(s.get('Tb'), ',.0f')} s) of "
        "time-shifted data: one detector's data is slid against the other's by "
        "more than the light travel time, so nothing found there can be a real "
        f"signal. It produced {s.get('num_background_events')} background events; "
        "their rate above a detection statistic is that statistic's "
        "<i>false-alarm rate</i> (FAR), quoted per year on every page, and its "
        "inverse the IFAR, in years.</li>"
    )
    threshold = s.get("threshold_at_1_per_day")
    if threshold is not None:
        items.append(
            "<li><b>Threshold.</b> Noise alone exceeds a detection statistic of "
            f"{threshold:.3f} at a rate of {reference} (once a day): candidates "
            "louder than "
            f"that have a FAR below {reference}, the threshold used for the "
            "numbers below.</li>"
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
            f"the search would detect such mergers at a FAR of {reference}. The "
            "same volume as a sphere has a radius of "
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
            f"<li><b>Efficiency.</b> Fraction of injections found at a FAR of "
            f"{reference}, by their network signal-to-noise ratio: {parts}."
            + (
                f" Half of the signals with network SNR {snr50:.1f} are found."
                if snr50 is not None
                else ""
            )
            + "</li>"
        )
    zero = per_year(s, "far_{unit}_of_loudest_zero_lag")
    if zero is not None:
        items.append(
            "<li><b>Zero-lag.</b> In the unshifted data, where real signals would "
            f"be, the loudest event has a FAR of {far_words(zero)} (IFAR "
            f"{1 / zero:.3g} years)"
            + (
                ": consistent with noise."
                if zero > ONCE_A_DAY
                else f": rarer than {reference} in noise, worth a closer look."
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


#: published sensitivities and what they were measured on
PUBLISHED = (
    (
        "GWTC-3 (PyCBC, GstLAL, MBTA, cWB)",
        "LVK Collaboration, Phys. Rev. X 13, 041039 (2023), arXiv:2111.03606",
        "O3b LIGO–Virgo data, the catalogue's own injection sets",
    ),
    (
        "MLGWSC-1 (machine-learning mock data challenge)",
        "M. B. Schäfer et al., Phys. Rev. D 107, 023021 (2023), arXiv:2209.11146",
        "its four datasets (Gaussian and real O3a noise), IMRPhenomXPHM "
        "injections of its own distribution",
    ),
    (
        "aframe",
        "E. Marx et al., Phys. Rev. D 111, 042010 (2025), arXiv:2403.18661",
        "O3 open data, log-normal mass bins",
    ),
)


def published_comparison(population: str, noise: str) -> str:
    """Why no published sensitivity is drawn beside this run's, with citations.

    A published sensitive volume compares with this run's only for the same
    noise and the same injected population; none was measured on this run's.

    Args:
        population: this run's injection prior
        noise: this run's test noise in words (e.g. ``simulated from the
            aligo_O4high PSD``)

    Returns:
        HTML
    """
    rows = "".join(
        f"<li>{html.escape(name)}: {html.escape(where)} ({html.escape(cite)})</li>"
        for name, cite, where in PUBLISHED
    )
    return (
        '<div class="published-comparison" style="max-width:820px">'
        "<h3>Published sensitivities</h3>"
        "<p>None is plotted here. A published sensitive volume compares with "
        "this run's only for the same noise and the same injected population, "
        f"and no published pipeline result was measured on this run's: "
        f"test noise {html.escape(noise)}, injections drawn from "
        f"<code>{html.escape(population)}</code>. The published ones were "
        f"measured on:</p><ul>{rows}</ul></div>"
    )


def p_astro_words() -> str:
    """How p_astro is computed, with the assumed rate and its source (HTML)."""
    low, high = BBH_RATE_RANGE
    return (
        '<div class="p-astro-model" style="max-width:1200px;font-size:small">'
        "<b>p<sub>astro</sub></b> is the probability that a zero-lag candidate is "
        "astrophysical in a two-component Poisson mixture of the detection "
        "statistic x: p<sub>astro</sub> = s(x) / (s(x) + b(x)). The background "
        "density b(x) is the timeslide events per year per unit statistic "
        "(a kernel estimate, with an exponential tail fitted to the 50 loudest "
        "events beyond them); the signal density s(x) = R·V(x<sub>ref</sub>)·g(x), "
        "with g the statistic distribution of the found injections above "
        "x<sub>ref</sub> (the lowest threshold of the sensitive-volume curve) and "
        "V(x<sub>ref</sub>) the sensitive volume there. The assumed binary black "
        f"hole merger rate is R = {BBH_RATE:g} Gpc⁻³ yr⁻¹, the midpoint of "
        f"{low:g}–{high:g} Gpc⁻³ yr⁻¹ ({html.escape(RATE_SOURCE)}); the table "
        "shows p<sub>astro</sub> at both ends of that range too. It assumes the "
        "injected population is the real one and the noise the real noise: on "
        "simulated noise with no signals in it, it says what the model says, "
        "not that a signal is there.</div>"
    )
