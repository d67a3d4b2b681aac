"""The analysis page: vetoes, rates, candidates, injections and events in time.

- a veto selector (segment files per detector in the experiment's veto
  folder); the chosen vetoes travel in the URL (``?vetoes=H1-cat2.txt,…``)
  and apply to everything below: their events are removed from the
  background, the zero-lag and the found injections, and their deadtime from
  the livetimes (``vizapp.vetoed``);
- the background's false-alarm rate per year against the statistic, and the
  cumulative IFAR of the zero-lag events against noise's Poisson expectation;
- a sortable table of the zero-lag candidates (GPS, UTC, statistic, FAR per
  year, IFAR in years, p_astro, shift) and one of the loudest background
  events, each row linked to the inspector; beside them the ``search``
  script's candidates on the user's own data (``BASE_DIR/search``: offline
  candidates with their own timeslide FARs, linked to the inspector, and
  the online search's alert files);
- injections found and missed by chirp mass and distance, the found fraction
  by chirp mass (Wilson intervals), the statistic against injected SNR with
  mass and SNR filters; events against UTC time.

Tapping an injection or an event opens it in the inspector.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping

import numpy as np
from bokeh.document import Document
from bokeh.layouts import column, row
from bokeh.models import (
    Button,
    CheckboxGroup,
    ColumnDataSource,
    CustomJS,
    DataTable,
    Div,
    FixedTicker,
    HoverTool,
    HTMLTemplateFormatter,
    NumberFormatter,
    NumeralTickFormatter,
    OpenURL,
    RangeSlider,
    ScientificFormatter,
    TableColumn,
    TabPanel,
    Tabs,
    TapTool,
)
from bokeh.plotting import figure

from aframe.ledger import CandidateSet
from aframe.ledger.far import threshold_at_far
from aframe.ledger.p_astro import PAstroError
from aframe.ledger.sensitive_volume import campaign
from aframe.plots.figures import (
    binned_efficiency_figure,
    chirp_mass_curves,
    cumulative_ifar_figure,
    far_of_label,
    found_missed_columns,
    found_missed_figure,
    legend_beside,
    snr_ticks,
    survival_figure,
)
from aframe.plots.ifar import cumulative_ifar
from aframe.plots.timeaxis import gps_to_utc_iso, gps_to_utc_ms
from vizapp.candidates import (
    alert_columns,
    event_columns,
    p_astro_model,
    search_columns,
    shift_labels,
)
from vizapp.experiment import Experiment, MissingArtifact
from vizapp.layout import header, query_arguments
from vizapp.vetoed import Vetoed, VetoError, apply
from vizapp.words import DAYS_PER_YEAR, p_astro_words

logger = logging.getLogger(__name__)

#: FAR thresholds marked on the plots: label → FAR per day
MARKS = {f"FAR {far_of_label(rate)}": rate for rate in (24.0, 1.0)}
#: the FAR (per day) that decides "found" in the injection views: once a day
FOUND_AT = 1.0
#: background events drawn against time, the loudest first
MAX_TIME_POINTS = 20_000
#: rows of the background table (the loudest)
BACKGROUND_ROWS = 500


def _slider(title: str, values: np.ndarray, step: float) -> RangeSlider:
    lo, hi = float(np.floor(values.min())), float(np.ceil(values.max()))
    hi = max(hi, lo + step)
    return RangeSlider(
        title=title, start=lo, end=hi, value=(lo, hi), step=step, width=300
    )


def note(text: str, css: str = "page-note") -> Div:
    """A remark in place of a view that cannot be drawn."""
    return Div(
        text=f'<div class="{css}" style="color:#555;max-width:700px">{text}</div>',
        width=700,
    )


# ---------------------------------------------------------------- vetoes
def selected_vetoes(arguments: Mapping[str, list[bytes]]) -> list[str]:
    """The veto files named in the URL (``?vetoes=a.txt,b.txt``)."""
    raw = arguments.get("vetoes", [b""])[0].decode(errors="replace")
    return [name for name in raw.split(",") if name.strip()]


def veto_panel(
    experiment: Experiment, ifos: list[str], vetoed: Vetoed | None, error: str | None
):
    """The veto selector and what the chosen vetoes removed."""
    offered = experiment.veto_files(ifos)
    folder = html.escape(str(experiment.vetoes_path))
    if not offered:
        return Div(
            text=(
                '<div class="veto-status"><b>Vetoes.</b> No veto segment files in '
                f"<code>{folder}</code>: put one per detector and category there, "
                "named <code>{IFO}-{name}.txt</code> (two columns, start and end "
                "in GPS seconds, or segwizard), and reload.</div>"
            ),
            width=1400,
        )
    names = list(offered)
    chosen = vetoed.names if vetoed is not None else []
    checks = CheckboxGroup(
        labels=[f"{offered[n][0]}: {n}" for n in names],
        active=[i for i, n in enumerate(names) if n in chosen],
        inline=True,
    )
    button = Button(label="Apply vetoes", button_type="primary", width=140)
    button.js_on_event(
        "button_click",
        CustomJS(
            args={"checks": checks, "files": names},
            code="""
