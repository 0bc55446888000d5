"""Limits on an uploaded CRM export (issue 10): its size (413 with the limit in words), a
workbook's unpacked size and packing (a zip bomb), its rows and columns read from the sheet's
XML before calamine decodes it, the length of a cell; the upload is removed when refused. The
files are built here, small: a limit is lowered through settings where a real one would need
megabytes."""

import zipfile
from pathlib import Path

import pytest
from django.utils import translation

from funnel.importers import ImportFileError, inspect_file
from funnel.importers.files import read_columns
from funnel.models import ImportJob
from salesplan.limits import MAX_CELL_CHARS, MAX_IMPORT_COLUMNS

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HEADER = "id;name;created_at;stage\n"
ROW = "{n};Deal {n};2026-01-15;Лид\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


def csv_of(path: Path, rows: int, *, filler: str = "") -> Path:
    path.write_text(HEADER + "".join(ROW.format(n=n) for n in range(rows)) + filler)
    return path


RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)


def workbook(path: Path, sheet: str, *, shared: str = "") -> Path:
    """A minimal .xlsx calamine reads: one sheet of the XML given, shared strings if any."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" '
            f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        package.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets><sheet name="Deals" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        strings = (
            f'<Relationship Id="rId2" Type="{OFFICE}/sharedStrings" Target="sharedStrings.xml"/>'
            if shared
            else ""
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" '
            f'Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>{strings}'
            "</Relationships>",
        )
        package.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared:
            package.writestr("xl/sharedStrings.xml", shared)
    return path


def sheet_xml(rows: str, dimension: str = "") -> str:
    ref = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{MAIN}">{ref}<sheetData>{rows}</sheetData></worksheet>'


def test_a_small_workbook_passes_the_checks_and_is_read(tmp_path):
    # given a workbook like the ones below, within every limit
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>name</t></is>'
        '</c></row><row r="2"><c r="A2"><v>7</v></c><c r="B2" t="s"><v>1</v></c></row>'
    )
    shared = f'<sst xmlns="{MAIN}"><si><t>id</t></si><si><t>Deal</t></si></sst>'
    path = workbook(tmp_path / "deals.xlsx", sheet_xml(rows, "A1:B2"), shared=shared)
    # when it is inspected, then it is read as usual
    info = inspect_file(path, filename="deals.xlsx")
    assert info.headers == ("id", "name")
    assert info.sample == [{"id": "7", "name": "Deal"}]


def upload(api, funnel, path: Path):
    with path.open("rb") as handle:
        return api.post(
            "/api/v1/imports/", {"file": handle, "funnel": funnel.pk}, format="multipart", **EN
        )


# --- the upload's size ---------------------------------------------------------------------------


def test_a_csv_over_the_size_limit_is_413_with_the_limit_in_words(
    api, funnel, settings, tmp_path, media
):
    # given a limit of 1 MB and a CSV of 1.1 MB (a 50 MB one was accepted: no limit at all)
    settings.IMPORT_MAX_UPLOAD_MB = 1
    path = csv_of(tmp_path / "deals.csv", 10, filler="x" * (1024 * 1024 + 100 * 1024))
    # when it is uploaded
    response = upload(api, funnel, path)
    # then 413 says how large the file is and what the limit is, and nothing is kept
    assert response.status_code == 413
    assert response.json() == {"file": ["The file is 1.1 MB; the limit is 1 MB."]}
    assert not ImportJob.objects.exists()
    assert stored_files(media) == []


def test_the_upload_page_answers_413_too(client_for, head, funnel, settings, tmp_path, media):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    path = csv_of(tmp_path / "deals.csv", 10, filler="x" * (2 * 1024 * 1024))
    with path.open("rb") as handle:
        response = client_for(head).post("/imports/", {"file": handle, "funnel": funnel.pk}, **EN)
    assert response.status_code == 413
    assert "The file is 2 MB; the limit is 1 MB." in response.content.decode()
    assert stored_files(media) == []


# --- rows and columns ----------------------------------------------------------------------------


def test_a_csv_with_more_rows_than_the_limit_is_refused_and_removed(
    api, funnel, settings, tmp_path, media
):
    settings.IMPORT_MAX_ROWS = 10
    response = upload(api, funnel, csv_of(tmp_path / "deals.csv", 11))
    assert response.status_code == 400
    assert response.json() == {"file": ["The file has 11 rows; the limit is 10."]}
    assert stored_files(media) == []
    # and ten rows are an import
    assert upload(api, funnel, csv_of(tmp_path / "ten.csv", 10)).status_code == 201


def test_a_csv_with_too_many_columns_is_refused(api, funnel, tmp_path, media):
    columns = MAX_IMPORT_COLUMNS + 1
    path = tmp_path / "wide.csv"
    path.write_text(";".join(f"c{n}" for n in range(columns)) + "\n" + "1;" * columns + "\n")
    response = upload(api, funnel, path)
    assert response.status_code == 400
    assert response.json() == {
        "file": [f"The file has {columns} columns; the limit is {MAX_IMPORT_COLUMNS}."]
    }
    assert stored_files(media) == []


def test_a_workbook_whose_dimension_says_three_million_rows_is_refused_unopened(
    api, funnel, tmp_path, media
):
    # given a sheet that declares 3,000,000 rows (calamine would build a grid that tall)
    sheet = sheet_xml(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>', "A1:C3000000"
    )
    path = workbook(tmp_path / "deals.xlsx", sheet)
    # when it is uploaded
    response = upload(api, funnel, path)
    # then it is refused from its XML at once, and removed
    assert response.status_code == 400
    assert response.json() == {"file": ["The file has 2999999 rows; the limit is 1000000."]}
    assert stored_files(media) == []


def test_a_workbook_with_a_last_row_far_down_is_refused_without_a_dimension(api, funnel, tmp_path):
    # given three million empty rows: no dimension, a cell in the first and the last row
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>'
        '<row r="3000000"><c r="A3000000"><v>1</v></c></row>'
    )
    response = upload(api, funnel, workbook(tmp_path / "deals.xlsx", sheet_xml(rows)))
    assert response.status_code == 400
    assert response.json() == {"file": ["The file has 2999999 rows; the limit is 1000000."]}


def test_a_workbook_with_a_cell_in_its_last_column_is_refused(api, funnel, tmp_path):
    # given a cell in column XFD (16,384): the decoded grid would be that wide
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="XFD1"><v>1</v></c></row>'
    response = upload(api, funnel, workbook(tmp_path / "deals.xlsx", sheet_xml(rows)))
    assert response.status_code == 400
    assert response.json() == {
        "file": [f"The file has 16384 columns; the limit is {MAX_IMPORT_COLUMNS}."]
    }


# --- a zip bomb ----------------------------------------------------------------------------------


def test_a_workbook_whose_shared_strings_unpack_a_thousandfold_is_413(api, funnel, tmp_path, media):
    # given 20 MB of repeated shared strings packed into a few kilobytes (the 390 KB
    # unpacked to 160 MB and killed the worker)
    shared = "<sst>" + "<si><t>Сделка</t></si>" * 700_000 + "</sst>"
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = workbook(tmp_path / "bomb.xlsx", sheet_xml(rows), shared=shared)
    assert path.stat().st_size < 200_000
    # when it is uploaded
    response = upload(api, funnel, path)
    # then it is refused before calamine opens it, naming the part, and removed
    assert response.status_code == 413
    (message,) = response.json()["file"]
    assert message.startswith("The workbook's part xl/sharedStrings.xml unpacks to ")
    assert "a real export at most 100 times" in message
    assert stored_files(media) == []


def test_a_workbook_over_the_unpacked_limit_is_413(api, funnel, settings, tmp_path):
    # given an operator's limit of 10 MB unpacked and a workbook that unpacks to 20 MB
    settings.IMPORT_MAX_UNPACKED_MB = 10
    shared = "<sst>" + "".join(f"<si><t>{n:x}</t></si>" for n in range(1_000_000)) + "</sst>"
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    response = upload(api, funnel, workbook(tmp_path / "big.xlsx", sheet_xml(rows), shared=shared))
    assert response.status_code == 413
    assert response.json() == {"file": ["The workbook unpacks to 20 MB; the limit is 10 MB."]}


# --- cells ---------------------------------------------------------------------------------------


def test_a_header_longer_than_a_cell_may_be_is_refused(api, funnel, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text("id;" + "h" * (MAX_CELL_CHARS + 1) + "\n1;2\n")
    response = upload(api, funnel, path)
    assert response.status_code == 400
    (message,) = response.json()["file"]
    assert f": {MAX_CELL_CHARS + 1} characters; the limit is {MAX_CELL_CHARS}." in message


def test_a_long_cell_past_the_preview_stops_the_read_naming_its_line(tmp_path):
    # given a long cell on line 30, past the rows the preview shows
    rows = [ROW.format(n=n) for n in range(40)]
    rows[28] = f"28;{'y' * (MAX_CELL_CHARS + 5)};2026-01-15;Лид\n"
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "".join(rows))
    info = inspect_file(path, filename="deals.csv")
    # when its columns are read, then the line and the column are named
    with translation.override("en"), pytest.raises(ImportFileError) as error:
        list(read_columns(path, info, ["id", "name"], chunk_rows=10))
    assert str(error.value) == (
        f"Line 30, column name: {MAX_CELL_CHARS + 5} characters; the limit is {MAX_CELL_CHARS}."
    )


# --- the confirm form ----------------------------------------------------------------------------


def test_fifty_million_stage_rows_on_the_confirm_form_cost_nothing(
    api, client_for, head, funnel, tmp_path
):
    # given an uploaded file and a confirm form that claims 50,000,000 stage rows
    job = upload(api, funnel, csv_of(tmp_path / "deals.csv", 3)).json()
    response = client_for(head).post(
        f"/imports/{job['id']}/confirm/", {"check": "1", "stage_count": "50000000"}
    )
    # then the page answers at once (the rows read are bounded by MAX_CRM_STAGES)
    assert response.status_code == 302
