"""The analysis page: background survival, foreground scatter, events in time.

Tapping an injection or a background event opens it in the inspector.
"""

from __future__ import annotations

import numpy as np
from bokeh.document import Document
from bokeh.layouts import column, row
from bokeh.models import (
    ColumnDataSource,
    Div,
    HoverTool,
    OpenURL,
    RangeSlider,
    Span,
    TapTool,
)
from bokeh.plotting import figure

from aframe.ledger.far import threshold_at_far
from aframe.plots.figures import survival_figure
from vizapp.experiment import Experiment
from vizapp.layout import header

#: FAR thresholds marked on the plots, per day
MARKS = {"1 per hour": 24.0, "1 per day": 1.0}
#: background events drawn against time, the loudest first
MAX_TIME_POINTS = 20_000


def shift_labels(shift: np.ndarray, ifos: list[str]) -> list[str]:
    """``H1 +0 s, L1 +12 s`` for each row of a (N, n_ifo) shift array."""
    return [", ".join(f"{i} {s:+g} s" for i, s in zip(ifos, row)) for row in shift]


def _slider(title: str, values: np.ndarray, step: float) -> RangeSlider:
    lo, hi = float(np.floor(values.min())), float(np.ceil(values.max()))
    hi = max(hi, lo + step)
    return RangeSlider(
        title=title, start=lo, end=hi, value=(lo, hi), step=step, width=300
    )


def foreground_panel(foreground, threshold: float, floor: float):
    """Detection statistic vs injected SNR, filtered by source masses and SNR."""
    p = foreground.parameters
    found = np.asarray(p["recovered"], bool) & np.isfinite(p["detection_statistic"])
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
        width=700,
        height=420,
    )
    fig.scatter(
        "snr", "stat", source=sources["found"], size=5, alpha=0.6, legend_label="found"
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
        fig.add_layout(
            Span(
                location=threshold,
                dimension="width",
                line_dash="dashed",
                line_color="firebrick",
            )
        )
    fig.legend.location = "top_left"
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
            f"event, {above} above the 1-per-day threshold (dashed line)."
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


def background_time_panel(background) -> figure:
    """Background events against GPS time, hover showing each detector's shift."""
    p = background.parameters
    stat = np.asarray(p["detection_statistic"], float)
    order = np.argsort(stat)[::-1][:MAX_TIME_POINTS]
    shift = np.asarray(p["shift"], float)[order]
    source = ColumnDataSource(
        {
            "index": order,
            "time": np.asarray(p["detection_time"], float)[order],
            "stat": stat[order],
            "shift": shift_labels(shift, background.ifos),
        }
    )
    title = "Background events vs GPS time (H1 axis; tap one to inspect it)"
    if len(stat) > MAX_TIME_POINTS:
        title += f": the loudest {MAX_TIME_POINTS} of {len(stat)}"
    fig = figure(
        title=title,
        x_axis_label="GPS time (s)",
        y_axis_label="Detection statistic",
        tools="pan,box_zoom,wheel_zoom,reset,tap,save",
        width=1400,
        height=320,
    )
    fig.scatter("time", "stat", source=source, size=4, alpha=0.5)
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("event", "@index"),
                ("GPS", "@time{0.000}"),
                ("statistic", "@stat{0.000}"),
                ("shifts", "@shift"),
            ]
        )
    )
    fig.xaxis.formatter.use_scientific = False
    fig.select_one(TapTool).callback = OpenURL(
        url="/inspector?kind=background&index=@index", same_tab=True
    )
    return fig


def build(doc: Document, experiment: Experiment) -> None:
    """Add the analysis page to ``doc``.

    Args:
        doc: the session's document
        experiment: the artifacts to show
    """
    background = experiment.background()
    foreground = experiment.foreground()
    zero_lag = experiment.zero_lag()
    stats = background.parameters["detection_statistic"]
    marks = {
        label: threshold_at_far(background, rate, unit="day")
        for label, rate in MARKS.items()
    }
    survival = survival_figure(
        stats,
        background.Tb,
        zero_lag.parameters["detection_statistic"] if zero_lag is not None else None,
        marks,
        width=700,
        height=420,
    )
    floor = float(np.min(stats)) - 1.0
    fg_panel, _ = foreground_panel(foreground, marks["1 per day"], floor)
    doc.add_root(
        column(
            header("analysis", experiment),
            row(survival, fg_panel),
            background_time_panel(background),
        )
    )
