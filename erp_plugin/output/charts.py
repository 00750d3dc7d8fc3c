"""Native Excel charts beside result tables, for the figures people would rather look at than read.

A Chart names columns of its own table; every writer puts it to the right of the
table's last column. openpyxl's chart classes make the chart XML for all of them:
the openpyxl workbook adapter adds the chart object, the streaming .xlsx writer
serialises the same object into its own package parts. Only xlwings (inside Excel)
draws it another way, from the same description.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, column_label, translate
from ..overviews import STEP_SUFFIX

WIDTH_CM, HEIGHT_CM = 24, 12
AXIS_FORMAT = "#,##0"


@dataclass(frozen=True)
class Chart:
    """Clustered columns of ``bars`` (and lines of ``lines`` over them) against ``categories``."""

    title: str  # a msgid: the writers put it in the chosen language
    categories: str
    bars: tuple[str, ...]
    lines: tuple[str, ...] = ()  # drawn as lines on the same axes: thresholds, running totals
    y_title: str = ""
    lines_title: str = ""  # set: the lines get their own axis on the right, so titled (counts beside money)


def charts_of(table) -> tuple[Chart, ...]:
    """The charts drawn beside a result table (a tables.Table), by its name; most tables have none."""
    columns = list(table.frame.columns)
    if table.name == "markers":
        return (Chart(N_("Discount by marker"), "marker",
                      ("price_discount", "bonus_accrued", "reservation_cost")),)
    if table.name == "turnover_steps":
        steps = tuple(name for name in columns if name.endswith(STEP_SUFFIX))
        return (Chart(N_("Turnover by client against the rebate steps"), "client_id",
                      ("turnover",), steps),)
    if table.name == "rebate_by_tier":
        return (Chart(N_("Rebate by tier"), "tier", ("rebate",)),)
    if table.name == "impact_by_tariff":
        return (Chart(N_("Change by tariff"), "tariff",
                      ("price_discount_delta", "bonus_accrued_delta", "rebate_delta", "concession_delta")),)
    if table.name == "rfm_segments":
        return (Chart(N_("Clients and monetary by RFM segment"), "segment",
                      ("monetary",), ("clients",), "monetary", "clients"),)
    if table.name == "churn_bands":
        return (Chart(N_("Clients by churn risk"), "churn_risk", ("clients",)),)
    if table.name == "liability":
        return (Chart(N_("Bonus liability by month"), "period", ("deferred", "recognised"),
                      ("closing",)),)
    return ()


def anchor_column(table_width: int) -> int:
    """The sheet column (1-based) where a table's chart starts: one empty column after the table."""
    return table_width + 2


def quoted(sheet_title: str) -> str:
    return "'" + sheet_title.replace("'", "''") + "'"


def axis_floor(frame, names) -> float | None:
    """0 for a value axis whose series are all positive but for a trace below zero (under 1 % of the largest
    value: a −0.05 month beside 40 000), so the axis starts at 0 instead of a whole step below it; None (the
    application's own scale) when the series really go negative, or hold nothing."""
    import numpy as np
    import pandas as pd

    values = np.concatenate([pd.to_numeric(pd.Series(frame[name], copy=False).astype(object), errors="coerce")
                             .to_numpy(dtype=np.float64, na_value=np.nan) for name in names]) if names else np.zeros(0)
    values = values[np.isfinite(values)]
    if not len(values) or values.max() <= 0:
        return None
    return 0.0 if values.min() >= -0.01 * values.max() else None


def _text_categories(made, reference) -> None:
    """Categories as text (strRef): every chart's categories are names (marker, client, tier, period), and Excel
    numbers the points 1, 2, 3… where a numRef points at text."""
    from openpyxl.chart.data_source import AxDataSource, StrRef

    for series in made.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(reference)))


def openpyxl_chart(chart: Chart, sheet_title: str, columns: list[str], rows: int, first_row: int = 1, frame=None):
    """An openpyxl chart of ``chart`` over a table whose header is row ``first_row`` of ``sheet_title``,
    with ``columns`` from column A and ``rows`` data rows below the header; ``frame``, the table's values,
    sets where the value axes start (``axis_floor``)."""
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.utils import get_column_letter

    def ref(name: str, header: bool) -> Reference:
        letter = get_column_letter(columns.index(name) + 1)
        top = first_row if header else first_row + 1
        return Reference(range_string=f"{quoted(sheet_title)}!${letter}${top}:${letter}${first_row + max(rows, 1)}")

    bars = BarChart()
    bars.type = "col"
    bars.title = translate(chart.title)
    bars.y_axis.title = column_label(chart.y_title) if chart.y_title else None
    bars.y_axis.number_format = AXIS_FORMAT
    bars.width, bars.height = WIDTH_CM, HEIGHT_CM
    for name in chart.bars:
        bars.add_data(ref(name, header=True), titles_from_data=True)
    _text_categories(bars, ref(chart.categories, header=False))
    if chart.lines:
        over = LineChart()
        for name in chart.lines:
            over.add_data(ref(name, header=True), titles_from_data=True)
        for series in over.series:  # straight segments: a smoothed curve draws dips and peaks not in the data
            series.smooth = False
        _text_categories(over, ref(chart.categories, header=False))
        if chart.lines_title:  # a second value axis on the right, crossing where the categories end
            over.y_axis.axId = 200
            over.y_axis.title = column_label(chart.lines_title)
            over.y_axis.number_format = AXIS_FORMAT
            over.y_axis.crosses = "max"
            over.y_axis.delete = False
        bars += over
    if frame is not None:
        shared = chart.bars + (() if chart.lines_title else chart.lines)
        bars.y_axis.scaling.min = axis_floor(frame, shared)
        if chart.lines and chart.lines_title:
            over.y_axis.scaling.min = axis_floor(frame, chart.lines)
    for axis in (bars.x_axis, bars.y_axis):
        axis.delete = False  # openpyxl 3.1 otherwise writes hidden axes
    bars.anchor = f"{get_column_letter(anchor_column(len(columns)))}{first_row + 1}"
    return bars
