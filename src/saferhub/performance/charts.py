"""Charts of performance figures: Vega-Lite specifications built with Altair and drawn on the
server as SVG (or PNG for Word), so no page runs Vega's JavaScript. Each chart carries a one-sentence
text alternative; the pages and documents put its data table beside it."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import altair as alt
import vl_convert

from saferhub.core.formatting import number
from saferhub.performance.models import Unit

FONT = "Arial, Helvetica, sans-serif"
TEXT = "#0b0c0c"
SECONDARY_TEXT = "#505a5f"
GRID = "#dee0e2"
# GOV.UK colours with at least 3:1 contrast against white (WCAG 1.4.11), newest series first:
# blue, purple, dark grey, dark blue, green, pink, red, brown, light purple, magenta.
SERIES_COLOURS = ["#1d70b8", "#4c2c92", "#505a5f", "#003078", "#00703c", "#d53880", "#d4351c", "#7f5f37", "#6f72af", "#912b88"]
BAR = "#1d70b8"
TARGET = "#0b0c0c"
WIDTH = 420
# d3-format: thousands separators, at most one decimal place, trailing zeros dropped.
VALUE_FORMAT = ",.1~f"


def _config(chart):
    return (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(labelColor=TEXT, titleColor=TEXT, labelFontSize=12, titleFontSize=13, titleFontWeight="normal",
                        gridColor=GRID, domainColor=SECONDARY_TEXT, tickColor=SECONDARY_TEXT, labelLimit=220)
        .configure_legend(labelColor=TEXT, titleColor=TEXT, labelFontSize=12, titleFontSize=13, orient="bottom",
                          labelLimit=0)
        .configure_title(color=TEXT, fontSize=15, anchor="start", fontWeight="bold")
    )


def unit_label(unit: str) -> str:
    return {Unit.HOURS: "Hours", Unit.PERCENT: "Per cent", Unit.POUNDS: "Pounds"}.get(unit, "Number")


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "not shown"
    return f"{number(value)}%" if unit == Unit.PERCENT else number(value)


def in_sentence(name: str) -> str:
    """A name as it reads inside a sentence: 'Enquiries received' becomes 'enquiries received', but
    'IDAS referrals' and 'SOLOs' keep their capitals."""
    if len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@lru_cache(maxsize=512)
def _svg(spec_json: str) -> str:
    # No base URL is allowed: a chart's data is always inline, and nothing is ever fetched.
    return vl_convert.vegalite_to_svg(json.loads(spec_json), allowed_base_urls=[])


@lru_cache(maxsize=2048)
def _spec_json(kind: str, title: str, data_json: str) -> str:
    spec = BUILDERS[kind](title, **json.loads(data_json))
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


@dataclass
class Chart:
    """A chart's kind, its data and its text alternative; the specification is built only when the
    chart is drawn, so a page listing many charts costs nothing until their images are asked for."""

    key: str
    kind: str  # grouped_bars, trend, bars, targets
    title: str
    alt: str
    data: dict = field(default_factory=dict)

    @property
    def spec(self) -> dict:
        return json.loads(self.spec_json)

    @cached_property
    def spec_json(self) -> str:
        # Altair takes tens of milliseconds to build a specification: a chart drawn before (the
        # same kind, title and data) reuses it, so a chart image already drawn costs almost nothing.
        return _spec_json(self.kind, self.title, json.dumps(self.data, sort_keys=True, separators=(",", ":")))

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.spec_json.encode()).hexdigest()[:16]

    def svg(self) -> str:
        return _svg(self.spec_json)

    def svg_data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg().encode("utf-8")).decode("ascii")

    def png(self, scale: float = 2) -> bytes:
        return vl_convert.vegalite_to_png(self.spec, scale=scale, allowed_base_urls=[])


# --- Specifications ------------------------------------------------------------------------------

def _grouped_bars_spec(title, *, categories, series, unit, category_title):
    """Vertical bars, one group per category (e.g. month), one bar per series (e.g. year)."""
    rows = [{"category": c, "series": name, "value": v}
            for name, values in series for c, v in zip(categories, values) if v is not None]
    names = [name for name, _ in series]
    colours = list(reversed(SERIES_COLOURS[:len(names)]))
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("category:N", sort=categories, title=category_title, scale=alt.Scale(domain=categories), axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("series:N", sort=names),
        y=alt.Y("value:Q", title=unit_label(unit)),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("series:N", sort=names, scale=alt.Scale(domain=names, range=colours), title=None),
    )
    labels = base.mark_text(dy=-6, fontSize=11, color=TEXT).encode(text=alt.Text("value:Q", format=VALUE_FORMAT))
    chart = alt.layer(bars, labels).properties(title=title, width=WIDTH, height=260)
    return _config(chart).to_dict(validate=False)


def _trend_spec(title, *, labels, values, unit):
    rows = [{"period": label, "value": v} for label, v in zip(labels, values) if v is not None]
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("period:N", sort=labels, title=None, scale=alt.Scale(domain=labels), axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("value:Q", title=unit_label(unit)),
    )
    line = base.mark_line(color=BAR, strokeWidth=3, point=alt.OverlayMarkDef(color=BAR, size=60, filled=True))
    text = base.mark_text(dy=-12, fontSize=11, color=TEXT).encode(text=alt.Text("value:Q", format=VALUE_FORMAT))
    chart = alt.layer(line, text).properties(title=title, width=WIDTH, height=240)
    return _config(chart).to_dict(validate=False)


def _bars_spec(title, *, categories, series, unit):
    """Horizontal bars, one row per category (e.g. referrer agency), grouped when several series."""
    rows = [{"category": c, "series": name, "value": v}
            for name, values in series for c, v in zip(categories, values) if v is not None]
    names = [name for name, _ in series]
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("category:N", sort=categories, title=None, scale=alt.Scale(domain=categories)),
        x=alt.X("value:Q", title=unit_label(unit)),
    )
    if len(names) > 1:
        base = base.encode(yOffset=alt.YOffset("series:N", sort=names))
        bars = base.mark_bar().encode(color=alt.Color(
            "series:N", sort=names, scale=alt.Scale(domain=names, range=SERIES_COLOURS[:len(names)]), title=None,
            legend=alt.Legend(direction="vertical")))
    else:
        bars = base.mark_bar(color=BAR)
    labels = base.mark_text(align="left", dx=4, fontSize=11, color=TEXT).encode(
        text=alt.Text("value:Q", format=VALUE_FORMAT))
    # Room for each category's bars (and the value labels beside them) whatever the number of series.
    step = 22 if len(names) == 1 else 14 * len(names) + 6
    chart = alt.layer(bars, labels).properties(title=title, width=WIDTH - 120, height=max(66, step * len(categories)))
    return _config(chart).to_dict(validate=False)


def _targets_spec(title, *, rows):
    """Each target's latest figure as a share of the target (bars), with a rule at 100%."""
    values = [{"label": r["label"], "share": r["actual"] / r["target"] * 100 if r["target"] else 0,
               "text": f"{number(r['actual'])} of {number(r['target'])}"} for r in rows if r["actual"] is not None]
    labels = [r["label"] for r in rows]
    # Room to the right of the longest bar and of the target line for the "37 of 50" labels.
    top = max([120, *(v["share"] * 1.25 for v in values)])
    base = alt.Chart(alt.Data(values=values)).encode(
        y=alt.Y("label:N", sort=labels, title=None, scale=alt.Scale(domain=labels), axis=alt.Axis(labelLimit=360)))
    bars = base.mark_bar(color=BAR).encode(x=alt.X("share:Q", title="Per cent of the target", scale=alt.Scale(domain=[0, top])))
    text = base.mark_text(align="left", dx=4, fontSize=11, color=TEXT).encode(x="share:Q", text="text:N")
    rule = alt.Chart(alt.Data(values=[{"target": 100}])).mark_rule(color=TARGET, strokeWidth=2, strokeDash=[6, 3]).encode(x="target:Q")
    chart = alt.layer(bars, text, rule).properties(title=title, width=WIDTH - 120, height=alt.Step(26))
    return _config(chart).to_dict(validate=False)