const url = new URL(window.location.href);
const names = checks.active.map((i) => files[i]);
if (names.length) { url.searchParams.set("vetoes", names.join(",")); }
else { url.searchParams.delete("vetoes"); }
window.location.href = url.toString();
""",
        ),
    )
    if error is not None:
        status = (
            f'<span style="color:#b00">the vetoes cannot be applied: '
            f"{html.escape(error)}</span>"
        )
    elif vetoed is None or not vetoed.names:
        status = "No vetoes applied: every event and all the livetime count."
    else:
        live = vetoed.background_livetime
        r = vetoed.removed
        status = (
            f"Applied {', '.join(html.escape(n) for n in vetoed.names)}: removed "
            f"{r.get('background', 0)} background events, "
            f"{r.get('zero-lag', 0)} zero-lag events and the events of "
            f"{r.get('injections', 0)} found injections; background deadtime "
            f"{live.total_deadtime:,.0f} s of {live.total_analysed:,.0f} s analysed, "
            f"Tb = {vetoed.background.Tb:,.0f} s "
            f"({vetoed.background.Tb / 86400:.3f} days)."
        )
        if vetoed.zero_lag_livetime is not None and vetoed.zero_lag is not None:
            status += (
                f" Zero-lag livetime {vetoed.zero_lag.Tb:,.0f} s (deadtime "
                f"{vetoed.zero_lag_livetime.total_deadtime:,.0f} s)."
            )
        status += "".join(f"<br>{html.escape(n)}" for n in vetoed.notes)
    info = Div(
        text=f'<div class="veto-status"><b>Vetoes</b> (from <code>{folder}</code>). '
        f"{status}</div>",
        width=1200,
    )
    return column(row(checks, button), info)


# ---------------------------------------------------------------- tables
def _time_and_rate_columns() -> list[TableColumn]:
    """GPS, UTC, statistic, FAR (per year) and IFAR (years) columns."""
    sci = ScientificFormatter(precision=3)
    return [
        TableColumn(
            field="gps", title="GPS time (s)", formatter=NumberFormatter(format="0.000")
        ),
        TableColumn(field="utc", title="UTC", width=210),
        TableColumn(
            field="stat", title="statistic", formatter=NumberFormatter(format="0.0000")
        ),
        TableColumn(field="far", title="FAR (per year)", formatter=sci),
        TableColumn(field="ifar", title="IFAR (years)", formatter=sci),
    ]


def _table(columns: dict, with_p_astro: bool, height: int = 320) -> DataTable:
    link = HTMLTemplateFormatter(
        template='<a href="/inspector?kind=<%= kind %>&index=<%= index %>">inspect</a>'
    )
    table_columns = [
        TableColumn(field="index", title="event", width=50),
        *_time_and_rate_columns(),
    ]
    if with_p_astro:
        three = NumberFormatter(format="0.000")
        table_columns += [
            TableColumn(field="p_astro", title="p_astro", formatter=three),
            TableColumn(field="p_astro_low", title="p_astro (R low)", formatter=three),
            TableColumn(
                field="p_astro_high", title="p_astro (R high)", formatter=three
            ),
        ]
    table_columns += [
        TableColumn(field="shift", title="shift", width=140),
        TableColumn(field="kind", title="", formatter=link, sortable=False, width=60),
    ]
    return DataTable(
        source=ColumnDataSource(columns),
        columns=table_columns,
        sortable=True,
        width=1400,
        height=height,
        index_position=None,
    )


def alert_table(alerts: list[dict]) -> DataTable:
    """The online search's candidate files, latest first."""
    columns = [
        *_time_and_rate_columns(),
        TableColumn(field="stage", title="stage", width=200),
        TableColumn(field="file", title="file", width=260),
    ]
    return DataTable(
        source=ColumnDataSource(alert_columns(alerts)),
        columns=columns,
        sortable=True,
        width=1400,
        height=240,
        index_position=None,
    )


