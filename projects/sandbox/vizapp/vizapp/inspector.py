"""The event inspector page: strain, network output and Q-scans around one event.

Pick an event from the menu, or arrive from the analysis page with
``/inspector?kind=background&index=12``. The search is replayed around it
(``vizapp.inspection``): the output panel shows the statistic the replay
finds at the recorded time beside the recorded one. Strain, Q-scans and
outputs share one time window (zooming one zooms all) and mark the event at
0; a link naming no valid event says what is wrong instead of showing
another event.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping

import numpy as np
from bokeh.document import Document
from bokeh.layouts import column, row
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    Div,
    FixedTicker,
    LinearColorMapper,
    Range1d,
    Select,
    Span,
)
from bokeh.palettes import Category10_10, Viridis256
from bokeh.plotting import figure

from aframe.ledger import CandidateSet
from aframe.plots.figures import legend_beside
from aframe.plots.timeaxis import gps_to_utc_iso
from vizapp.experiment import Experiment, MissingArtifact
from vizapp.inspection import (
    Candidate,
    InspectionError,
    Inspector,
    SearchSettings,
    candidate,
    menu,
    parse_query,
)
from vizapp.layout import header, query_arguments

logger = logging.getLogger(__name__)

#: Q-scan frequencies labelled on the log axis, Hz (the 1-2-5 ones only where
#: the axis spans so few octaves that the powers of two alone are too sparse)
Q_TICKS = (16, 32, 64, 128, 256, 512, 1024)
Q_EXTRA_TICKS = (20, 50, 100, 200, 500)


def q_ticks(low: float, high: float) -> list[float]:
    """Labelled frequencies (Hz) of a Q-scan spanning ``[low, high]``."""
    ticks = [f for f in Q_TICKS if low <= f <= high]
    if len(ticks) < 4:
        ticks = sorted(ticks + [f for f in Q_EXTRA_TICKS if low <= f <= high])
    return ticks


def _settings(experiment: Experiment, events) -> SearchSettings:
    defaults = SearchSettings(
        inference_sampling_rate=experiment.inference_sampling_rate,
        integration_length=experiment.integration_length,
    )
    return SearchSettings.of(events, defaults)


def _model(experiment: Experiment, settings: SearchSettings):
    """The model version that made the events, or the latest with a note."""
    version = settings.model_version
    if version is not None:
        try:
            return experiment.model(version), None
        except MissingArtifact as err:
            model = experiment.model()
            return model, (
                f"version {version} of the model is not in the repository "
                f"({err.reason}): using {model.key}"
            )
    return experiment.model(), None


def _marker(fig: figure, location: float, color: str, dash: str = "solid") -> Span:
    span = Span(
        location=location,
        dimension="height",
        line_color=color,
        line_dash=dash,
        line_width=1.5,
    )
    fig.add_layout(span)
    return span


class SearchReplays:
    """The inspector that replays each kind of event, with its model's note.

    Events of the experiment (background, zero-lag, injections) replay on the
    test background; an offline search's candidates on the strain that search
    analysed (``search/data``), with the settings and model version its
    ``candidates.hdf5`` records. The search's replay is built on first use.

    Args:
        experiment: the artifacts
        inspector: the experiment's inspector
        model_note: a remark on the experiment's model version (or None)
        search: the offline search's candidates (or None)
    """

    def __init__(
        self,
        experiment: Experiment,
        inspector: Inspector,
        model_note: str | None,
        search: CandidateSet | None,
    ):
        self.experiment = experiment
        self.inspector, self.model_note = inspector, model_note
        self.search = search
        self._search: tuple[Inspector, str | None] | None = None

    def of(self, c: Candidate) -> tuple[Inspector, str | None]:
        """The inspector for ``c`` and a remark on its model (or None).

        Raises:
            MissingArtifact: the search's strain or model is missing
        """
        if c.kind != "search":
            return self.inspector, self.model_note
        if self._search is None:
            settings = _settings(self.experiment, self.search)
            model, note = _model(self.experiment, settings)
            ifos = list(self.search.ifos)
            files = self.experiment.search_strain(ifos)
            self._search = (Inspector(model, files, None, settings), note)
        return self._search


def content(experiment: Experiment, arguments: Mapping[str, list[bytes]]):
    """The inspector's content for a request's query arguments.

    Args:
        experiment: the artifacts to show
        arguments: the URL's query (``kind``, ``index``)

    Returns:
        ``(layout, show)``: the layout and the function that fills it for a
        candidate (for tests)
    """
    background = experiment.background()
    zero_lag = experiment.zero_lag()
    try:
        foreground = experiment.foreground()
    except MissingArtifact:
        foreground = None
    settings = _settings(experiment, background)
    model, model_note = _model(experiment, settings)
    files = experiment.test_background(list(background.ifos))
    injections = (
        experiment.injections_path if experiment.injections_path.is_file() else None
    )
    inspector = Inspector(
        model, files, str(injections) if injections else None, settings
    )
    ifos = list(inspector.config.ifos)
    half = inspector.half_width
    search, search_note = None, None
    try:
        search = experiment.search_candidates()
    except MissingArtifact as err:
        search_note = str(err)
    replays = SearchReplays(experiment, inspector, model_note, search)

    choices = menu(background, zero_lag, foreground, search=search)
    chosen, problem = None, None
    try:
        wanted = parse_query(arguments)
        if wanted is not None:
            chosen = candidate(*wanted, background, zero_lag, foreground, search)
        elif choices:
            chosen = choices[0]
    except InspectionError as err:
        problem = str(err)
    if chosen is not None and chosen.key not in {c.key for c in choices}:
        choices.insert(0, chosen)
    by_key = {c.key: c for c in choices}
    options = [(c.key, c.label) for c in choices]
    if problem is not None:
        options.insert(0, ("", "(choose an event)"))
    select = Select(
        title="Event",
        options=options,
        value=chosen.key if chosen else "",
        width=1300,
    )
    status = Div(text="", width=1300, css_classes=["inspector-status"])

    x_range = Range1d(-half, half)
    tools = "pan,xwheel_zoom,box_zoom,reset,save"
    time_label = "Time from the event (s, H1 axis)"

    strain_src = {ifo: ColumnDataSource({"t": [], "h": []}) for ifo in ifos}
    strain = figure(
        title="Whitened strain (each detector at its shift; offset per detector)",
        x_axis_label=time_label,
        y_axis_label="Whitened strain (σ)",
        x_range=x_range,
        width=700,
        height=320,
        tools=tools,
    )
    for i, ifo in enumerate(ifos):
        strain.line(
            "t", "h", source=strain_src[ifo], color=Category10_10[i], legend_label=ifo
        )

    streams = ("background", "foreground")
    raw_src = {s: ColumnDataSource({"t": [], "y": []}) for s in streams}
    int_src = {s: ColumnDataSource({"t": [], "y": []}) for s in streams}
    event_src = {s: ColumnDataSource({"t": [], "y": []}) for s in streams}
    recorded_src = ColumnDataSource({"t": [], "y": []})
    output = figure(
        title="Network output, replayed as the search ran it",
        x_axis_label=f"{time_label}: kernel end − calibrated offset",
        y_axis_label="Network output (logit)",
        x_range=x_range,
        width=700,
        height=320,
        tools=tools,
    )
    for i, name in enumerate(streams):
        label = "without injection" if name == "background" else "with injection"
        color = Category10_10[i]
        output.scatter(
            "t",
            "y",
            source=raw_src[name],
            color=color,
            size=3,
            alpha=0.5,
            legend_label=f"raw, {label}",
        )
        output.line(
            "t",
            "y",
            source=int_src[name],
            color=color,
            line_width=2,
            legend_label=f"integrated, {label}",
        )
        output.scatter(
            "t",
            "y",
            source=event_src[name],
            color=color,
            size=9,
            marker="circle_cross",
            legend_label=f"events, {label}",
        )
    output.scatter(
        "t",
        "y",
        source=recorded_src,
        marker="diamond",
        size=14,
        fill_alpha=0,
        line_color="firebrick",
        line_width=2,
        legend_label="recorded event",
    )
    legend_beside(output)
    legend_beside(strain)

    q_src = {
        ifo: ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        for ifo in ifos
    }
    mappers = {
        ifo: LinearColorMapper(palette=Viridis256, low=0, high=25) for ifo in ifos
    }
    qscans = []
    for ifo in ifos:
        q = figure(
            title=f"{ifo} Q-scan (whitened, log frequency)",
            x_axis_label=time_label,
            y_axis_label="Frequency (Hz)",
            x_range=x_range,
            width=700,
            height=300,
            tools=tools,
        )
        q.image(
            image="image",
            x="x",
            y="y",
            dw="dw",
            dh="dh",
            source=q_src[ifo],
            color_mapper=mappers[ifo],
        )
        # log frequency: rows are log-spaced, drawn on a log10(f) axis
        # labelled in Hz (the ticks follow each scan's range in ``show``)
        labels = [*Q_TICKS, *Q_EXTRA_TICKS]
        q.yaxis.ticker = FixedTicker(ticks=[float(np.log10(f)) for f in Q_TICKS])
        q.yaxis.major_label_overrides = {float(np.log10(f)): f"{f:g}" for f in labels}
        q.add_layout(
            ColorBar(
                color_mapper=mappers[ifo],
                width=12,
                title="Normalised energy",
                title_text_font_size="10px",
            ),
            "right",
        )
        qscans.append(q)

    markers = []
    for fig in (strain, output, *qscans):
        markers.append(_marker(fig, 0.0, "firebrick"))
    mergers = [_marker(fig, 0.0, "black", "dashed") for fig in (strain, output)]

    def clear() -> None:
        for source in (*strain_src.values(), *raw_src.values(), *int_src.values()):
            source.data = {k: [] for k in source.data}
        for source in (*event_src.values(), recorded_src, *q_src.values()):
            source.data = {k: [] for k in source.data}

    def show(c: Candidate) -> None:
        try:
            active, note = replays.of(c)
            result = active(c)
        except (InspectionError, MissingArtifact, ValueError) as err:
            logger.info("inspector: %s", err)
            clear()
            status.text = (
                f"<b>{html.escape(c.label)}</b><br>"
                f'<span class="inspector-error" style="color:#b00">cannot re-analyse '
                f"this event: {html.escape(str(err))}</span>"
            )
            return
        for i, ifo in enumerate(ifos):
            strain_src[ifo].data = {
                "t": result.strain_times,
                "h": result.whitened[ifo] + 8 * (len(ifos) - 1 - i),
            }
        empty = {"t": [], "y": []}
        for name in streams:
            # a background event has no injected stream: clear the last one's
            ran = name in result.outputs
            t = result.output_times
            raw_src[name].data = (
                {"t": t, "y": result.outputs[name]} if ran else dict(empty)
            )
            int_src[name].data = (
                {"t": t, "y": result.integrated[name]} if ran else dict(empty)
            )
            stats, times = result.events.get(name, ([], []))
            inside = (np.asarray(times) >= -half) & (np.asarray(times) <= half)
            event_src[name].data = (
                {"t": np.asarray(times)[inside], "y": np.asarray(stats)[inside]}
                if ran
                else dict(empty)
            )
        recorded_src.data = {"t": [0.0], "y": [c.statistic]} if c.found else dict(empty)
        for ifo in ifos:
            t, f, e = result.qscans[ifo]
            logf = np.log10(f)
            step = (logf[-1] - logf[0]) / max(len(logf) - 1, 1)
            q_src[ifo].data = {
                "image": [e],
                "x": [t[0]],
                "y": [logf[0] - step / 2],
                "dw": [t[-1] - t[0]],
                "dh": [logf[-1] - logf[0] + step],
            }
            mappers[ifo].high = max(float(np.nanmax(e)), 1.0)
            qscan = qscans[ifos.index(ifo)]
            qscan.yaxis.ticker.ticks = [
                float(np.log10(v)) for v in q_ticks(float(f[0]), float(f[-1]))
            ]
        merger = result.merger_time
        for span in mergers:
            span.location = merger if merger is not None else 0.0
            span.visible = merger is not None
        utc = gps_to_utc_iso(c.time)[0]
        lines = [
            f"<b>{html.escape(c.label)}</b>",
            f"UTC {utc} (GPS {c.time:.3f}); red line: the event"
            + (", dashed: the injected merger" if merger is not None else ""),
        ]
        if result.statistic is not None:
            lines.append(
                f'<span class="replayed-statistic">replayed statistic '
                f"{result.statistic:.6f}, recorded {c.statistic:.6f}</span>"
            )
        notes = [*result.notes, *([note] if note else [])]
        status.text = (
            "<br>".join(lines)
            + "<ul>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in notes)
            + "</ul>"
        )

    def on_select(attr, old, new):
        if new in by_key:
            show(by_key[new])

    select.on_change("value", on_select)
    if problem is not None:
        status.text = (
            f'<div class="inspector-error" style="color:#b00"><b>This link names no '
            f"event:</b> {html.escape(problem)}. Choose one from the menu.</div>"
        )
    elif chosen is not None:
        show(chosen)
    else:
        status.text = "No events to inspect: the event files are empty."
    if search_note is not None:
        status.text += (
            f'<div style="color:#b00">search candidates not shown: '
            f"{html.escape(search_note)}</div>"
        )
    layout = column(
        header("inspector", experiment),
        select,
        status,
        row(strain, output),
        row(*qscans),
    )
    return layout, show


def build(doc: Document, experiment: Experiment) -> None:
    """Add the inspector page to ``doc``.

    Args:
        doc: the session's document
        experiment: the artifacts to show
    """
    layout, _ = content(experiment, query_arguments(doc))
    doc.add_root(layout)