BUILDERS = {"grouped_bars": _grouped_bars_spec, "trend": _trend_spec, "bars": _bars_spec, "targets": _targets_spec}


# --- Charts with their text alternatives -------------------------------------------------------

def year_on_year_chart(*, key: str, subject: str, months: list[str], years: list[str],
                       values: list[list[float | None]], unit: str = Unit.COUNT) -> Chart:
    """Bars for each month of a quarter (October, November, December) in each financial year.
    `values[y][m]` is year y's figure for month m."""
    series = list(zip(years, values))
    latest_year, latest = series[-1]
    parts = [f"{m} {_figure(v, unit)}" for m, v in zip(months, latest)]
    alt_text = (f"Bar chart of {in_sentence(subject)} in {_join(months)}, comparing {_join(years)}; "
                f"in {latest_year}: {_join(parts)}.")
    return Chart(key, "grouped_bars", f"{subject} by month", alt_text,
                 {"categories": months, "series": series, "unit": unit, "category_title": None})


def trend_chart(*, key: str, subject: str, labels: list[str], values: list[float | None], unit: str = Unit.COUNT) -> Chart:
    """A line over the quarters, e.g. the last eight."""
    shown = [(label, v) for label, v in zip(labels, values) if v is not None]
    if shown:
        (first_label, first), (last_label, last) = shown[0], shown[-1]
        peak_label, peak = max(shown, key=lambda lv: lv[1])
        summary = (f"{_figure(first, unit)} in {first_label} to {_figure(last, unit)} in {last_label}; "
                   f"highest {_figure(peak, unit)} in {peak_label}")
    else:
        summary = "no figures reported"
    alt_text = f"Line chart of {in_sentence(subject)} over the {len(labels)} quarters to {labels[-1]}: {summary}."
    return Chart(key, "trend", f"{subject}, quarter by quarter", alt_text, {"labels": labels, "values": values, "unit": unit})


