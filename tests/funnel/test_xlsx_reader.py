"""Workbooks through python-calamine: how cells read as text (dates, numbers, empties,
formulas, error cells), where rows and columns are, and the workbooks that cannot be read.

Workbooks are written with openpyxl, or by hand (`package`) where openpyxl cannot write what
Excel does: formulas with their cached values, error cells, a namespace prefix. The fixture
fixtures/xlsx/password.xlsx is a two-row workbook encrypted in Excel's way (msoffcrypto-tool,
password "secret").
"""

import zipfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from funnel.importers import ImportFileError, inspect_file
from funnel.importers.file_info import FileInfo
from funnel.importers.files import read_columns
from funnel.importers.xlsx_reader import EXACT_INTEGERS, cell_text, number_text
from tests.funnel.importing import read, utc

FIXTURES = Path(__file__).parent / "fixtures" / "xlsx"
GENERIC = {"external_id": "id", "created_at": "created_at", "crm_stage": "stage"}


def workbook(path: Path, rows: list[list[object]], *, write_only: bool = False) -> Path:
    """A workbook of `rows` from A1, written by openpyxl."""
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet("Сделки") if write_only else book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def columns(path: Path) -> tuple[FileInfo, dict[str, list[str]]]:
    """What inspecting finds, and every column read as text (blank rows left out)."""
    info = inspect_file(path, filename=path.name)
    texts: dict[str, list[str]] = {name: [] for name in info.headers}
    for chunk in read_columns(path, info, info.headers, chunk_rows=1000):
        for name, values in chunk.columns.items():
            texts[name].extend(values.tolist())
    return info, texts


SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"


