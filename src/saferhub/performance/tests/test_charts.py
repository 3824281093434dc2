"""Charts drawn on the server: SVG holding the figures, PNG for Word, text alternatives that say
what the chart shows, colours with enough contrast, and nothing fetched from anywhere."""
import base64
import json

import pytest

from saferhub.performance import charts
from saferhub.performance.charts import breakdown_chart, targets_chart, trend_chart, year_on_year_chart

MONTHS = ["October", "November", "December"]
YEARS = ["2021/22", "2022/23", "2023/24"]
ENQUIRIES = [[701, 710, 767], [800, 787, 769], [867, 887, 737]]


def enquiries_chart():
    return year_on_year_chart(key="hub-enquiries", subject="Enquiries received by the Hub", months=MONTHS,
                              years=YEARS, values=ENQUIRIES)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_year_on_year_chart_is_an_svg_showing_every_figure():
    svg = enquiries_chart().svg()
    assert svg.startswith("<svg") and "</svg>" in svg
    for figure in ("701", "800", "867", "887", "737"):
        assert f">{figure}<" in svg  # printed on its bar, not only in the axis
    assert "2021/22" in svg and "December" in svg


def test_year_on_year_text_alternative_names_the_months_years_and_latest_figures():
    alt = enquiries_chart().alt
    assert alt.startswith("Bar chart of enquiries received by the Hub in October, November and December")
    assert "2021/22, 2022/23 and 2023/24" in alt
    assert "in 2023/24: October 867, November 887 and December 737." in alt


def test_breakdown_chart_leaves_out_withheld_figures_and_says_highest_and_lowest():
    chart = breakdown_chart(key="calls", subject="Calls from professionals by agency",
                            categories=["Housing", "Police", "Other domestic abuse services"], series=[("Q3 2023/24", [42, None, 75])])
    assert [v["category"] for v in chart.spec["data"]["values"]] == ["Housing", "Other domestic abuse services"]
    assert chart.alt == ("Bar chart of calls from professionals by agency: highest Other domestic abuse services (75), "
                         "lowest Housing (42).")
    assert ">75<" in chart.svg() and "Police" in chart.svg()  # the withheld category keeps its place, without a bar


def test_breakdown_chart_compares_two_quarters():
    chart = breakdown_chart(key="choices", subject="Referrals to +Choices", categories=["DA Perpetrators", "Victim liaison"],
                            series=[("Q3 2023/24", [32, 4]), ("Q3 2022/23", [46, 8])])
    assert "comparing Q3 2023/24 and Q3 2022/23 in Q3 2023/24: highest DA Perpetrators (32)" in chart.alt
    svg = chart.svg()
    assert ">46<" in svg and "Q3 2022/23" in svg


def test_trend_chart_keeps_quarters_without_figures_on_the_axis():
    labels = ["Q1 2023/24", "Q2 2023/24", "Q3 2023/24"]
    chart = trend_chart(key="trend", subject="Trained SOLOs", labels=labels, values=[37, None, 45])
    assert chart.alt == ("Line chart of trained SOLOs over the 3 quarters to Q3 2023/24: 37 in Q1 2023/24 to 45 in "
                         "Q3 2023/24; highest 45 in Q3 2023/24.")
    assert "Q2 2023/24" in chart.svg()


def test_targets_chart_shows_each_figure_against_its_target():
    chart = targets_chart(key="targets", rows=[{"label": "Trained SOLOs", "actual": 37, "target": 50},
                                               {"label": "Bleed kits", "actual": None, "target": 29}])
    assert chart.alt == ("Bar chart of the latest figures as a share of their targets: Trained SOLOs 37 against 50 "
                         "and Bleed kits not yet reported.")
    assert "37 of 50" in chart.svg()


def test_data_uri_png_and_cache():
    chart = enquiries_chart()
    uri = chart.svg_data_uri()
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == chart.svg()
    before = charts._svg.cache_info().hits
    enquiries_chart().svg()
    assert charts._svg.cache_info().hits == before + 1  # the same specification is drawn once
    assert chart.png().startswith(b"\x89PNG")


def test_specification_holds_its_data_and_names_no_url_to_fetch():
    spec = json.dumps(enquiries_chart().spec)
    assert '"url"' not in spec
    assert "867" in spec


@pytest.mark.parametrize("colour", charts.SERIES_COLOURS + [charts.TEXT, charts.TARGET])
def test_colours_contrast_at_least_three_to_one_with_white(colour):
    assert (1.05) / (_luminance(colour) + 0.05) >= 3


def test_digest_follows_the_figures():
    assert enquiries_chart().digest == enquiries_chart().digest
    changed = year_on_year_chart(key="hub-enquiries", subject="Enquiries received by the Hub", months=MONTHS,
                                 years=YEARS, values=[[701, 710, 767], [800, 787, 769], [867, 887, 738]])
    assert changed.digest != enquiries_chart().digest