def search_tabs(
    search: CandidateSet | None, alerts: list[dict]
) -> tuple[list[TabPanel], list[str]]:
    """Tabs of the ``search`` script's candidates, offline and online."""
    tabs, notes = [], []
    if search is not None:
        cols = search_columns(search)
        tabs.append(
            TabPanel(
                child=_table(cols, False),
                title=f"Search candidates ({len(cols['index'])})",
            )
        )
        notes.append(
            f"search candidates: the search script's zero lag ranked against "
            f"{search.attrs['Tb'] / 86400:.3g} days of timeslides of the same "
            f"data (FAR at most {search.attrs.get('max_far_per_day', '?')}/day "
            f"listed; model {search.attrs['model']}); inspect replays them on "
            "the strain the search analysed"
        )
    if alerts:
        tabs.append(
            TabPanel(child=alert_table(alerts), title=f"Online alerts ({len(alerts)})")
        )
        notes.append(
            "online alerts: the files search --follow wrote (FAR from the "
            "experiment's background); the followed frames are not kept here, "
            "so they are listed without an inspector link"
        )
    return tabs, notes


def event_tables(
    vetoed: Vetoed,
    results,
    foreground,
    search: CandidateSet | None = None,
    alerts: list[dict] | None = None,
) -> tuple[Tabs, list[str], DataTable | None]:
    """The candidate tables; p_astro where the results allow it.

    Zero-lag events, then the ``search`` script's candidates and alerts when
    there are any, then the loudest background events.
    """
    notes = []
    model = None
    if results is None:
        notes.append(
            "no p_astro: it needs the sensitive-volume results "
            "(run the sensitive-volume step)"
        )
    else:
        try:
            model = p_astro_model(results, vetoed.background, foreground, vetoed.kept)
        except PAstroError as err:
            notes.append(f"no p_astro: {err}")
    tabs, zero_table = [], None
    if vetoed.zero_lag is not None:
        zl = event_columns(vetoed.zero_lag, vetoed.background, "zero-lag", model)
        zero_table = _table(zl, model is not None)
        tabs.append(
            TabPanel(
                child=zero_table,
                title=f"Zero-lag candidates ({len(zl['index'])})",
            )
        )
    else:
        notes.append("no zero-lag events (infer ran without zero-lag)")
    more, more_notes = search_tabs(search, alerts or [])
    tabs += more
    notes += more_notes
    bg = event_columns(
        vetoed.background, vetoed.background, "background", limit=BACKGROUND_ROWS
    )
    tabs.append(
        TabPanel(
            child=_table(bg, False),
            title=f"Loudest background events ({len(bg['index'])})",
        )
    )
    return Tabs(tabs=tabs), notes, zero_table