def package(path: Path, rows: str, *, strings: tuple[str, ...] = (), prefix: str = "") -> Path:
    """A minimal .xlsx written by hand: one sheet whose <sheetData> holds `rows` (XML), shared
    strings `strings`, elements under the namespace prefix `prefix` if any."""
    tag = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    shared = "".join(f"<si><t>{text}</t></si>" for text in strings)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
            f'Type="{RELATIONS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{SHEET_NS}" xmlns:r="{RELATIONS}"><sheets>'
            '<sheet name="Deals" sheetId="1" r:id="rId7"/></sheets></workbook>'
        ),
        # An absolute target, as some generators write it.
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PACKAGE}">'
            f'<Relationship Id="rId7" Type="{RELATIONS}/worksheet" '
            'Target="/xl/worksheets/deals.xml"/>'
            f'<Relationship Id="rId8" Type="{RELATIONS}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/sharedStrings.xml": f'<sst xmlns="{SHEET_NS}">{shared}</sst>',
        "xl/worksheets/deals.xml": (
            f'<{tag}worksheet {xmlns}="{SHEET_NS}"><{tag}sheetData>{rows}'
            f"</{tag}sheetData></{tag}worksheet>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


# --- dates -------------------------------------------------------------------------------------


def test_date_cells_read_as_iso_text_and_text_dates_stay_as_written(tmp_path):
    # given date-time cells, date-only cells (two formats), a time, a duration and text dates
    path = tmp_path / "deals.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "created_at", "stage"])
    sheet.append([1, datetime(2024, 1, 2, 3, 4, 5), "Лид"])
    sheet.append([2, datetime(2024, 4, 15), "Лид"])
    sheet.append([3, date(2024, 4, 16), "Лид"])
    sheet.append([4, "02.04.2024", "Лид"])
    sheet.append([5, " 2024-04-03 10:00 ", "Лид"])
    sheet.append([6, time(9, 30), "Лид"])
    sheet.append([7, timedelta(hours=26), "Лид"])
    sheet.append([8, datetime(2024, 1, 2, 3, 4, 5, 250000), "Лид"])
    sheet["B4"].number_format = "dd.mm.yyyy"
    book.save(path)
    # when it is read
    _, read_as = columns(path)
    # then cells read as openpyxl read them (a date keeps its midnight), text as written
    assert read_as["created_at"] == [
        "2024-01-02 03:04:05",
        "2024-04-15 00:00:00",
        "2024-04-16 00:00:00",
        "02.04.2024",
        "2024-04-03 10:00",
        "09:30:00",
        "1 day, 2:00:00",
        "2024-01-02 03:04:05.250000",
    ]


def test_date_cells_and_text_dates_import_as_the_same_moments(tmp_path):
    # given the same local moments as a date cell and as text, Moscow time
    path = workbook(
        tmp_path / "deals.xlsx",
        [
            ["id", "created_at", "stage"],
            [1, datetime(2024, 4, 1, 9, 0), "Лид"],
            [2, "01.04.2024 09:00", "Лид"],
            [3, datetime(2024, 4, 2), "Лид"],
            [4, "02.04.2024", "Лид"],
        ],
    )
    info = inspect_file(path, filename="deals.xlsx")
    # when the leads are read
    frame, errors, _ = read(path, info, GENERIC, {"Лид": 1})
    # then both spellings give the same moment
    assert errors == []
    assert frame["created_at"].tolist() == [
        utc("2024-04-01 06:00"),
        utc("2024-04-01 06:00"),
        utc("2024-04-01 21:00"),
        utc("2024-04-01 21:00"),
    ]


# --- numbers -----------------------------------------------------------------------------------


def test_numbers_read_without_exponent_or_binary_noise(tmp_path):
    # given whole numbers stored as floats, decimals, a sum with binary noise and big ids
    path = workbook(
        tmp_path / "deals.xlsx",
        [
            ["id", "amount"],
            [1.0, 150000.5],
            [42, 0.1 + 0.2],
            [1234567890123456, 1250000.05],
            [9007199254740991, -12.5],
            [1e20, 0.000015],
            [True, 3],
        ],
    )
    # when it is read
    _, read_as = columns(path)
    # then whole numbers have no ".0", 16-digit ids stay exact, nothing has an exponent
    assert read_as["id"] == [
        "1",
        "42",
        "1234567890123456",
        "9007199254740991",
        "100000000000000000000",
        "true",
    ]
    assert read_as["amount"] == ["150000.5", "0.3", "1250000.05", "-12.5", "0.000015", "3"]


def test_a_16_digit_id_is_one_lead_and_keeps_its_digits(tmp_path):
    # given deal ids as number cells beyond 15 digits (Excel shows them as 1.23457E+15)
    path = workbook(
        tmp_path / "deals.xlsx",
        [
            ["id", "created_at", "stage"],
            [1234567890123456, "2024-01-01", "Лид"],
            [1234567890123457, "2024-01-01", "Лид"],
        ],
    )
    info = inspect_file(path, filename="deals.xlsx")
    # when the leads are read
    frame, errors, _ = read(path, info, GENERIC, {"Лид": 1})
    # then they are two leads with their own ids
    assert errors == []
    assert frame["external_id"].tolist() == ["1234567890123456", "1234567890123457"]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_number_reads_in_full_or_as_its_15_significant_digits(value):
    text = number_text(value)
    assert "e" not in text.lower()  # never an exponent
    if value.is_integer() and abs(value) < EXACT_INTEGERS:
        # a whole number a float holds exactly: every digit
        assert text == str(int(value))
    else:
        # anything else: what Excel shows, its 15 significant digits
        assert Decimal(text) == Decimal(format(value, ".15g"))


def test_cells_of_each_kind_as_text():
    assert [
        cell_text(value)
        for value in (None, "  Лид ", True, False, 7, 7.0, 2.50, datetime(2024, 1, 2, 3, 4))
    ] == ["", "Лид", "true", "false", "7", "7", "2.5", "2024-01-02 03:04:00"]
    assert cell_text(date(2024, 1, 2)) == "2024-01-02 00:00:00"
    assert cell_text(np.float64(2.5)) == "2.5"  # a subclass of float reads as a float


# --- empty cells, rows and columns -------------------------------------------------------------


def test_empty_cells_trailing_columns_and_rows(tmp_path):
    # given empty cells inside, a blank row, and formatted but empty columns and rows after
    # the data (Excel keeps them in the sheet when a cell once held something)
    path = tmp_path / "deals.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "created_at", "stage", None, None])
    sheet.append([1, None, "Лид"])
    sheet.append([None, None, None])
    sheet.append([2, "2024-01-02", None])
    sheet["F1"].number_format = "0.00"  # a styled, empty column
    sheet["A9"].number_format = "0.00"  # a styled, empty row
    book.save(path)
    # when it is read
    info, read_as = columns(path)
    # then blank trailing columns are no headers, empty cells are "", the blank row is left
    # out but counted, and every row the chunks report adds up to the total
    assert info.headers == ("id", "created_at", "stage")
    assert read_as == {"id": ["1", "2"], "created_at": ["", "2024-01-02"], "stage": ["Лид", ""]}
    chunks = list(read_columns(path, info, info.headers, chunk_rows=2))
    assert sum(chunk.rows for chunk in chunks) == info.total_rows
    assert np.concatenate([chunk.lines for chunk in chunks]).tolist() == [2, 4]


def test_a_table_away_from_a1_keeps_excel_row_numbers_and_columns(tmp_path):
    # given a title, an empty row and a table starting in column B
    path = tmp_path / "deals.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B1"] = "   "  # a row of blanks is not the header
    sheet["B3"], sheet["C3"], sheet["D3"] = "id", "created_at", "stage"
    sheet["B4"], sheet["C4"], sheet["D4"] = 10, "2024-01-01", "Лид"
    sheet["B6"], sheet["C6"], sheet["D6"] = 11, "2024-01-02", "Лид"
    book.save(path)
    # when it is inspected and read
    info = inspect_file(path, filename="deals.xlsx")
    frame, errors, _ = read(path, info, GENERIC, {"Лид": 1})
    # then column A is an empty column of its own, and lines are Excel's row numbers
    assert (info.header_line, info.total_rows) == (3, 3)
    assert info.headers == ("#1", "id", "created_at", "stage")
    assert info.sample == [
        {"#1": "", "id": "10", "created_at": "2024-01-01", "stage": "Лид"},
        {"#1": "", "id": "11", "created_at": "2024-01-02", "stage": "Лид"},
    ]
    assert errors == []
    assert frame["line"].tolist() == [4, 6]
    assert frame["external_id"].tolist() == ["10", "11"]


