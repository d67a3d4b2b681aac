"""The event inspector page: strain, network output and Q-scans around one event.

Pick an event from the menu, or arrive from the analysis page with
``/inspector?kind=background&index=12``. The network is re-run locally on the
test background (``vizapp.inspection``).
"""

from __future__ import annotations

import html
import logging

import numpy as np
from bokeh.document import Document
from bokeh.layouts import column, row
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    Div,
    LinearColorMapper,
    Select,
    Span,
)
from bokeh.palettes import Category10_10, Viridis256
from bokeh.plotting import figure

from vizapp.experiment import Experiment, MissingArtifact
from vizapp.inspection import (
    KINDS,
    Candidate,
    InspectionError,
    Inspector,
    candidate,
    menu,
)
from vizapp.layout import header

logger = logging.getLogger(__name__)


def _query(doc: Document) -> tuple[str, int] | None:
    """``kind`` and ``index`` from the page's URL, if given."""
    context = doc.session_context
    request = getattr(context, "request", None) if context else None
    args = getattr(request, "arguments", None) or {}
    try:
        kind = args["kind"][0].decode()
        index = int(args["index"][0].decode())
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        return None
    return (kind, index) if kind in KINDS else None


def _setting(events, name: str, default: float) -> float:
    value = events.attrs.get(name) if events is not None else None
    return float(value) if value is not None else default


def build(doc: Document, experiment: Experiment) -> None:
    """Add the inspector page to ``doc``.

    Args:
        doc: the session's document
        experiment: the artifacts to show
    """
    background = experiment.background()
    zero_lag = experiment.zero_lag()
    try:
        foreground = experiment.foreground()
    except MissingArtifact:
        foreground = None
    model = experiment.model()
    files = experiment.test_background(list(background.ifos))
    injections = (
        experiment.injections_path if experiment.injections_path.is_file() else None
    )
    inspector = Inspector(
        model,
        files,
        str(injections) if injections else None,
        _setting(
            background, "inference_sampling_rate", experiment.inference_sampling_rate
        ),
        _setting(background, "integration_length", experiment.integration_length),
    )
    ifos = list(inspector.config.ifos)

    choices = menu(background, zero_lag, foreground)
    wanted = _query(doc)
    if wanted is not None:
        try:
            chosen = candidate(*wanted, background, zero_lag, foreground)
        except InspectionError:
            chosen = choices[0] if choices else None
    else:
        chosen = choices[0] if choices else None
    if chosen is not None and chosen.key not in {c.key for c in choices}:
        choices.insert(0, chosen)
    by_key = {c.key: c for c in choices}
    select = Select(
        title="Event",
        options=[(c.key, c.label) for c in choices],
        value=chosen.key if chosen else "",
        width=1200,
    )
    status = Div(text="", width=1200, css_classes=["inspector-status"])

    strain_src = {ifo: ColumnDataSource({"t": [], "h": []}) for ifo in ifos}
    strain = figure(
        title="Whitened strain (each detector at its shift)",
        x_axis_label="Time from the event (s, H1 axis)",
        y_axis_label="Whitened strain (σ), offset per detector",
        width=620,
        height=320,
        tools="pan,box_zoom,wheel_zoom,reset,save",
    )
    for i, ifo in enumerate(ifos):
        strain.line(
            "t", "h", source=strain_src[ifo], color=Category10_10[i], legend_label=ifo
        )

    streams = ("background", "foreground")
    raw_src = {s: ColumnDataSource({"t": [], "y": []}) for s in streams}
    int_src = {s: ColumnDataSource({"t": [], "y": []}) for s in streams}
    output = figure(
        title="Network output around the event",
        x_axis_label="Time from the event (s), kernel end",
        y_axis_label="Network output (logit)",
        width=620,
        height=320,
        tools="pan,box_zoom,wheel_zoom,reset,save",
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
    output.legend.location = "top_left"
    output.add_layout(Span(location=0, dimension="height", line_dash="dashed"))

    q_src = {
        ifo: ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        for ifo in ifos
    }
    mapper = LinearColorMapper(palette=Viridis256, low=0, high=25)
    qscans = []
    for ifo in ifos:
        q = figure(
            title=f"{ifo} Q-scan (normalised energy)",
            x_axis_label="Time from the event (s)",
            y_axis_label="Frequency (Hz)",
            width=620,
            height=300,
            tools="pan,box_zoom,wheel_zoom,reset,save",
        )
        q.image(
            image="image",
            x="x",
            y="y",
            dw="dw",
            dh="dh",
            source=q_src[ifo],
            color_mapper=mapper,
        )
        qscans.append(q)
    qscans[-1].add_layout(ColorBar(color_mapper=mapper, width=10), "right")

    def show(c: Candidate) -> None:
        try:
            result = inspector(c)
        except (InspectionError, MissingArtifact, ValueError) as err:
            logger.info("inspector: %s", err)
            status.text = (
                f"<b>{html.escape(c.label)}</b><br>"
                f'<span style="color:#b00">cannot re-analyse this event: '
                f"{html.escape(str(err))}</span>"
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
                {"t": t, "y": result.outputs[name]} if ran else {**empty}
            )
            int_src[name].data = (
                {"t": t, "y": result.integrated[name]} if ran else dict(empty)
            )
        peak = 0.0
        for ifo in ifos:
            t, f, e = result.qscans[ifo]
            q_src[ifo].data = {
                "image": [e],
                "x": [t[0]],
                "y": [f[0]],
                "dw": [t[-1] - t[0]],
                "dh": [f[-1] - f[0]],
            }
            peak = max(peak, float(np.nanmax(e)))
        mapper.high = max(peak, 1.0)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
        status.text = f"<b>{html.escape(c.label)}</b><ul>{notes}</ul>"

    def on_select(attr, old, new):
        if new in by_key:
            show(by_key[new])

    select.on_change("value", on_select)
    if chosen is not None:
        show(chosen)
    else:
        status.text = "No events to inspect: the event files are empty."
    doc.add_root(
        column(
            header("inspector", experiment),
            select,
            status,
            row(strain, output),
            row(*qscans),
        )
    )