# ---------------------------------------------------------------- injections
def foreground_panel(foreground, threshold: float, floor: float, kept=None):
    """Detection statistic vs injected SNR, filtered by source masses and SNR."""
    p = foreground.parameters
    found = np.asarray(p["recovered"], bool) & np.isfinite(p["detection_statistic"])
    if kept is not None:
        found &= kept
    data = {
        "index": np.arange(len(foreground)),
        "snr": np.asarray(p["snr"], float),
        "stat": np.where(found, p["detection_statistic"], floor),
        "m1": np.asarray(p["mass_1_source"], float),
        "m2": np.asarray(p["mass_2_source"], float),
        "z": np.asarray(p["redshift"], float),
        "time": np.asarray(p["injection_time"], float),
    }
    sources = {
        "found": ColumnDataSource({k: v[found] for k, v in data.items()}),
        "missed": ColumnDataSource({k: v[~found] for k, v in data.items()}),
    }
    fig = figure(
        title="Injections: detection statistic vs injected network SNR "
        "(tap one to inspect it)",
        x_axis_type="log",
        x_axis_label="Injected network SNR",
        y_axis_label="Detection statistic",
        tools="pan,box_zoom,wheel_zoom,reset,tap,save",
        width=860,
        height=420,
    )
    fig.scatter(
        "snr",
        "stat",
        source=sources["found"],
        size=5,
        alpha=0.6,
        legend_label="matched to an event",
    )
    fig.scatter(
        "snr",
        "stat",
        source=sources["missed"],
        size=6,
        marker="x",
        color="grey",
        legend_label="missed (drawn at the bottom)",
    )
    if np.isfinite(threshold):
        fig.line(
            [float(data["snr"].min()), float(data["snr"].max())],
            [threshold, threshold],
            line_dash="dashed",
            line_color="firebrick",
            legend_label=f"threshold at FAR {far_of_label(FOUND_AT)}",
        )
    legend_beside(fig)
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("injection", "@index"),
                ("SNR", "@snr{0.0}"),
                ("statistic", "@stat{0.00}"),
                ("m1, m2 (source, M☉)", "@m1{0.0}, @m2{0.0}"),
                ("redshift", "@z{0.000}"),
            ]
        )
    )
    fig.select_one(TapTool).callback = OpenURL(
        url="/inspector?kind=foreground&index=@index", same_tab=True
    )
    fig.xaxis.ticker = FixedTicker(
        ticks=snr_ticks(float(data["snr"].min()), float(data["snr"].max()))
    )
    fig.xaxis.formatter = NumeralTickFormatter(format="0.[0]")

    sliders = {
        "m1": _slider("m1 (source frame, M☉)", data["m1"], 0.5),
        "m2": _slider("m2 (source frame, M☉)", data["m2"], 0.5),
        "snr": _slider("network SNR", data["snr"], 0.1),
    }

    def describe(keep: np.ndarray) -> str:
        hit = found & keep
        above = int((data["stat"][hit] >= threshold).sum())
        return (
            f"{int(keep.sum())} injections selected; {int(hit.sum())} matched to an "
            f"event, {above} above the threshold at FAR {far_of_label(FOUND_AT)} "
            "(dashed line)."
        )

    counts = Div(text=describe(np.ones(len(found), bool)), width=700)

    def update(attr, old, new):
        keep = np.ones(len(foreground), bool)
        for key, slider in sliders.items():
            lo, hi = slider.value
            keep &= (data[key] >= lo) & (data[key] <= hi)
        for name, mask in (("found", found), ("missed", ~found)):
            sources[name].data = {k: v[mask & keep] for k, v in data.items()}
        counts.text = describe(keep)

    for slider in sliders.values():
        slider.on_change("value_throttled", update)
    return column(fig, row(*sliders.values()), counts), sliders


def injection_views(experiment: Experiment, vetoed: Vetoed, foreground):
    """Found/missed by chirp mass and distance, and found fraction by chirp mass."""
    background = vetoed.background
    threshold = threshold_at_far(background, FOUND_AT, unit="day")
    views = []
    if np.isfinite(threshold):
        columns, found = found_missed_columns(
            foreground, background, threshold, vetoed.kept
        )
        fig = found_missed_figure(
            columns, found, FOUND_AT * DAYS_PER_YEAR, width=700, height=420
        )
        fig.select_one(TapTool).callback = OpenURL(
            url="/inspector?kind=foreground&index=@index", same_tab=True
        )
        views.append(fig)
    else:
        views.append(
            note(
                f"No found/missed view: the background does not resolve a FAR of "
                f"{far_of_label(FOUND_AT)}."
            )
        )
    try:
        rejected = experiment.rejected()
    except MissingArtifact as err:
        views.append(note(f"No chirp-mass view: {html.escape(str(err))}."))
        return row(*views)
    draws = campaign(foreground, rejected, found=vetoed.kept)
    thresholds = {
        label: threshold_at_far(background, rate, unit="day")
        for label, rate in MARKS.items()
    }
    curves = chirp_mass_curves(draws, thresholds)
    if curves:
        fig = binned_efficiency_figure(curves, width=700, height=420)
        explain = Div(
            text=(
                '<div style="font-size:small;max-width:680px">The fraction of all '
                "the campaign's draws (accepted and rejected) in each source-frame "
                "chirp-mass bin whose statistic reaches the threshold, with 68% "
                "Wilson intervals: unweighted, so within each bin the draws follow "
                "the injection prior. It ranks the bins' sensitivity; a volume per "
                "bin needs the importance weights of the sensitive-volume step.</div>"
            ),
            width=700,
        )
        views.append(column(fig, explain))
    else:
        views.append(note("No chirp-mass view: the background resolves no FAR."))
    return row(*views)