def test_chunks_cover_every_row_once(tmp_path):
    # given 25 rows written in openpyxl's streaming mode (no <dimension> in the sheet)
    rows = [[number, f"2024-01-{number:02d}", "Лид"] for number in range(1, 26)]
    path = workbook(
        tmp_path / "deals.xlsx", [["id", "created_at", "stage"], *rows], write_only=True
    )
    info = inspect_file(path, filename="deals.xlsx")
    # when it is read 10 rows at a time, and for a preview
    chunks = list(read_columns(path, info, ["id"], chunk_rows=10))
    preview = list(read_columns(path, info, ["id"], chunk_rows=10, limit=True))
    # then every row comes once with its line, and the preview stops after one chunk
    assert info.total_rows == 25
    assert [chunk.rows for chunk in chunks] == [10, 10, 5]
    assert np.concatenate([c.columns["id"] for c in chunks]).tolist() == [
        str(n) for n in range(1, 26)
    ]
    assert chunks[2].lines.tolist() == [22, 23, 24, 25, 26]
    assert [chunk.rows for chunk in preview] == [10]


# --- formulas and error cells ------------------------------------------------------------------


def test_formulas_read_as_their_cached_values(tmp_path):
    # given formulas as Excel saves them (with their last value), one never computed, shared
    # and inline strings
    path = package(
        tmp_path / "deals.xlsx",
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>stage</t></is></c></row>'
        '<row r="2"><c r="A2"><v>42</v></c><c r="B2"><f>A2*2</f><v>84</v></c>'
        '<c r="C2" t="str"><f>"Л"&amp;"ид"</f><v>Лид</v></c></row>'
        '<row r="3"><c r="A3"><v>43</v></c><c r="B3"><f>A3*2</f></c>'
        '<c r="C3" t="s"><v>2</v></c></row>',
        strings=("id", "amount", "Отказ"),
    )
    # when it is read
    _, read_as = columns(path)
    # then each formula reads as its cached value, an uncomputed one as empty
    assert read_as == {"id": ["42", "43"], "amount": ["84", ""], "stage": ["Лид", "Отказ"]}


def test_error_cells_read_as_their_text_and_fail_their_column(tmp_path):
    # given formulas that failed (#DIV/0!, #N/A) in the amount and date columns, in rows that
    # fall into different chunks
    path = package(
        tmp_path / "deals.xlsx",
        '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>created_at</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>stage</t></is></c>'
        '<c r="D1" t="inlineStr"><is><t>amount</t></is></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>2024-01-01</t></is>'
        '</c><c r="C2" t="inlineStr"><is><t>Лид</t></is></c>'
        '<c r="D2" s="0" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
        '<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="inlineStr"><is><t>2024-01-01</t></is>'
        '</c><c r="C3" t="inlineStr"><is><t>Лид</t></is></c><c r="D3"><v>100</v></c></row>'
        '<row r="4"><c r="A4"><v>3</v></c><c t="e" r="B4"><f>VLOOKUP(A4,X:Y,2,0)</f>'
        '<v>#N/A</v></c><c r="C4" t="inlineStr"><is><t>Лид</t></is></c></row>',
    )
    info = inspect_file(path, filename="deals.xlsx")
    # when it is inspected and read two rows at a time
    frame, errors, _ = read(path, info, {**GENERIC, "amount": "amount"}, {"Лид": 1}, chunk_rows=2)
    # then the preview shows the errors, and their rows are refused, not read as blanks
    assert info.sample[0]["amount"] == "#DIV/0!"
    assert info.sample[2]["created_at"] == "#N/A"
    assert frame["external_id"].tolist() == ["2"]
    assert [(error.line, error.column, error.value) for error in errors] == [
        (2, "amount", "#DIV/0!"),
        (4, "created_at", "#N/A"),
    ]


