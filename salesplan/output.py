"""Text the app hands to other programs, made harmless there: chart labels for Plotly and
cells for spreadsheets. Every chart and every CSV/XLSX writer goes through these two."""

import html
from typing import Any

# OWASP "CSV injection": a spreadsheet treats a cell starting with one of these as a formula
# (tab and carriage return hide one behind whitespace).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def chart_text(value: Any) -> str:
    """A user's text (a stage, a person, a channel) as a Plotly label, tick or hover text.

    Plotly renders a subset of HTML in every label — `<a href>` becomes a live link, `<b>`
    bold — so user text is escaped: `<a href=…>` shows as those characters."""
    return html.escape(str(value), quote=False)


def spreadsheet_cell(value: Any) -> Any:
    """A cell for a CSV or XLSX file: text that a spreadsheet would run as a formula gets a
    leading apostrophe (Excel and LibreOffice then show it as text). Numbers, dates and
    None are written as they are: -5 as a number is a number, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_row(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [spreadsheet_cell(value) for value in values]
