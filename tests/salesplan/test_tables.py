"""Any table on a page exports as XLSX and CSV (issue 12): values stay values, text that a
spreadsheet would run is neutralised, and an address without an export renders the page."""

import csv
import io
from datetime import date
from decimal import Decimal

from django.test import RequestFactory
from openpyxl import load_workbook

from salesplan.tables import Column, Table, export_response

TABLE = Table(
    name="people",
    title="Продавцы",
    columns=[
        Column("name", "Имя"),
        Column("deals", "Сделки", "int"),
        Column("revenue", "Выручка", "money"),
        Column("share", "Доля", "percent"),
        Column("day", "День", "date"),
    ],
    rows=[
        {
            "name": "Анна",
            "deals": 12,
            "revenue": Decimal("1000000.50"),
            "share": Decimal("0.25"),
            "day": date(2026, 12, 3),
        },
        {"name": "=HYPERLINK(1)", "deals": None, "revenue": None, "share": None, "day": None},
    ],
)


def _get(query: str):
    return export_response(RequestFactory().get(f"/dashboard/?{query}"), TABLE)


def test_a_page_address_without_export_renders_the_page():
    assert _get("period=month") is None
    assert _get("export=pdf&table=people") is None
    assert _get("export=csv&table=nobody") is None


def test_csv_keeps_values_and_neutralises_formulas():
    response = _get("export=csv&table=people")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Имя", "Сделки", "Выручка", "Доля", "День"]
    assert rows[1] == ["Анна", "12", "1000000.50", "0.25", "2026-12-03"]
    assert rows[2][0] == "'=HYPERLINK(1)"


def test_xlsx_has_numbers_as_numbers():
    response = _get("export=xlsx&table=people")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Имя", "Сделки", "Выручка", "Доля", "День"]
    assert values[1][0] == "Анна"
    assert values[1][1] == 12 and float(values[1][2]) == 1000000.5 and values[1][3] == 0.25
    assert values[1][4].date() == date(2026, 12, 3)
    assert values[2][0] == "'=HYPERLINK(1)"


def test_a_title_a_sheet_may_not_carry_is_cleaned():
    table = Table(name="plans", title="Plan: 2026/12 [draft]?", columns=[Column("a", "A")])
    response = export_response(RequestFactory().get("/?export=xlsx&table=plans"), table)
    assert load_workbook(io.BytesIO(response.content)).active.title == "Plan  2026 12  draft"