def breakdown_chart(*, key: str, subject: str, categories: list[str], series: list[tuple[str, list[float | None]]],
                    unit: str = Unit.COUNT) -> Chart:
    """Horizontal bars by breakdown option; several series (e.g. two quarters) are grouped."""
    first_name, first = series[0]
    shown = [(c, v) for c, v in zip(categories, first) if v is not None]
    if shown:
        high, low = max(shown, key=lambda cv: cv[1]), min(shown, key=lambda cv: cv[1])
        summary = f"highest {high[0]} ({_figure(high[1], unit)}), lowest {low[0]} ({_figure(low[1], unit)})"
    else:
        summary = "no figures shown"
    comparing = f", comparing {_join([name for name, _ in series])}" if len(series) > 1 else ""
    lead = f" in {first_name}: " if len(series) > 1 else ": "
    alt_text = f"Bar chart of {in_sentence(subject)}{comparing}{lead}{summary}."
    return Chart(key, "bars", subject, alt_text, {"categories": categories, "series": series, "unit": unit})


def targets_chart(*, key: str, rows: list[dict]) -> Chart:
    """Latest figures against targets; each row has label, actual and target."""
    parts = [f"{r['label']} {number(r['actual'])} against {number(r['target'])}" if r["actual"] is not None
             else f"{r['label']} not yet reported" for r in rows]
    alt_text = f"Bar chart of the latest figures as a share of their targets: {_join(parts)}."
    return Chart(key, "targets", "Progress towards targets", alt_text, {"rows": rows})