# ---------------------------------------------------------------- time
def time_panel(background, zero_lag) -> figure:
    """Background and zero-lag events against UTC time; hover gives the GPS time."""
    fig = figure(
        title="Events vs time (UTC, H1 axis; tap one to inspect it)",
        x_axis_type="datetime",
        x_axis_label="Time (UTC)",
        y_axis_label="Detection statistic",
        tools="pan,box_zoom,wheel_zoom,reset,tap,save",
        width=1400,
        height=320,
    )
    renderers = []
    for kind, events, style in (
        ("background", background, dict(size=4, alpha=0.4)),
        ("zero-lag", zero_lag, dict(size=7, color="firebrick", marker="diamond")),
    ):
        if events is None or len(events) == 0:
            continue
        p = events.parameters
        stat = np.asarray(p["detection_statistic"], float)
        order = np.argsort(stat)[::-1][:MAX_TIME_POINTS]
        gps = np.asarray(p["detection_time"], float)[order]
        source = ColumnDataSource(
            {
                "index": order,
                "kind": [kind] * len(order),
                "utc": gps_to_utc_ms(gps),
                "utc_text": gps_to_utc_iso(gps),
                "gps": gps,
                "stat": stat[order],
                "shift": shift_labels(np.asarray(p["shift"])[order], events.ifos),
            }
        )
        label = f"{kind} events"
        if len(stat) > MAX_TIME_POINTS:
            label += f" (the loudest {MAX_TIME_POINTS} of {len(stat)})"
        renderers.append(
            fig.scatter("utc", "stat", source=source, legend_label=label, **style)
        )
    fig.add_tools(
        HoverTool(
            renderers=renderers,
            tooltips=[
                ("event", "@kind @index"),
                ("UTC", "@utc_text"),
                ("GPS", "@gps{0.000}"),
                ("statistic", "@stat{0.000}"),
                ("shifts", "@shift"),
            ],
        )
    )
    fig.select_one(TapTool).callback = OpenURL(
        url="/inspector?kind=@kind&index=@index", same_tab=True
    )
    legend_beside(fig)
    return fig


# ---------------------------------------------------------------- the page
def content(experiment: Experiment, arguments: Mapping[str, list[bytes]]):
    """The page's content for a request's query arguments.

    Args:
        experiment: the artifacts to show
        arguments: the URL's query (``vetoes``)

    Returns:
        the layout
    """
    background = experiment.background()
    foreground = experiment.foreground()
    zero_lag = experiment.zero_lag()
    ifos = list(background.ifos)
    names = selected_vetoes(arguments)
    error = None
    try:
        vetoed = apply(experiment, background, zero_lag, foreground, names)
    except (VetoError, MissingArtifact) as err:
        error = str(err)
        vetoed = apply(experiment, background, zero_lag, foreground, [])
    bg = vetoed.background
    stats = bg.parameters["detection_statistic"]
    marks = {
        label: threshold_at_far(bg, rate, unit="day") for label, rate in MARKS.items()
    }
    zl_stats = (
        vetoed.zero_lag.parameters["detection_statistic"]
        if vetoed.zero_lag is not None
        else None
    )
    survival = survival_figure(stats, bg.Tb, zl_stats, marks, width=700, height=420)
    views = [survival]
    if vetoed.zero_lag is not None and len(vetoed.zero_lag):
        data = cumulative_ifar(stats, bg.Tb, zl_stats, vetoed.zero_lag.Tb)
        views.append(cumulative_ifar_figure(data, width=700, height=420))
    else:
        views.append(note("No cumulative IFAR: there are no zero-lag events."))
    try:
        results = experiment.results()
    except MissingArtifact:
        results = None
    search_notes = []
    try:
        search = experiment.search_candidates()
    except MissingArtifact as err:
        search, search_notes = None, [f"search candidates not shown: {err}"]
    tables, table_notes, _ = event_tables(
        vetoed, results, foreground, search, experiment.alerts()
    )
    table_notes += search_notes
    table_words = Div(
        text=(
            '<div style="max-width:1400px"><b>Candidates.</b> Click a column to '
            "sort; <i>inspect</i> re-runs the search around the event. FAR per "
            "year against the (vetoed) background, IFAR = 1/FAR in years."
            + "".join(f"<br>{html.escape(n)}" for n in table_notes)
            + "</div>"
        ),
        width=1400,
    )
    floor = float(np.min(stats)) - 1.0
    fg_panel, _ = foreground_panel(
        foreground, marks[f"FAR {far_of_label(FOUND_AT)}"], floor, vetoed.kept
    )
    return column(
        header("analysis", experiment),
        veto_panel(experiment, ifos, vetoed if error is None else None, error),
        row(*views),
        table_words,
        tables,
        Div(text=p_astro_words(), width=1400),
        injection_views(experiment, vetoed, foreground),
        fg_panel,
        time_panel(bg, vetoed.zero_lag),
    )


def build(doc: Document, experiment: Experiment) -> None:
    """Add the analysis page to ``doc``.

    Args:
        doc: the session's document
        experiment: the artifacts to show
    """
    doc.add_root(content(experiment, query_arguments(doc)))