def test_error_cells_under_a_namespace_prefix(tmp_path):
    # given a sheet written with prefixed elements (<x:c>), as .NET's Open XML SDK does
    path = package(
        tmp_path / "deals.xlsx",
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>id</x:t></x:is></x:c>'
        '<x:c r="B1" t="inlineStr"><x:is><x:t>amount</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c><x:c t="e" r="B2"><x:v>#REF!</x:v></x:c>'
        "</x:row>",
        prefix="x",
    )
    # when / then the error reads as its text
    assert columns(path)[1] == {"id": ["1"], "amount": ["#REF!"]}


# --- which sheet, which file -------------------------------------------------------------------


def test_the_first_worksheet_is_read_even_when_hidden(tmp_path):
    # given a hidden first sheet and a visible second one
    path = tmp_path / "deals.xlsx"
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "Выгрузка"
    hidden.sheet_state = "hidden"
    hidden.append(["id"])
    hidden.append([1])
    book.create_sheet("Свод").append(["total"])
    book.save(path)
    # when / then the first one is read, as before
    info, read_as = columns(path)
    assert (info.sheet, read_as) == ("Выгрузка", {"id": ["1"]})


def test_a_workbook_under_another_name_is_read_by_its_content(tmp_path):
    # given a real .xlsx saved as .xls (some CRMs name their exports so)
    path = workbook(tmp_path / "deals.xls", [["id", "stage"], [7, "Лид"]])
    # when / then it is read as the workbook it is
    info, read_as = columns(path)
    assert (info.kind, read_as) == ("xlsx", {"id": ["7"], "stage": ["Лид"]})


def test_a_text_file_named_xlsx_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "deals.xlsx"
    path.write_text("id;stage\n1;Лид\n", encoding="utf-8")
    with translation.override("en"), pytest.raises(ImportFileError, match=r"not a valid \.xlsx"):
        inspect_file(path, filename="deals.xlsx")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncated", "not an Excel workbook"),
        ("broken sheet", r"not a valid \.xlsx"),
        ("no sheet", r"not a valid \.xlsx"),
    ],
)
def test_a_damaged_workbook_is_refused_with_a_reason(tmp_path, damage, message):
    # given a workbook cut short, with its sheet's XML cut, or without its sheet
    good = workbook(tmp_path / "good.xlsx", [["id", "stage"], *([n, "Лид"] for n in range(500))])
    path = tmp_path / "deals.xlsx"
    if damage == "truncated":
        path.write_bytes(good.read_bytes()[:-200])
    else:
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename.startswith("xl/worksheets/"):
                    if damage == "no sheet":
                        continue
                    data = data[: len(data) // 2]
                target.writestr(item, data)
    # when / then inspecting says the file is no valid workbook (never a crash)
    with translation.override("en"), pytest.raises(ImportFileError, match=message):
        inspect_file(path, filename="deals.xlsx")


def test_an_empty_workbook_has_no_header_row(tmp_path):
    path = tmp_path / "deals.xlsx"
    openpyxl.Workbook().save(path)
    with translation.override("en"), pytest.raises(ImportFileError, match="no header row"):
        inspect_file(path, filename="deals.xlsx")


@pytest.mark.parametrize("filename", ["deals.xlsx", "deals.xls", "upload"])
def test_a_password_protected_workbook_is_refused_with_what_to_do(tmp_path, filename):
    # given a workbook encrypted with a password (an OLE container, like an old .xls)
    path = tmp_path / filename
    path.write_bytes((FIXTURES / "password.xlsx").read_bytes())
    # when / then the person is told to remove the password, not that .xls is unsupported
    with translation.override("en"), pytest.raises(ImportFileError, match="password"):
        inspect_file(path, filename=filename)
